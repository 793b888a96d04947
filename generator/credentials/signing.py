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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import bake, canonical
from ..artifacts import Artifact
from ..crypto import dataintegrity, didweb, jsonld, jws, keys, multikey
from ..crypto.keys import PublicKey, SigningKey
from ..diagnostics import Location, Report
from ..model import ledger
from ..model.domain import Award, Badge, Issuer, Site, SiteModel
from ..model.routes import Routes
from ..validate.values import format_datetime, parse_datetime
from . import ob2, ob3, published

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
                        status_form: str | None = None) -> dict:
    """The one builder of an award's unsigned credential (prepare and output both use it).

    `status_form` is the frozen record's (see `record_status_form`); a new credential takes
    the site's `credential_status` setting.
    """
    form = status_form or site.credential_status
    return ob3.credential(award, badge, issuer, site, routes, did,
                          extra=credential_extra(award, issuer, routes, form))


def record_status_form(record: Mapping) -> str:
    """The credentialStatus form a frozen credential was signed with (older records: the list)."""
    from . import status_lists

    form = record.get("status")
    return form if form in status_lists.FORMS else status_lists.LEGACY_FORM


def _parts(unsigned: dict) -> dict:
    """Short digests of the parts that come from one source file each (to locate a change)."""
    return {"achievement": canonical.digest(unsigned["credentialSubject"]["achievement"])[:16],
            "issuer": canonical.digest(unsigned["issuer"])[:16]}


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
        doc_hash = hashlib.sha256(jsonld.canonize(document).encode("utf-8")).digest()
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
    records: dict[str, dict]  # award key -> credential record
    vc_jwt: bool
    ob2_signed: bool
    notices: list[str] = field(default_factory=list)
    status_lists: dict[str, bytes] = field(default_factory=dict)  # path -> signed list (published.py)
    expected: set[str] = field(default_factory=set)  # verification files the ledger records: all must be published

    def signer_for(self, issuer_slug: str) -> Signer | None:
        """The issuer's current signer, None without a key."""
        return self.signers.get(issuer_slug)

    def for_award(self, award: Award, issuer: Issuer) -> AwardSigning:
        """The signing facts one award's files are made from (and its cache digest covers)."""
        return AwardSigning(self.did, self.records.get(award.key), self.signers.get(issuer.slug),
                            self.vc_jwt, self.ob2_signed)


@dataclass(frozen=True)
class AwardSigning:
    """One award's frozen credential record and the signer of its optional RS256 forms."""

    did: str
    record: dict | None  # the frozen credential (digest, proof); None: the award has no credential
    signer: Signer | None  # the issuer's current key, for VC-JWT and OB 2.0 JWS
    vc_jwt: bool
    ob2_signed: bool

    def credential(self, award: Award, badge: Badge, issuer: Issuer, site: Site, routes: Routes) -> dict | None:
        """The signed credential of an award, or None when it has none (no key, ever)."""
        if self.record is None:
            return None
        unsigned = unsigned_credential(award, badge, issuer, site, routes, self.did, record_status_form(self.record))
        if canonical.digest(unsigned) != self.record["digest"]:  # prepare() checked this; content is immutable
            raise AssertionError(f"credential of {award.key} changed between prepare and output")
        return {**unsigned, "proof": [_proof_from_record(self.record)]}


def _proof_from_record(record: Mapping) -> dict:
    return {**dataintegrity.proof_options(record["verificationMethod"], record["created"]),
            "proofValue": record["proofValue"]}


def _record(unsigned: dict, proof: dict) -> dict:
    from . import status_lists

    return {"digest": canonical.digest(unsigned), "parts": _parts(unsigned), "created": proof["created"],
            "verificationMethod": proof["verificationMethod"], "proofValue": proof["proofValue"],
            "status": status_lists.form_of(unsigned)}


def _valid_record(record: Any) -> bool:
    return (isinstance(record, dict) and all(isinstance(record.get(k), str) for k in RECORD_FIELDS if k != "parts")
            and isinstance(record.get("parts"), dict))


@dataclass
class SigningOutcome:
    state: SigningState | None
    entries: dict[str, ledger.Entry]
    registry: list[dict]  # the ledger's key list after this build
    issuers: dict[str, dict] = field(default_factory=dict)  # the ledger's issuers section after (published.py)


@dataclass
class SigningPlan:
    """What signing must do this build, decided per award before anything is signed."""

    to_sign: list[tuple[Award, dict]] = field(default_factory=list)
    changed: dict[tuple[Location, str], list[str]] = field(default_factory=dict)  # E502: cause -> issue dates
    resigned: dict[str, int] = field(default_factory=dict)  # revoked key id -> credentials re-signed
    stranded: dict[tuple[str, str], int] = field(default_factory=dict)  # (issuer, revoked key) -> no key to re-sign
    unsigned: list[Award] = field(default_factory=list)  # no key for their issuer
    corrected: list[Award] = field(default_factory=list)  # email corrected (previous_email), no key to sign again


def prepare(project: Path, model: SiteModel | None, entries: dict[str, ledger.Entry], ledger_bytes: bytes | None,
            options: Any, report: Report, *, preview: bool) -> SigningOutcome:
    """Freeze or sign every award's credential; see the module docstring.

    `options` is the build's options (keyring, reissue, now); `preview` is true when the base
    URL was overridden (serve, staging): then nothing is frozen and the ledger is not touched.
    """
    registry = keys.parse_registry(ledger.parse_keys(ledger_bytes), report, Location(ledger.LEDGER_PATH, 1))
    recorded = ledger.parse_issuers(ledger_bytes)
    if model is None:
        return SigningOutcome(None, entries, keys.registry_json(registry), recorded)
    if not options.sign:  # a content check (an editing command): no key is read, nothing is signed
        keyring = keys.Keyring()
    else:
        keyring = options.keyring if options.keyring is not None else keys.load_keyring(project, os.environ, report)
        _check_supplied_keys(keyring, registry, report)
    did = didweb.did_from_base_url(model.site.base_url)
    unusable = {k.id for k in registry if k.retired or k.revoked}
    signers = {issuer.slug: Signer(best, did) for issuer in model.issuers
               if (best := keyring.best_for(issuer.slug, unusable)) is not None}
    registry_after = registry if preview else keys.merge_registry(registry, [s.key.public for s in signers.values()])
    publishing = keys.merge_registry(registry_after, [s.key.public for s in signers.values()])
    state = SigningState(did, preview, publishing, signers, {}, model.site.vc_jwt, model.site.ob2_signed)
    plan = _plan(model, entries, state, registry, options.reissue, report)
    _report_changed(plan.changed, report)
    for award in plan.corrected if options.sign else ():
        report.error("E507", "this award's email was corrected (previous_email): its credential must be signed again "
                     "for the new address, and there is no usable signing key", award.location,
                     "build with the signing key (restore keys/ from your backup, or set "
                     f"${keys.ENV_VAR}; `badgekiln keys list` shows which)")
    if not options.sign:
        return SigningOutcome(state, entries, keys.registry_json(registry), recorded)
    _report_stranded(plan.stranded, registry, report)
    # a build that already failed signs nothing (slow, and its records would not be kept)
    records = {} if report.has_errors() else _sign_all(plan.to_sign, state, format_datetime(options.now), model,
                                                       report)
    state.records.update(records)
    _signing_notices(state, plan, entries, records)
    if report.has_errors():  # nothing is published: keep the recorded lists as they are
        return SigningOutcome(state, entries, keys.registry_json(registry_after), recorded)
    files = published.freeze(model, Routes(model.site.base_url), did, signers, state.records, recorded,
                             {k.id for k in registry if k.revoked}, preview)
    state.status_lists, state.expected = files.lists, files.expected
    # a preview publishes nothing: what it cannot sign is said, never an error
    _missing_key_notices(state, model, plan.unsigned, registry, files, not preview and (options.frozen or keys.in_ci()),
                         report)
    if not preview:
        entries = {k: (replace(e, credential=records[k]) if k in records else e) for k, e in entries.items()}
    return SigningOutcome(state, entries, keys.registry_json(registry_after), files.records)


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


def _plan(model: SiteModel, entries: dict[str, ledger.Entry], state: SigningState, registry: tuple[PublicKey, ...],
          reissue: bool, report: Report) -> SigningPlan:
    """Decide for every award: republish its frozen credential, sign, re-sign, or report why not."""
    plan = SigningPlan()
    routes = Routes(model.site.base_url)
    known_keys = {k.id for k in registry}
    revoked = {k.id for k in registry if k.revoked}
    where = Location(ledger.LEDGER_PATH, 1)
    for award in model.awards:
        badge = model.badge(award.badge)
        issuer = model.issuer(badge.issuer)
        can_sign = issuer.slug in state.signers
        entry = entries.get(award.key)
        record = entry.credential if entry is not None and not state.preview else None
        if record is not None and not _valid_record(record):
            report.error("E305", f"the issuance ledger's credential record of award '{award.key}' cannot be read",
                         where, "restore it from git (`git checkout content/ledger.json`); never edit it by hand")
            continue
        # a frozen credential is rebuilt in the status form it was signed with; new ones take the site's
        unsigned = unsigned_credential(award, badge, issuer, model.site, routes, state.did,
                                       record and record_status_form(record))
        unchanged = record is not None and record["digest"] == canonical.digest(unsigned)
        if not unchanged and not _strings_signable(unsigned, award, badge, issuer, report):
            continue
        if record is None:
            (plan.to_sign.append((award, unsigned)) if can_sign else plan.unsigned.append(award))
            continue
        key_id = record["verificationMethod"].rpartition("#key-")[2]
        if key_id not in known_keys:
            report.error("E305", f"the credential of award '{award.key}' was signed by key {key_id}, which is "
                         "missing from the ledger's key list", where,
                         "restore content/ledger.json from git; never edit it by hand")
        elif key_id in revoked:  # re-sign (with today's content): the old proof verifies nowhere any more
            if can_sign:
                plan.to_sign.append((award, unsigned_credential(award, badge, issuer, model.site, routes, state.did)))
                plan.resigned[key_id] = plan.resigned.get(key_id, 0) + 1
            else:
                plan.stranded[(issuer.slug, key_id)] = plan.stranded.get((issuer.slug, key_id), 0) + 1
        elif unchanged:
            state.records[award.key] = record
        elif (reissue or award.email_corrected) and can_sign:  # a new version takes today's settings
            plan.to_sign.append((award, unsigned_credential(award, badge, issuer, model.site, routes, state.did)))
        elif award.email_corrected:
            plan.corrected.append(award)
        else:
            loc, cause = _change_of(record, unsigned, state.did, award, badge, issuer)
            plan.changed.setdefault((loc, cause), []).append(record["created"][:10])
    return plan


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
    if reissued:
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


def _sign_all(jobs: list[tuple[Award, dict]], state: SigningState, created: str, model: SiteModel,
              report: Report) -> dict[str, dict]:
    """Sign every job (in parallel when there are many and more than one CPU)."""
    started = time.perf_counter()
    records: dict[str, dict] = {}
    work = [(award.key, state.signers[model.badge(award.badge).issuer], unsigned) for award, unsigned in jobs]
    for (award, _), result in zip(jobs, sign_many(work, created)):
        if isinstance(result, tuple):  # (reason, JSON pointer) of a JSON-LD safety failure
            reason, pointer = result
            badge = model.badge(award.badge)
            loc, _what = _source_of(pointer, award, badge, model.issuer(badge.issuer))
            report.error("E503", f"the credential cannot be signed: {reason} (credential field {pointer or '/'})",
                         loc, "this is a Badgekiln bug if the text above looks normal; please report it")
            continue
        records[award.key] = result
    if records:  # throughput goes to the console only (bench/bench.py reads it), never to the output
        seconds = max(time.perf_counter() - started, 1e-6)
        state.notices.append(f"signed {len(records)} credential(s) in {seconds:.1f} s "
                             f"({len(records) / seconds:.0f} credentials/s)")
    return records


_PARALLEL_MIN = 64


def sign_many(work: list[tuple[str, Signer, dict]], created: str) -> list[dict | tuple[str, str]]:
    """Sign many credentials (in worker processes when there are many): records or failures, in order."""
    if len(work) < _PARALLEL_MIN or (os.cpu_count() or 1) < 2:
        return [sign_one(signer, unsigned, created) for _, signer, unsigned in work]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(os.cpu_count() or 1, 8)
    signer_list = sorted({s.key_id: s for _, s, _ in work}.items())
    index = {key_id: i for i, (key_id, _) in enumerate(signer_list)}
    seeds = [(s.did, s.key.public, multikey.private_key_seed(s.key.ed25519)) for _, s in signer_list]
    tasks = [(index[s.key_id], unsigned) for _, s, unsigned in work]
    chunk = max(1, len(tasks) // (workers * 8))
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                             initargs=(seeds, created)) as pool:
        return list(pool.map(_worker_sign, tasks, chunksize=chunk))


_WORKER: dict[str, Any] = {}


def _worker_init(seeds: list[tuple[str, PublicKey, bytes]], created: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _WORKER["signers"] = [Signer(SigningKey(public, Ed25519PrivateKey.from_private_bytes(seed), None, "worker"), did)
                          for did, public, seed in seeds]
    _WORKER["created"] = created


def _worker_sign(task: tuple[int, dict]) -> dict | tuple[str, str]:
    index, unsigned = task
    return sign_one(_WORKER["signers"][index], unsigned, _WORKER["created"])


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


def _change_of(record: Mapping, unsigned: dict, did: str, award: Award, badge: Badge,
               issuer: Issuer) -> tuple[Location, str]:
    """Where the change that altered an issued credential most likely comes from."""
    if not record["verificationMethod"].startswith(did + "#"):
        old = record["verificationMethod"].split("#")[0]
        return Location("content/site.yaml", 1), f"base_url changed (credentials were issued by {old}, now {did})"
    parts = record["parts"]
    now = _parts(unsigned)
    if parts.get("issuer") != now["issuer"]:
        return issuer.location, f"issuer '{issuer.slug}' changed"
    if parts.get("achievement") != now["achievement"]:
        return badge.location, f"badge '{badge.slug}' changed"
    return award.location, "this award changed"


def _missing_key_notices(state: SigningState, model: SiteModel, unsigned_awards: list[Award],
                         registry: tuple[PublicKey, ...], files: published.IssuerFiles, strict: bool,
                         report: Report) -> None:
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
            f"no signing key: built the Open Badges 2.0 site; {'; '.join(what)}. To sign in CI, create a key "
            f"on your machine (badgekiln keys new) and store it in the {keys.ENV_VAR} secret.")
    else:
        state.notices.append(
            f"no signing key yet: built the Open Badges 2.0 site; {'; '.join(what)}. "
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


def site_files(state: SigningState | None, model: SiteModel, routes: Routes) -> Iterator[tuple[str, bytes]]:
    """The DID document and, with OB 2.0 signing, one CryptographicKey per issuer and key."""
    if state is None or not state.published_keys:
        return
    yield routes.did_document(), canonical.json_bytes(did_document(state.did, state.published_keys))
    if not state.ob2_signed:
        return
    for issuer in model.issuers:
        for key in _issuer_rsa_keys(state, issuer):
            yield routes.issuer_key(issuer, key.id), canonical.json_bytes({
                "@context": ob2.CONTEXT, "type": "CryptographicKey",
                "id": routes.url(routes.issuer_key(issuer, key.id)),
                "owner": routes.url(routes.issuer_json(issuer)),
                "publicKeyPem": keys.rsa_public_pem(keys.rsa_key_from_jwk(key.rsa_jwk)),
            })


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


def award_files(signing: AwardSigning | None, award: Award, badge: Badge, issuer: Issuer, site: Site,
                routes: Routes, ob2_png: bytes, svg: bytes, assertion: dict) -> Iterator[Artifact]:
    """The award's PNG (OB 2.0 + OB 3.0 baked), credential JSON, OB 3.0 SVG, VC-JWT, OB 2.0 JWS."""
    credential = signing.credential(award, badge, issuer, site, routes) if signing is not None else None
    if credential is None:
        yield Artifact(routes.award_png(award), ob2_png)
    else:
        payload = canonical.dumps(credential)
        yield Artifact(routes.award_png(award), bake.bake(ob2_png, payload, version="ob3"))
        yield Artifact(routes.award_credential_json(award), canonical.json_bytes(credential))
        yield Artifact(routes.award_credential_svg(award), bake.bake(svg, payload, version="ob3"))
    signer = signing.signer if signing is not None else None
    if signer is None or signer.key.rsa is None:
        return
    if signing.vc_jwt and credential is not None:
        yield Artifact(routes.award_credential_jwt(award), signer.vc_jwt(credential).encode("ascii"))
    if signing.ob2_signed:
        creator = routes.url(routes.issuer_key(issuer, signer.key_id))
        yield Artifact(routes.award_ob2_jws(award),
                       signer.ob2_jws(ob2_signed_assertion(assertion, creator)).encode("ascii"))
