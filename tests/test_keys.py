"""Key management: `keys new|rotate|list`, the CI environment variable, and keys that never leak.

The leak test builds with a known private key (the TEST-ONLY key, given the way CI gives it)
and scans every byte the build writes or prints, the ledger included, for any encoding of it.
"""
from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import testkeys
from badgekiln import cli
from badgekiln.crypto import keys, multikey
from badgekiln.diagnostics import Report
from badgekiln.model import ledger
from conftest import REPO, award_dir, build, copy_project, ledger_files, tree
from cryptography.hazmat.primitives import serialization


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _patterns_of(path: Path) -> list[bytes]:
    """Encodings of the private material in a key file (raw seed, hex, multibase, PEM lines)."""
    doc = json.loads(path.read_text())
    secret = doc["ed25519"]["secretKeyMultibase"]
    seed = multikey.private_key_seed(multikey.decode_secret_key(secret))
    pem_lines = [line.encode() for line in doc["rsa"]["privateKeyPem"].splitlines() if len(line) >= 40]
    return [secret.encode(), seed, seed.hex().encode(), base64.b64encode(seed).rstrip(b"="), *pem_lines]


def _leaks(data: bytes, patterns: list[bytes]) -> list[int]:
    return [i for i, p in enumerate(patterns) if p in data]


def test_keys_new_creates_a_private_file_and_records_the_public_key(example: Path, capsys):
    code, out, err = _run(capsys, "--project", str(example), "keys", "new")
    assert code == 0, err
    [key_file] = sorted((example / "keys").glob("*.key.json"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((example / "keys").stat().st_mode) == 0o700
    assert (example / "keys/README.md").exists()
    key_id = key_file.name.split(".")[0]
    registry = json.loads((example / ledger.LEDGER_PATH).read_text())["keys"]
    assert [(k["id"], k["issuer"], k["retired"]) for k in registry] == [(key_id, None, None)]
    assert "secretKeyMultibase" not in json.dumps(registry)
    for text in ("keys/README.md", f"gh secret set BADGEKILN_SIGNING_KEYS < keys/{key_id}.key.json",
                 "Back it up now", "commit that file"):
        assert text in out
    assert _leaks((out + err).encode(), _patterns_of(key_file)) == []
    # the next build signs with it, from keys/, with no other setup
    prepared = build(example)
    assert prepared.model is not None and not prepared.diagnostics
    award = prepared.model.awards[0]
    doc = json.loads((example / f"_site/{award_dir(award.slug)}/credential.json").read_text())
    assert doc["proof"][0]["verificationMethod"].endswith(f"#key-{key_id}")


def test_keys_new_refuses_a_second_key_and_unknown_issuers(example: Path, capsys):
    assert _run(capsys, "--project", str(example), "keys", "new")[0] == 0
    code, _, err = _run(capsys, "--project", str(example), "keys", "new")
    assert code == 2 and "already has signing key" in err and "keys rotate" in err
    code, _, err = _run(capsys, "--project", str(example), "keys", "new", "--issuer", "northwnd")
    assert code == 2 and "unknown issuer 'northwnd'" in err and "did you mean 'northwind'" in err
    assert _run(capsys, "--project", str(example), "keys", "new", "--issuer", "northwind")[0] == 0
    assert len(list((example / "keys").glob("*.key.json"))) == 2


def test_issuer_key_wins_over_site_key_and_newest_wins():
    site_old = keys.parse_key_object(testkeys.key_json(), "a")
    site_new, _ = keys.generate(None, datetime.datetime(2027, 1, 1))
    own, _ = keys.generate("northwind", datetime.datetime(2026, 6, 1))
    ring = keys.Keyring((site_old, site_new, own))
    assert ring.best_for("northwind") is own
    assert ring.best_for("other") is site_new
    assert ring.best_for("other", retired={site_new.id}) is site_old


def test_keys_rotate_retires_the_old_key_and_strips_its_private_part(example: Path, capsys):
    _run(capsys, "--project", str(example), "keys", "new")
    [old_file] = sorted((example / "keys").glob("*.key.json"))
    old_id = old_file.name.split(".")[0]
    build(example)
    code, out, err = _run(capsys, "--project", str(example), "keys", "rotate")
    assert code == 0, err
    old = json.loads(old_file.read_text())
    assert old["status"] == "retired"
    assert "secretKeyMultibase" not in old["ed25519"] and "privateKeyPem" not in old["rsa"]
    assert stat.S_IMODE(old_file.stat().st_mode) == 0o600
    assert f"Retired {old_id}" in out and "keeps verifying" in out
    registry = json.loads((example / ledger.LEDGER_PATH).read_text())["keys"]
    [new_id] = {k["id"] for k in registry} - {old_id}  # ordered by creation time, to the second: a tie goes by id
    assert {k["id"]: k["retired"] is not None for k in registry} == {old_id: True, new_id: False}
    code, out, _ = _run(capsys, "--project", str(example), "keys", "list")
    assert code == 0
    assert old_id in out and "retired" in out and "active" in out and "keys/" in out
    assert _run(capsys, "--project", str(example), "keys", "rotate", "--issuer", "northwind")[0] == 2


def test_keys_list_shows_where_private_parts_are(example: Path, capsys, monkeypatch):
    code, out, _ = _run(capsys, "--project", str(example), "keys", "list")
    assert code == 0 and "No signing keys yet" in out
    monkeypatch.setenv(keys.ENV_VAR, testkeys.env_value())
    build(example)
    monkeypatch.delenv(keys.ENV_VAR)
    code, out, _ = _run(capsys, "--project", str(example), "keys", "list")
    assert testkeys.signing_key().id in out and "not on this machine" in out
    assert _leaks(out.encode(), testkeys.secret_patterns()) == []


@pytest.mark.parametrize("encode", [
    lambda text: text,
    lambda text: base64.b64encode(text.encode()).decode(),
    lambda text: base64.urlsafe_b64encode(text.encode()).decode().rstrip("="),
    lambda text: json.dumps([json.loads(text)]),
], ids=["json", "base64", "base64url", "list"])
def test_environment_variable_forms(encode, tmp_path: Path):
    report = Report()
    ring = keys.load_keyring(tmp_path, {keys.ENV_VAR: encode(testkeys.env_value())}, report)
    assert not report.items
    assert [k.id for k in ring.keys] == [testkeys.signing_key().id]
    assert ring.keys[0].source == "$BADGEKILN_SIGNING_KEYS"


def test_bad_keys_are_reported_without_echoing_them(tmp_path: Path):
    good = testkeys.key_json()
    other, other_doc = keys.generate(None, datetime.datetime(2026, 1, 1))
    wrong_secret = {**good, "ed25519": {**good["ed25519"],
                                        "secretKeyMultibase": other_doc["ed25519"]["secretKeyMultibase"]}}
    broken_secret = {**good, "ed25519": {**good["ed25519"],
                                         "secretKeyMultibase": good["ed25519"]["secretKeyMultibase"][:-3] + "0OI"}}
    broken_pem = {**good, "rsa": {**good["rsa"], "privateKeyPem": good["rsa"]["privateKeyPem"][:300]}}
    cases = {"wrong": wrong_secret, "broken": broken_secret, "pem": broken_pem}
    patterns = testkeys.secret_patterns() + [other_doc["ed25519"]["secretKeyMultibase"].encode(),
                                             good["ed25519"]["secretKeyMultibase"][:-3].encode()]
    for name, doc in cases.items():
        report = Report()
        ring = keys.load_keyring(tmp_path, {keys.ENV_VAR: json.dumps(doc)}, report)
        assert ring.keys == () and [d.code for d in report.items] == ["E501"], name
        text = "\n".join(d.format() for d in report.items)
        assert _leaks(text.encode(), patterns) == [], (name, text)
    report = Report()
    keys.load_keyring(tmp_path, {keys.ENV_VAR: testkeys.env_value()[:-40]}, report)
    [problem] = report.items
    assert problem.code == "E501" and str(problem.location) == "$BADGEKILN_SIGNING_KEYS"
    assert _leaks(problem.format().encode(), testkeys.secret_patterns()) == []


def test_no_private_key_byte_reaches_output_logs_or_the_ledger(tmp_path: Path):
    """Build, check and verify with a known key given as CI gives it; scan everything they produce."""
    project = copy_project("example", tmp_path)
    env = {**os.environ, keys.ENV_VAR: testkeys.env_value(), "SOURCE_DATE_EPOCH": "1795000000"}
    printed = b""
    for argv in (["build"], ["check"], ["build", "--strict"], ["keys", "list"]):
        completed = subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), *argv],
                                   env=env, capture_output=True, check=False)
        assert completed.returncode == 0, completed.stderr.decode()
        printed += completed.stdout + completed.stderr
    site = tree(project / "_site")
    awards = [p for p in site if p.endswith("/credential.json")]
    assert len(awards) >= 40 and ".well-known/did.json" in site
    some = project / "_site" / awards[0]
    completed = subprocess.run([sys.executable, str(REPO / "build.py"), "verify", str(some), "--site",
                                str(project / "_site"), "--json"], env=env, capture_output=True, check=False)
    printed += completed.stdout + completed.stderr
    bad_env = {**env, keys.ENV_VAR: testkeys.env_value().replace('"id"', '"idx"')}
    completed = subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project)],
                               env=bad_env, capture_output=True, check=False)
    assert completed.returncode == 1 and b"E501" in completed.stderr
    printed += completed.stdout + completed.stderr
    patterns = testkeys.secret_patterns()
    leaks = {path: _leaks(data, patterns) for path, data in site.items() if _leaks(data, patterns)}
    assert leaks == {}
    assert _leaks(b"".join(ledger_files(project).values()), patterns) == []
    assert _leaks(printed, patterns) == []
    # nor what builds keep beside the project (the ledger index holds every credential record)
    cache = [p for p in (project / ".badgekiln-cache").rglob("*") if p.is_file()]
    assert any(p.name == "ledger-records.sqlite" for p in cache)
    assert [p.name for p in cache if _leaks(p.read_bytes(), patterns)] == []
    assert not (project / "_site" / "keys").exists() and not (project / "keys").exists()


def test_keys_folder_is_git_ignored_except_its_readme():
    lines = (REPO / ".gitignore").read_text().splitlines()
    assert "keys/*" in lines and "!keys/README.md" in lines
    if shutil.which("git") and (REPO / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "-q", "keys/abcd1234.key.json"], cwd=REPO)
        readme = subprocess.run(["git", "check-ignore", "-q", "keys/README.md"], cwd=REPO)
        test_key = subprocess.run(["git", "check-ignore", "-q", "tests/keys/TEST-ONLY-signing-key.json"], cwd=REPO)
        assert (ignored.returncode, readme.returncode, test_key.returncode) == (0, 1, 1)


def test_the_test_key_is_only_under_tests():
    for folder in ("keys", "content", "generator", "templates"):
        for path in (REPO / folder).rglob("*") if (REPO / folder).is_dir() else []:
            if path.is_file() and path.suffix in (".json", ".yaml", ".md", ".py", ".html", ".js"):
                data = path.read_bytes()
                assert testkeys.signing_key().public.ed25519.encode() not in data, path
                assert _leaks(data, testkeys.secret_patterns()[:6]) == [], path


def test_committed_keys_readme_is_the_text_keys_new_writes():
    from badgekiln.commands import key_commands
    from conftest import REPO

    assert (REPO / "keys/README.md").read_text(encoding="utf-8") == key_commands.README


def _with_faulty_rsa(doc: dict) -> dict:
    """The key with an RSA part that reads as PEM and matches its public key, but whose CRT
    coefficient is wrong: signing with it would leak the key, so it must never sign."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = serialization.load_pem_private_key(doc["rsa"]["privateKeyPem"].encode(), None).private_numbers()
    faulty = rsa.RSAPrivateNumbers(numbers.p, numbers.q, numbers.d, numbers.dmp1, numbers.dmq1,
                                   (numbers.iqmp + 1) % numbers.p, numbers.public_numbers)
    pem = faulty.private_key(unsafe_skip_rsa_key_validation=True).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {**doc, "rsa": {**doc["rsa"], "privateKeyPem": pem}}


def test_an_rsa_key_is_validated_and_kept_only_where_a_site_signs_with_it(tmp_path: Path, monkeypatch):
    """A build whose site publishes no RS256 form reads the RSA part without validating it (30 ms
    a build) and drops it; one that does validates it, and refuses a faulty key before signing."""
    faulty = _with_faulty_rsa(testkeys.key_json())
    report = Report()
    assert keys.load_keyring(tmp_path, {keys.ENV_VAR: json.dumps(faulty)}, report).keys == ()
    assert [d.code for d in report.items] == ["E501"] and "rsa.privateKeyPem" in report.items[0].message
    [unused] = keys.load_keyring(tmp_path, {keys.ENV_VAR: json.dumps(faulty)}, Report(), rsa_signing=False).keys
    assert unused.rsa is None and unused.public == testkeys.signing_key().public
    broken = {**faulty, "rsa": {**faulty["rsa"], "privateKeyPem": faulty["rsa"]["privateKeyPem"][:300]}}
    report = Report()
    keys.load_keyring(tmp_path, {keys.ENV_VAR: json.dumps(broken)}, report, rsa_signing=False)
    assert [d.code for d in report.items] == ["E501"]  # a PEM that does not read is reported all the same

    good, bad = copy_project("minimal", tmp_path / "good"), copy_project("minimal", tmp_path / "bad")
    monkeypatch.setenv(keys.ENV_VAR, testkeys.env_value())
    assert any(n.startswith("signed ") for n in build(good).notices)
    monkeypatch.setenv(keys.ENV_VAR, json.dumps(faulty))
    assert build(bad).model is not None  # Ed25519 signs the credentials: the very same site
    assert tree(bad / "_site") == tree(good / "_site") and ledger_files(bad) == ledger_files(good)
    site_yaml = bad / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "signing:\n  vc_jwt: true\n")
    published = tree(bad / "_site")
    refused = build(bad)
    assert refused.model is None and "E501" in {d.code for d in refused.diagnostics}
    assert tree(bad / "_site") == published and not list((bad / "_site").rglob("*.jwt"))
