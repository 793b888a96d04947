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

    def __init__(self, project: Path, tmp: Path, env: dict[str, str]):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.log = tmp / "serve.log"
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
