"""The shape path (crypto/shapes.py) gives exactly plain PyLD's canonical N-Quads, and its signatures verify.

Signing canonicalises each credential from a per-shape template instead of expanding it with
PyLD. These tests compare the two on every credential, status list and proof configuration
of the example site built signed with the TEST-ONLY key, on generated credentials (names,
unicode, numbers, tags, alignments, evidence, CPD renewals, both `credential_status` forms),
on documents made to hit each rule of the template, and on failures (same error). The signed
results go to Digital Bazaar's verifier. Speed is measured in bench/, never here.
"""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest
import testkeys
from badgekiln.credentials import signing, status_lists
from badgekiln.crypto import dataintegrity, jsonld, shapes
from badgekiln.model.domain import Alignment, Evidence
from badgekiln.model.routes import Routes
from badgekiln.validate.values import format_datetime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_independent_verifier import run_verifier
from test_signing import ob3_doc

DID = "did:web:badges.northwind-academy.example"
CREATED = "2026-01-01T00:00:00Z"
VC2 = "https://www.w3.org/ns/credentials/v2"
XSD = "http://www.w3.org/2001/XMLSchema#"


def outcome(canonize, doc):
    """The canonical N-Quads, or the error a path reports (both paths must agree on either)."""
    try:
        return canonize(doc)
    except jsonld.JsonLdError as exc:
        return ("error", exc.path, exc.reason)


def assert_same(canonicalizer: shapes.ShapeCanonicalizer, doc) -> bool:
    """Both paths give the same N-Quads or the same error; True if the shape path was taken."""
    expected = outcome(lambda d: jsonld.canonize(d, allow_examples=canonicalizer.allow_examples), doc)
    fast = canonicalizer.fast
    assert outcome(canonicalizer.canonize, copy.deepcopy(doc)) == expected
    return canonicalizer.fast > fast


def unsigned(model, award, routes, form=None, badge=None, issuer=None, site=None):
    badge = badge or model.badge(award.badge)
    return signing.unsigned_credential(award, badge, issuer or model.issuer(badge.issuer), site or model.site,
                                       routes, DID, form)


def published(project, checked) -> list[dict]:
    """Every signed credential the example site published: one per award, and the status lists."""
    model, routes = checked.model, Routes(checked.model.site.base_url)
    paths = [routes.award_credential_json(a) for a in model.awards]
    paths += [routes.status_list(i, purpose) for i in model.issuers for purpose in status_lists.PURPOSES]
    return [json.loads((project / "_site" / path).read_text()) for path in paths]


# --- the example site -----------------------------------------------------------------------

def test_every_example_credential_takes_the_shape_path_and_equals_plain_pyld(signed):
    project, checked = signed
    documents = published(project, checked)
    assert len(documents) == len(checked.model.awards) + 2 * len(checked.model.issuers)
    canonicalizer = shapes.ShapeCanonicalizer()
    for document in documents:
        (proof,) = document["proof"]
        config = {**dataintegrity.proof_options(proof["verificationMethod"], proof["created"]),
                  "@context": document["@context"]}
        for doc in (dataintegrity.unsecured(document), config, document):  # with the proof: a named graph
            assert canonicalizer.canonize(doc) == jsonld.canonize(doc)
    assert canonicalizer.slow == 0 and canonicalizer.fast == 3 * len(documents)
    assert canonicalizer.templates < len(documents)  # shapes are shared, else nothing is saved


def test_the_build_signs_exactly_what_the_plain_path_signs(signed):
    project, checked = signed
    for document in published(project, checked):
        (proof,) = document["proof"]
        reference = dataintegrity.sign(dataintegrity.unsecured(document), testkeys.signing_key().ed25519,
                                       verification_method=proof["verificationMethod"], created=proof["created"])
        assert reference == document


def test_every_award_in_both_status_forms_equals_plain_pyld(signed):
    _, checked = signed
    model, routes = checked.model, Routes(checked.model.site.base_url)
    canonicalizer = shapes.ShapeCanonicalizer()
    cpd_renewals = [a for a in model.awards if a.cpd is not None and a.cpd.previous]
    assert cpd_renewals and any(a.evidence for a in model.awards)  # the example covers both
    for form in status_lists.FORMS:
        for award in model.awards:
            assert_same(canonicalizer, unsigned(model, award, routes, form))
    assert canonicalizer.slow == 0


# --- generated credentials ------------------------------------------------------------------

PAGE = "https://badges.northwind-academy.example/badges/first-aid-at-work/"
TRICKY = [
    "", " ", "Ada Lovelace", "Zoë Ōkafor-Nuñez", "日本語の名前", "emoji 🎓✓", "quote \" and backslash \\",
    "line\nbreak\ttab\rreturn", "\u2028\u00a0\u200b", "1", "18", "1.5", "true", "null", "en", "C:\\bin\\b",
    PAGE, "https://badges.northwind-academy.example/", DID, "did:example:123", "urn:uuid:1b4e28ba-2fa1-11d2",
    "assertionMethod", "Achievement", "AchievementSubject", "@id", "@type", "_:b0", "_:c14n0",
    "http://www.w3.org/2001/XMLSchema#string", "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement",
    "mailto:badges@northwind-academy.example",
]
# Values one field of a document may get instead (the plain path refuses them, or they hold the marker).
HOSTILE = ["bell\x07", "evidence/1", "https://example.org/a b", "https://relative-iri.badgekiln.invalid/x",
           shapes.MARKER, f"https://{shapes.MARKER}.invalid/0/"]
texts = st.one_of(st.sampled_from(TRICKY),
                  st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=30))  # YAML gives no lone surrogates
urls = st.one_of(
    st.sampled_from([PAGE, "https://example.org/evidence/1", "urn:isbn:0451450523", "did:example:123",
                     "mailto:x@example.org", "HTTPS://EXAMPLE.ORG/X", "https://example.org/ünïcode?q=1&r=ü#frag",
                     "ftp://files.example/x"]),
    st.from_regex(r"https://[a-z]{1,6}\.example/[a-z0-9/._~-]{0,12}", fullmatch=True),
)
optional = st.one_of(st.none(), texts)
numbers = st.one_of(st.none(), st.integers(0, 10 ** 6), st.sampled_from([10 ** 21, 10 ** 22 + 1]),
                    st.floats(0, 1000, allow_nan=False))
dates = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(timezone.utc))
alignments = st.builds(Alignment, name=texts, url=urls, description=optional, framework=optional, code=optional)
evidence = st.builds(Evidence, url=st.one_of(st.none(), urls), name=optional, description=optional)
GENERATED = shapes.ShapeCanonicalizer()  # shared, so later examples hit templates earlier ones made


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_credentials_equal_plain_pyld(signed, data):
    _, checked = signed
    model, routes = checked.model, Routes(checked.model.site.base_url)
    award = data.draw(st.sampled_from(model.awards), "award")  # includes CPD renewals and evidence
    badge, issuer = model.badge(award.badge), model.issuer(model.badge(award.badge).issuer)
    badge = replace(badge, name=data.draw(texts), description=data.draw(texts), criteria=data.draw(texts),
                    criteria_url=data.draw(st.one_of(st.none(), urls)),
                    tags=tuple(data.draw(st.lists(texts, max_size=4))),
                    alignments=tuple(data.draw(st.lists(alignments, max_size=3))), credits=data.draw(numbers),
                    achievement_type=data.draw(st.sampled_from(["Certificate", "Badge", "ext:Custom", "License"])))
    issuer = replace(issuer, name=data.draw(texts), url=data.draw(urls), email=data.draw(texts),
                     description=data.draw(texts), telephone=data.draw(optional))
    award = replace(award, evidence=tuple(data.draw(st.lists(evidence, max_size=3))), narrative=data.draw(optional),
                    issued_on=data.draw(dates), expires=data.draw(st.one_of(st.none(), dates)),
                    status_index=data.draw(st.one_of(st.none(), st.integers(0, 131071))), salt=data.draw(texts))
    site = replace(model.site, language=data.draw(st.sampled_from(["en", "fr-CA", "de"])))
    form = data.draw(st.sampled_from(status_lists.FORMS))
    hostile = data.draw(st.sampled_from([None] * 2 * len(HOSTILE) + HOSTILE), "hostile value")
    if hostile is not None:
        field = data.draw(st.sampled_from(["name", "criteria_url", "evidence", "url"]), "hostile field")
        if field in ("name", "criteria_url"):
            badge = replace(badge, **{field: hostile})
        elif field == "evidence":
            award = replace(award, evidence=(*award.evidence, Evidence(hostile, "x", None)))
        else:
            issuer = replace(issuer, url=hostile)
    # A sibling: another award of the same badge, its own values in the same shape, so it is
    # canonicalised from the template the first one made (and checked).
    sibling = replace(award, slug=data.draw(st.from_regex(r"[a-z0-9]{24}", fullmatch=True)),
                      salt=data.draw(texts), issued_on=data.draw(dates),
                      expires=award.expires and data.draw(dates),
                      status_index=award.status_index and data.draw(st.integers(1, 131071)))
    purpose = data.draw(st.sampled_from(["assertionMethod", "authentication", "capabilityInvocation"]))
    method = data.draw(st.sampled_from([f"{DID}#key-1", "did:key:z6Mkexample#z6Mkexample", "https://example.org/k#1"]))
    for each in (award, sibling):
        doc = unsigned(model, each, routes, form, badge, issuer, site)
        config = {**dataintegrity.proof_options(method, format_datetime(each.issued_on), purpose),
                  "@context": doc["@context"]}
        assert assert_same(GENERATED, config)  # the proof configuration: `proofPurpose` is a @vocab term
        fast = assert_same(GENERATED, doc)
        # Only a document the plain path refuses, or one holding the token marker, may skip the template.
        refused = isinstance(outcome(jsonld.canonize, doc), tuple)
        assert fast or refused or shapes.MARKER in json.dumps(doc, ensure_ascii=False)


# --- documents made to hit each rule of the template ----------------------------------------

def credential(**changes) -> dict:
    doc = ob3_doc()
    doc.update(changes)
    return doc


def test_equal_strings_share_a_slot_so_nodes_merge_as_in_pyld():
    canonicalizer = shapes.ShapeCanonicalizer()
    for same in ("https://example.org/credentials/3f2b9c1e.json", "https://example.org/other"):
        doc = credential(evidence=[{"id": same, "type": ["Evidence"], "name": "x"},
                                   {"id": "https://example.org/e2", "type": ["Evidence"], "name": "x"}])
        doc["id"] = "https://example.org/credentials/3f2b9c1e.json"
        assert_same(canonicalizer, doc)
    assert canonicalizer.slow == 0 and canonicalizer.templates == 2  # equal or not: two shapes


def test_identical_blank_nodes_need_the_n_degree_hash_and_still_match():
    canonicalizer = shapes.ShapeCanonicalizer()
    twin = {"type": ["Alignment"], "targetName": "Same", "targetUrl": "https://example.org/a"}
    for name in ("one", "two"):
        doc = credential(name=name)
        doc["credentialSubject"]["achievement"]["alignment"] = [dict(twin), dict(twin)]
        assert_same(canonicalizer, doc)
    assert canonicalizer.fast == 2


def test_a_value_equal_to_a_constant_term_takes_the_plain_path():
    canonicalizer = shapes.ShapeCanonicalizer()
    assert_same(canonicalizer, credential())
    type_iri = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement"  # rdf:type object of a node
    assert_same(canonicalizer, credential(id=type_iri))
    assert (canonicalizer.fast, canonicalizer.slow) == (1, 1)


def test_strings_in_iri_positions_that_pyld_rewrites_are_pinned():
    canonicalizer = shapes.ShapeCanonicalizer()
    for subject in ("did:example:alice", "did:example:bob", "urn:uuid:1", "https://example.org/s"):
        doc = credential()
        doc["credentialSubject"]["id"] = subject
        assert_same(canonicalizer, doc)
    assert canonicalizer.slow == 0


def test_inline_contexts_with_rewriting_datatypes_vocab_terms_lists_and_languages():
    context = [VC2, {"@vocab": "https://vocab.example/", "score": {"@id": "https://ex.example/score",
                                                                     "@type": XSD + "double"},
                     "blob": {"@id": "https://ex.example/blob", "@type": "@json"},
                     "level": {"@id": "https://ex.example/level", "@type": "@vocab"},
                     "steps": {"@id": "https://ex.example/steps", "@container": "@list"},
                     "motto": {"@id": "https://ex.example/motto", "@language": "la"}}]
    canonicalizer = shapes.ShapeCanonicalizer()
    for score, blob, level, steps, motto in [("1.5", "a", "Gold", ["x", "y", "x"], "Carpe diem"),
                                             ("2", "b", "https://levels.example/silver", ["y", "x"], "Ora"),
                                             ("1e3", "c", "Gold", ["z", "z", "z"], "Carpe diem")]:
        doc = {"@context": context, "id": "https://example.org/thing", "type": ["VerifiableCredential"],
               "issuer": "https://example.org/issuer", "credentialSubject": {
                   "id": "https://example.org/subject", "score": score, "blob": blob, "level": level,
                   "steps": steps, "motto": motto, "note": motto}}
        assert_same(canonicalizer, doc)
    assert canonicalizer.slow == 0


@pytest.mark.parametrize(("where", "value"), [
    ("name", "bell\x07"),  # control character: the same pointer and reason
    ("id", "credentials/relative.json"),  # a relative IRI in a slot
    ("id", "https://relative-iri.badgekiln.invalid/x"),  # the sentinel base in a slot
    ("nickname", "an undefined term"),
])
def test_failures_are_the_plain_paths_errors(where, value):
    canonicalizer = shapes.ShapeCanonicalizer()
    assert_same(canonicalizer, credential())
    doc = credential(**{where: value})
    with pytest.raises(jsonld.JsonLdError):
        canonicalizer.canonize(doc)
    assert_same(canonicalizer, doc)
    assert_same(canonicalizer, credential(name="after a failure"))  # the template still serves
    assert canonicalizer.fast >= 2


def test_a_document_containing_the_marker_takes_the_plain_path():
    canonicalizer = shapes.ShapeCanonicalizer()
    assert_same(canonicalizer, credential(name=f"see {shapes.MARKER}"))
    assert (canonicalizer.fast, canonicalizer.slow) == (0, 1)


def test_no_bundled_context_names_a_term_like_a_url():
    # PyLD expands a `scheme://` string to itself unless a term has that very name: the template
    # relies on it for the bundled contexts (which tests/test_dataintegrity.py pins byte for byte).
    def terms(value, in_context=False):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from ([key] if in_context else [])
                yield from terms(item, in_context or key == "@context")
        elif isinstance(value, list):
            for item in value:
                yield from terms(item, in_context)

    names = [name for url in jsonld.context_urls(allow_examples=True)
             for name in terms(jsonld.load_context(url, allow_examples=True))]
    assert len(names) > 100 and not [name for name in names if "://" in name]


def test_a_document_whose_context_names_a_term_like_a_url_takes_the_plain_path():
    # JSON-LD 1.1 lets a term named like an IRI expand only to that IRI, or to nothing (null)
    url = "https://levels.example/gold"
    context = [VC2, {"level": {"@id": "https://ex.example/level", "@type": "@vocab"}, url: None}]
    doc = {"@context": context, "type": ["VerifiableCredential"], "issuer": "https://example.org/issuer",
           "credentialSubject": {"id": "https://example.org/subject", "level": url}}
    canonicalizer = shapes.ShapeCanonicalizer()
    with pytest.raises(jsonld.JsonLdError):  # the value expands to nothing; PyLD then fails
        jsonld.canonize(doc)
    assert_same(canonicalizer, doc)
    assert (canonicalizer.fast, canonicalizer.slow) == (0, 1)


def test_examples_mode_is_a_separate_cache():
    doc = {"@context": [VC2, jsonld.EXAMPLES_CONTEXT_URL], "type": ["VerifiableCredential", "ExampleAlumniCredential"],
           "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33", "issuer": "https://vc.example/issuers/5678",
           "validFrom": "2023-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"}}
    examples = shapes.ShapeCanonicalizer(allow_examples=True)
    assert examples.canonize(doc) == jsonld.canonize(doc, allow_examples=True)
    with pytest.raises(jsonld.UnknownContextError):
        shapes.ShapeCanonicalizer().canonize(doc)


# --- the signatures, checked by Digital Bazaar's verifier -----------------------------------

def test_credentials_signed_on_the_shape_path_verify_with_digital_bazaar(signed, tmp_path):
    _, checked = signed
    model, routes = checked.model, Routes(checked.model.site.base_url)
    signer = signing.Signer(testkeys.signing_key(), DID)
    badge = model.badge(model.awards[0].badge)
    variations = [
        {"name": "Zoë Ōkafor-Nuñez 日本語 🎓", "tags": ("quote \" and \\ backslash", "line\nbreak", "CPR", "CPR")},
        {"alignments": (Alignment("Same", "https://example.org/a", None, None, None),) * 2, "credits": 1.5},
        {"credits": 10 ** 21, "criteria_url": PAGE, "description": "https://example.org/looks-like-a-url"},
    ]
    docs = [unsigned(model, award, routes, form) for award in model.awards for form in status_lists.FORMS]
    docs += [unsigned(model, model.awards[0], routes, None, replace(badge, **change)) for change in variations]
    docs += [unsigned(model, replace(model.awards[0], evidence=(Evidence("did:example:ev", "Register", "ü"),
                                                               Evidence("https://example.org/e", None, None))),
                      routes)]
    shared = shapes.canonicalizer()
    fast, slow = shared.fast, shared.slow
    files = []
    for index, doc in enumerate(docs):
        document = signer.sign_document(doc, created=CREATED)
        reference = dataintegrity.sign(doc, testkeys.signing_key().ed25519, verification_method=signer.ed25519_method,
                                       created=CREATED)
        assert document == reference
        path = tmp_path / f"credential-{index}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        files.append(path)
    assert shared.slow == slow and shared.fast == fast + len(docs)  # Signer signed on the shape path
    did_doc = tmp_path / "did.json"
    did_doc.write_text(json.dumps(signing.did_document(DID, (testkeys.signing_key().public,))), encoding="utf-8")
    results = run_verifier(files, "--now", "valid-from", did_doc=did_doc)
    assert all(r["verified"] for r in results.values()), [r for r in results.values() if not r["verified"]]
