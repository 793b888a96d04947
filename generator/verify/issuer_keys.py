"""Finding the issuer's public key for a signature: did:web documents, embedded keys, revocation.

A key counts only when the issuer controls it and lists it for assertions; a key the issuer
published as revoked (it leaked) is refused with the date, so nothing it signed verifies.
"""
from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ..crypto import didweb, keys, multikey
from ..model.endorsements import issuer_id_of, types_of  # noqa: F401 (verify's modules import them from here)
from ..validate.values import parse_datetime
from .fetch import Fetcher, FetchError


class RevokedKey(ValueError):
    """The issuer published the signing key as revoked: it leaked, so its signatures prove nothing."""

    def __init__(self, method: str, when: str):
        try:
            when = parse_datetime(when).date().isoformat()
        except ValueError:
            pass
        super().__init__(f"the issuer revoked the signing key {method} on {when}: "
                         "nothing it signed can be trusted any more (ask the issuer for a new copy)")


def refuse_revoked(document: Any, method: str) -> None:
    """Raise RevokedKey when the document lists `method` with a `revoked` date."""
    when = didweb.revoked_on(document, method) if isinstance(document, dict) else None
    if when is not None:
        raise RevokedKey(method, when)


def key_failure(exc: Exception) -> str:
    """The `issuer key` message for a key that cannot be used."""
    if isinstance(exc, RevokedKey):
        return str(exc)
    return f"the signing key is not published by the issuer: {exc}"


def did_document(did: str, fetcher: Fetcher) -> tuple[dict, str]:
    url = didweb.resolve_did_web_url(did)
    doc = fetcher.json(url)
    if not isinstance(doc, dict) or doc.get("id") != did.split("#")[0]:
        raise FetchError(f"the DID document at {url} is not the document of {did.split('#')[0]}")
    return doc, url


def where_found(url: str, fetcher: Fetcher) -> str:
    return f"{url} (from {fetcher.site})" if fetcher.site and any(url.startswith(b) for b in fetcher.bases) else url


def resolve_ed25519(method: str, issuer_id: str | None, fetcher: Fetcher) -> tuple[Any, str]:
    """Public key of a verification method, and where it was found; raises if not the issuer's."""
    controller = method.split("#")[0]
    if controller != issuer_id:
        raise ValueError(f"key {method} is controlled by {controller}, not by the issuer {issuer_id}")
    if method.startswith("did:web:"):
        doc, url = did_document(method, fetcher)
        refuse_revoked(doc, method)
        where = f"listed in the issuer's DID document {where_found(url, fetcher)}"
        return didweb.did_document_key_resolver(doc)(method), where
    fragment = method.partition("#")[2]
    if fragment.startswith("z6Mk"):
        return multikey.key_from_fragment(method), "embedded in the key id (not published separately)"
    if method.startswith("https://"):
        doc = fetcher.json(controller)
        refuse_revoked(doc, method)
        methods = doc.get("verificationMethod", []) if isinstance(doc, dict) else []
        for vm in methods if isinstance(methods, list) else []:
            if isinstance(vm, dict) and vm.get("id") == method and method in doc.get("assertionMethod", []):
                return multikey.decode_public_key(vm.get("publicKeyMultibase")), f"listed at {controller}"
        raise ValueError(f"{method} is not an assertionMethod of {controller}")
    raise ValueError(f"unsupported verification method {method}")


def resolve_rsa(kid: str, issuer_id: str | None, fetcher: Fetcher) -> tuple[rsa.RSAPublicKey, str]:
    if not kid.startswith("did:web:"):
        raise ValueError(f"unsupported key id {kid} (expected a did:web key)")
    if kid.split("#")[0] != issuer_id:
        raise ValueError(f"key {kid} is not controlled by the issuer {issuer_id}")
    doc, url = did_document(kid, fetcher)
    refuse_revoked(doc, kid)
    if kid not in doc.get("assertionMethod", []):
        raise ValueError(f"{kid} is not listed under assertionMethod in {url}")
    for method in doc.get("verificationMethod", []):
        if isinstance(method, dict) and method.get("id") == kid and isinstance(method.get("publicKeyJwk"), dict):
            return keys.rsa_key_from_jwk({k: v for k, v in method["publicKeyJwk"].items()
                                          if k in ("kty", "n", "e")}), where_found(url, fetcher)
    raise ValueError(f"{kid} is not an RSA key in the DID document {url}")
