"""The command line as a user drives it: real subprocesses, real files, real exit codes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import REPO, copy_project, ledger_awards

BUILD = [sys.executable, str(REPO / "build.py")]


def run(project: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, **kw.pop("env", {})}
    return subprocess.run([*BUILD, "--project", str(project), *args], capture_output=True, text=True, env=env,
                          timeout=120, **kw)


def test_build_check_and_exit_codes(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    checked = run(project, "check")
    assert checked.returncode == 0 and "ok: 0 error(s), 0 warning(s)" in checked.stderr
    assert not (project / "_site").exists() and not (project / "content/ledger.json").exists()
    built = run(project)
    assert built.returncode == 0, built.stderr
    assert "Built" in built.stdout and (project / "_site/index.html").is_file()
    assert run(project, "build", "--frozen").returncode == 0
    assert run(project, "--no-such-flag").returncode == 2
    assert run(project, "build", "--base-url", "ftp://nope").returncode == 2
    (project / "content/badges/safety.yaml").write_text("name: [unclosed\n")
    broken = run(project)
    assert broken.returncode == 1
    assert "content/badges/safety.yaml:2:1: error[E102]" in broken.stderr and "Traceback" not in broken.stderr
    assert "E303" not in broken.stderr, "a broken badge file is not a removed award"


def test_check_never_says_it_built_anything(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    checked = run(project, "check", env={"CI": ""})
    assert checked.returncode == 0, checked.stderr
    assert "no signing key yet" in checked.stderr  # the notice is still given...
    assert "built" not in checked.stderr.lower(), checked.stderr  # ...without claiming a build
    assert not (project / "_site").exists()


def test_project_option_goes_anywhere_on_the_command_line(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for argv in (["check", "--project", str(project)], ["check", "-C", str(project)], ["-C", str(project), "check"],
                 [f"--project={project}", "check"], ["check", f"-C{project}"], ["--strict", "-C", str(project)],
                 ["keys", "list", "-C", str(project)]):
        result = subprocess.run([*BUILD, *argv], capture_output=True, text=True, cwd=elsewhere, timeout=120)
        assert result.returncode == 0, (argv, result.stderr)
    assert (project / "_site/index.html").is_file()  # `--strict -C DIR` built DIR


def test_the_clones_build_py_run_in_a_project_folder_works_on_that_folder(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    (project / "content/badges/safety.yaml").write_text("name: [unclosed\n")
    result = subprocess.run([*BUILD, "check"], capture_output=True, text=True, cwd=project, timeout=120)
    assert result.returncode == 1 and "content/badges/safety.yaml:2:1: error[E102]" in result.stderr, result.stderr
    (project / "content/badges/safety.yaml").write_text((REPO / "tests/sites/minimal/content/badges/safety.yaml")
                                                       .read_text())
    built = subprocess.run([*BUILD], capture_output=True, text=True, cwd=project, timeout=120,
                           env={**os.environ, "CI": "true"})
    assert built.returncode == 0 and (project / "_site/index.html").is_file(), built.stderr
    # hints name the command as it was run, here the clone's build.py by its path
    assert f"Preview it with: python {REPO / 'build.py'} serve" in built.stdout, built.stdout


def test_readme_documents_the_project_option():
    readme = (REPO / "README.md").read_text()
    assert "`--project DIR` (or `-C DIR`)" in readme


def test_check_json_report(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    (project / "content/issuers/acme.yaml").write_text("name: Acme\nurl: https://acme.example/\nemial: x@y.org\n")
    result = run(project, "check", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["errorCount"] == 1  # no separate "needs 'email'"
    unknown = next(m for m in report["messages"] if m["code"] == "E201")
    assert (unknown["path"], unknown["line"], unknown["column"]) == ("content/issuers/acme.yaml", 3, 1)
    assert unknown["hint"] == "did you mean 'email'?"


def test_import_excel_roster(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    csv_file = tmp_path / "Roster March.csv"
    csv_file.write_bytes("\ufeffFull Name;E-mail;Date\r\nBob Brown; Bob.Brown@Example.COM ;2026-03-02\r\n"
                         "Zoë Ångström;zoe@example.com;2026-03-02\r\n;;\r\n".encode("utf-8"))
    result = run(project, "import", str(csv_file), "--badge", "safety")
    assert result.returncode == 0, result.stderr
    written = project / "content/awards/safety-roster-march.yaml"
    text = written.read_text()
    assert "bob.brown@example.com" in text and "Zoë Ångström" in text
    assert run(project, "check").returncode == 0
    again = run(project, "import", str(csv_file), "--badge", "safety")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_import_reports_every_bad_row_and_writes_nothing(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    csv_file = tmp_path / "roster.csv"
    csv_file.write_text("name,email,issued_on\nBob,bob@example,2026-03-02\nAmy,amy@example.com,31/12/2025\n")
    result = run(project, "import", str(csv_file), "--badge", "safety")
    assert result.returncode == 1
    assert f"{csv_file}:2:2: error[E205]: email: 'bob@example' is not a valid email address" in result.stderr
    assert f"{csv_file}:3:3: error[E204]: issued_on: '31/12/2025' is not an ISO date; write it as 2025-12-31" \
        in result.stderr
    assert not list((project / "content/awards").glob("safety-roster*"))
    typo = run(project, "import", str(csv_file), "--badge", "saftey")
    assert typo.returncode == 1  # a mistyped --badge is the command line's fault, not the CSV's
    assert typo.stderr.startswith("command line: error[E301]: --badge: unknown badge 'saftey'\n"
                                  "  hint: did you mean 'safety'?"), typo.stderr


def test_import_checks_the_rows_against_the_whole_project_before_writing(tmp_path: Path):
    """issue 10, finding 6: the same people imported again under another file name broke `check`."""
    project = copy_project("minimal", tmp_path)
    march = tmp_path / "march.csv"
    march.write_text("name,email,issued_on\nBo Li,bo@example.com,2026-03-02\nCy Ng,cy@example.com,2026-03-02\n")
    assert run(project, "import", str(march), "--badge", "safety").returncode == 0
    again = tmp_path / "march-final.csv"
    again.write_text("name,email,issued_on\nBo Li,BO@example.com,2026-03-02\nDee Ray,dee@example.com,2026-03-03\n"
                     "Dee Ray,dee@example.com,2026-03-03\nAda L.,ada@example.com,2026-03-02\n"
                     "Eve Oz,eve@example.com,2030-01-01\n")
    result = run(project, "import", str(again), "--badge", "safety")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "error[" in line]
    assert lines == [
        f"{again}:2:1: error[E302]: Bo Li has badge 'safety' twice (first at "
        "content/awards/safety-march.yaml:4:5)",
        f"{again}:4:1: error[E302]: Dee Ray has badge 'safety' twice (first at {again}:3:1)",
        f"{again}:5:1: error[E302]: Ada L. has badge 'safety' twice (first at content/awards/2026.yaml:4:5)",
        f"{again}:6:3: error[E204]: issued_on: issued_on 2030-01-01 is in the future"], result.stderr
    assert sorted(p.name for p in (project / "content/awards").iterdir()) == ["2026.yaml", "safety-march.yaml"]
    assert run(project, "check").returncode == 0


def test_import_reads_day_first_dates_and_writes_readme_style(tmp_path: Path):
    """issue 10, findings 15 and 17: UK rosters, and a file that takes an award appended README's way."""
    project = copy_project("minimal", tmp_path)
    roster = tmp_path / "Roster.csv"
    roster.write_bytes("\ufeffFull Name;E-mail;Issue Date;Expiry Date\r\nBo Li;bo@example.com;13/04/2026;"
                       "12/04/2029\r\nCy Ng;cy@example.com;01/02/2026;\r\n".encode("utf-8"))
    refused = run(project, "import", str(roster), "--badge", "safety")  # no date order set: today's clear error
    assert refused.returncode == 1
    assert f"{roster}:2:3: error[E204]: issued_on: '13/04/2026' is not an ISO date; write it as 2026-04-13" \
        in refused.stderr
    result = run(project, "import", str(roster), "--badge", "safety", "--date-format", "day-first")
    assert result.returncode == 0, result.stderr
    written = project / "content/awards/safety-roster.yaml"
    assert written.read_text() == (
        "# Imported from Roster.csv by `badgekiln import`.\n"
        "badge: safety\n"
        "awards:\n"
        "  - name: Bo Li\n    email: bo@example.com\n    issued_on: 2026-04-13\n    expires: 2029-04-12\n"
        "  - name: Cy Ng\n    email: cy@example.com\n    issued_on: 2026-02-01\n")
    with written.open("a") as handle:  # README's style, appended by hand
        handle.write("  - name: Dee Ray\n    email: dee@example.com\n    issued_on: 2026-03-01\n")
    assert run(project, "check").returncode == 0
    written.unlink()
    site = project / "content/site.yaml"
    site.write_text(site.read_text() + "date_order: day-first\n")  # the site's setting, for YAML and rosters
    assert run(project, "import", str(roster), "--badge", "safety").returncode == 0
    assert "issued_on: 2026-04-13" in written.read_text()
    wrong = run(project, "import", str(roster), "--badge", "safety", "--date-format", "month-first")
    assert f"{roster}:2:3: error[E204]: issued_on: '13/04/2026' is not a month-first date: month 13 does not " \
           "exist" in wrong.stderr


def test_new_scaffolds_pass_check(tmp_path: Path):
    project = tmp_path / "fresh"
    project.mkdir()
    steps = [("new", "site"), ("new", "issuer", "acme"), ("new", "badge", "welding", "--name", "Safe Welding"),
             ("new", "award", "--badge", "welding", "--name", "Ann Lee", "--email", " Ann@Example.org",
              "--issued-on", "2026-01-05")]
    for step in steps:
        result = run(project, *step)
        assert result.returncode == 0, (step, result.stderr)
    check = run(project, "check")
    assert check.returncode == 0, check.stderr
    assert run(project, "new", "badge", "welding").returncode == 1  # never overwrites
    assert run(project, "new", "badge", "Bad Name").returncode == 1


def test_console_script_is_the_same_cli(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    result = subprocess.run(["badgekiln", "check"], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_serve_previews_and_rebuilds_on_change(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*BUILD, "--project", str(project), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/badges/safety/"
        page = _fetch_when_ready(url)
        assert "Safety Basics" in page
        badge = project / "content/badges/safety.yaml"
        badge.write_text(badge.read_text().replace("name: Safety Basics", "name: Safety Essentials"))
        deadline = time.time() + 20
        while "Safety Essentials" not in page and time.time() < deadline:
            time.sleep(0.3)
            page = _fetch_when_ready(url)
        assert "Safety Essentials" in page
        assert not (project / "content/ledger.json").exists(), "a preview must not freeze links"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def _fetch_when_ready(url: str) -> str:
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def _build_on_a_terminal(project: Path, answer: bytes | None, *args: str, env: dict | None = None,
                         question: bytes = b"[y/N]") -> tuple[int, str]:
    """Run the build (or `args`) with stdin/stdout/stderr on a pseudo-terminal, answering its question."""
    import pty
    import select

    leader, follower = pty.openpty()
    env = {**{k: v for k, v in os.environ.items() if k != "CI"}, **(env or {})}
    proc = subprocess.Popen([*BUILD, "--project", str(project), *args], stdin=follower, stdout=follower,
                            stderr=follower, env=env, close_fds=True)
    os.close(follower)
    seen, answered, deadline = b"", False, time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and answer is not None and question in seen:
            os.write(leader, answer)
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(leader)
    return proc.wait(timeout=60), seen.decode("utf-8", "replace")


def test_new_site_on_a_terminal_asks_for_the_host(tmp_path: Path):
    code, seen = _build_on_a_terminal(tmp_path / "asked", b"netlfy\n4\n", "new", "site", question=b"Host [")
    assert code == 0, seen
    assert "Where will you publish the site?" in seen and "4. netlify" in seen
    assert "type a number from 1 to 7 or a name" in seen  # the typo was asked again, not guessed
    assert "host: netlify" in (tmp_path / "asked/content/site.yaml").read_text()
    assert (tmp_path / "asked/netlify.toml").is_file()
    code, seen = _build_on_a_terminal(tmp_path / "default", b"\n", "new", "site", question=b"Host [")
    assert code == 0 and "host: github-pages" in (tmp_path / "default/content/site.yaml").read_text()


def test_build_on_a_terminal_offers_to_create_the_first_key(tmp_path: Path):
    declined = copy_project("minimal", tmp_path / "declined")
    code, output = _build_on_a_terminal(declined, b"n\n")
    assert code == 0 and "Create a signing key now" in output, output
    assert not list(declined.glob("keys/*.key.json"))
    assert not list((declined / "_site/a").glob("*/*/credential.json"))

    accepted = copy_project("minimal", tmp_path / "accepted")
    code, output = _build_on_a_terminal(accepted, b"y\n")
    assert code == 0, output
    [key_file] = (accepted / "keys").glob("*.key.json")
    assert key_file.stat().st_mode & 0o077 == 0
    assert "Created signing key" in output and "secretKeyMultibase" not in output
    hosted = list((accepted / "_site/a").glob("*/*/assertion.json"))
    assert hosted and len(list((accepted / "_site/a").glob("*/*/credential.json"))) == len(hosted)  # same run
    # asked once: the next build signs without a question; a pipe (or CI) is never asked
    again = run(accepted)
    assert again.returncode == 0 and "[y/N]" not in again.stderr + again.stdout
    piped = copy_project("minimal", tmp_path / "piped")
    quiet = run(piped, env={"CI": ""})
    assert quiet.returncode == 0 and "[y/N]" not in quiet.stderr + quiet.stdout


def test_a_build_on_a_terminal_shows_its_phases_and_an_estimate_and_a_pipe_gets_none(tmp_path: Path):
    from testkeys import env_value

    project = copy_project("example", tmp_path)
    key = {"BADGEKILN_SIGNING_KEYS": env_value()}
    code, output = _build_on_a_terminal(project, None, "build", env={**key, "BADGEKILN_JOBS": "1"})
    assert code == 0, output
    awards = len(ledger_awards(project))
    import re

    lines = [" ".join(line.split()) for line in re.split(r"[\r\n]", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output))]
    assert any(line.startswith("checking content") for line in lines), lines
    for phase in ("signing credentials", "award files"):
        assert any(line.startswith(phase) and f" {awards}/{awards} done in " in line for line in lines), (phase, lines)
    assert any(line.startswith("award files") and "estimating" in line for line in lines)  # the estimate column
    assert "Built " in output  # the summary follows, on its own lines
    rebuilt = run(project, "build", "--reissue", env=key)  # captured: a pipe, like CI logs
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "award files" not in rebuilt.stderr and "\x1b[" not in rebuilt.stderr and "━" not in rebuilt.stderr
    quiet = copy_project("minimal", tmp_path / "ci")
    code, output = _build_on_a_terminal(quiet, None, "build", env={"CI": "true"})
    assert code == 0 and "award files" not in output and "checking content" not in output, output
