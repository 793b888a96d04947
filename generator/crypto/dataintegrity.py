"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa §3.1).

This is the only Linked-Data proof the 1EdTech OB 3.0 conformance suite accepts (DIGEST
§4.5). Signing is a pure function of its inputs: same document, key, verification method
and ``created`` give the same bytes (Ed25519 is deterministic), which keeps rebuilds
byte-identical.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from . import jsonld, multikey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ASSERTION_METHOD = "assertionMethod"
# XSD dateTime (timezone optional, as in the vc-di-eddsa proof configuration check).
_XSD_DATETIME = re.compile(
    r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?"
)

KeyResolver = Callable[[str], Ed25519PublicKey]
# jsonld.canonize, or shapes.canonize (the same N-Quads, faster for many documents of few shapes)
Canonicalizer = Callable[..., str]


class ProofError(ValueError):
    """Proof options or a proof object violate the cryptosuite's rules."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProofInput:
    """The two canonical forms a proof signs, and the 64 bytes derived from them."""

    canonical_document: str
    canonical_proof_config: str

    @property
    def document_hash(self) -> bytes:
        return hashlib.sha256(self.canonical_document.encode("utf-8")).digest()

    @property
    def proof_config_hash(self) -> bytes:
        return hashlib.sha256(self.canonical_proof_config.encode("utf-8")).digest()

    @property
    def hash_data(self) -> bytes:
        """SHA-256(proof config) ‖ SHA-256(document): proof-config hash first."""
        return self.proof_config_hash + self.document_hash


def unsecured(document: dict) -> dict:
    """The document without its ``proof``."""
    return {key: value for key, value in document.items() if key != "proof"}


def proofs_of(document: dict) -> list[Any]:
    """The document's proofs as a list (``proof`` may be one object or an array)."""
    proof = document.get("proof", [])
    return proof if isinstance(proof, list) else [proof]


def proof_options(verification_method: str, created: str, proof_purpose: str = ASSERTION_METHOD) -> dict:
    """An ``eddsa-rdfc-2022`` DataIntegrityProof without its ``proofValue`` (the one builder)."""
    return {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "created": created,
            "verificationMethod": verification_method, "proofPurpose": proof_purpose}


def _check_options(options: dict) -> None:
    if options.get("type") != PROOF_TYPE:
        raise ProofError(f"proof type must be {PROOF_TYPE!r}, got {options.get('type')!r}")
    if options.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"cryptosuite must be {CRYPTOSUITE!r}, got {options.get('cryptosuite')!r}")
    created = options.get("created")
    if created is not None and not (isinstance(created, str) and _XSD_DATETIME.fullmatch(created)):
        raise ProofError(f"created {created!r} is not an XSD dateTime")


def proof_input(document: dict, options: dict, *, allow_examples: bool = False,
                canonize: Canonicalizer = jsonld.canonize) -> ProofInput:
    """Canonicalise the unsecured document and the proof configuration (§3.1 steps 2-3).

    ``options`` is the proof without ``proofValue``; the configuration takes the document's
    ``@context``. Raises ProofError or jsonld.JsonLdError.
    """
    _check_options(options)
    doc = unsecured(document)
    config = {**{k: v for k, v in options.items() if k != "proofValue"}, "@context": doc.get("@context")}
    return ProofInput(
        canonical_document=canonize(doc, allow_examples=allow_examples),
        canonical_proof_config=canonize(config, allow_examples=allow_examples),
    )


def sign(
    unsigned: dict,
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
    proof_purpose: str = ASSERTION_METHOD,
    allow_examples: bool = False,
    canonize: Canonicalizer = jsonld.canonize,
) -> dict:
    """Return a copy of ``unsigned`` with an ``eddsa-rdfc-2022`` proof appended to ``proof``.

    ``proof`` is always an array; proofs already present stay (a proof set signs the
    document without its proofs). ``allow_examples`` is for the W3C test vectors only.
    """
    options = proof_options(verification_method, created, proof_purpose)
    data = proof_input(unsigned, options, allow_examples=allow_examples, canonize=canonize).hash_data
    proof = {**options, "proofValue": multikey.encode_base58btc(private_key.sign(data))}
    return {**unsecured(unsigned), "proof": [*proofs_of(unsigned), proof]}


def _verify_proof(document: dict, proof: Any, resolve_key: KeyResolver, purpose: str,
                  allow_examples: bool) -> list[str]:
    """Errors for one proof (empty when it verifies)."""
    if not isinstance(proof, dict):
        return ["proof is not an object"]
    if proof.get("proofPurpose") != purpose:
        return [f"proofPurpose must be {purpose!r}, got {proof.get('proofPurpose')!r}"]
    method = proof.get("verificationMethod")
    if not isinstance(method, str):
        return ["proof has no verificationMethod"]
    try:
        signature = multikey.decode_base58btc(proof.get("proofValue"))
        data = proof_input(document, proof, allow_examples=allow_examples).hash_data
    except (ProofError, multikey.MultikeyError, jsonld.JsonLdError) as exc:
        return [str(exc)]
    try:
        public_key = resolve_key(method)
    except Exception as exc:  # the resolver is caller-supplied; any failure means "no key"
        return [f"cannot resolve verification method {method!r}: {exc}"]
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return [f"signature by {method!r} does not verify"]
    return []


def verify(
    signed: dict,
    resolve_key: KeyResolver,
    *,
    proof_purpose: str = ASSERTION_METHOD,
    allow_examples: bool = False,
) -> VerifyResult:
    """Verify the document's ``eddsa-rdfc-2022`` proofs; ``ok`` if any one of them verifies.

    ``resolve_key`` maps a verificationMethod id to the Ed25519 public key it denotes (and
    should raise if that method may not be used, e.g. not listed under assertionMethod).
    """
    proofs = proofs_of(signed)
    if not proofs:
        return VerifyResult(False, ["document has no proof"])
    errors: list[str] = []
    for index, proof in enumerate(proofs):
        problems = _verify_proof(signed, proof, resolve_key, proof_purpose, allow_examples)
        if not problems:
            return VerifyResult(True, [])
        errors += [f"proof[{index}]: {problem}" for problem in problems]
    return VerifyResult(False, errors)
