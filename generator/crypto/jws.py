"""Compact JWS with RS256 (RSASSA-PKCS1-v1_5 + SHA-256), for VC-JWT and OB 2.0 signed badges.

RS256 is the one algorithm every consumer agrees on: the OB 3.0 spec makes it the minimum, the
1EdTech validator accepts it (and ES256), the IMS OB 2.0 validator accepts only it, and every
browser's WebCrypto verifies it. PKCS#1 v1.5 signatures are deterministic, so the same payload
and key always give the same bytes (DESIGN.md invariant 3). Header and payload are serialised
with canonical.dumps (sorted keys, no spaces).
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .. import canonical


class JwsError(ValueError):
    """A compact JWS is malformed or its signature does not verify."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise JwsError("not base64url text")
    try:
        return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise JwsError("not base64url text") from None


def sign_rs256(header: dict, payload: dict | str, key: rsa.RSAPrivateKey) -> str:
    """`BASE64URL(header).BASE64URL(payload).BASE64URL(signature)` (RFC 7515 compact form)."""
    if header.get("alg") != "RS256":
        raise JwsError("only RS256 is produced")
    body = payload if isinstance(payload, str) else canonical.dumps(payload)
    signing_input = f"{b64url(canonical.dumps(header).encode('utf-8'))}.{b64url(body.encode('utf-8'))}"
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def decode(token: str) -> tuple[dict, Any, bytes, bytes]:
    """(header, payload JSON, signature, signing input) without verifying anything."""
    if not isinstance(token, str):
        raise JwsError("a compact JWS is text")
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise JwsError("a compact JWS has three non-empty dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]).decode("utf-8"))
        payload = json.loads(b64url_decode(parts[1]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise JwsError(f"header or payload is not JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise JwsError("the JOSE header is not a JSON object")
    return header, payload, b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii")


def verify_rs256(token: str, key: rsa.RSAPublicKey) -> tuple[dict, Any]:
    """(header, payload) if `token` is an RS256 JWS signed by `key`; JwsError otherwise."""
    header, payload, signature, signing_input = decode(token)
    if header.get("alg") != "RS256":
        raise JwsError(f"unsupported alg {header.get('alg')!r} (expected RS256)")
    try:
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise JwsError("the RS256 signature does not verify") from None
    return header, payload
