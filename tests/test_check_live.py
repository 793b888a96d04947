"""`check-live` against a real HTTP server (a thread) that misbehaves the ways static hosts do,
and `notify`, which announces only what check-live found on the live site.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import testkeys
from badgekiln import api, canonical
from badgekiln.commands import check_live
from badgekiln.model.published import shown
from badgekiln.model.routes import Routes
from badgekiln.pipeline.site_state import shown_path
from conftest import REPO, build, copy_project
from test_notify import Recorder, _project, smtp  # noqa: F401 - smtp is a fixture

TYPES = {".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".html": "text/html",
         ".css": "text/css", ".js": "text/javascript", ".jwt": "text/plain", ".jws": "text/plain"}


class Host:
    """A static host serving a deployed folder, told to misbehave per path (paths as in the site)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.wrong_type: dict[str, str] = {}  # path -> Content-Type served instead
        self.missing: set[str] = set()  # 404
        self.failing: set[str] = set()  # 500
        self.stale: dict[str, bytes] = {}  # a CDN's old copy, unless the URL has a query string
        self.changed: dict[str, bytes] = {}  # what the host really has (a deploy that did not happen)
        self.cors = True
        self.requests: list[str] = []
        host = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - stdlib name
                parts = urlsplit(self.path)
                path = parts.path.lstrip("/")
                path = path + "index.html" if path == "" or path.endswith("/") else path
                host.requests.append(path)
                file = host.folder / path
                if path in host.missing or not file.is_file():
                    return self._answer(404, b"not found", "text/plain")
                if path in host.failing:
                    return self._answer(500, b"oops", "text/plain")
                body = host.changed.get(path, file.read_bytes())
                if path in host.stale and not parts.query:
                    body = host.stale[path]
                kind = host.wrong_type.get(path, TYPES.get(Path(path).suffix, "application/octet-stream"))
                return self._answer(200, body, kind)

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if host.cors:
                    self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host():
    hosts: list[Host] = []

    def start(folder: Path) -> Host:
        hosts.append(Host(folder))
        return hosts[-1]

    yield start
    for one in hosts:
        one.close()


def deploy(project: Path, target: Path) -> Path:
    """Copy the local build where the host serves it (what a deploy does)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(project / "_site", target)
    return target


def check(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), "check-live", *args],
                          capture_output=True, text=True, timeout=180, env=env)


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, object]:
    project = copy_project("minimal", tmp_path)
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None, prepared.diagnostics
    return project, prepared.model


def test_award_paths_are_every_file_an_award_has(tmp_path: Path):
    """check-live tells an award's files from the shared ones by Routes.award_paths: none may be missed."""
    project = copy_project("minimal", tmp_path)
    site = project / "content/site.yaml"
    site.write_text(site.read_text() + "signing: {vc_jwt: true, ob2_signed: true}\n")
    prepared = build(project, keyring=testkeys.keyring())
    routes = Routes(prepared.model.site.base_url)
    files = {p.relative_to(project / "_site").as_posix() for p in (project / "_site").rglob("*") if p.is_file()}
    owned = {path for award in prepared.model.awards for path in routes.award_paths(award)}
    slugs = [award.slug for award in prepared.model.awards]
    assert [f for f in files - owned if any(slug in f for slug in slugs)] == []
    assert len(files & owned) >= 5  # at least the page, hosted JSON, credential, JWT and JWS


def test_a_host_that_misbehaves_in_every_way_is_reported_with_fixes(tmp_path: Path, host):
    project = copy_project("minimal", tmp_path)
    shutil.copy(REPO / "content/images/fire-warden.svg", project / "content/images/badge.svg")
    badge_file = project / "content/badges/safety.yaml"
    badge_file.write_text(badge_file.read_text().replace("images/badge.png", "images/badge.svg"))
    model = build(project, keyring=testkeys.keyring()).model
    served = host(deploy(project, tmp_path / "deployed"))
    award, badge = model.awards[0], model.badges[0]
    routes = Routes(model.site.base_url)
    served.wrong_type = {routes.badge_json(badge): "text/plain", routes.badge_image(badge): "text/xml",
                         routes.badge_share_image(badge): "application/octet-stream"}
    served.missing = {".well-known/did.json"}
    served.failing = {"status/acme/revocation.json"}
    served.stale = {"index.html": b"<!doctype html><title>the old index</title>"}
    served.changed = {"issuers/acme.json": b'{"an": "older deploy"}'}
    served.cors = False
    result = check(project, served.url)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith(f"check-live: {served.url} against {project / '_site'}")
    assert "error: the DID document /.well-known/did.json is missing" in out and ".nojekyll" in out
    assert "error: 1 status list(s) cannot be fetched" in out and "status/acme/revocation.json (HTTP 500)" in out
    assert "error: 1 file(s) are stale copies" in out and "aws cloudfront create-invalidation" in out
    stale = out.index("stale copies")
    assert "  index.html\n" in out[stale:stale + 200]
    assert "error: 1 file(s) differ from the local build" in out and "  issuers/acme.json\n" in out
    assert "error: 3 file(s) are served with the wrong Content-Type" in out
    for line in ("badges/safety.json as text/plain (expected application/json)",
                 f"{routes.badge_share_image(badge)} as application/octet-stream (expected image/png)",
                 "badges/safety.svg as text/xml (expected image/svg+xml)"):
        assert line in out, line
    assert "JSON file(s) are served without Access-Control-Allow-Origin" in out and "_headers" in out
    assert out.count("(README.md#checking-a-deploy)") == 6  # one fix per problem
    assert "Not recorded as live: the live site is not this build" in out
    assert not api.live_record_path(project).exists()
    # the award's files were compared too, and the stale check went past the cache
    assert routes.award_json(award) in served.requests
    assert routes.award_page(award).removesuffix("index.html") + "index.html" in served.requests


def test_the_live_site_of_this_build_is_recorded_for_notify_without_any_email(signed, tmp_path: Path, host):
    project, model = signed
    served = host(deploy(project, tmp_path / "deployed"))
    result = check(project, served.url, "--sample", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The live site is this build: recorded for notify" in result.stdout
    assert "0 award(s)' files" in result.stdout and "warning" not in result.stdout
    record = api.live_record_path(project).read_text()
    assert "@" not in record and "ada" not in record.lower()
    assert check_live.load_live(project)["awards"] == {model.awards[0].key: "issued"}
    assert not list((project / "_site").rglob("live.json"))  # never published
    served.changed = {"index.html": b"another site"}
    assert check(project, served.url).returncode == 1
    assert not api.live_record_path(project).exists()  # a failed check withdraws the record


def test_a_build_records_what_each_award_shows_in_the_canonical_form(tmp_path: Path):
    """The record notify reads, written award by award: the same bytes as the whole mapping encoded."""
    project = copy_project("example", tmp_path)
    checked = build(project)
    awards = {award.key: shown(award) for award in checked.model.awards}
    assert {"issued", "revoked"} <= set(awards.values()) and any(s.startswith("suspended ") for s in awards.values())
    record = api.site_record(project)
    assert record["awards"] == awards and list(record["awards"]) == sorted(awards)
    assert record["base_url"] == checked.model.site.base_url and record["ledger"] == checked.ledger.digest
    assert shown_path(project, (project / "_site").resolve()).read_bytes() == canonical.json_bytes(record)


def test_check_live_refuses_what_it_cannot_do(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    nothing = check(project)
    assert nothing.returncode == 2 and "there is no local build" in nothing.stderr
    build(project)
    bad = check(project, "ftp://example.org/")
    assert bad.returncode == 2 and "ftp://example.org/" in bad.stderr
    port = _closed_port()
    down = check(project, f"http://127.0.0.1:{port}/", "--sample", "0")
    assert down.returncode == 1 and "could not be fetched" in down.stdout, down.stdout


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- notify announces only what the live site shows (finding 10) ------------------------------

def _notify(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), "notify", *args],
                          capture_output=True, text=True, timeout=120)


def test_notify_announces_only_what_the_live_site_shows(tmp_path: Path, host, smtp: Recorder):  # noqa: F811
    project = _project(tmp_path, smtp.port)
    unchecked = _notify(project)
    assert unchecked.returncode == 2 and "no deploy has been checked" in unchecked.stderr
    assert "badgekiln check-live" in unchecked.stderr.replace("python build.py", "badgekiln")
    assert not smtp.messages

    served = host(deploy(project, tmp_path / "deployed"))
    assert check(project, served.url).returncode == 0
    first = _notify(project)
    assert first.returncode == 0 and "notify done: 4 sent" in first.stdout, first.stdout + first.stderr

    # content changes, built but not deployed: a new award and a suspension
    awards = project / "content/awards/2026.yaml"
    awards.write_text(awards.read_text().replace("  - name: Bob Brown\n    email: bob@example.com\n",
                                                 "  - name: Bob Brown\n    email: bob@example.com\n    suspended:\n"
                                                 "      on: 2026-03-01\n      reason: Under review.\n")
                      + "  - name: Eve New\n    email: eve@example.com\n")
    assert build(project).model is not None
    early = _notify(project)
    assert early.returncode == 0, early.stdout + early.stderr
    assert "notify done: 0 sent, 4 already sent, 2 not live yet, 0 failed" in early.stdout, early.stdout
    assert "Eve New <eve@example.com>, safety: not on the live site yet" in early.stdout
    assert "Bob Brown <bob@example.com>, safety: the live site still shows it as issued" in early.stdout
    assert len(smtp.messages) == 4

    assert check(project, served.url).returncode == 1  # the host still has the old build
    assert "no deploy has been checked" in _notify(project).stderr
    deploy(project, served.folder)
    assert check(project, served.url).returncode == 0
    late = _notify(project)
    assert late.returncode == 0 and "notify done: 2 sent" in late.stdout, late.stdout + late.stderr
    assert sorted(m["X-Badgekiln-Event"] for m in smtp.messages[4:]) == ["issued", "suspended"]


def test_skip_live_check_sends_what_content_says(tmp_path: Path, smtp: Recorder):  # noqa: F811
    project = _project(tmp_path, smtp.port)
    result = _notify(project, "--skip-live-check")
    assert result.returncode == 0 and "notify done: 4 sent" in result.stdout, result.stdout + result.stderr


def test_the_fixes_point_at_a_readme_section_that_exists():
    readme = (REPO / "README.md").read_text()
    assert check_live.GUIDE == "README.md#checking-a-deploy" and "\n## Checking a deploy\n" in readme
    section = readme.split("\n## Checking a deploy\n")[1].split("\n## ")[0]
    for words in ("create-invalidation", ".nojekyll", "Access-Control-Allow-Origin", "application/json", "status/"):
        assert words in section, words
