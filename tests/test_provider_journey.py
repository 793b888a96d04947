"""A training provider's first months, end to end, as they would live them (issue 10).

The installed wheel in a fresh virtual environment, an empty git repository, a roster exported
from Excel, a signing key, a build, a preview, a deploy checked by check-live, award emails
through a real SMTP server, a revocation, and CI on a fresh clone that has no key. Every step
runs the `badgekiln` command a provider runs; at every commit nothing private is staged.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import tree
from test_check_live import Host
from test_notify import Recorder, smtp  # noqa: F401 - smtp is a fixture

PRIVATE = ("keys/", "_site/", ".badgekiln-cache/", "_outbox/", ".badgekiln.lock")

ROSTER = ("\ufeffFull Name;E-mail;Date completed\r\n"
          "Ada Okafor; Ada.Okafor@Example.COM ;02/11/2026\r\n"
          "Zoë Ångström;zoe@example.com;13/11/2026\r\n"
          "Bo Li;bo.li@example.com;13/11/2026\r\n"
          ";;\r\n")


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Provider", "-c", "user.email=p@acme.example", *args], cwd=folder,
                          capture_output=True, text=True, check=True).stdout


def staged_privately(folder: Path) -> list[str]:
    git(folder, "add", "-A")
    staged = git(folder, "diff", "--cached", "--name-only").split()
    return [p for p in staged if p.startswith(PRIVATE) and p != "keys/README.md"]


class Provider:
    """The provider's shell: the installed `badgekiln`, never this clone, never an ambient key or CI."""

    def __init__(self, installed: Path, folder: Path):
        self.badgekiln = str(installed / "venv/bin/badgekiln")
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "BADGEKILN_SIGNING_KEYS", "CI", "SOURCE_DATE_EPOCH")}

    def run(self, *args: str, ok: bool = True, env: dict | None = None, cwd: Path | None = None):
        result = subprocess.run([self.badgekiln, *args], cwd=cwd or self.folder, env={**self.env, **(env or {})},
                                capture_output=True, text=True, timeout=300)
        if ok:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def _preview(provider: Provider, path: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """`badgekiln serve`: the page at `path` and a page that does not exist."""
    port = _free_port()
    server = subprocess.Popen([provider.badgekiln, "serve", "--port", str(port)], cwd=provider.folder,
                              env=provider.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                return _get(f"http://127.0.0.1:{port}/{path}"), _get(f"http://127.0.0.1:{port}/no/such/page/")
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None and time.monotonic() < deadline, server.communicate()
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_provider_from_an_empty_repository_to_revoking_a_badge(installed: Path, tmp_path: Path,
                                                                  smtp: Recorder):  # noqa: F811
    repository = tmp_path / "acme-badges"
    repository.mkdir()
    git(repository, "init", "-q", "-b", "main")
    me = Provider(installed, repository)

    # 1. A new site for a small provider on Netlify; its issuer and badge; the Excel roster.
    me.run("new", "site", "--title", "Acme Training", "--base-url", "https://badges.acme.example/", "--host",
           "netlify")
    me.run("new", "issuer", "acme", "--name", "Acme Training", "--email", "badges@acme.example")
    me.run("new", "badge", "forklift-safety", "--name", "Forklift Safety")
    (repository / "content/site.yaml").write_text((repository / "content/site.yaml").read_text() + f"""\
contact_email: help@acme.example
smtp:
  host: 127.0.0.1
  port: {smtp.port}
  security: none
  from: "Acme Training <badges@acme.example>"
""")
    downloads = tmp_path / "Downloads"  # the roster stays out of the repository
    downloads.mkdir()
    (downloads / "Forklift November.csv").write_bytes(ROSTER.encode("utf-8"))
    refused = me.run("import", str(downloads / "Forklift November.csv"), "--badge", "forklift-safety", ok=False)
    assert refused.returncode == 1 and "'02/11/2026' is ambiguous (day/month order)" in refused.stderr
    assert "import it with --date-format day-first" in refused.stderr
    me.run("import", str(downloads / "Forklift November.csv"), "--badge", "forklift-safety",
           "--date-format", "day-first")
    awards = (repository / "content/awards/forklift-safety-forklift-november.yaml").read_text()
    assert "email: ada.okafor@example.com" in awards and "issued_on: 2026-11-02" in awards

    # 2. A key, the first build; nothing private is ever staged.
    me.run("keys", "new")
    built = me.run("build")
    assert "Netlify" in built.stdout + built.stderr  # measured against its host
    site = repository / "_site"
    pages = sorted(site.glob("a/*/*/index.html"))
    assert len(pages) == 3 and all(len(list(p.parent.iterdir())) == 3 for p in pages)  # page, OB 2.0, OB 3.0
    assert "Access-Control-Allow-Origin: *" in (site / "_headers").read_text()
    emails = (b"ada.okafor@example.com", b"zoe@example.com", b"bo.li@example.com")
    assert not [p for p, data in tree(site).items() if any(e in data.lower() for e in emails)]  # no email
    assert staged_privately(repository) == []
    git(repository, "commit", "-qm", "First badges")

    # 3. The preview: an award page, and the site's 404 page for a wrong link.
    ada = next(p for p in pages if "Ada Okafor" in p.read_text())
    (status, page), (missing, not_found) = _preview(me, ada.relative_to(site).parent.as_posix() + "/")
    assert status == 200 and "Ada Okafor" in page and "Forklift Safety" in page
    assert missing == 404 and 'class="wrap narrow notfound"' in not_found and "Acme Training" in not_found

    # 4. The deploy, checked; then the award emails, each with its baked badge, sent once.
    host = Host(tmp_path / "deployed")
    try:
        shutil.copytree(site, host.folder)
        me.run("check-live", host.url)
        me.run("notify")
        assert sorted(m["To"] for m in smtp.messages) == ["Ada Okafor <ada.okafor@example.com>",
                                                          "Bo Li <bo.li@example.com>",
                                                          "Zoë Ångström <zoe@example.com>"]
        assert all(any(part.get_content_type() == "image/png" for part in m.iter_attachments())
                   for m in smtp.messages)
        me.run("notify")
        assert len(smtp.messages) == 3  # exactly once
        assert staged_privately(repository) == []
        git(repository, "commit", "-qm", "Notified")

        # 5. CI on a fresh clone, without the key: the committed site is republished as it is.
        ci = {"CI": "true"}
        clone = tmp_path / "ci-clone"
        git(tmp_path, "clone", "-q", str(repository), str(clone))
        assert not (clone / "keys").exists() or not list((clone / "keys").glob("*.key.json"))
        me.run("build", "--frozen", env=ci, cwd=clone)
        assert tree(clone / "_site") == tree(site)  # signed status lists and credentials, byte for byte

        # 6. A revocation: built with the key, the status list changes and is re-signed.
        me.run("revoke", "forklift-safety/bo.li@example.com", "--reason", "Assessment found invalid")
        status_lists = {p: b for p, b in tree(site).items() if p.startswith("status/")}
        me.run("build")
        assert {p: b for p, b in tree(site).items() if p.startswith("status/")} != status_lists
        shutil.rmtree(host.folder)
        shutil.copytree(site, host.folder)
        me.run("check-live", host.url)
        me.run("notify")
        assert [m["To"] for m in smtp.messages[3:]] == ["Bo Li <bo.li@example.com>"]
        assert staged_privately(repository) == []
        git(repository, "commit", "-qm", "Revoked Bo Li's badge")
        git(clone, "pull", "-q")
        me.run("build", "--frozen", env=ci, cwd=clone)
        assert tree(clone / "_site") == tree(site)

        # 7. A revocation committed without a build: CI cannot sign the new status list, and says so.
        me.run("revoke", "forklift-safety/zoe@example.com", "--reason", "Issued in error")
        git(repository, "commit", "-qam", "Revoked without building")
        git(clone, "pull", "-q")
        before = tree(clone / "_site")
        refused = me.run("build", "--frozen", env=ci, cwd=clone, ok=False)
        assert refused.returncode == 1 and "E507" in refused.stderr, refused.stderr
        assert "BADGEKILN_SIGNING_KEYS" in refused.stderr
        assert tree(clone / "_site") == before  # nothing half-published
    finally:
        host.close()
