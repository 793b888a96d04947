"""One run at a time per project: concurrent builds never publish a link the ledger forgot.

Real processes, as a provider starts them (two terminals, a CI job and a terminal, a script
that runs `build` twice): the project lock makes the second wait, with a message, and check
the project again once the first has published.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

from badgekiln.model import ledger
from badgekiln.project_lock import WAITING, project_lock
from conftest import REPO, copy_project

BUILD = [sys.executable, str(REPO / "build.py")]
SLUG = re.compile(r"^[a-z0-9]{24}$")


def _start(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([*BUILD, "--project", str(project), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _published_slugs(site: Path) -> set[str]:
    """Award slugs the site has pages for (any folder level named like a slug under a/)."""
    return {part for page in (site / "a").rglob("index.html") for part in page.relative_to(site).parts
            if SLUG.match(part)}


def _ledger_slugs(project: Path) -> set[str]:
    doc = json.loads((project / ledger.LEDGER_PATH).read_text())
    return {entry["slug"] for entry in doc["awards"].values()}


def test_concurrent_builds_never_publish_a_slug_missing_from_the_ledger(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    first = _start(project)
    assert first.wait(timeout=300) == 0, first.communicate()
    for round_number in range(4):  # the issue saw a lost link in 2 of 6 tries without the lock
        (project / f"content/awards/extra-{round_number}.yaml").write_text(
            f"badge: safety\nissued_on: 2026-03-0{round_number + 1}\n"
            f"awards:\n  - name: Person {round_number}\n    email: person{round_number}@example.com\n")
        runs = [_start(project) for _ in range(3)]
        outputs = [run.communicate(timeout=300) for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], outputs
        published, recorded = _published_slugs(project / "_site"), _ledger_slugs(project)
        assert len(published) == round_number + 2
        assert published <= recorded, (round_number, published - recorded)
        # the next build keeps every published link
        again = _start(project, "build", "--frozen")
        assert again.wait(timeout=300) == 0, again.communicate()
        assert _published_slugs(project / "_site") == published


def test_a_second_run_waits_for_the_first_and_says_so(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    with project_lock(project):  # another run holds the project
        waiting = _start(project)
        watchdog = threading.Timer(240, waiting.kill)  # a hang fails the test instead of blocking the suite
        watchdog.start()
        try:
            said = []
            for line in waiting.stderr:
                said.append(line)
                if WAITING in line:
                    break
            assert said and WAITING in said[-1], "".join(said)
            assert waiting.poll() is None  # still waiting, nothing written
            assert not (project / ledger.LEDGER_PATH).exists() and not (project / "_site").exists()
        finally:
            watchdog.cancel()
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert (project / "_site/index.html").is_file() and (project / ledger.LEDGER_PATH).is_file()


def test_every_command_that_writes_the_project_takes_the_lock(tmp_path: Path):
    """revoke, import, keys and notify wait like build (one in-process check per command)."""
    from badgekiln import cli

    project = copy_project("minimal", tmp_path)
    assert cli.main(["--project", str(project), "build"]) == 0
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,issued_on\nBo Li,bo@example.com,2026-03-02\n")
    commands = [["revoke", "safety/ada", "--reason", "Test"], ["import", str(roster), "--badge", "safety"],
                ["keys", "list"], ["notify", "--dry-run"]]
    for command in commands:
        with project_lock(project):
            waiting = _start(project, *command)
            line = waiting.stderr.readline()
            assert WAITING in line, (command, line, waiting.communicate(timeout=300))
        waiting.communicate(timeout=300)
