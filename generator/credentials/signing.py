"""Signing stage: freeze one signed OB 3.0 credential per award, and emit the signed outputs.

`prepare()` runs inside pipeline.prepare, before anything is written, because what it mints
goes into the ledger: for each award it assembles the unsigned credential (ob3.credential)
and then either

* reuses the frozen record in the ledger (the proof, plus a digest of the unsigned credential
  it was made over) when the digest still matches: the identical signed credential is
  republished without the private key, so key rotation and a lost old key change nothing;
* reports E502 when content changed something inside an issued credential (pointing at the
  badge, issuer or award that changed), unless `--reissue` asks for a new signature;
* signs it with the issuer's current key and records it, when the award has no record yet;
* re-signs it with the issuer's current key when the key that signed it was revoked (it
  leaked: the DID document marks it revoked, so nothing it signed verifies any more), or
  reports E506 when the issuer has no usable key to re-sign with.

The functions below `prepare` turn that state into output files (credential JSON, VC-JWT,
baked images, DID document, OB 2.0 keys). Private keys never leave `Signer`; nothing here
formats key material into a message.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from .. import canonical
from ..artifacts import Artifact
from ..crypto import dataintegrity, didweb, jsonld, jws, keys, multikey, shapes
from ..crypto.keys import PublicKey, SigningKey
from ..diagnostics import Location, Report
from ..model import ledger
from ..model.domain import Award, Badge, Issuer, Site, SiteModel
from ..model.endorsements import short_digest
from ..model.routes import Routes
from ..validate.values import format_datetime, parse_datetime
from . import endorsement, ob2, ob3, published

RECORD_FIELDS = ("created", "digest", "parts", "proofValue", "verificationMethod")


def credential_extra(award: Award, issuer: Issuer, routes: Routes, status_form: str) -> dict:
    """Extra top-level members of an award's credential (the place for `credentialStatus`).

    Whatever is returned here is signed and frozen with the credential at first issue; every
    term must be defined by the @context (else E503 at signing).
    """
    # status entries pointing at the static status lists (status_lists.py)
    from . import status_lists

    extra: dict = {}
    if award.status_index is not None:
        extra["credentialStatus"] = status_lists.credential_status(award, issuer, routes, status_form)
    if award.cpd is not None and award.cpd.previous:  # a CPD renewal links the credential it renews
        extra["evidence"] = [status_lists.previous_credential_evidence(award, routes)]
    return extra


def unsigned_credential(award: Award, badge: Badge, issuer: Issuer, site: Site, routes: Routes, did: str,
                        status_form: str | None = None,
                        endorsements: Mapping[str, list[dict | str]] | None = None) -> dict:
    """The one builder of an award's unsigned credential (prepare and output both use it).

    `status_form` is the frozen record's (see `record_status_form`); a new credential takes
    the site's `credential_status` setting. `endorsements` are the received endorsements it
    embeds, by place (credentials/endorsement.py).
    """
    form = status_form or site.credential_status
    return ob3.credential(award, badge, issuer, site, routes, did,
                          extra=credential_extra(award, issuer, routes, form), endorsements=endorsements)


def record_status_form(record: Mapping) -> str:
    """The credentialStatus form a frozen credential was signed with (older records: the list)."""
    from . import status_lists

    form = record.get("status")
    return form if form in status_lists.FORMS else status_lists.LEGACY_FORM


def _parts(unsigned: dict) -> dict:
    """Short digests of the parts that come from one source file each (to locate a change)."""
    subject = unsigned["credentialSubject"]  # an EndorsementCredential's subject has no achievement
    return {"achievement": canonical.digest(subject.get("achievement", subject))[:16],
            "issuer": canonical.digest(unsigned["issuer"])[:16]}


# The credential fields whose short digests a record keeps (`fields`: "1:" + 4 hex digits per
# field, in this order, then one for everything else), so that E502 can name what changed.
# Append to a new version; never reorder one that records were written with.
_FIELDS_VERSION = "1"
_ACHIEVEMENT, _ISSUER = "credentialSubject/achievement/", "issuer/"
_FIELDS = (
    "name", "description", "image", "validFrom", "validUntil", "awardedDate", "evidence", "credentialStatus", "id",
    "credentialSchema", "credentialSubject/identifier", "credentialSubject/narrative",
    *(_ACHIEVEMENT + k for k in ("name", "description", "criteria", "image", "achievementType", "alignment",
                                 "creditsAvailable", "tag", "inLanguage", "id")),
    *(_ISSUER + k for k in ("id", "name", "url", "email", "phone", "description", "image")),
)
# what a person edits to change each field: (source, content key)
_SOURCES = {
    "name": ("badge", "name"), "description": ("badge", "description"), "image": ("badge", "image"),
    "validFrom": ("award", "issued_on"), "awardedDate": ("award", "issued_on"), "validUntil": ("award", "expires"),
    "evidence": ("award", "evidence"), "credentialStatus": ("award", "status list entry"),
    "id": ("site", "base_url"), "credentialSubject/identifier": ("award", "email"),
    "credentialSubject/narrative": ("award", "narrative"), _ACHIEVEMENT + "criteria": ("badge", "criteria"),
    _ACHIEVEMENT + "achievementType": ("badge", "achievement_type"),
    _ACHIEVEMENT + "alignment": ("badge", "alignments"),
    _ACHIEVEMENT + "creditsAvailable": ("badge", "credits"), _ACHIEVEMENT + "tag": ("badge", "tags"),
    _ACHIEVEMENT + "inLanguage": ("site", "language"), _ACHIEVEMENT + "id": ("site", "base_url"),
    _ISSUER + "id": ("site", "base_url"), _ISSUER + "phone": ("issuer", "telephone"),
}


def _field_value(unsigned: dict, pointer: str) -> Any:
    value: Any = unsigned
    for part in pointer.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _fields(unsigned: dict) -> str:
    """Short digests of each credential field (see _FIELDS), to name what changed (E502)."""
    rest = json.loads(canonical.dumps(unsigned))
    for pointer in _FIELDS:
        *parents, last = pointer.split("/")
        holder = rest
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            holder.pop(last, None)
    digests = [canonical.digest(_field_value(unsigned, p))[:4] for p in _FIELDS]
    return f"{_FIELDS_VERSION}:" + "".join(digests) + canonical.digest(rest)[:4]


def _changed_fields(recorded: Any, unsigned: dict) -> list[str] | None:
    """The _FIELDS pointers (or "other") whose digests differ; None for a record without field digests."""
    now = _fields(unsigned)
    if not isinstance(recorded, str) or len(recorded) != len(now) or not recorded.startswith(f"{_FIELDS_VERSION}:"):
        return None
    start = len(_FIELDS_VERSION) + 1
    names = [*_FIELDS, "other"]
    return [names[i] for i in range(len(names))
            if recorded[start + 4 * i: start + 4 * i + 4] != now[start + 4 * i: start + 4 * i + 4]]


def _source(pointer: str) -> tuple[str, str]:
    """(badge | issuer | award | site, content key) of a credential field."""
    if pointer in _SOURCES:
        return _SOURCES[pointer]
    if pointer.startswith(_ACHIEVEMENT):
        return "badge", pointer[len(_ACHIEVEMENT):]
    if pointer.startswith(_ISSUER):
        return "issuer", pointer[len(_ISSUER):]
    return "format", "the credential format"


@functools.lru_cache(maxsize=64)
def _proof_config_hash(config_json: str) -> bytes:
    # The proof configuration is the same for every credential signed in one build (same
    # @context, created and key), so its canonical form is computed once, not per credential.
    return hashlib.sha256(jsonld.canonize(json.loads(config_json)).encode("utf-8")).digest()


@dataclass(frozen=True)
class Signer:
    """One issuer's current key, bound to the site's DID. The only holder of private keys."""

    key: SigningKey = field(repr=False)
    did: str

    @property
    def key_id(self) -> str:
        return self.key.id

    @property
    def ed25519_method(self) -> str:
        return f"{self.did}#{self.key.public.ed25519_fragment}"

    @property
    def rsa_method(self) -> str | None:
        return f"{self.did}#{self.key.public.rsa_fragment}" if self.key.rsa is not None else None

    def digest_form(self) -> dict:
        """What a build-cache digest covers of a signer: which key and DID, never key material."""
        return {"key": self.key_id, "did": self.did}

    def proof(self, unsigned: dict, created: str) -> dict:
        """An eddsa-rdfc-2022 DataIntegrityProof over `unsigned` (equal to dataintegrity.sign)."""
        options = dataintegrity.proof_options(self.ed25519_method, created)
        document = dataintegrity.unsecured(unsigned)
        config_hash = _proof_config_hash(canonical.dumps({**options, "@context": document.get("@context")}))
        # by shape template (crypto/shapes.py): the same N-Quads as jsonld.canonize, ~10x faster
        doc_hash = hashlib.sha256(shapes.canonize(document).encode("utf-8")).digest()
        return {**options, "proofValue": multikey.encode_base58btc(self.key.ed25519.sign(config_hash + doc_hash))}

    def sign_document(self, doc: dict, *, created: str | None = None) -> dict:
        """`doc` with a Data Integrity proof appended (also for status-list credentials).

        `created` defaults to the document's `validFrom`, so re-signing the same document
        gives the same bytes.
        """
        created = created or doc.get("validFrom")
        if not isinstance(created, str):
            raise ValueError("sign_document needs `created` or a document with validFrom")
        return {**dataintegrity.unsecured(doc),
                "proof": [*dataintegrity.proofs_of(doc), self.proof(doc, created)]}

    def vc_jwt(self, unsigned: dict) -> str:
        """VC-JWT (OB 3.0 §8.2): the credential with iss/jti/nbf/exp claims, RS256, kid = DID URL."""
        if self.key.rsa is None:
            raise ValueError("this key has no RSA part")
        payload = {k: v for k, v in unsigned.items() if k != "proof"}
        payload["iss"] = unsigned["issuer"]["id"]
        payload["jti"] = unsigned["id"]
        payload["nbf"] = int(parse_datetime(unsigned["validFrom"]).timestamp())
        if "validUntil" in unsigned:
            payload["exp"] = int(parse_datetime(unsigned["validUntil"]).timestamp())
        return jws.sign_rs256({"alg": "RS256", "typ": "JWT", "kid": self.rsa_method}, payload, self.key.rsa)

    def ob2_jws(self, assertion: dict) -> str:
        """OB 2.0 signed badge: compact JWS (RS256) whose payload is the assertion JSON."""
        if self.key.rsa is None:
            raise ValueError("this key has no RSA part")
        return jws.sign_rs256({"alg": "RS256"}, assertion, self.key.rsa)


@dataclass
class SigningState:
    """What the output stage needs: records to republish, signers, and the keys to publish."""

    did: str
    preview: bool
    published_keys: tuple[PublicKey, ...]
    signers: dict[str, Signer]  # issuer slug -> current key
    # award key -> credential record (`ledger.Stored` when it stays in the build's RecordIndex: `record_of`)
    records: dict[str, dict | ledger.Stored]
    vc_jwt: bool
    ob2_signed: bool
    notices: list[str] = field(default_factory=list)
    embedded: dict[str, dict] = field(default_factory=dict)  # award key -> endorsements its credential embeds
    # award key -> digest of the `_memo_inputs` of its credential (checked or just signed) and of its
    # proof, in a build with a memo (`note_inputs`): bytes, 48 fewer than its hex for each of 10^5 awards
    inputs: dict[str, bytes] = field(default_factory=dict)
    given_records: dict[str, dict] = field(default_factory=dict)  # given endorsement slug -> signature record
    status_lists: dict[str, bytes] = field(default_factory=dict)  # path -> signed list (published.py)
    # verification files the ledger records: all must be published
    expected: published.ExpectedFiles = field(default_factory=published.ExpectedFiles)

    def embed(self, key: str, documents: dict) -> None:
        """The endorsements award `key`'s credential embeds (most embed none: nothing is kept for those)."""
        if documents:
            self.embedded[key] = documents

    def record_of(self, key: str) -> dict | None:
        """The credential record of award `key` (read back from the RecordIndex if it stayed there)."""
        return ledger.loaded(self.records.get(key))

    def note_inputs(self, key: str, inputs: str, record: Mapping) -> None:
        """What an award's files are made from of its credential: everything it is rebuilt from
        (`_memo_inputs`: the site, issuer, badge and award among them) and the proof the record
        adds (its `status`, `endorsements`, `parts` and `fields` are among the inputs, or read off
        the credential it froze, whose digest is `digest`), so the files' digest needs no record."""
        proof = [record["digest"], record["created"], record["verificationMethod"], record["proofValue"]]
        self.inputs[key] = hashlib.sha256(f"{inputs}:{':'.join(proof)}".encode()).digest()

    def signer_for(self, issuer_slug: str) -> Signer | None:
        """The issuer's current signer, None without a key."""
        return self.signers.get(issuer_slug)

    def for_award(self, award: Award, issuer: Issuer) -> AwardSigning:
        """The signing facts one award's files are made from (and its cache digest covers)."""
        inputs = self.inputs.get(award.key)
        return AwardSigning(self.did, self.records.get(award.key), self.signers.get(issuer.slug),
                            self.vc_jwt, self.ob2_signed, self.embedded.get(award.key, {}),
                            inputs.hex() if inputs is not None else None)


@dataclass(frozen=True)
class AwardSigning:
    """One award's frozen credential record and the signer of its optional RS256 forms."""

    did: str
    # the frozen credential (digest, proof), or where it is kept (`record`); None: the award has no credential
    frozen: dict | ledger.Stored | None
    signer: Signer | None  # the issuer's current key, for VC-JWT and OB 2.0 JWS
    vc_jwt: bool
    ob2_signed: bool
    endorsements: dict = field(default_factory=dict)  # place -> the received endorsements it embeds
    # the digest of everything its credential is made from, its proof included (`SigningState.note_inputs`),
    # in a build with a memo; None otherwise
    inputs: str | None = None

    @functools.cached_property
    def record(self) -> dict | None:
        return ledger.loaded(self.frozen)

    def digest_form(self) -> list:
        """What the build cache's digest of the award's files covers of this (award_outputs.py).

        With `inputs`, nothing of the record: they cover it (and the documents in `endorsements`,
        by digest), so an award whose files are kept never reads its record back. The signer
        counts only where it signs something (`forms_signer`): a build without the key then
        keeps every award of a site whose only signatures are the frozen credentials."""
        signer = self.forms_signer
        if self.inputs is None or self.frozen is None:
            return [self.did, self.record, signer, self.vc_jwt, self.ob2_signed, self.endorsements, self.inputs]
        return [self.did, self.inputs, signer and signer.key_id, self.vc_jwt, self.ob2_signed]

    @property
    def forms_signer(self) -> Signer | None:
        """The key that signs the award's RS256 forms (VC-JWT, OB 2.0 JWS), if it publishes any."""
        signer = self.signer
        usable = signer is not None and signer.key.rsa is not None and (self.vc_jwt or self.ob2_signed)
        return signer if usable else None

    def credential(self, award: Award, badge: Badge, issuer: Issuer, site: Site, routes: Routes) -> dict | None:
        """The signed credential of an award, or None when it has none (no key, ever)."""
        if self.record is None:
            return None
        unsigned = unsigned_credential(award, badge, issuer, site, routes, self.did, record_status_form(self.record),
                                       self.endorsements)
        if canonical.digest(unsigned) != self.record["digest"]:  # prepare() checked this; content is immutable
            raise AssertionError(f"credential of {award.key} changed between prepare and output")
        return {**unsigned, "proof": [proof_from_record(self.record)]}


def proof_from_record(record: Mapping) -> dict:
    return {**dataintegrity.proof_options(record["verificationMethod"], record["created"]),
            "proofValue": record["proofValue"]}


def _record(unsigned: dict, proof: dict) -> dict:
    from . import status_lists

    record = {"digest": canonical.digest(unsigned), "parts": _parts(unsigned), "fields": _fields(unsigned),
              "created": proof["created"],
              "verificationMethod": proof["verificationMethod"], "proofValue": proof["proofValue"],
              "status": status_lists.form_of(unsigned)}
    embedded = _embedded_digests(unsigned)
    if embedded:  # which received endorsements it embeds, so it is rebuilt with exactly those
        record["endorsements"] = embedded
    return record


def _embedded_digests(unsigned: dict) -> dict[str, list[str]]:
    subject = unsigned.get("credentialSubject")
    nodes = {"achievement": subject.get("achievement") if isinstance(subject, dict) else None,
             "issuer": unsigned.get("issuer"), "credential": unsigned}
    found = {}
    for place, node in nodes.items():
        docs = [*node.get("endorsement", []), *node.get("endorsementJwt", [])] if isinstance(node, dict) else []
        if docs:
            found[place] = [short_digest(d) for d in docs]
    return found


_TEXT_FIELDS = tuple(k for k in RECORD_FIELDS if k != "parts")


def _valid_record(record: Any) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("parts"), dict)
            and all([isinstance(record.get(k), str) for k in _TEXT_FIELDS]))  # a list: faster than a generator


@dataclass
class SigningOutcome:
    state: SigningState | None
    entries: dict[str, ledger.Entry]
    registry: list[dict]  # the ledger's key list after this build
    endorsements: ledger.Endorsements = field(default_factory=lambda: ledger.Endorsements({}, {}))
    issuers: dict[str, dict] = field(default_factory=dict)  # the ledger's issuers section after (published.py)


@dataclass
class SigningPlan:
    """What signing must do this build, decided per award before anything is signed."""

    # each with what its unsigned credential is made from (`NewCredential`), not the credential:
    # it is made where it is signed, so a first build never holds 10^5 of them at once
    to_sign: list[tuple[Award, tuple[int, list]]] = field(default_factory=list)
    preview_keys: dict[str, str] = field(default_factory=dict)  # award key -> `_preview_key` (a preview's to_sign)
    changed: dict[tuple[Location, str], list[str]] = field(default_factory=dict)  # E502: cause -> issue dates
    resigned: dict[str, int] = field(default_factory=dict)  # revoked key id -> credentials re-signed
    stranded: dict[tuple[str, str], int] = field(default_factory=dict)  # (issuer, revoked key) -> no key to re-sign
    unsigned: list[Award] = field(default_factory=list)  # no key for their issuer
    corrected: list[Award] = field(default_factory=list)  # email corrected (previous_email), no key to sign again


def prepare(project: Path, model: SiteModel | None, entries: dict[str, ledger.Entry], ledger_sections: dict,
            options: Any, report: Report, *, preview: bool, endorsements: ledger.Endorsements | None = None,
            published_site: Site | None = None, memo: CredentialMemo | None = None,
            jobs: int | None = None, records_index: ledger.RecordIndex | None = None) -> SigningOutcome:
    """Freeze or sign every award's credential and every given endorsement; see the module docstring.

    `options` is the build's options (keyring, reissue, now); `preview` is true when the base
    URL was overridden (serve, staging): then nothing is frozen and the ledger is not touched,
    but what a build at the `published_site`'s base URL would refuse is reported all the same.
    `ledger_sections` are the ledger's sections but its awards (ledger.read); `endorsements` is
    its endorsements section as read; `memo` remembers the frozen credentials earlier builds
    found unchanged; `jobs` caps the signing processes (None: one per core); `records_index`
    is where the ledger's records were left (ledger.read), and where those signed now go.
    """
    endorsements = endorsements or ledger.Endorsements({}, {})
    registry = keys.parse_registry(ledger.parse_keys(ledger_sections), report, Location(ledger.LEDGER_PATH, 1))
    recorded = ledger.parse_issuers(ledger_sections)
    if model is None:
        return SigningOutcome(None, entries, keys.registry_json(registry), endorsements, recorded)
    if not options.sign:  # a content check (an editing command): no key is read, nothing is signed
        keyring = keys.Keyring()
    else:
        keyring = options.keyring if options.keyring is not None else keys.load_keyring(
            project, os.environ, report, rsa_signing=model.site.vc_jwt or model.site.ob2_signed)
        _check_supplied_keys(keyring, registry, report)
    did = didweb.did_from_base_url(model.site.base_url)
    unusable = {k.id for k in registry if k.retired or k.revoked}
    signers = {issuer.slug: Signer(best, did) for issuer in model.issuers
               if (best := keyring.best_for(issuer.slug, unusable)) is not None}
    registry_after = registry if preview else keys.merge_registry(registry, [s.key.public for s in signers.values()])
    publishing = keys.merge_registry(registry_after, [s.key.public for s in signers.values()])
    state = SigningState(did, preview, publishing, signers, {}, model.site.vc_jwt, model.site.ob2_signed)
    archive = {**endorsements.embedded, **{e.digest: e.document for e in model.endorsements}}
    plan = _plan(model, entries, state, registry, options.reissue, report, archive, memo)
    if preview and published_site is not None:
        _check_frozen(replace(model, site=published_site), entries, state, registry, options.reissue, report,
                      archive, memo)
    _report_changed(plan.changed, report)
    for award in plan.corrected if options.sign else ():
        report.error("E507", "this award's email was corrected (previous_email): its credential must be signed again "
                     "for the new address, and there is no usable signing key", award.location,
                     "build with the signing key (restore keys/ from your backup, or set "
                     f"${keys.ENV_VAR}; `badgekiln keys list` shows which)")
    if not options.sign:
        return SigningOutcome(state, entries, keys.registry_json(registry), endorsements, recorded)
    _report_stranded(plan.stranded, registry, report)
    # a build that already failed signs nothing (slow, and its records would not be kept)
    records = {} if report.has_errors() else _sign_all(plan.to_sign, state, format_datetime(options.now), model,
                                                       report, options.report_progress, jobs, records_index)
    state.records.update(records)
    if memo is not None:
        _note_signed(memo, plan, records, model, state)
    given, unsigned_given = _sign_given(model, endorsements.given, state, registry, options, report)
    _signing_notices(state, plan, entries, records)
    if report.has_errors():  # nothing is published: keep the recorded lists as they are
        return SigningOutcome(state, entries, keys.registry_json(registry_after), endorsements, recorded)
    files = published.freeze(model, Routes(model.site.base_url), did, signers, state.records, recorded,
                             {k.id for k in registry if k.revoked}, preview)
    state.status_lists, state.expected = files.lists, files.expected
    # a preview publishes nothing: what it cannot sign is said, never an error
    _missing_key_notices(state, model, plan.unsigned, registry, files, not preview and (options.frozen or keys.in_ci()),
                         report, unsigned_given)
    if preview:
        return SigningOutcome(state, entries, keys.registry_json(registry_after), endorsements, files.records)
    entries = {k: (replace(e, credential=records[k]) if k in records else e) for k, e in entries.items()}
    embedded = dict(endorsements.embedded)  # the ledger keeps every endorsement a credential embeds
    for record in records.values() if archive else ():  # (none embeds any when there is none)
        for digests in endorsement.record_digests(ledger.loaded(record)).values():
            embedded.update((d, archive[d]) for d in digests)
    return SigningOutcome(state, entries, keys.registry_json(registry_after), ledger.Endorsements(given, embedded),
                          files.records)


def _sign_given(model: SiteModel, old: dict[str, ledger.Given], state: SigningState, registry: tuple[PublicKey, ...],
                options: Any, report: Report) -> tuple[dict[str, ledger.Given], list[str]]:
    """Republish, sign or re-sign each given endorsement, like an award's credential.

    Returns the ledger entries after, and the endorsements left unsigned for want of a key.
    """
    routes = Routes(model.site.base_url)
    revoked = {k.id for k in registry if k.revoked}
    after = dict(old)
    waiting: list[str] = []
    for given in model.given:
        entry = old.get(given.slug)
        record = entry.credential if entry is not None and not state.preview else None
        unsigned = endorsement.given_credential(given, model.issuer(given.issuer), routes, state.did)
        signer = state.signers.get(given.issuer)
        if record is not None and not _valid_record(record):
            report.error("E305", f"the issuance ledger's signature record of endorsement '{given.slug}' cannot be "
                         "read", Location(ledger.LEDGER_PATH, 1), "restore it from git; never edit it by hand")
            continue
        leaked = record is not None and record["verificationMethod"].rpartition("#key-")[2] in revoked
        if record is not None and not leaked and record["digest"] == canonical.digest(unsigned):
            state.given_records[given.slug] = record
        elif record is not None and not leaked and not (options.reissue and signer is not None):
            report.error("E502", f"endorsement '{given.slug}' changed, but it was signed and published on "
                         f"{record['created'][:10]}", given.location,
                         "what was given is frozen: undo the change, or sign a new version with "
                         "`badgekiln build --reissue`")
        elif signer is None:
            waiting.append(given.slug)
        elif not report.has_errors():
            result = sign_one(signer, unsigned, format_datetime(options.now))
            if isinstance(result, tuple):
                report.error("E503", f"endorsement '{given.slug}' cannot be signed: {result[0]} (field {result[1]})",
                             given.location, "remove invisible control characters from its text")
                continue
            state.given_records[given.slug] = result
        after[given.slug] = ledger.Given(given.issuer, given.status_index,
                                         state.given_records.get(given.slug, record) if not state.preview else None)
    return after, waiting


def _check_frozen(model: SiteModel, entries: dict[str, ledger.Entry], preview: SigningState,
                  registry: tuple[PublicKey, ...], reissue: bool, report: Report, archive: dict,
                  memo: CredentialMemo | None = None) -> None:
    """A preview signs under its own DID, yet must refuse what `build` would: E502, E305, E506 (with
    the memo of the builds of the published site: what they found unchanged is not built again)."""
    did = didweb.did_from_base_url(model.site.base_url)
    # its own records, endorsements and inputs: the preview's are what the preview publishes
    state = replace(preview, did=did, preview=False, records={}, notices=[], embedded={}, inputs={},
                    signers={slug: Signer(s.key, did) for slug, s in preview.signers.items()})
    plan = _plan(model, entries, state, registry, reissue, report, archive, memo)
    _report_changed(plan.changed, report)
    _report_stranded(plan.stranded, registry, report)


def _check_supplied_keys(keyring: keys.Keyring, registry: tuple[PublicKey, ...], report: Report) -> None:
    """E501/E504/E505: a supplied private key that is not the recorded one, or may no longer sign."""
    by_id = {k.id: k for k in registry}
    for key in keyring.keys:
        known = by_id.get(key.id)
        loc = Location(key.source)
        if known is None:
            continue
        if (known.ed25519, known.rsa_jwk, known.issuer) != (key.public.ed25519, key.public.rsa_jwk, key.public.issuer):
            report.error("E501", f"signing key {key.id} does not match the key recorded under that id in "
                         f"{ledger.LEDGER_PATH}", loc, "restore the right key file from your backup")
        elif known.revoked:
            report.error("E505", f"signing key {key.id} was revoked on {known.revoked[:10]} "
                         f"({known.revocation_reason or 'no reason given'}) but its private key is still supplied",
                         loc, f"delete it everywhere (keys/, backups, the {keys.ENV_VAR} secret; put the "
                         "current key in the secret instead: badgekiln keys list)")
        elif known.retired:
            report.error("E504", f"signing key {key.id} was retired on {known.retired[:10]} but its private key "
                         "is still supplied", loc,
                         f"delete it (or update the {keys.ENV_VAR} secret with the current key: "
                         "badgekiln keys list)")


class CredentialMemo(Protocol):
    """Credentials already found unchanged by an earlier build: the same inputs, the same record.

    Checking a frozen credential means building it again (about 0.2 ms); a memo keyed by a
    digest of everything the credential is built from (and of Badgekiln's code) answers in a
    lookup. Computing that digest walks the award again (a few µs, 10^5 times): while the award's
    awards file, its ledger file and the plan's context are unchanged (its `origin`), the digest
    noted with them is taken instead. It only saves time: a miss is a full check.
    """

    def expect(self, keys: list[str]) -> None: ...  # the keys asked about next (a batch of a few hundred)
    # `origin` (see below) is noted with the inputs, so that a later build can take them by it
    def verified(self, key: str, inputs: str, record_digest: str, origin: str | None = None) -> bool: ...
    def note(self, key: str, inputs: str, record_digest: str, origin: str | None = None) -> None: ...
    def set_context(self, context: str) -> None: ...  # what the plan gives every credential (for `origin`)
    # a digest of the award's remembered awards file, its ledger file and the context; None if not all remembered
    def origin(self, key: str) -> str | None: ...
    def inputs_from(self, key: str, origin: str | None) -> str | None: ...  # as noted from the same origin
    # a preview's own credentials (serve): signed under the preview's DID, so never frozen, yet the same
    # from save to save while `preview_key` (everything one is made from, and the signing key) is the same
    def expect_previews(self, keys: list[str]) -> None: ...
    def preview(self, key: str, preview_key: str) -> tuple[str, dict] | None: ...  # (inputs, record)
    def note_preview(self, key: str, preview_key: str, inputs: str, record: dict) -> None: ...


_MEMO_BATCH = 500  # awards whose memo rows are read in one query


def _plan(model: SiteModel, entries: dict[str, ledger.Entry], state: SigningState, registry: tuple[PublicKey, ...],
          reissue: bool, report: Report, archive: Mapping[str, dict | str],
          memo: CredentialMemo | None = None) -> SigningPlan:
    """Decide for every award: republish its frozen credential, sign, re-sign, or report why not."""
    plan = SigningPlan()
    routes = Routes(model.site.base_url)
    known_keys = {k.id for k in registry}
    revoked = {k.id for k in registry if k.revoked}
    contexts: dict[tuple[str, str], str] = {}  # (issuer, badge) -> digest of what their credentials share
    if memo is not None:  # what inputs take from the build besides the award's file and ledger record
        memo.set_context(canonical.digest([model.site, state.did, [[e.digest, e.version, e.targets]
                                                                   for e in model.endorsements]]))
    for index, award in enumerate(model.awards):
        if index % _MEMO_BATCH == 0:
            batch = [a.key for a in model.awards[index:index + _MEMO_BATCH]]
            if memo is not None:
                (memo.expect_previews if state.preview else memo.expect)(batch)
            if not state.preview:
                ledger.prefetch(entries, batch)
        badge = model.badge(award.badge)
        issuer = model.issuer(badge.issuer)
        can_sign = issuer.slug in state.signers
        entry = entries.get(award.key)
        kept = entry.credential if entry is not None and not state.preview else None  # (maybe `ledger.Stored`)
        record = entry.record() if kept is not None else None
        if record is not None and not _valid_record(record):
            report.error("E305", f"the issuance ledger's credential record of award '{award.key}' cannot be read",
                         Location(ledger.record_path(award.key), 1), ledger.RESTORE)
            continue
        if record is None and not can_sign:  # nothing to check or sign: it stays unsigned
            plan.unsigned.append(award)
            continue
        # a frozen credential is rebuilt in the status form it was signed with and with the endorsements
        # it embedded; new ones take the site's setting and the endorsements current now (which the
        # memo's origin covers: its context holds every endorsement)
        current_digests = None
        if record is not None and memo is not None:
            # a CPD chain's award is not its file's alone: it is made with the chain's renewals
            origin = memo.origin(award.key) if award.cpd is None else None
            inputs = memo.inputs_from(award.key, origin)
            if inputs is None:
                current_digests = endorsement.current(award, badge, issuer, model)
                inputs = _memo_inputs(contexts, model.site, issuer, badge, state.did, award, current_digests, record)
            if memo.verified(award.key, inputs, record["digest"], origin) and not _revoked_signer(record, revoked):
                state.records[award.key] = kept
                state.embed(award.key, endorsement.documents(endorsement.record_digests(record), archive))
                state.note_inputs(award.key, inputs, record)
                continue
        if current_digests is None:
            current_digests = endorsement.current(award, badge, issuer, model)
        current = endorsement.documents(current_digests, archive)
        if state.preview and memo is not None and can_sign:
            preview_key = _preview_key(contexts, model.site, issuer, badge, state.did, award, current_digests,
                                       state.signers[issuer.slug])
            found = memo.preview(award.key, preview_key)
            if found is not None:  # signed by an earlier preview from all the same: the same credential
                inputs, state.records[award.key] = found
                state.note_inputs(award.key, inputs, found[1])
                state.embed(award.key, current)
                continue
            plan.preview_keys[award.key] = preview_key
        try:
            embedded = endorsement.documents(endorsement.record_digests(record), archive) if record else current
        except KeyError as exc:
            report.error("E305", f"the issuance ledger lost endorsement {exc} embedded in the credential of award "
                         f"'{award.key}'", Location(ledger.record_path(award.key), 1), ledger.RESTORE)
            continue
        unsigned = unsigned_credential(award, badge, issuer, model.site, routes, state.did,
                                       record and record_status_form(record), embedded)
        unchanged = record is not None and record["digest"] == canonical.digest(unsigned)
        if not unchanged and not _strings_signable(unsigned, award, badge, issuer, report):
            continue
        if record is None:
            (plan.to_sign.append((award, (index, embedded))) if can_sign else plan.unsigned.append(award))
            state.embed(award.key, embedded)
            continue
        key_id = record["verificationMethod"].rpartition("#key-")[2]
        if key_id not in known_keys:
            report.error("E305", f"the credential of award '{award.key}' was signed by key {key_id}, which is "
                         "missing from the ledger's key list", Location(ledger.record_path(award.key), 1),
                         ledger.RESTORE)
        elif key_id in revoked:  # re-sign (with today's content): the old proof verifies nowhere any more
            if can_sign:
                plan.to_sign.append((award, (index, current)))
                state.embed(award.key, current)
                plan.resigned[key_id] = plan.resigned.get(key_id, 0) + 1
            else:
                plan.stranded[(issuer.slug, key_id)] = plan.stranded.get((issuer.slug, key_id), 0) + 1
        elif unchanged:
            state.records[award.key] = kept
            state.embed(award.key, embedded)
            if memo is not None:
                memo.note(award.key, inputs, record["digest"], origin)
                state.note_inputs(award.key, inputs, record)
        elif (reissue or award.email_corrected) and can_sign:  # a new version takes today's settings
            plan.to_sign.append((award, (index, current)))
            state.embed(award.key, current)
        elif award.email_corrected:
            plan.corrected.append(award)
        else:
            for loc, cause in _changes_of(record, unsigned, state.did, award, badge, issuer):
                plan.changed.setdefault((loc, cause), []).append(record["created"][:10])
    return plan


def _memo_inputs(contexts: dict, site: Site, issuer: Issuer, badge: Badge, did: str, award: Award,
                 current_digests, record: Mapping) -> str:
    """The memo's key: a digest of everything a frozen credential is rebuilt from."""
    if (issuer.slug, badge.slug) not in contexts:  # what the credentials of one badge share, digested once
        contexts[(issuer.slug, badge.slug)] = canonical.digest([site, issuer, badge, did])
    return canonical.digest([contexts[(issuer.slug, badge.slug)], award, current_digests, record.get("status"),
                             record.get("endorsements")])


def _preview_key(contexts: dict, site: Site, issuer: Issuer, badge: Badge, did: str, award: Award,
                 current_digests, signer: Signer) -> str:
    """A digest of everything a preview's credential of `award` is made from (a new one: no record
    yet, so the site's status form and the endorsements current now) and of the key that signs it."""
    inputs = _memo_inputs(contexts, site, issuer, badge, did, award, current_digests, {})
    return hashlib.sha256(f"{inputs}:{signer.key_id}".encode()).hexdigest()


def _note_signed(memo: CredentialMemo, plan: SigningPlan, records: Mapping[str, dict | ledger.Stored],
                 model: SiteModel, state: SigningState) -> None:
    """Remember what was just signed, so the next build need not rebuild it to check it (and give its
    award the inputs a later build finds it by: its files' cache digest is the same then). A
    preview's credentials are remembered by their `_preview_key`, to be published again as they are."""
    contexts: dict = {}
    for award, _ in plan.to_sign:
        record = ledger.loaded(records.get(award.key))
        if record is not None:
            badge = model.badge(award.badge)
            issuer = model.issuer(badge.issuer)
            current = endorsement.current(award, badge, issuer, model)
            inputs = _memo_inputs(contexts, model.site, issuer, badge, state.did, award, current, record)
            if not state.preview:
                memo.note(award.key, inputs, record["digest"])
            elif award.key in plan.preview_keys:
                memo.note_preview(award.key, plan.preview_keys[award.key], inputs, record)
            state.note_inputs(award.key, inputs, record)


def _revoked_signer(record: Mapping, revoked: set[str]) -> bool:
    return record["verificationMethod"].rpartition("#key-")[2] in revoked


def _strings_signable(unsigned: dict, award: Award, badge: Badge, issuer: Issuer, report: Report) -> bool:
    """E503 for text JSON-LD signing cannot carry (a frozen credential passed this when signed)."""
    try:
        jsonld.check_strings(unsigned)
        return True
    except jsonld.JsonLdError as exc:
        loc, what = _source_of(exc.path, award, badge, issuer)
        character = exc.reason.replace(" is not allowed", "")
        report.error("E503", f"{what}: '{_field_name(exc.path)}' contains {character}, which a signed "
                     f"credential cannot carry (credential field {exc.path})", loc,
                     "delete that invisible character (look for \\b, \\f or \\x escapes in quoted YAML text)")
        return False


def _report_changed(changed: dict[tuple[Location, str], list[str]], report: Report) -> None:
    """E502, once per cause: content changed credentials that were already issued and signed."""
    for (loc, cause), dates in sorted(changed.items(), key=lambda item: item[0][0]):
        report.error("E502", f"{cause}: this would change {len(dates)} credential(s) already issued and signed "
                     f"(first on {min(dates)})", loc,
                     "issued credentials are frozen: undo the change, or sign new versions with "
                     "`badgekiln build --reissue` (copies recipients already hold stay valid; if you "
                     "changed nothing, a Badgekiln upgrade changed the credential format)")


def _signing_notices(state: SigningState, plan: SigningPlan, entries: dict[str, ledger.Entry],
                     records: dict[str, dict]) -> None:
    """What this build re-issued or re-signed, for the console (never the output)."""
    reissued = sum(1 for award, _ in plan.to_sign if entries.get(award.key) is not None
                   and entries[award.key].credential is not None) - sum(plan.resigned.values())
    if reissued and not state.preview:  # a preview signs its own credentials: it re-issues nothing
        state.notices.append(f"re-issued {reissued} changed credential(s) with a new signature; "
                             "the versions recipients already hold stay valid")
    if records:
        for key_id, count in sorted(plan.resigned.items()):
            state.notices.append(f"re-signed {count} credential(s) signed with revoked key {key_id}; the copies "
                                 f"recipients already hold no longer verify: commit {ledger.LEDGER_PATH}")


def _report_stranded(stranded: dict[tuple[str, str], int], registry: tuple[PublicKey, ...],
                     report: Report) -> None:
    """E506: credentials signed with a revoked key, and no key of their issuer to re-sign them."""
    by_id = {k.id: k for k in registry}
    for (issuer, key_id), count in sorted(stranded.items()):
        current = [k for k in registry if k.applies_to(issuer) and not k.retired and not k.revoked]
        if current:
            key = max(current, key=lambda k: (k.issuer is not None, k.created, k.id))
            fix = (f"supply the private key of the current key {key.id} (keys/{key.id}{keys.KEY_SUFFIX}, or the "
                   f"{keys.ENV_VAR} secret in CI) and build again")
        else:
            scope = by_id[key_id].issuer
            fix = (f"make a new key with `badgekiln keys rotate{' --issuer ' + scope if scope else ''}` "
                   f"(it replaces the revoked one), then build again and commit {ledger.LEDGER_PATH}")
        report.error("E506", f"{count} credential(s) of issuer '{issuer}' were signed with revoked key {key_id} "
                     "and must be re-signed, but the issuer has no usable signing key",
                     Location(ledger.LEDGER_PATH, 1), fix)


SIGNING = "signing credentials"


@dataclass(frozen=True)
class NewCredential:
    """Makes a new award's unsigned credential from (its index in the model, the endorsement
    documents it embeds), in whichever process signs it: forked workers inherit the model."""

    model: SiteModel
    routes: Routes
    did: str

    def __call__(self, job: tuple[int, list]) -> dict:
        index, endorsements = job
        award = self.model.awards[index]
        badge = self.model.badge(award.badge)
        return unsigned_credential(award, badge, self.model.issuer(badge.issuer), self.model.site, self.routes,
                                   self.did, endorsements=endorsements)


_SET_ASIDE = 1000  # records signed before they go to the build's RecordIndex together


def _sign_all(jobs: list[tuple[Award, tuple[int, list]]], state: SigningState, created: str, model: SiteModel,
              report: Report, progress: Callable[[str, int, int], None] | None = None,
              processes: int | None = None, index: ledger.RecordIndex | None = None) -> dict[str, dict | ledger.Stored]:
    """Sign every job (in up to `processes` processes when there are many), telling `progress`.

    With an `index`, the records go there a thousand at a time (`ledger.Stored` in their place):
    a first build of 10^5 awards would otherwise hold 10^5 records until it ends."""
    started, cpu = time.perf_counter(), _cpu_seconds()
    records: dict[str, dict | ledger.Stored] = {}
    waiting: list[tuple[str, dict]] = []

    def set_aside() -> None:
        index.set_aside(waiting)
        records.update((key, ledger.Stored(index, key, signed=True)) for key, _ in waiting)
        waiting.clear()

    shared = ledger.SharedValues()  # one copy of what every record repeats: its signer, time, status and parts
    work = [(award.key, state.signers[model.badge(award.badge).issuer], job) for award, job in jobs]
    make = NewCredential(model, Routes(model.site.base_url), state.did)
    for done, ((award, _), result) in enumerate(zip(jobs, sign_many(work, created, make, processes)), 1):
        if progress is not None:
            progress(SIGNING, done, len(jobs))
        if isinstance(result, tuple):  # (reason, JSON pointer) of a JSON-LD safety failure
            reason, pointer = result
            badge = model.badge(award.badge)
            loc, _what = _source_of(pointer, award, badge, model.issuer(badge.issuer))
            report.error("E503", f"the credential cannot be signed: {reason} (credential field {pointer or '/'})",
                         loc, "this is a Badgekiln bug if the text above looks normal; please report it")
            continue
        if index is None:
            records[award.key] = shared.record(result)
            continue
        waiting.append((award.key, result))
        if len(waiting) >= _SET_ASIDE:
            set_aside()
    if waiting:
        set_aside()
    if records:  # throughput goes to the console only (bench/bench.py reads it), never to the output
        each = (_cpu_seconds() - cpu) * 1000 / len(records)
        state.notices.append(_signed_notice(len(records), time.perf_counter() - started, each))
    return records


RATE_FROM = 100  # credentials: a rate over fewer (or over less than a second) says nothing


def _signed_notice(count: int, seconds: float, cpu_ms_each: float) -> str:
    if count < RATE_FROM or seconds < 1:
        return f"signed {count} credential(s)"
    return (f"signed {count} credential(s) in {seconds:.1f} s ({count / seconds:.0f} credentials/s, "
            f"{cpu_ms_each:.2f} ms CPU each)")


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers (a busy machine skews wall time, not this)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


_PARALLEL_MIN = 64


def _as_is(job: dict) -> dict:
    return job


def sign_many(work: list[tuple[str, Signer, Any]], created: str, make: Callable[[Any], dict] = _as_is,
              processes: int | None = None) -> Iterator[dict | tuple[str, str]]:
    """Sign many credentials (in worker processes when there are many): records or failures, in order.

    Each job is an unsigned credential, or what `make` makes one from (in the process that signs it).
    `processes` caps the processes (the build's jobs: $BADGEKILN_JOBS); None: one per core, up to 8."""
    workers = min(processes or os.cpu_count() or 1, 8)
    if len(work) < _PARALLEL_MIN or workers < 2:
        for _, signer, job in work:
            yield sign_one(signer, make(job), created)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    signer_list = sorted({s.key_id: s for _, s, _ in work}.items())
    index = {key_id: i for i, (key_id, _) in enumerate(signer_list)}
    seeds = [(s.did, s.key.public, multikey.private_key_seed(s.key.ed25519)) for _, s in signer_list]
    tasks = [(index[s.key_id], unsigned) for _, s, unsigned in work]
    chunk = max(1, len(tasks) // (workers * 8))
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                             initargs=(seeds, created, make)) as pool:
        yield from pool.map(_worker_sign, tasks, chunksize=chunk)


_WORKER: dict[str, Any] = {}


def _worker_init(seeds: list[tuple[str, PublicKey, bytes]], created: str, make: Callable[[Any], dict]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _WORKER["signers"] = [Signer(SigningKey(public, Ed25519PrivateKey.from_private_bytes(seed), None, "worker"), did)
                          for did, public, seed in seeds]
    _WORKER["created"] = created
    _WORKER["make"] = make  # a forked worker inherits it with the model it reads: nothing is pickled


def _worker_sign(task: tuple[int, Any]) -> dict | tuple[str, str]:
    index, job = task
    return sign_one(_WORKER["signers"][index], _WORKER["make"](job), _WORKER["created"])


def sign_one(signer: Signer, unsigned: dict, created: str) -> dict | tuple[str, str]:
    """The credential record, or (reason, JSON pointer) if JSON-LD safe mode rejects it."""
    try:
        return _record(unsigned, signer.proof(unsigned, created))
    except jsonld.JsonLdError as exc:
        return exc.reason, exc.path


def _source_of(pointer: str, award: Award, badge: Badge, issuer: Issuer) -> tuple[Location, str]:
    """Which content file a credential field comes from, for the error location."""
    if pointer.startswith("/issuer"):
        return issuer.location, f"issuer '{issuer.slug}'"
    if pointer.startswith(("/credentialSubject/achievement", "/name", "/description", "/image")):
        return badge.location, f"badge '{badge.slug}'"
    return award.location, "award"


_FIELD_NAMES = {"targetName": "alignments: name", "targetUrl": "alignments: url",
                "targetDescription": "alignments: description", "targetFramework": "alignments: framework",
                "targetCode": "alignments: code", "tag": "tags", "phone": "telephone", "narrative": "narrative"}


def _field_name(pointer: str) -> str:
    """The content key behind a credential field, e.g. /credentialSubject/achievement/tag/0 -> tags."""
    parts = [p for p in pointer.split("/") if p and not p.isdigit()]
    if parts[-2:] == ["criteria", "narrative"]:
        return "criteria"
    return _FIELD_NAMES.get(parts[-1], parts[-1]) if parts else "?"


def _changes_of(record: Mapping, unsigned: dict, did: str, award: Award, badge: Badge,
                issuer: Issuer) -> list[tuple[Location, str]]:
    """Where the changes that altered an issued credential come from, naming the fields when recorded."""
    if not record["verificationMethod"].startswith(did + "#"):
        old = record["verificationMethod"].split("#")[0]
        return [(Location("content/site.yaml", 1), f"base_url changed (credentials were issued by {old}, now {did})")]
    changed = _changed_fields(record.get("fields"), unsigned)
    where = {"issuer": (issuer.location, f"issuer '{issuer.slug}' changed"),
             "badge": (badge.location, f"badge '{badge.slug}' changed"),
             "award": (award.location, "this award changed"),
             "site": (Location("content/site.yaml", 1), "site.yaml changed"),
             "format": (award.location, "this award's credential changed")}
    if changed is None:  # recorded before field digests: say which part, as far as known
        parts, now = record["parts"], _parts(unsigned)
        source = ("issuer" if parts.get("issuer") != now["issuer"] else
                  "badge" if parts.get("achievement") != now["achievement"] else "award")
        return [where[source]]
    keys: dict[str, list[str]] = {}
    for pointer in changed:
        source, key = _source(pointer)
        if key not in keys.setdefault(source, []):
            keys[source].append(key)
    if not keys:  # the digest differs but no recorded field does (a 1 in 65,536 coincidence)
        return [where["award"]]
    return [(where[source][0], f"{where[source][1]} ({', '.join(sorted(names))})")
            for source, names in sorted(keys.items())]


def _missing_key_notices(state: SigningState, model: SiteModel, unsigned_awards: list[Award],
                         registry: tuple[PublicKey, ...], files: published.IssuerFiles, strict: bool,
                         report: Report, unsigned_given: list[str] = ()) -> None:
    """What could not be signed for want of a key: E507, W501 or a console note.

    E507 whenever the build would publish fewer signed files than the ledger records, and in CI
    or under --frozen whenever a site that signs (a key in the ledger, or a signed form switched
    on in site.yaml) has anything new to sign; W501 on a person's machine once the site has a key.
    """
    where = Location(ledger.LEDGER_PATH, 1)
    source = f"no usable signing key (keys/ or ${keys.ENV_VAR})"
    fix = (f"set the {keys.ENV_VAR} secret to the current key file (`badgekiln keys list` shows which), then "
           "build again" if keys.in_ci() else
           f"restore the current key file to keys/ from your backup (or set ${keys.ENV_VAR}); "
           "`badgekiln keys list` shows which key")
    if files.dropped:
        report.error("E507", f"{source}, and publishing without it would drop signed files the ledger records as "
                     f"published: {'; '.join(files.dropped)}", where, fix)
    what = [f"{len(unsigned_awards)} award(s) have no signed Open Badges 3.0 credential"] if unsigned_awards else []
    if unsigned_given:
        what.append(f"{len(unsigned_given)} endorsement(s) you give are not published until signed")
    what += files.unsigned
    if not what:
        return
    site_signs = bool(registry) or model.site.vc_jwt or model.site.ob2_signed
    if strict and site_signs:
        report.error("E507", f"{source}, but this {'CI' if keys.in_ci() else '--frozen'} build must sign: "
                     f"{'; '.join(what)}", where, fix)
    elif registry and not report.has_errors():
        report.warning("W501", f"{source}: {'; '.join(what)}", where,
                       f"in CI, store the key in the {keys.ENV_VAR} secret; locally, see `badgekiln keys list`")
    elif keys.in_ci():
        state.notices.append(
            f"no signing key: the site is Open Badges 2.0 only; {'; '.join(what)}. To sign in CI, create a key "
            f"on your machine (badgekiln keys new) and store it in the {keys.ENV_VAR} secret.")
    else:
        state.notices.append(
            f"no signing key yet: the site is Open Badges 2.0 only; {'; '.join(what)}. "
            "To sign them, run `badgekiln keys new` and build again (see keys/README.md).")


# --- output ------------------------------------------------------------------------------------

def did_document(did: str, published: tuple[PublicKey, ...]) -> dict:
    """did:web document: every key ever published, Ed25519 as Multikey and RSA as JsonWebKey.

    Retired keys stay listed (and usable for assertionMethod) so credentials they signed
    verify. Revoked keys stay listed with `revoked` (so a verifier can say when) but are
    authorised for nothing, so nothing they signed verifies.
    """
    doc = didweb.did_document(did, [(k.ed25519_fragment, k.ed25519) for k in published],
                              revoked={k.ed25519_fragment: k.revoked for k in published if k.revoked})
    jwks = [{"id": f"{did}#{k.rsa_fragment}", "type": "JsonWebKey", "controller": did,
             "publicKeyJwk": {**k.rsa_jwk, "alg": "RS256"}, **({"revoked": k.revoked} if k.revoked else {})}
            for k in published if k.rsa_jwk]
    doc["verificationMethod"] += jwks
    doc["assertionMethod"] += [m["id"] for m in jwks if "revoked" not in m]
    return doc


def _issuer_rsa_keys(state: SigningState, issuer: Issuer) -> list[PublicKey]:
    """The issuer's OB 2.0 keys: a revoked key is not published (OB 2.0 cannot mark one revoked)."""
    return [k for k in state.published_keys if k.rsa_jwk and k.applies_to(issuer.slug) and not k.revoked]


def given_endorsement_files(state: SigningState | None, model: SiteModel, routes: Routes) -> Iterator[Artifact]:
    """Each signed endorsement this site gives, at its stable URL (its `id`)."""
    for given in model.given:
        record = state.given_records.get(given.slug) if state is not None else None
        if record is None:
            continue
        unsigned = endorsement.given_credential(given, model.issuer(given.issuer), routes, state.did)
        if canonical.digest(unsigned) != record["digest"]:  # prepare() checked this; content is immutable
            raise AssertionError(f"endorsement {given.slug} changed between prepare and output")
        yield Artifact(routes.given_endorsement(given), canonical.json_bytes({**unsigned,
                                                                            "proof": [proof_from_record(record)]}))


def site_files(state: SigningState | None, model: SiteModel, routes: Routes) -> Iterator[Artifact]:
    """The DID document and, with OB 2.0 signing, one CryptographicKey per issuer and key."""
    if state is None or not state.published_keys:
        return
    yield Artifact(routes.did_document(), canonical.json_bytes(did_document(state.did, state.published_keys)))
    if not state.ob2_signed:
        return
    for issuer in model.issuers:
        for key in _issuer_rsa_keys(state, issuer):
            yield Artifact(routes.issuer_key(issuer, key.id), canonical.json_bytes({
                "@context": ob2.CONTEXT, "type": "CryptographicKey",
                "id": routes.url(routes.issuer_key(issuer, key.id)),
                "owner": routes.url(routes.issuer_json(issuer)),
                "publicKeyPem": keys.rsa_public_pem(keys.rsa_key_from_jwk(key.rsa_jwk)),
            }))


def ob2_issuer_profile(state: SigningState | None, issuer: Issuer, profile: dict, routes: Routes) -> dict:
    """The OB 2.0 Profile with `publicKey` (its signing keys) when OB 2.0 signing is on."""
    if state is None or not state.ob2_signed:
        return profile
    urls = [routes.url(routes.issuer_key(issuer, k.id)) for k in _issuer_rsa_keys(state, issuer)]
    return {**profile, "publicKey": urls} if urls else profile


def ob2_signed_assertion(assertion: dict, creator: str) -> dict:
    """The hosted assertion re-shaped for SignedBadge verification (the key is `creator`).

    It keeps the hosted assertion's URL as its id, so the issuer's one RevocationList (which
    lists those URLs) revokes both forms; the IMS validator accepts an https id on a signed badge.
    """
    return {**assertion, "verification": {"type": "SignedBadge", "creator": creator}}


def rs256_forms(signing: AwardSigning | None, award: Award, issuer: Issuer, routes: Routes,
                credential: dict | None, assertion: dict) -> Iterator[Artifact]:
    """The opt-in RS256 forms of an award (site.yaml `signing:`): VC-JWT and OB 2.0 signed assertion."""
    signer = signing.forms_signer if signing is not None else None
    if signer is None:
        return
    if signing.vc_jwt and credential is not None:
        yield Artifact(routes.award_credential_jwt(award), signer.vc_jwt(credential).encode("ascii"))
    if signing.ob2_signed:
        creator = routes.url(routes.issuer_key(issuer, signer.key_id))
        yield Artifact(routes.award_ob2_jws(award),
                       signer.ob2_jws(ob2_signed_assertion(assertion, creator)).encode("ascii"))
