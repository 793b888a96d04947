"""did:web identifiers and DID documents for publishing issuer keys on a static host.

A static site cannot run a key server, but it can serve ``did.json`` at the location the
did:web method derives from the DID (DIGEST §4.4): ``did:web:host`` ->
``https://host/.well-known/did.json``, ``did:web:host:a:b`` -> ``https://host/a/b/did.json``,
with a port written as ``%3A``. Verifiers (1EdTech validator, jsonld-signatures) require the
full DID URL of the key in ``verificationMethod[].id`` and in ``assertionMethod``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import multikey

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
WELL_KNOWN_PATH = "/.well-known/did.json"
_PREFIX = "did:web:"


class DidWebError(ValueError):
    """A URL or DID cannot be mapped under the did:web rules."""


def _path_segments(path: str) -> list[str]:
    segments = [unquote(s) for s in path.strip("/").split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise DidWebError(f"path {path!r} contains dot segments")
    return segments


def _encode(text: str) -> str:
    # DID idchar is ALPHA / DIGIT / "." / "-" / "_" / pct-encoded; quote() leaves "~" alone.
    return quote(text, safe="").replace("~", "%7E")


def did_from_base_url(base_url: str) -> str:
    """``https://host[:port][/path/]`` -> ``did:web:host[%3Aport][:path:segments]``."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DidWebError(f"base URL {base_url!r} must be an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise DidWebError(f"base URL {base_url!r} must not have credentials, query or fragment")
    host = parts.hostname.encode("idna").decode("ascii")
    if parts.port is not None:
        host += f"%3A{parts.port}"
    return ":".join([_PREFIX + host, *map(_encode, _path_segments(parts.path))])


def did_document_path(base_url: str) -> str:
    """URL path of the DID document: ``/.well-known/did.json`` or ``/<path>/did.json``."""
    segments = _path_segments(urlsplit(base_url).path)
    return "/" + "/".join([*map(_encode, segments), "did.json"]) if segments else WELL_KNOWN_PATH


def did_document_output_path(base_url: str) -> str:
    """Where the DID document goes relative to the site root that ``base_url`` serves."""
    return "did.json" if _path_segments(urlsplit(base_url).path) else WELL_KNOWN_PATH.lstrip("/")


def resolve_did_web_url(did: str, *, overrides: Mapping[str, str] | None = None) -> str:
    """HTTPS URL of the DID document for ``did`` (a fragment, if any, is ignored).

    ``overrides`` maps a DID to another URL, e.g. ``http://127.0.0.1:8000/.well-known/did.json``
    when testing against a local server.
    """
    bare = did.split("#", 1)[0]
    if overrides and bare in overrides:
        return overrides[bare]
    if not bare.startswith(_PREFIX) or "/" in bare or "?" in bare:
        raise DidWebError(f"{did!r} is not a did:web DID")
    host, *segments = bare[len(_PREFIX):].split(":")
    host = unquote(host)
    if not host or any(c in host for c in "/@") or not all(segments):
        raise DidWebError(f"{did!r} is not a valid did:web DID")
    path = "/" + "/".join([*map(_encode, map(unquote, segments)), "did.json"]) if segments else WELL_KNOWN_PATH
    return f"https://{host}{path}"


def did_document(did: str, public_keys: Sequence[tuple[str, str]],
                 revoked: Mapping[str, str] | None = None) -> dict:
    """DID document listing Multikey verification methods ``(fragment, publicKeyMultibase)``.

    Each key is usable for issuing (``assertionMethod``) and ``authentication``, except a key
    whose fragment is in ``revoked`` (fragment -> xsd:dateTime): it stays listed with
    ``revoked`` (defined by the multikey/v1 context) so verifiers can say it was revoked and
    when, but is authorised for nothing.
    """
    if not did.startswith("did:") or "#" in did:
        raise DidWebError(f"{did!r} is not a DID without fragment")
    revoked = revoked or {}
    methods = []
    for fragment, public_key_multibase in public_keys:
        multikey.decode_public_key(public_key_multibase)  # refuse anything but Ed25519 Multikey
        methods.append({"id": f"{did}#{fragment}", "type": "Multikey", "controller": did,
                        "publicKeyMultibase": public_key_multibase,
                        **({"revoked": revoked[fragment]} if fragment in revoked else {})})
    ids = [method["id"] for method in methods if "revoked" not in method]
    return {"@context": list(DID_CONTEXTS), "id": did, "verificationMethod": methods,
            "assertionMethod": ids, "authentication": list(ids)}


def revoked_on(document: Mapping, method_id: str) -> str | None:
    """When ``document`` says the verification method was revoked (its ``revoked`` value), else None."""
    for method in document.get("verificationMethod") or []:
        if isinstance(method, Mapping) and method.get("id") == method_id and method.get("revoked"):
            value = method["revoked"]
            return value if isinstance(value, str) else "an unreadable date"
    return None


def did_document_key_resolver(
    document: dict, *, relationship: str = "assertionMethod"
) -> Callable[[str], Ed25519PublicKey]:
    """Key resolver for dataintegrity.verify backed by one DID document.

    Like the 1EdTech validator, it requires the exact DID URL in ``verificationMethod[].id``
    and, as a string, in ``relationship``, with ``controller`` equal to the document's ``id``.
    """

    def resolve(verification_method: str) -> Ed25519PublicKey:
        when = revoked_on(document, verification_method)
        if when is not None:  # refused even if a document also lists it under the relationship
            raise DidWebError(f"{verification_method!r} was revoked on {when}")
        if verification_method not in document.get(relationship, []):
            raise DidWebError(f"{verification_method!r} is not listed under {relationship}")
        for method in document.get("verificationMethod", []):
            if method.get("id") == verification_method:
                if method.get("type") != "Multikey" or method.get("controller") != document.get("id"):
                    raise DidWebError(f"{verification_method!r} is not a Multikey controlled by the DID")
                return multikey.decode_public_key(method.get("publicKeyMultibase"))
        raise DidWebError(f"{verification_method!r} is not in the DID document")

    return resolve
