"""Ed25519 Multikey encoding (W3C Controlled Identifiers / vc-di-eddsa §2.1.1).

Verifiers find the issuer's key as a ``publicKeyMultibase`` string, so the exact encoding
matters: ``'z'`` + base58btc(0xed 0x01 ‖ 32-byte key), always ``z6Mk…``; anything else is
rejected. Secret keys use 0x80 0x26 ‖ 32-byte seed; the 64-byte seed‖public form used by
older Digital Bazaar tooling (and the OB 3.0 implementation-guide vector) is accepted on
import but never produced.
"""
from __future__ import annotations

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

PUBLIC_KEY_PREFIX = b"\xed\x01"
SECRET_KEY_PREFIX = b"\x80\x26"
BASE58BTC = "z"
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class MultikeyError(ValueError):
    """A multibase / multicodec value is not a valid Ed25519 key encoding."""


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc: ``'z'`` + base58 (Bitcoin alphabet)."""
    return BASE58BTC + base58.b58encode(data).decode("ascii")


def decode_base58btc(text: str) -> bytes:
    """Inverse of :func:`encode_base58btc`; raises MultikeyError on a bad header or digit."""
    if not isinstance(text, str) or not text.startswith(BASE58BTC):
        raise MultikeyError("multibase value must start with 'z' (base58btc)")
    try:
        return base58.b58decode(text[1:].encode("ascii"))
    except ValueError as exc:  # invalid characters, including non-ASCII
        raise MultikeyError(f"invalid base58btc: {exc}") from exc


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(*_RAW)


def private_key_seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def encode_public_key(key: Ed25519PublicKey | bytes) -> str:
    """``publicKeyMultibase`` for an Ed25519 public key (``z6Mk…``)."""
    raw = key if isinstance(key, bytes) else public_key_bytes(key)
    if len(raw) != 32:
        raise MultikeyError("an Ed25519 public key is 32 bytes")
    return encode_base58btc(PUBLIC_KEY_PREFIX + raw)


def decode_public_key(multibase: str) -> Ed25519PublicKey:
    """Parse a ``publicKeyMultibase``; only the exact Ed25519 encoding is accepted."""
    data = decode_base58btc(multibase)
    if len(data) != 34 or not data.startswith(PUBLIC_KEY_PREFIX):
        raise MultikeyError("not an Ed25519 Multikey (expected 0xed01 + 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def encode_secret_key(key: Ed25519PrivateKey | bytes) -> str:
    """``secretKeyMultibase`` (0x8026 + 32-byte seed). Keep it out of published output."""
    seed = key if isinstance(key, bytes) else private_key_seed(key)
    if len(seed) != 32:
        raise MultikeyError("an Ed25519 seed is 32 bytes")
    return encode_base58btc(SECRET_KEY_PREFIX + seed)


def decode_secret_key(multibase: str) -> Ed25519PrivateKey:
    """Parse a secret key multibase: 0x8026 + seed, or 0x8026 + seed ‖ public key."""
    data = decode_base58btc(multibase)
    body = data[2:]
    if not data.startswith(SECRET_KEY_PREFIX) or len(body) not in (32, 64):
        raise MultikeyError("not an Ed25519 secret Multikey (expected 0x8026 + 32 or 64 bytes)")
    key = Ed25519PrivateKey.from_private_bytes(body[:32])
    if len(body) == 64 and public_key_bytes(key.public_key()) != body[32:]:
        raise MultikeyError("secret key's embedded public key does not match its seed")
    return key


def key_from_fragment(verification_method: str) -> Ed25519PublicKey:
    """Public key for a verification method whose fragment is the key itself.

    Covers ``did:key:z6Mk…#z6Mk…`` and the ``<issuer URL>#z6Mk…`` pattern of the OB 3.0
    examples (DIGEST §4.4, validator path 1); no document is fetched.
    """
    _, sep, fragment = verification_method.partition("#")
    if not sep:
        raise MultikeyError(f"verification method {verification_method!r} has no fragment")
    return decode_public_key(fragment)
