"""Signing keys: private key files in keys/, the CI environment variable, the public registry.

Why it is shaped like this (DESIGN.md invariant 6, "keys stay private"):

* A private key lives in exactly one place on a machine: ``keys/<id>.key.json`` (git-ignored,
  mode 0600), or, in CI, the environment variable ``BADGEKILN_SIGNING_KEYS`` holding the same
  JSON (one key object or a list of them, optionally base64-encoded). Nothing else ever holds it.
* The public halves are recorded in the issuance ledger (``content/ledger.json``, committed)
  the first time a key is created or used. The DID document is built from that registry, so a
  key stays published after rotation, and a build in CI or on a fresh clone lists every key
  ever used even though the old private key files are gone.
* Error messages name the file and the field, never a value: a malformed key must not be
  echoed into a terminal, a CI log or a bug report.

One key is an Ed25519 key (eddsa-rdfc-2022 Data Integrity proofs, published as Multikey) plus
an RSA-2048 key (RS256 for VC-JWT and OB 2.0 signed assertions, published as a JWK and as an
OB 2.0 CryptographicKey). They are created, rotated and retired together under one short id.

A *retired* key signs nothing new but everything it signed keeps verifying. A *revoked* key
leaked: it signs nothing, the DID document marks it revoked (so nothing it signed verifies),
and the build re-signs its credentials with a current key (signing.py).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .. import canonical
from ..diagnostics import Location, Report
from ..load.files import walk
from ..validate.values import format_datetime
from . import multikey

ENV_VAR = "BADGEKILN_SIGNING_KEYS"
KEYS_DIR = "keys"
KEY_SUFFIX = ".key.json"
FORMAT = "badgekiln-signing-key/1"
RSA_BITS = 2048  # RS256; 2048 is what the 1EdTech examples and validators use
WARNING = ("PRIVATE SIGNING KEY. Anyone who has this file can issue badges in your name. "
           "Never commit it, never copy it into content/, never paste it into a ticket or chat. "
           "Back it up offline (password manager or encrypted drive). See keys/README.md.")
ENV_LOCATION = Location(f"${ENV_VAR}")


class KeyProblem(ValueError):
    """A key file or value is unusable; the message names fields, never key material."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def rsa_public_jwk(key: rsa.RSAPublicKey) -> dict:
    """Public RSA key as a JWK (RFC 7517), the form WebCrypto and the DID document use."""
    numbers = key.public_numbers()
    return {"kty": "RSA", "n": _int_b64url(numbers.n), "e": _int_b64url(numbers.e)}


def rsa_key_from_jwk(jwk: Mapping) -> rsa.RSAPublicKey:
    """Inverse of rsa_public_jwk; raises KeyProblem for anything but a public RSA JWK."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or "d" in jwk:
        raise KeyProblem("not a public RSA JWK")
    try:
        n = int.from_bytes(_b64decode(jwk["n"], url=True), "big")
        e = int.from_bytes(_b64decode(jwk["e"], url=True), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    except (KeyError, TypeError, ValueError):
        raise KeyProblem("RSA JWK has an invalid n or e") from None


def rsa_public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _b64decode(text: Any, *, url: bool) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not text")
    padded = text + "=" * (-len(text) % 4)
    try:
        return (base64.urlsafe_b64decode if url else base64.b64decode)(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None


def key_id_for(public_key_multibase: str) -> str:
    """Short, stable id of a key: the first 8 hex digits of SHA-256 of its Ed25519 public key."""
    raw = multikey.decode_base58btc(public_key_multibase)
    return hashlib.sha256(raw).hexdigest()[:8]


@dataclass(frozen=True)
class PublicKey:
    """The public, committed record of one key (an entry of the ledger's `keys` list)."""

    id: str
    issuer: str | None  # None: signs for every issuer without a key of its own
    created: str
    retired: str | None
    ed25519: str  # publicKeyMultibase, z6Mk...
    rsa_jwk: dict | None
    revoked: str | None = None  # when `keys revoke` was run (the key leaked); a revoked key is also retired
    revocation_reason: str | None = None

    @property
    def ed25519_fragment(self) -> str:
        return f"key-{self.id}"

    @property
    def rsa_fragment(self) -> str:
        return f"rsa-{self.id}"

    def applies_to(self, issuer_slug: str) -> bool:
        return self.issuer is None or self.issuer == issuer_slug

    def as_json(self) -> dict:
        doc = {"id": self.id, "issuer": self.issuer, "created": self.created, "retired": self.retired,
               "publicKeyMultibase": self.ed25519, "publicKeyJwk": self.rsa_jwk}
        if self.revoked:  # only when set, so ledgers without revocations keep their exact bytes
            doc.update(revoked=self.revoked, revocationReason=self.revocation_reason)
        return doc

    @staticmethod
    def from_json(raw: Any) -> "PublicKey":
        if not isinstance(raw, Mapping):
            raise KeyProblem("a key record must be an object")
        try:
            key = PublicKey(id=raw["id"], issuer=raw.get("issuer"), created=raw["created"],
                            retired=raw.get("retired"), ed25519=raw["publicKeyMultibase"],
                            rsa_jwk=raw.get("publicKeyJwk"), revoked=raw.get("revoked"),
                            revocation_reason=raw.get("revocationReason"))
        except KeyError as exc:
            raise KeyProblem(f"key record lacks {exc.args[0]!r}") from None
        for name in ("id", "created", "ed25519"):
            if not isinstance(getattr(key, name), str):
                raise KeyProblem(f"key record field {name!r} must be text")
        for name, value in (("revoked", key.revoked), ("revocationReason", key.revocation_reason)):
            if value is not None and not isinstance(value, str):
                raise KeyProblem(f"key record field {name!r} must be text or null")
        try:
            multikey.decode_public_key(key.ed25519)
        except multikey.MultikeyError:
            raise KeyProblem("publicKeyMultibase is not an Ed25519 Multikey") from None
        if key_id_for(key.ed25519) != key.id:
            raise KeyProblem(f"key id {key.id!r} does not match its public key")
        if key.rsa_jwk is not None:
            rsa_key_from_jwk(key.rsa_jwk)
        return key


@dataclass(frozen=True)
class SigningKey:
    """A usable private key (both algorithms). Its repr never shows key material."""

    public: PublicKey
    ed25519: Ed25519PrivateKey = field(repr=False, compare=False)
    rsa: rsa.RSAPrivateKey | None = field(repr=False, compare=False)
    source: str  # "keys/<id>.key.json" or "$BADGEKILN_SIGNING_KEYS"

    @property
    def id(self) -> str:
        return self.public.id


def generate(issuer: str | None, created: datetime) -> tuple[SigningKey, dict]:
    """A fresh key and the JSON object of its key file (used only by `keys new/rotate`)."""
    ed = Ed25519PrivateKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    public_mb = multikey.encode_public_key(ed.public_key())
    public = PublicKey(id=key_id_for(public_mb), issuer=issuer, created=format_datetime(created), retired=None,
                       ed25519=public_mb, rsa_jwk=rsa_public_jwk(rsa_key.public_key()))
    return SigningKey(public, ed, rsa_key, f"{KEYS_DIR}/{public.id}{KEY_SUFFIX}"), key_file_json(public, ed, rsa_key)


def key_status(public: PublicKey) -> str:
    return "revoked" if public.revoked else "retired" if public.retired else "active"


_PUBLIC_ONLY = {"retired": "Retired key: public part only, kept for reference.",
                "revoked": "Revoked key (it leaked): public part only, kept for reference. Never sign with it.",
                "active": "Public part only."}


def key_file_json(public: PublicKey, ed: Ed25519PrivateKey | None, rsa_key: rsa.RSAPrivateKey | None) -> dict:
    """The key file object; private parts are omitted for a retired or revoked key (public record only)."""
    status = key_status(public)
    doc: dict[str, Any] = {
        "WARNING": WARNING if ed is not None else _PUBLIC_ONLY[status],
        "format": FORMAT, "id": public.id, "issuer": public.issuer, "created": public.created,
        "status": status,
        "ed25519": {"publicKeyMultibase": public.ed25519},
    }
    if public.retired:
        doc["retired"] = public.retired
    if public.revoked:
        doc.update(revoked=public.revoked, revocationReason=public.revocation_reason)
    if ed is not None:
        doc["ed25519"]["secretKeyMultibase"] = multikey.encode_secret_key(ed)
    if public.rsa_jwk is not None:
        doc["rsa"] = {"publicKeyJwk": public.rsa_jwk}
        if rsa_key is not None:
            doc["rsa"]["privateKeyPem"] = rsa_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode("ascii")
    return doc


def parse_key_object(raw: Any, source: str, *, rsa_signing: bool = True) -> SigningKey | PublicKey:
    """A SigningKey from one key-file object, or its PublicKey when it has no private part.

    Without `rsa_signing` (a build whose site publishes no RS256 form), the RSA private key is
    still read and matched with its public key, but not kept: it will not sign, so its 30 ms of
    validation (RSA's CRT values: a faulty one leaks the key through any signature) is not spent.
    Raises KeyProblem with a message that names fields only.
    """
    if not isinstance(raw, Mapping):
        raise KeyProblem("a key must be a JSON object")
    if raw.get("format") != FORMAT:
        raise KeyProblem(f"'format' must be {FORMAT!r} (a key made by `badgekiln keys new`)")
    ed_part = raw.get("ed25519")
    if not isinstance(ed_part, Mapping) or not isinstance(ed_part.get("publicKeyMultibase"), str):
        raise KeyProblem("'ed25519.publicKeyMultibase' is missing")
    issuer = raw.get("issuer")
    if issuer is not None and not isinstance(issuer, str):
        raise KeyProblem("'issuer' must be an issuer id or null")
    retired = raw.get("retired") if raw.get("status") in ("retired", "revoked") else None
    revoked = raw.get("revoked") if raw.get("status") == "revoked" else None
    revoked = revoked if isinstance(revoked, str) else None
    reason = raw.get("revocationReason") if revoked and isinstance(raw.get("revocationReason"), str) else None
    try:
        public = PublicKey.from_json({
            "id": raw.get("id"), "issuer": issuer, "created": raw.get("created"),
            "retired": retired if isinstance(retired, str) else None,
            "revoked": revoked, "revocationReason": reason,
            "publicKeyMultibase": ed_part["publicKeyMultibase"],
            "publicKeyJwk": (raw.get("rsa") or {}).get("publicKeyJwk") if isinstance(raw.get("rsa"), Mapping)
            else None})
    except KeyProblem as exc:
        raise KeyProblem(str(exc)) from None
    secret = ed_part.get("secretKeyMultibase")
    if secret is None:
        return public
    try:
        ed = multikey.decode_secret_key(secret)
    except (multikey.MultikeyError, ValueError, TypeError):
        raise KeyProblem("'ed25519.secretKeyMultibase' is not a valid Ed25519 secret key") from None
    if multikey.encode_public_key(ed.public_key()) != public.ed25519:
        raise KeyProblem("'ed25519.secretKeyMultibase' does not belong to 'ed25519.publicKeyMultibase'")
    rsa_key = None
    rsa_part = raw.get("rsa")
    if isinstance(rsa_part, Mapping) and rsa_part.get("privateKeyPem") is not None:
        pem = rsa_part.get("privateKeyPem")
        try:
            loaded = serialization.load_pem_private_key(pem.encode("ascii"), password=None,
                                                        unsafe_skip_rsa_key_validation=not rsa_signing)
        except (ValueError, TypeError, AttributeError, UnicodeEncodeError):
            raise KeyProblem("'rsa.privateKeyPem' is not an unencrypted PEM private key") from None
        if not isinstance(loaded, rsa.RSAPrivateKey) or loaded.key_size < 2048:
            raise KeyProblem("'rsa.privateKeyPem' must be an RSA key of at least 2048 bits")
        if public.rsa_jwk != rsa_public_jwk(loaded.public_key()):
            raise KeyProblem("'rsa.privateKeyPem' does not belong to 'rsa.publicKeyJwk'")
        rsa_key = loaded if rsa_signing else None  # never sign with a key that was not validated
    return SigningKey(public, ed, rsa_key, source)


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this run is a CI job (CI=true, as CI services set): keys come from ENV_VAR there,
    and nobody is asked anything."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def parse_env(value: str) -> list[Any]:
    """The key objects in the environment variable: JSON (object or list), or base64 of it."""
    text = value.strip()
    if not text.startswith(("{", "[")):
        try:
            text = _b64decode("".join(text.split()), url="-" in text or "_" in text).decode("utf-8").strip()
        except (ValueError, UnicodeDecodeError):
            raise KeyProblem("must be the JSON of a key file (or a list of them), optionally base64-encoded") \
                from None
    try:
        value_json = json.loads(text)
    except ValueError:
        raise KeyProblem("is not valid JSON (expected the content of a keys/*.key.json file)") from None
    return value_json if isinstance(value_json, list) else [value_json]


@dataclass(frozen=True)
class Keyring:
    """The private keys this build may use, from keys/ and the environment."""

    keys: tuple[SigningKey, ...] = ()

    def best_for(self, issuer_slug: str, retired: set[str] = frozenset()) -> SigningKey | None:
        """Newest usable key for an issuer: its own key first, else a site-wide one.

        `retired` holds the ids the ledger says are retired or revoked (a key file may not know).
        """
        usable = [k for k in self.keys if k.id not in retired and not k.public.retired and not k.public.revoked
                  and k.public.applies_to(issuer_slug)]
        if not usable:
            return None
        return max(usable, key=lambda k: (k.public.issuer is not None, k.public.created, k.id))


def load_keyring(project: Path, environ: Mapping[str, str], report: Report, *, rsa_signing: bool = True) -> Keyring:
    """Every private key in keys/*.key.json and in $BADGEKILN_SIGNING_KEYS (edge: reads files);
    their RSA parts only if `rsa_signing` (see parse_key_object)."""
    found: dict[str, SigningKey] = {}

    def add(raw: Any, source: str, where: Location) -> None:
        try:
            key = parse_key_object(raw, source, rsa_signing=rsa_signing)
        except KeyProblem as exc:
            report.error("E501", f"signing key cannot be used: {exc}", where,
                         "recreate it with `badgekiln keys new`, or restore it from your backup")
            return
        if isinstance(key, PublicKey):
            return  # a retired key's public record: nothing to sign with
        other = found.get(key.id)
        if other is not None and other.public != key.public:
            report.error("E501", f"two different keys claim the id {key.id} ({other.source} and {source})",
                         where, "keep only one of them")
            return
        found.setdefault(key.id, key)

    for source in walk(project, KEYS_DIR, (".json",)):
        where = Location(source.path)
        try:
            raw = json.loads(source.data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            report.error("E501", "signing key file is not valid JSON", where,
                         "keys/ holds only files made by `badgekiln keys new`; restore it from your backup")
            continue
        add(raw, source.path, where)
    value = environ.get(ENV_VAR, "")
    if value.strip():
        try:
            objects = parse_env(value)
        except KeyProblem as exc:
            report.error("E501", f"{ENV_VAR} {exc}", ENV_LOCATION,
                         f"store the content of a keys/*.key.json file in the {ENV_VAR} secret")
            objects = []
        for raw in objects:
            add(raw, f"${ENV_VAR}", ENV_LOCATION)
    return Keyring(tuple(found[k] for k in sorted(found)))


# --- the public registry (ledger "keys") -----------------------------------------------------

def parse_registry(raw: Any, report: Report, where: Location) -> tuple[PublicKey, ...]:
    if raw is None:
        return ()
    keys = []
    try:
        if not isinstance(raw, list):
            raise KeyProblem("'keys' must be a list")
        for item in raw:
            keys.append(PublicKey.from_json(item))
    except KeyProblem as exc:
        report.error("E305", f"the issuance ledger's key list cannot be read ({exc})", where,
                     "restore it from git (`git checkout content/ledger.json`); never edit it by hand")
        return ()
    return tuple(sorted(keys, key=lambda k: (k.created, k.id)))


def registry_json(keys: tuple[PublicKey, ...]) -> list[dict]:
    return [k.as_json() for k in sorted(keys, key=lambda k: (k.created, k.id))]


def merge_registry(registry: tuple[PublicKey, ...], additions: list[PublicKey]) -> tuple[PublicKey, ...]:
    by_id = {k.id: k for k in registry}
    for key in additions:
        by_id.setdefault(key.id, replace(key, retired=None, revoked=None, revocation_reason=None))
    return tuple(sorted(by_id.values(), key=lambda k: (k.created, k.id)))


# --- files (used by the `keys` command only) --------------------------------------------------

def write_private_file(path: Path, doc: dict) -> None:
    """Create or replace a key file with mode 0600 from the first byte (never world-readable)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(canonical.json_bytes(doc))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
