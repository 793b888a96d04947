"""`serve` as a user runs it: the preview refuses what `build` refuses, and answers like the site.

A real subprocess serves a real project; the tests edit content and read the preview over HTTP.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import testkeys
from conftest import build, copy_project
from test_cli import BUILD


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def _wait_for(url: str, accept, timeout: float = 60) -> tuple[int, str, str]:
    """Poll `url` until `accept(status, body)` holds (the preview rebuilds in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, kind, body = _get(url)
            if accept(status, body):
                return status, kind, body
        except OSError:
            status, body = None, ""
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never became acceptable; last: {status} {body[:300]}")
        time.sleep(0.2)


class Preview:
    """`build.py serve` in the background; its terminal output is kept in a file."""

    def __init__(self, project: Path, tmp: Path, env: dict[str, str], port: int | None = None, name: str = "serve"):
        self.port = port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.log = tmp / f"{name}.log"
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen([*BUILD, "--project", str(project), "serve", "--port", str(self.port)],
                                     stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **env})

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=20)
        self._log.close()


@pytest.fixture
def signed_project(tmp_path: Path) -> Path:
    """The minimal site built once with the test key, so its credential is frozen in the ledger."""
    project = copy_project("minimal", tmp_path)
    assert build(project, keyring=testkeys.keyring()).model is not None
    return project


def test_the_preview_refuses_what_build_refuses_in_the_terminal_and_on_the_page(signed_project: Path,
                                                                                 tmp_path: Path):
    project = signed_project
    preview = Preview(project, tmp_path, {"BADGEKILN_SIGNING_KEYS": testkeys.env_value(), "CI": ""})
    try:
        badge_page = preview.base + "badges/safety/"
        _wait_for(badge_page, lambda status, body: status == 200 and "Safety Basics" in body)
        badge = project / "content/badges/safety.yaml"
        original = badge.read_text()
        badge.write_text(original.replace("name: Safety Basics", "name: Safety Essentials"))
        status, kind, page = _wait_for(badge_page, lambda status, body: status != 200)
        assert status == 500 and kind.startswith("text/html"), (status, kind)
        assert "content/badges/safety.yaml" in page and "error[E502]" in page and "changed (name)" in page
        assert "Safety Essentials" not in page and "Safety Basics</h1>" not in page  # no stale preview either
        _, _, other = _get(preview.base + "index.html")
        assert "error[E502]" in other  # every page of the preview says so until it is fixed
        badge.write_text(original)
        _wait_for(badge_page, lambda status, body: status == 200 and "Safety Basics" in body)
    finally:
        preview.stop()
    terminal = preview.output()
    assert "content/badges/safety.yaml:1:1: error[E502]: badge 'safety' changed (name)" in terminal, terminal
    assert "preview not updated" in terminal and "rebuilt" in terminal
    built = subprocess.run([*BUILD, "--project", str(project)], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "BADGEKILN_SIGNING_KEYS": testkeys.env_value()})
    assert built.returncode == 0, built.stderr  # the content is as it was: build agrees


def test_a_missing_page_gets_the_sites_404_page(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    preview = Preview(project, tmp_path, {"CI": ""})
    try:
        _wait_for(preview.base, lambda status, body: status == 200)
        status, kind, body = _get(preview.base + "a/no-such-award/")
        assert status == 404 and kind.startswith("text/html")
        assert "Page not found · Minimal Badges" in body and 'class="notfound__code"' in body
        status, _, body = _get(preview.base + "badges/nope.json")
        assert status == 404 and "Page not found" in body
    finally:
        preview.stop()


def _award_page(site: Path) -> Path:
    return next(site.glob("a/*/*/index.html"))


def test_the_next_session_starts_from_the_last_preview_and_a_second_one_does_not_disturb_it(tmp_path: Path):
    """The preview is kept in the project's cache: a session started again (same port) renders
    only what changed since the last one, so an unchanged award's page stays the very file the
    last session wrote, and with nothing changed it serves the kept preview as it is. A second
    session running meanwhile builds elsewhere, and leaves no build state behind."""
    project = copy_project("minimal", tmp_path)
    kept = project / ".badgekiln-cache/preview"
    first = Preview(project, tmp_path, {"CI": ""})
    try:
        _wait_for(first.base, lambda status, body: status == 200)
    finally:
        first.stop()
    page = _award_page(kept)
    written, pages = page.stat(), len(list(kept.glob("a/*/*/index.html")))
    assert first.base in page.read_text()
    states = sorted((project / ".badgekiln-cache").glob("*.sqlite"))
    roster = project / "content/awards/2026.yaml"
    roster.write_text(roster.read_text() + "  - name: Next Session\n    email: next.session@example.com\n")
    again = Preview(project, tmp_path, {"CI": ""}, port=first.port, name="again")
    other = None
    try:
        _wait_for(again.base, lambda status, body: status == 200)  # served once the first build is done
        assert "rebuilt" in again.output()
        same = page.stat()
        assert (same.st_ino, same.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # left in place
        assert len(list(kept.glob("a/*/*/index.html"))) == pages + 1
        other = Preview(project, tmp_path, {"CI": ""}, name="other")
        _wait_for(other.base, lambda status, body: status == 200)
        relative = page.relative_to(kept).parent.as_posix() + "/"
        _, _, shown = _get(other.base + relative)
        assert other.base in shown and first.base not in shown
        _, _, still = _get(again.base + relative)
        assert again.base in still and other.base not in still  # what the first session serves is its own
    finally:
        if other is not None:
            other.stop()
        again.stop()
    assert sorted((project / ".badgekiln-cache").glob("*.sqlite")) == states  # the second's state went with it
    third = Preview(project, tmp_path, {"CI": ""}, port=first.port, name="third")
    try:
        _wait_for(third.base, lambda status, body: status == 200)
    finally:
        third.stop()
    assert "the preview is up to date" in third.output()
