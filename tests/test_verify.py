"""`python build.py verify`: the verdict an employer gets for valid, tampered, wrong-recipient,
unknown-key and expired badges, in every input form (JSON, JWT, PNG, SVG, OB 2.0 JWS, URL)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import testkeys
from badgekiln import cli
from badgekiln.crypto import dataintegrity, jws, keys, multikey
from conftest import FIXED_NOW, award_dir, baked_downloads, build, copy_project, ledger_awards
from ob2validator import serve_directory

EPOCH = str(int(FIXED_NOW.timestamp()))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    project = copy_project("example", tmp_path_factory.mktemp("verify"))
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None
    model = prepared.model
    current = next(a for a in model.awards if a.expires and a.expires > FIXED_NOW and a.revocation is None
                   and a.suspension is None and a.evidence == () and a.cpd is None)
    expired = next(a for a in model.awards if a.expires and a.expires < FIXED_NOW and a.revocation is None)
    svg_art = next(a for a in model.awards if a.expires and a.expires > FIXED_NOW and a.revocation is None
                   and a.suspension is None and a.cpd is None and model.badge(a.badge).image.format == "svg")
    return project / "_site", current, expired, svg_art


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(["verify", *argv])
    return code, capsys.readouterr().out


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out = run(capsys, *argv, "--json")
    return code, json.loads(out)


def checks(report: dict, index: int = 0) -> dict[str, bool | None]:
    return {c["name"]: c["ok"] for c in report["badges"][index]["checks"]}


def test_valid_credential_with_its_recipient(site, capsys):
    folder, award, _, _ = site
    path = folder / f"{award_dir(award.slug)}/credential.json"
    code, out = run(capsys, str(path), "--site", str(folder), "--email", f"  {award.email.upper()} ")
    assert code == 0, out
    assert out.startswith("VALID: Open Badges 3.0 credential (Data Integrity proof)\n")
    assert "issued by Northwind Safety Academy" in out
    code, report = run_json(capsys, str(path), "--site", str(folder), "--email", award.email)
    assert code == 0 and report["valid"] is True
    assert checks(report) == {"structure": True, "issuer key": True, "proof": True, "dates": True,
                              "recipient": True, "status": True}
    assert report["badges"][0]["summary"]["issuerId"] == "did:web:badges.northwind-academy.example"


def test_tampered_credential(site, capsys, tmp_path):
    folder, award, _, _ = site
    doc = json.loads((folder / f"{award_dir(award.slug)}/credential.json").read_text())
    doc["validUntil"] = "2099-01-01T00:00:00Z"  # one field changed: extend the expiry
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc))
    code, out = run(capsys, str(tampered), "--site", str(folder))
    assert code == 1
    assert out.startswith("INVALID: Open Badges 3.0 credential (Data Integrity proof) -- proof: the signature does "
                          "not match: the credential was changed after it was signed")
    code, report = run_json(capsys, str(tampered), "--site", str(folder))
    assert checks(report)["proof"] is False and checks(report)["issuer key"] is True


def test_wrong_email(site, capsys):
    folder, award, _, _ = site
    code, out = run(capsys, str(folder / f"{award_dir(award.slug)}/credential.json"), "--site", str(folder),
                    "--email", "someone.else@example.com")
    assert code == 1
    assert "INVALID" in out and "recipient: not issued to someone.else@example.com" in out


def test_unknown_key(site, capsys, tmp_path):
    folder, award, _, _ = site
    doc = json.loads((folder / f"{award_dir(award.slug)}/credential.json").read_text())
    stranger, _ = keys.generate(None, datetime(2026, 1, 1, tzinfo=timezone.utc))
    method = f"did:web:badges.northwind-academy.example#key-{stranger.id}"
    forged = dataintegrity.sign({k: v for k, v in doc.items() if k != "proof"}, stranger.ed25519,
                                verification_method=method, created="2026-11-01T00:00:00Z")
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    code, report = run_json(capsys, str(path), "--site", str(folder))
    assert code == 1 and report["valid"] is False
    assert checks(report)["issuer key"] is False and checks(report)["proof"] is False
    message = next(c["message"] for c in report["badges"][0]["checks"] if c["name"] == "issuer key")
    assert "not published by the issuer" in message and method in message
    # a key in the credential's own id (did:key style) is not the issuer's either
    self_made = dataintegrity.sign({k: v for k, v in doc.items() if k != "proof"}, stranger.ed25519,
                                   verification_method=f"did:key:{stranger.public.ed25519}#{stranger.public.ed25519}",
                                   created="2026-11-01T00:00:00Z")
    path.write_text(json.dumps(self_made))
    code, report = run_json(capsys, str(path), "--site", str(folder))
    assert code == 1 and checks(report)["issuer key"] is False


def test_expired(site, capsys):
    folder, _, award, _ = site
    code, out = run(capsys, str(folder / f"{award_dir(award.slug)}/credential.json"), "--site", str(folder))
    assert code == 1
    verdict = f"INVALID: Open Badges 3.0 credential (Data Integrity proof) -- dates: expired on {award.expires.date()}"
    assert verdict in out
    assert "[ok]   proof" in out  # still authentic: only its dates fail


def test_every_input_form(site, capsys, tmp_path):
    """Published files, and the images the award page bakes when downloaded (PNG art and SVG art)."""
    folder, png_art, _, svg_art = site
    ob2, ob3 = "Open Badges 2.0 assertion (hosted)", "Open Badges 3.0 credential (Data Integrity proof)"
    for award in (png_art, svg_art):
        inputs = {name: folder / award_dir(award.slug) / name
                  for name in ("credential.jwt", "assertion.jws", "assertion.json")}
        for name, data in baked_downloads(folder, award).items():
            inputs[name] = tmp_path / f"{award.slug}-{name}.{'png' if name == 'png' else 'svg'}"
            inputs[name].write_bytes(data)
        expected = {"credential.jwt": ["Open Badges 3.0 credential (VC-JWT)"], "png": [ob2, ob3],
                    "assertion.jws": ["Open Badges 2.0 assertion (signed)"], "assertion.json": [ob2]}
        if award is svg_art:
            expected |= {"svg": [ob2], "credential-svg": [ob3]}
        assert set(inputs) == set(expected)
        for name, kinds in expected.items():
            code, report = run_json(capsys, str(inputs[name]), "--site", str(folder), "--email", award.email)
            assert code == 0, (name, report)
            assert [b["format"] for b in report["badges"]] == kinds, name
            assert all(b["valid"] and {c["name"]: c["ok"] for c in b["checks"]}["recipient"] for b in report["badges"])
    # a compact JWT given on the command line works too
    jwt = (folder / f"{award_dir(png_art.slug)}/credential.jwt").read_text()
    code, report = run_json(capsys, jwt, "--site", str(folder))
    assert code == 0 and report["badges"][0]["format"].endswith("(VC-JWT)")


def test_tampered_jwt_and_jws(site, capsys, tmp_path):
    folder, award, _, _ = site
    for suffix in ("/credential.jwt", "/assertion.jws"):
        head, body, sig = (folder / f"{award_dir(award.slug)}{suffix}").read_text().split(".")
        claims = json.loads(jws.b64url_decode(body))
        claims["narrative"] = "Top of the class."
        path = tmp_path / f"t{suffix.replace('/', '.')}"
        path.write_text(".".join([head, jws.b64url(json.dumps(claims).encode()), sig]))
        code, report = run_json(capsys, str(path), "--site", str(folder))
        assert code == 1 and checks(report)["proof"] is False, suffix


def test_revoked_ob2_badge(site, capsys):
    folder = site[0]
    prepared_awards = ledger_awards(folder.parent)
    revoked = [v["slug"] for v in prepared_awards.values()
               if json.loads((folder / f"{award_dir(v['slug'])}/assertion.json").read_text()).get("revoked")]
    assert revoked
    code, out = run(capsys, str(folder / f"{award_dir(revoked[0])}/assertion.json"), "--site", str(folder))
    assert code == 1 and "status: revoked by the issuer" in out


def test_https_url_is_fetched(site, capsys):
    folder, award, _, _ = site
    with serve_directory(folder) as base:
        code, report = run_json(capsys, f"{base}{award_dir(award.slug)}/credential.json", "--site", str(folder))
    assert code == 0 and report["valid"], report
    code, out = run(capsys, "http://badges.example.com/a/x.credential.json")
    assert code == 1 and "only https:// URLs are fetched" in out


def test_unreadable_input(capsys, tmp_path):
    code, out = run(capsys, str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in out
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 20)
    code, out = run(capsys, str(tmp_path / "junk.png"))
    assert code == 1 and out.startswith("INVALID: cannot read a badge from the input")
    (tmp_path / "unsigned.json").write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"],
                                                        "type": ["VerifiableCredential"]}))
    code, out = run(capsys, str(tmp_path / "unsigned.json"))
    assert code == 1 and "not signed" in out


def test_did_key_fragments_and_spec_examples_are_understood(capsys, tmp_path):
    """Third-party credentials: keys embedded in the method id are resolved without a fetch."""
    doc = json.loads((Path(__file__).parent / "vectors/ob-v3p0-spec-examples/"
                      "example-01-sample-openbadgecredential-file-contents.ldp.json").read_text())
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc))
    code, report = run_json(capsys, str(path))
    assert checks(report)["proof"] is True and checks(report)["issuer key"] is True
    assert multikey.decode_public_key(doc["proof"][0]["verificationMethod"].split("#")[1])


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on return: connections are refused


def test_could_not_check_is_its_own_verdict_and_exit_code(capsys, tmp_path):
    """No network (or the issuer's site is down) is not proof of forgery: UNVERIFIED, exit 3."""
    port = _closed_port()
    code, out = run(capsys, f"http://127.0.0.1:{port}/a/xx/x/credential.json")
    assert code == 3, out
    assert out.startswith("UNVERIFIED: could not check: cannot fetch http://127.0.0.1:"), out
    # a signed credential whose issuer's DID document cannot be reached right now
    project = copy_project("minimal", tmp_path)
    prepared = build(project, keyring=testkeys.keyring(), base_url=f"http://127.0.0.1:{port}/")
    award = prepared.model.awards[0]
    credential = project / "_site" / award_dir(award.slug) / "credential.json"
    code, out = run(capsys, str(credential))
    assert code == 3, out
    assert out.startswith("UNVERIFIED: Open Badges 3.0 credential (Data Integrity proof) -- could not check "), out
    code, report = run_json(capsys, str(credential))
    assert code == 3 and report["valid"] is False and report["verdict"] == "unverified"
    # a definite answer from the issuer's site is still a verdict: a missing badge is INVALID
    with serve_directory(project / "_site") as base:
        code, out = run(capsys, f"{base}a/no/no-such-award/assertion.json")
    assert code == 1 and out.startswith("INVALID:"), out


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["verify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0 valid, 1 invalid, 2 unreadable input, 3 could not check" in text


def test_email_is_echoed_trimmed(site, capsys):
    folder, award, _, _ = site
    code, out = run(capsys, str(folder / award_dir(award.slug) / "credential.json"), "--site", str(folder),
                    "--email", f"  {award.email.upper()}\t")
    assert code == 0, out
    assert f"issued to {award.email.upper()}\n" in out and "issued to  " not in out


def test_an_edited_copy_of_a_hosted_assertion_is_not_the_issuers(site, capsys, tmp_path):
    folder, award, _, _ = site
    hosted_file = folder / award_dir(award.slug) / "assertion.json"
    hosted = json.loads(hosted_file.read_text())
    code, out = run(capsys, str(hosted_file), "--site", str(folder))
    assert code == 0 and "copy" in out and "identical to the issuer's record" in out, out
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**hosted, "expires": "2099-12-31T00:00:00Z"}))
    code, out = run(capsys, str(edited), "--site", str(folder))
    assert code == 1, out
    assert out.startswith("INVALID: Open Badges 2.0 assertion (hosted) -- copy: this copy differs from the issuer's "
                          "record in: expires"), out
