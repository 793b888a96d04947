"""eddsa-rdfc-2022 signing/verification, offline JSON-LD, Multikey and did:web.

The signing tests reproduce published vectors byte for byte (W3C vc-di-eddsa and the 1EdTech
OB 3.0 implementation guide), so a drift in canonicalisation, hashing order or encoding
shows up here rather than in a wallet. Vectors are copied into ``tests/vectors`` so the
suite does not depend on ``../shared`` existing.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from badgekiln import canonical
from badgekiln.crypto import dataintegrity, didweb, jsonld, multikey, shapes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VECTORS = Path(__file__).resolve().parent / "vectors"
CONTEXTS = jsonld.CONTEXTS_DIR

# SHA-256 of the vendored files, from shared/spec/README.md.
CONTEXT_SHA256 = {
    "credentials-v2.json": "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    "ob-v3p0-context-3.0.3.json": "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84",
    "ob-v3p0-context-3.0.2.json": "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53",
    "ob-v3p0-context-3.0.1.json": "5f3d9dd6288ef437ff8286cf95ffbff609c748a66f24a1e9450c45ca64be1571",
    "ob-v3p0-extensions.json": "87c06c81bc2317663bf288d740d94fddd2818c4342b186270ff6371dfaa63f93",
    "ob-v3p0-context-unversioned.json": "b077fa134d909d92c1dcd1c153f2af1b244aeb415967fdc1467d7fc5dd48ac10",
    "data-integrity-v2.json": "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    "data-integrity-v1.json": "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
    "multikey-v1.json": "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    "credentials-v1.json": "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
    "openbadges-v2.json": "3c0c25a0e581c64cbe632197377c4f334c6c0b95f0d90e3b74449781612b153d",
    "credentials-examples-v2.json": "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
}
SCHEMA_SHA256 = {
    "ob_v3p0_achievementcredential_schema.json": "b7358e895f492e74055dc6bfc7ffc420d0e497f90c4579fb83d9519b86d393ea",
    "ob_v3p0_profile_schema.json": "6b268f2caa591bf657e2a290e195713c41dc2db4e1c797723cfd00a1a83f8f13",
    "formal/ob_v3p0_achievementcredential_schema.formal.json":
        "5753fb3ecf7d024ed273dd364bd683f483eb47257e718e6618832cf89eb2083a",
    "formal/ob_v3p0_profile_schema.formal.json": "9b05049f720b8ad9bd7aed358ca59c643c34bf1cec0b29fd7baa8bf98efed164",
    "formal/ob_v3p0_endorsementcredential_schema.formal.json":
        "4627e1878848d0192c3f9e26f09ef88a96ad48a46f5fca11b80b679ece0de345",
}


def load(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def as_proof_array(document: dict) -> dict:
    """The vectors publish ``proof`` as one object; we always emit an array."""
    return {**document, "proof": dataintegrity.proofs_of(document)}


# --- the two signing vectors ------------------------------------------------------------

SIGNING_VECTORS = {
    "w3c": {
        "dir": "w3c-vc-di-eddsa",
        "unsigned": "w3c-vc-di-eddsa/unsigned.json",
        "options": "w3c-vc-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json",
        "signed": "w3c-vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json",
        "expected": "w3c-vc-di-eddsa/eddsa-rdfc-2022/expected.json",
        "keys": "w3c-vc-di-eddsa/keyPair.json",
        "secret": "privateKeyMultibase",
        "allow_examples": True,
    },
    "ob-impl-guide": {
        "dir": "ob-v3p0-impl-guide",
        "unsigned": "ob-v3p0-impl-guide/unsigned-credential.json",
        "options": "ob-v3p0-impl-guide/proof-options.json",
        "signed": "ob-v3p0-impl-guide/signed-credential.json",
        "expected": "ob-v3p0-impl-guide/expected.json",
        "keys": "ob-v3p0-impl-guide/key-pair.json",
        "secret": "secretKeyMultibase",
        "allow_examples": False,
    },
}


@pytest.fixture(params=[(name, path) for name in sorted(SIGNING_VECTORS) for path in ("plain", "shape")],
                ids=lambda param: "-".join(param), name="vector")
def vector_fixture(request: pytest.FixtureRequest) -> dict:
    """A signing vector, canonicalised by plain PyLD or by a fresh shape canonicalizer (crypto/shapes.py)."""
    name, path = request.param
    spec = SIGNING_VECTORS[name]
    keys = load(spec["keys"])
    options = {k: v for k, v in load(spec["options"]).items() if k != "@context"}
    canonicalizer = shapes.ShapeCanonicalizer(allow_examples=spec["allow_examples"])
    return {
        "canonicalizer": canonicalizer if path == "shape" else None,
        "canonize": ((lambda doc, allow_examples: canonicalizer.canonize(doc)) if path == "shape"
                     else jsonld.canonize),
        "unsigned": load(spec["unsigned"]),
        "options": options,
        "signed": load(spec["signed"]),
        "expected": load(spec["expected"]),
        "private_key": multikey.decode_secret_key(keys[spec["secret"]]),
        "public_multibase": keys["publicKeyMultibase"],
        "allow_examples": spec["allow_examples"],
    }


def sign_vector(vector: dict) -> dict:
    options = vector["options"]
    return dataintegrity.sign(
        vector["unsigned"], vector["private_key"],
        verification_method=options["verificationMethod"], created=options["created"],
        proof_purpose=options["proofPurpose"], allow_examples=vector["allow_examples"], canonize=vector["canonize"],
    )


def took_the_shape_path(vector: dict) -> bool:
    """On the shape path, every canonical form came from a template (or there is no shape path)."""
    canonicalizer = vector["canonicalizer"]
    return canonicalizer is None or (canonicalizer.slow == 0 and canonicalizer.fast > 0)


def test_vector_canonical_forms_and_hashes(vector: dict) -> None:
    forms = dataintegrity.proof_input(vector["unsigned"], vector["options"],
                                      allow_examples=vector["allow_examples"], canonize=vector["canonize"])
    assert took_the_shape_path(vector)
    expected = vector["expected"]
    assert forms.canonical_document == expected["canonicalDocument"]
    assert forms.canonical_proof_config == expected["canonicalProofConfig"]
    assert forms.document_hash.hex() == expected["documentHashHex"]
    assert forms.proof_config_hash.hex() == expected["proofConfigHashHex"]
    assert forms.hash_data.hex() == expected["hashDataHex"]


def test_vector_signature_and_signed_document(vector: dict) -> None:
    signed = sign_vector(vector)
    assert took_the_shape_path(vector)
    proof_value = signed["proof"][0]["proofValue"]
    assert proof_value == vector["expected"]["proofValue"]
    assert multikey.decode_base58btc(proof_value).hex() == vector["expected"]["signatureHex"]
    assert signed == as_proof_array(vector["signed"])


def test_vector_key_pair(vector: dict) -> None:
    public_key = vector["private_key"].public_key()
    assert multikey.encode_public_key(public_key) == vector["public_multibase"]
    assert multikey.key_from_fragment(vector["options"]["verificationMethod"]) is not None


def test_vector_published_document_verifies(vector: dict) -> None:
    result = dataintegrity.verify(vector["signed"], multikey.key_from_fragment,
                                  allow_examples=vector["allow_examples"])
    assert result == dataintegrity.VerifyResult(True, [])


def test_signing_is_deterministic_and_pure(vector: dict) -> None:
    before = copy.deepcopy(vector["unsigned"])
    first, second = sign_vector(vector), sign_vector(vector)
    assert canonical.json_bytes(first) == canonical.json_bytes(second)
    assert vector["unsigned"] == before


# --- OB 3.0 spec examples (verify only) ---------------------------------------------------

SPEC_EXAMPLES = load("ob-v3p0-spec-examples/index.json")["examples"]


@pytest.mark.parametrize("example", SPEC_EXAMPLES, ids=lambda e: f"example-{e['example']}")
def test_spec_example_verifies(example: dict) -> None:
    # index.json records hashDataHex for every LDP example: all of them are expected to verify.
    signed = load(f"ob-v3p0-spec-examples/{example['ldp']}")
    (proof,) = dataintegrity.proofs_of(signed)
    forms = dataintegrity.proof_input(signed, proof)
    assert forms.hash_data.hex() == example["hashDataHex"]
    assert dataintegrity.verify(signed, multikey.key_from_fragment).ok


# --- negative verification ----------------------------------------------------------------

def impl_guide_signed() -> dict:
    return load("ob-v3p0-impl-guide/signed-credential.json")


def change_one_char(text: str) -> str:
    return text[:-1] + ("X" if text[-1] != "X" else "Y")


@pytest.mark.parametrize("mutate", [
    lambda d: d["credentialSubject"]["achievement"].update(
        name=change_one_char(d["credentialSubject"]["achievement"]["name"])),
    lambda d: d.update(validFrom="2010-01-01T00:00:01Z"),
    lambda d: d["proof"].update(created="2010-01-01T19:23:25Z"),
    lambda d: d["proof"].update(proofValue=change_one_char(d["proof"]["proofValue"])),
], ids=["subject", "validFrom", "proof-created", "proofValue"])
def test_tampered_document_fails(mutate) -> None:
    signed = impl_guide_signed()
    mutate(signed)
    result = dataintegrity.verify(signed, multikey.key_from_fragment)
    assert not result.ok
    assert result.errors


@pytest.mark.parametrize(("change", "message"), [
    ({"proofPurpose": "authentication"}, "proofPurpose"),
    ({"cryptosuite": "eddsa-jcs-2022"}, "cryptosuite"),
    ({"type": "Ed25519Signature2020"}, "proof type"),
    ({"created": "yesterday"}, "XSD dateTime"),
    ({"proofValue": "uAAAA"}, "base58btc"),
])
def test_proof_rule_violations_fail(change: dict, message: str) -> None:
    signed = impl_guide_signed()
    signed["proof"].update(change)
    result = dataintegrity.verify(signed, multikey.key_from_fragment)
    assert not result.ok and message in result.errors[0]


def test_missing_proof_and_unresolvable_key_fail() -> None:
    assert dataintegrity.verify(dataintegrity.unsecured(impl_guide_signed()),
                                multikey.key_from_fragment).errors == ["document has no proof"]

    def no_keys(method: str):
        raise LookupError("unknown key")

    result = dataintegrity.verify(impl_guide_signed(), no_keys)
    assert not result.ok and "unknown key" in result.errors[0]


def test_wrong_key_fails() -> None:
    other = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    result = dataintegrity.verify(impl_guide_signed(), lambda method: other)
    assert not result.ok and "does not verify" in result.errors[0]


def test_examples_context_refused_in_production_verify() -> None:
    result = dataintegrity.verify(load("w3c-vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json"),
                                  multikey.key_from_fragment)
    assert not result.ok and "credentials/examples/v2" in result.errors[0]


def test_proof_set_appends_and_any_proof_verifies() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    method = "https://example.edu/issuers/565049#" + multikey.encode_public_key(key.public_key())
    twice = dataintegrity.sign(impl_guide_signed(), key, verification_method=method,
                               created="2024-01-01T00:00:00Z")
    assert len(twice["proof"]) == 2
    assert twice["proof"][0] == impl_guide_signed()["proof"]
    assert dataintegrity.verify(twice, multikey.key_from_fragment).ok
    twice["proof"][0]["proofValue"] = change_one_char(twice["proof"][0]["proofValue"])
    assert dataintegrity.verify(twice, multikey.key_from_fragment).ok


# --- offline JSON-LD: loader and safe mode --------------------------------------------------

def impl_guide_unsigned() -> dict:
    return load("ob-v3p0-impl-guide/unsigned-credential.json")


def test_bundled_files_are_byte_exact() -> None:
    for name, digest in CONTEXT_SHA256.items():
        assert sha256_file(CONTEXTS / name) == digest, name
    schemas = CONTEXTS.parent / "schemas"
    for name, digest in SCHEMA_SHA256.items():
        assert sha256_file(schemas / name) == digest, name


def test_context_index_covers_every_bundled_file() -> None:
    index = jsonld.context_index()
    assert set(index.values()) == set(CONTEXT_SHA256)
    assert index["https://www.w3.org/ns/credentials/v2"] == "credentials-v2.json"
    assert index["https://openbadgespec.org/v2/context.json"] == "openbadges-v2.json"
    assert index["https://w3id.org/openbadges/v2"] == "openbadges-v2.json"
    for url in jsonld.context_urls():
        document = jsonld.document_loader()(url, {})["document"]
        assert document == json.loads((CONTEXTS / index[url]).read_text(encoding="utf-8"))


def test_loader_fails_closed() -> None:
    with pytest.raises(jsonld.UnknownContextError) as caught:
        jsonld.document_loader()("https://w3id.org/security/suites/ed25519-2020/v1", {})
    assert caught.value.url == "https://w3id.org/security/suites/ed25519-2020/v1"
    with pytest.raises(jsonld.UnknownContextError):
        jsonld.document_loader()(jsonld.EXAMPLES_CONTEXT_URL, {})
    assert jsonld.document_loader(allow_examples=True)(jsonld.EXAMPLES_CONTEXT_URL, {})["document"]


def test_pyld_is_imported_without_a_network_loader_and_requests_still_imports_later() -> None:
    """In a fresh process: loading the signer leaves requests unimported (its import time is what
    this saves), PyLD's own default loader fetches nothing, and requests imports normally after."""
    import subprocess
    import sys
    script = """
import sys
from badgekiln.crypto import jsonld
assert "requests" not in sys.modules and "aiohttp" not in sys.modules, "PyLD imported a network client"
try:
    jsonld.pyld._default_document_loader("https://example.org/context.json", {})
except jsonld.pyld.JsonLdError as exc:
    assert "No default document loader" in str(exc), exc
else:
    raise AssertionError("PyLD's default loader answered")
import requests
assert requests.get
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr

@pytest.mark.parametrize("url", [
    "https://example.org/my-context.json",
    "https://www.w3.org/ns/credentials/v2/",  # exact URL only
    "http://www.w3.org/ns/credentials/v2",
])
def test_unknown_context_url_is_an_error(url: str) -> None:
    doc = impl_guide_unsigned()
    doc["@context"] = [*doc["@context"], url] if url.startswith("https://example") else [url]
    with pytest.raises(jsonld.UnknownContextError) as caught:
        jsonld.canonize(doc)
    assert caught.value.url == url and caught.value.path == "/@context"


def test_examples_context_only_with_allow_examples() -> None:
    unsigned = load("w3c-vc-di-eddsa/unsigned.json")
    assert jsonld.canonize(unsigned, allow_examples=True)
    # A context cached in examples mode must not leak into production mode.
    with pytest.raises(jsonld.UnknownContextError):
        jsonld.canonize(unsigned)


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda d: d["credentialSubject"]["achievement"].update(foo="bar"),
     "/credentialSubject/achievement/foo"),
    (lambda d: d.update(extra={"nested": 1}), "/extra"),
    (lambda d: d["credentialSubject"]["achievement"]["criteria"].update(color="red"),
     "/credentialSubject/achievement/criteria/color"),
    (lambda d: d["credentialSubject"].update(identifier=[
        {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False, "identityHash": "a@b.c"},
        {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False, "identityHash": "d@e.f",
         "nickname": "x"}]),
     "/credentialSubject/identifier/1/nickname"),
    # "criteria" is an Achievement term (used correctly elsewhere in this document), not a
    # credential-level one: only the misplaced occurrence is reported
    (lambda d: d.update(criteria={"narrative": "misplaced"}), "/criteria"),
])
def test_undefined_term_names_its_path(mutate, path: str) -> None:
    doc = impl_guide_unsigned()
    mutate(doc)
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.canonize(doc)
    assert caught.value.path == path
    assert path in str(caught.value)


@pytest.mark.parametrize(("mutate", "path"), [
    # an undefined type string becomes a relative IRI (no @vocab in VC 2.0)
    (lambda d: d.update(credentialSchema=[{"id": "https://example.org/schema.json",
                                           "type": "1EdTechJsonSchemaValidator2019"}]),
     "/credentialSchema/0/type"),
    (lambda d: d["credentialSubject"]["type"].append("HonorSubject"), "/credentialSubject/type/1"),
    (lambda d: d.update(id="credentials/3527"), "/id"),
    # absolute-looking, but PyLD's toRdf would silently leave out every triple with them
    (lambda d: d.update(id="https://example.org/credentials/35 27"), "/id"),
    (lambda d: d["credentialSubject"]["achievement"]["criteria"].update(id="https://example.org/c\n"),
     "/credentialSubject/achievement/criteria/id"),
])
def test_relative_iri_names_its_path(mutate, path: str) -> None:
    doc = impl_guide_unsigned()
    mutate(doc)
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.canonize(doc)
    assert caught.value.path == path


def test_extensions_context_defines_1edtech_types() -> None:
    doc = impl_guide_unsigned()
    doc["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    doc["credentialSchema"] = [{"id": "https://example.org/schema.json", "type": "1EdTechJsonSchemaValidator2019"}]
    assert "1EdTechJsonSchemaValidator2019" in jsonld.canonize(doc)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f"])
def test_control_characters_rejected(char: str) -> None:
    doc = impl_guide_unsigned()
    doc["credentialSubject"]["achievement"]["description"] = f"a{char}b"
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.canonize(doc)
    assert caught.value.path == "/credentialSubject/achievement/description"


def test_tab_newline_carriage_return_allowed() -> None:
    doc = impl_guide_unsigned()
    doc["credentialSubject"]["achievement"]["description"] = "a\tb\nc\r\nd"
    assert '"a\\tb\\nc\\r\\nd"' in jsonld.canonize(doc)


def test_sign_refuses_unsafe_document() -> None:
    doc = impl_guide_unsigned()
    doc["credentialSubject"]["foo"] = "unsigned data"
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(jsonld.JsonLdError) as caught:
        dataintegrity.sign(doc, key, verification_method="did:web:example.org#key-1",
                           created="2024-01-01T00:00:00Z")
    assert caught.value.path == "/credentialSubject/foo"


def test_safe_mode_accepts_every_spec_example() -> None:
    for example in SPEC_EXAMPLES:
        jsonld.check_safe(dataintegrity.unsecured(load(f"ob-v3p0-spec-examples/{example['ldp']}")))


# --- Multikey -------------------------------------------------------------------------------

def test_multikey_known_values() -> None:
    keys = load("ob-v3p0-impl-guide/key-pair.json")
    key = multikey.decode_secret_key(keys["secretKeyMultibase"])  # 64-byte seed‖public form
    assert multikey.private_key_seed(key).hex() == keys["privateKeyHex"][:64]
    assert multikey.public_key_bytes(key.public_key()).hex() == keys["publicKeyHex"]
    assert multikey.public_key_bytes(multikey.decode_public_key(keys["publicKeyMultibase"])).hex() \
        == keys["publicKeyHex"]
    w3c = load("w3c-vc-di-eddsa/keyPair.json")
    w3c_key = multikey.decode_secret_key(w3c["privateKeyMultibase"])  # 32-byte seed form
    assert multikey.encode_secret_key(w3c_key) == w3c["privateKeyMultibase"]
    assert multikey.encode_public_key(w3c_key.public_key()) == w3c["publicKeyMultibase"]


def test_multikey_round_trip() -> None:
    for seed in (bytes(32), bytes(range(32)), bytes([255] * 32)):
        key = Ed25519PrivateKey.from_private_bytes(seed)
        public = multikey.encode_public_key(key.public_key())
        assert public.startswith("z6Mk")
        assert multikey.encode_public_key(multikey.decode_public_key(public)) == public
        secret = multikey.encode_secret_key(key)
        assert multikey.private_key_seed(multikey.decode_secret_key(secret)) == seed
        assert multikey.encode_public_key(multikey.public_key_bytes(key.public_key())) == public


@pytest.mark.parametrize("bad", [
    "",
    "6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",  # no multibase header
    "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hw",  # truncated
    "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hw0",  # '0' is not base58
    "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",  # a secret key, not a public key
])
def test_bad_public_multikey_rejected(bad: str) -> None:
    with pytest.raises(multikey.MultikeyError):
        multikey.decode_public_key(bad)


def test_bad_secret_multikey_rejected() -> None:
    keys = load("ob-v3p0-impl-guide/key-pair.json")
    with pytest.raises(multikey.MultikeyError):
        multikey.decode_secret_key(keys["publicKeyMultibase"])
    raw = multikey.decode_base58btc(keys["secretKeyMultibase"])
    mismatched = multikey.encode_base58btc(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(multikey.MultikeyError, match="does not match"):
        multikey.decode_secret_key(mismatched)


# --- did:web --------------------------------------------------------------------------------

@pytest.mark.parametrize(("base_url", "did", "doc_path", "output_path"), [
    ("https://badges.example.org/", "did:web:badges.example.org", "/.well-known/did.json", ".well-known/did.json"),
    ("https://badges.example.org", "did:web:badges.example.org", "/.well-known/did.json", ".well-known/did.json"),
    ("https://Badges.Example.org/", "did:web:badges.example.org", "/.well-known/did.json", ".well-known/did.json"),
    ("https://user.github.io/badges/", "did:web:user.github.io:badges", "/badges/did.json", "did.json"),
    ("https://example.org/issuers/acme", "did:web:example.org:issuers:acme", "/issuers/acme/did.json", "did.json"),
    ("https://example.org:8443/", "did:web:example.org%3A8443", "/.well-known/did.json", ".well-known/did.json"),
    ("http://127.0.0.1:8000/site/", "did:web:127.0.0.1%3A8000:site", "/site/did.json", "did.json"),
])
def test_did_web_derivation(base_url: str, did: str, doc_path: str, output_path: str) -> None:
    assert didweb.did_from_base_url(base_url) == did
    assert didweb.did_document_path(base_url) == doc_path
    assert didweb.did_document_output_path(base_url) == output_path


@pytest.mark.parametrize(("did", "url"), [
    ("did:web:badges.example.org", "https://badges.example.org/.well-known/did.json"),
    ("did:web:badges.example.org#key-1", "https://badges.example.org/.well-known/did.json"),
    ("did:web:user.github.io:badges", "https://user.github.io/badges/did.json"),
    ("did:web:example.org%3A8443:a:b", "https://example.org:8443/a/b/did.json"),
])
def test_resolve_did_web_url(did: str, url: str) -> None:
    assert didweb.resolve_did_web_url(did) == url


def test_resolve_did_web_url_override_and_errors() -> None:
    local = {"did:web:example.org": "http://127.0.0.1:8000/.well-known/did.json"}
    assert didweb.resolve_did_web_url("did:web:example.org#key-1", overrides=local) == local["did:web:example.org"]
    for bad in ("did:key:z6Mk", "did:web:", "did:web:example.org::a", "https://example.org"):
        with pytest.raises(didweb.DidWebError):
            didweb.resolve_did_web_url(bad)
    for bad in ("ftp://example.org/", "https://example.org/?q=1", "https://example.org/a/../b", "example.org"):
        with pytest.raises(didweb.DidWebError):
            didweb.did_from_base_url(bad)


def test_did_document_and_key_resolver() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = multikey.encode_public_key(key.public_key())
    did = "did:web:badges.example.org"
    document = didweb.did_document(did, [("key-1", public)])
    method = {"id": f"{did}#key-1", "type": "Multikey", "controller": did, "publicKeyMultibase": public}
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [method],
        "assertionMethod": [f"{did}#key-1"],
        "authentication": [f"{did}#key-1"],
    }
    resolve = didweb.did_document_key_resolver(document)
    assert multikey.encode_public_key(resolve(f"{did}#key-1")) == public
    for bad in (f"{did}#key-2", "#key-1", "did:web:other.example#key-1"):
        with pytest.raises(didweb.DidWebError):
            resolve(bad)
    with pytest.raises(multikey.MultikeyError):
        didweb.did_document(did, [("key-1", "zNotAKey")])


def test_sign_and_verify_with_did_web_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    did = didweb.did_from_base_url("https://badges.example.org/")
    document = didweb.did_document(did, [("key-1", multikey.encode_public_key(key.public_key()))])
    unsigned = impl_guide_unsigned()
    unsigned["issuer"]["id"] = did
    signed = dataintegrity.sign(unsigned, key, verification_method=f"{did}#key-1", created="2024-05-01T00:00:00Z")
    assert dataintegrity.verify(signed, didweb.did_document_key_resolver(document)).ok
    signed["proof"][0]["verificationMethod"] = f"{did}#key-2"
    assert not dataintegrity.verify(signed, didweb.did_document_key_resolver(document)).ok
