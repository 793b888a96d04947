"""A provider's own site in an empty git repository (issue 10, finding 1): nothing private is ever staged.

`new site` scaffolds the whole project (.gitignore, keys/README.md, a publish workflow, a README);
`keys new` refuses to write a key that git would not ignore. Real git (tests/run.sh installs it),
real subprocesses.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from badgekiln.commands.key_commands import README as KEYS_README
from conftest import REPO

BUILD = [sys.executable, str(REPO / "build.py")]


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "BADGEKILN_SIGNING_KEYS")}
    return subprocess.run([*BUILD, "--project", str(project), *args], capture_output=True, text=True, env=env,
                          timeout=300)


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    project = tmp_path / "acme-badges"
    project.mkdir()
    git(project, "init", "-q")
    return project


def test_new_site_then_keys_build_and_outbox_stage_nothing_private(repository: Path):
    steps = [("new", "site", "--title", "Acme Badges", "--base-url", "https://badges.acme.example/"),
             ("new", "issuer", "acme"), ("new", "badge", "forklift"),
             ("new", "award", "--badge", "forklift", "--name", "Ada Okafor", "--email", "ada@example.com",
              "--issued-on", "2026-03-02"),
             ("keys", "new"), ("build",), ("notify", "--dry-run")]
    for step in steps:
        result = run(repository, *step)
        assert result.returncode == 0, (step, result.stderr)
        if step[:2] == ("new", "site"):
            assert "set base_url" not in result.stdout  # it was given (issue 10, finding 23)
            assert "keep it private" in result.stdout
        if step == ("keys", "new"):
            assert "git ignores it here (checked)" in result.stdout
    assert list((repository / "keys").glob("*.key.json")) and list((repository / "_outbox").glob("*.eml"))
    assert (repository / ".badgekiln-cache").is_dir() and (repository / "_site/index.html").is_file()
    git(repository, "add", "-A")
    staged = git(repository, "diff", "--cached", "--name-only").split()
    assert not [p for p in staged if p.startswith(("keys/", "_site/", ".badgekiln-cache/", "_outbox/"))
                and p != "keys/README.md"], staged
    assert ".badgekiln.lock" not in staged
    for wanted in (".gitignore", "keys/README.md", ".github/workflows/publish.yml", "README.md",
                   "content/site.yaml", "content/ledger.json"):
        assert wanted in staged, wanted
    assert (repository / "keys/README.md").read_text() == KEYS_README
    readme = (repository / "README.md").read_text()
    assert readme.startswith("# Acme Badges\n") and "Keep this repository private" in readme
    assert "Set `base_url`" not in readme


def test_the_publish_workflow_builds_frozen_with_the_secret_and_uploads_only_the_site(repository: Path):
    assert run(repository, "new", "site").returncode == 0
    workflow = yaml.safe_load((repository / ".github/workflows/publish.yml").read_text())
    steps = workflow["jobs"]["publish"]["steps"]
    commands = [s["run"] for s in steps if "run" in s]
    assert commands[0].startswith('pip install "badgekiln==') and commands[1] == "badgekiln build --frozen"
    build_step = next(s for s in steps if s.get("run") == "badgekiln build --frozen")
    assert build_step["env"] == {"BADGEKILN_SIGNING_KEYS": "${{ secrets.BADGEKILN_SIGNING_KEYS }}"}
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"] == {"path": "_site"}
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


def test_keys_new_refuses_a_key_git_would_not_ignore(repository: Path):
    shutil.copytree(REPO / "tests/sites/minimal/content", repository / "content")  # a project without .gitignore
    refused = run(repository, "keys", "new")
    assert refused.returncode == 2
    assert "refusing to write keys/" in refused.stderr and "does not ignore it" in refused.stderr
    assert "  keys/*\n  !keys/README.md" in refused.stderr
    assert not list(repository.glob("keys/*.key.json")) and not (repository / "content/ledger.json").exists()
    (repository / ".gitignore").write_text("keys/*\n!keys/README.md\n")
    assert run(repository, "keys", "new").returncode == 0
    git(repository, "add", "-A")
    assert not [p for p in git(repository, "diff", "--cached", "--name-only").split() if p.endswith(".key.json")]


def test_new_site_keeps_existing_files_and_says_what_a_kept_gitignore_lacks(repository: Path):
    (repository / "README.md").write_text("# Our notes\n")
    (repository / ".gitignore").write_text("_site/\n")
    result = run(repository, "new", "site")
    assert result.returncode == 0, result.stderr
    assert (repository / "README.md").read_text() == "# Our notes\n"
    assert (repository / ".gitignore").read_text() == "_site/\n"
    assert "wrote content/site.yaml, keys/README.md, .github/workflows/publish.yml" in result.stdout
    assert "kept (already there, not overwritten): .gitignore, README.md" in result.stdout
    assert ("add these lines to .gitignore (keys/ and learners' emails must stay out of git): keys/* "
            "!keys/README.md .badgekiln-cache/ _outbox/") in result.stdout
    assert "set base_url in content/site.yaml" in result.stdout  # the example address is a placeholder
    again = run(repository, "new", "site")
    assert again.returncode == 1 and "every file of a new site is already there" in again.stderr


def test_new_badge_writes_criteria_as_a_markdown_block(tmp_path: Path):
    project = tmp_path / "site"
    project.mkdir()
    for step in (("new", "site"), ("new", "issuer", "acme"), ("new", "badge", "forklift")):
        assert run(project, *step).returncode == 0
    text = (project / "content/badges/forklift.yaml").read_text()
    assert "criteria: |\n  - Attended the full course\n  - Passed the final assessment\n" in text


def _deploy_build_command(host: str, text: str) -> tuple[str, str]:
    """(the build command, what it publishes) read from a host's deploy file, parsed as the host parses it."""
    if host == "netlify":
        import tomllib

        config = tomllib.loads(text)
        assert config["build"]["environment"]["CI"] == "true"  # E507 refuses a keyless build, as in any CI
        return config["build"]["command"], config["build"]["publish"]
    document = yaml.safe_load(text)
    if host == "gitlab-pages":
        job = document["pages"]
        assert job["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
        return " && ".join(job["script"]), job["artifacts"]["paths"][0]
    steps = document["jobs"]["publish"]["steps"]
    build = next(s for s in steps if "badgekiln build" in s.get("run", ""))
    assert build["env"] == {"BADGEKILN_SIGNING_KEYS": "${{ secrets.BADGEKILN_SIGNING_KEYS }}"}
    publish = steps[steps.index(build) + 1:]
    uploads = [s.get("with", {}).get("path") or s.get("with", {}).get("command") or s.get("run", "") for s in publish]
    install = next(s["run"] for s in steps if s.get("run", "").startswith("pip install"))
    return f"{install} && {build['run']}", " ".join(str(u) for u in uploads)


@pytest.mark.parametrize("host, deploy_file, published", [
    ("github-pages", ".github/workflows/publish.yml", "_site"),
    ("cloudflare-pages", ".github/workflows/publish.yml", "pages deploy _site --project-name=acme-badges"),
    ("cloudflare-pages-paid", ".github/workflows/publish.yml", "pages deploy _site --project-name=acme-badges"),
    ("netlify", "netlify.toml", "_site"),
    ("gitlab-pages", ".gitlab-ci.yml", "public"),
    ("s3", ".github/workflows/publish.yml", "rclone sync --checksum --fast-list _site"),
    ("none", None, None),
])
def test_new_site_for_each_host_writes_its_profile_and_deploy_file(repository: Path, host, deploy_file, published):
    made = run(repository, "new", "site", "--title", "Acme Badges", "--host", host)
    assert made.returncode == 0, made.stderr
    site = yaml.safe_load((repository / "content/site.yaml").read_text())
    assert site["host"] == host
    deploy_files = [p for p in (".github/workflows/publish.yml", "netlify.toml", ".gitlab-ci.yml")
                    if (repository / p).exists()]
    assert deploy_files == ([deploy_file] if deploy_file else [])
    readme = " ".join((repository / "README.md").read_text().split())
    if deploy_file is None:
        assert "publish the `_site/` folder on any static host" in readme
        return
    assert deploy_file in made.stdout and deploy_file.split("/")[-1] in readme
    command, publishes = _deploy_build_command(host, (repository / deploy_file).read_text())
    assert command.startswith('pip install "badgekiln==' if host != "netlify" else "pip install badgekiln==")
    assert "badgekiln build --frozen" in command
    assert published in publishes and "content" not in publishes  # only the built site leaves the repository
    for step in (("new", "issuer", "acme"), ("new", "badge", "forklift"), ("check",)):
        assert run(repository, *step).returncode == 0, step


def test_new_site_rejects_an_unknown_host(repository: Path):
    refused = run(repository, "new", "site", "--host", "geocities")
    assert refused.returncode == 2 and "invalid choice: 'geocities'" in refused.stderr
    assert not (repository / "content").exists()
