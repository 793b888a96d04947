"""One run at a time per project: concurrent builds never publish a link the ledger forgot.

Real processes, as a provider starts them (two terminals, a CI job and a terminal, a script
that runs `build` twice): the project lock makes the second wait, with a message, and check
the project again once the first has published.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from badgekiln.model import ledger
from badgekiln.project_lock import WAITING, project_lock
from conftest import REPO, copy_project, ledger_awards

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
    return {entry["slug"] for entry in ledger_awards(project).values()}


# Loaded into a build process (python -c), this pauses it at two moments of a build, so the test
# can set up the interleaving the issue saw by chance: each pause writes NAME-POINT.paused and
# waits for NAME-POINT.go. POINT is "ledger" (about to replace a file of the ledger) or "swap"
# (about to move the old site aside for the new one, or to commit a change's journal).
PAUSES = """
import os, pathlib, time
_replace, _folder, _name = os.replace, pathlib.Path(os.environ["PAUSE_DIR"]), os.environ["PAUSE_NAME"]
_points = set(os.environ["PAUSE_AT"].split(","))

def _pause(point):
    if point in _points:
        _points.discard(point)
        (_folder / f"{_name}-{point}.paused").touch()
        while not (_folder / f"{_name}-{point}.go").exists():
            time.sleep(0.02)

def replace(src, dst, *args, **kwargs):
    if "/content/ledger" in str(dst):  # the first file of the ledger (content/ledger.json, content/ledger/)
        _pause("ledger")
    elif ".previous-" in os.path.basename(str(dst)) or str(dst).endswith(".journal"):
        _pause("swap")  # a whole site moved aside, or a change's journal committed
    return _replace(src, dst, *args, **kwargs)

os.replace = replace
"""


class Paused:
    """A build process that stops at the moments named in `points` until released."""

    def __init__(self, project: Path, folder: Path, name: str, points: str):
        (folder / "pauses.py").write_text(PAUSES)
        code = (f"import sys; sys.path.insert(0, {str(folder)!r}); import pauses, runpy; "
                f"sys.argv = ['build.py', '--project', {str(project)!r}, 'build']; "
                f"runpy.run_path({str(REPO / 'build.py')!r}, run_name='__main__')")
        env = {**os.environ, "PAUSE_DIR": str(folder), "PAUSE_NAME": name, "PAUSE_AT": points}
        self.folder, self.name = folder, name
        self.process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env)
        self.said: list[str] = []
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        for line in self.process.stderr:
            self.said.append(line)

    def at(self, point: str) -> bool:
        return (self.folder / f"{self.name}-{point}.paused").exists()

    def release(self, point: str) -> None:
        (self.folder / f"{self.name}-{point}.go").touch()

    def waiting(self) -> bool:
        return any(WAITING in line for line in list(self.said))


def _until(condition, what: str) -> None:
    """Wait for a state of the processes (a deadline only turns a hang into a failure)."""
    deadline = time.monotonic() + 240
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_concurrent_builds_never_publish_a_slug_missing_from_the_ledger(tmp_path: Path):
    """The interleaving that lost a link: A mints, B mints, A records, B records and publishes, A publishes.

    Without the lock both builds read the old ledger and mint their own slug for the new award;
    the ledger ends with B's and the site with A's. With it, B waits until A has published and
    then finds A's slug in the ledger.
    """
    project = copy_project("minimal", tmp_path)
    first = _start(project)
    assert first.wait(timeout=300) == 0, first.communicate()
    (project / "content/awards/extra.yaml").write_text(
        "badge: safety\nissued_on: 2026-03-01\nawards:\n  - name: Bo Li\n    email: bo@example.com\n")
    folder = tmp_path / "pauses"
    folder.mkdir()
    a = Paused(project, folder, "a", "ledger,swap")
    _until(lambda: a.at("ledger"), "A checked the project and is about to record its slug")
    b = Paused(project, folder, "b", "ledger")
    _until(lambda: b.at("ledger") or b.waiting(), "B checked the project too, or waits for A")
    b_waited = b.waiting()
    a.release("ledger")
    _until(lambda: a.at("swap"), "A recorded its slug and is about to publish")
    b.release("ledger")
    if not b_waited:
        b.process.wait(timeout=300)  # B records its own slug and publishes first
    a.release("swap")
    assert a.process.wait(timeout=300) == 0 and b.process.wait(timeout=300) == 0, (a.said, b.said)
    published, recorded = _published_slugs(project / "_site"), _ledger_slugs(project)
    assert len(published) == 2 and published <= recorded, published - recorded
    assert b_waited, "B should have waited for A"


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
    commands = [["notify", "--dry-run"], ["keys", "list"], ["revoke", "safety/ada", "--reason", "Test"],
                ["import", str(roster), "--badge", "safety"]]
    for command in commands:
        with project_lock(project):
            waiting = _start(project, *command)
            line = waiting.stderr.readline()  # the first thing it says (it cannot finish while the lock is held)
        out, err = waiting.communicate(timeout=300)
        assert WAITING in line, (command, line, err)
        assert waiting.returncode == 0, (command, err)
