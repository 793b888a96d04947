"""The TEST-ONLY signing key (tests/keys/), and every form its private material could leak in.

The key is published in this repository on purpose, so tests can sign byte-identically and
scan the output for it. It is never used for anything but tests.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

from badgekiln.crypto import keys, multikey
from cryptography.hazmat.primitives import serialization

KEY_FILE = Path(__file__).resolve().parent / "keys" / "TEST-ONLY-signing-key.json"


def key_json(issuer: str | None = None) -> dict:
    doc = json.loads(KEY_FILE.read_text(encoding="utf-8"))
    return {**doc, "issuer": issuer}


def signing_key() -> keys.SigningKey:
    key = keys.parse_key_object(key_json(), "tests/keys/TEST-ONLY-signing-key.json")
    assert isinstance(key, keys.SigningKey)
    return key


def keyring() -> keys.Keyring:
    return keys.Keyring((signing_key(),))


def env_value() -> str:
    """The key as CI would hold it in BADGEKILN_SIGNING_KEYS (the key file's JSON)."""
    return KEY_FILE.read_text(encoding="utf-8")


def _encodings(data: bytes) -> list[bytes]:
    return [data, data.hex().encode(), data.hex().upper().encode(), base64.b64encode(data).rstrip(b"="),
            base64.urlsafe_b64encode(data).rstrip(b"=")]


def secret_patterns() -> list[bytes]:
    """Byte strings that would show private key material: raw, hex, base64, multibase, PEM lines."""
    key = signing_key()
    seed = multikey.private_key_seed(key.ed25519)
    patterns = _encodings(seed) + [multikey.encode_secret_key(key.ed25519).encode()]
    numbers = key.rsa.private_numbers()
    for value in (numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp):
        patterns += _encodings(value.to_bytes((value.bit_length() + 7) // 8, "big"))
    der = key.rsa.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    pem = key.rsa.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    traditional = key.rsa.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption())
    patterns += [der, b"PRIVATE KEY"]
    for text in (pem, traditional):  # every base64 line of the PEM bodies (PKCS#8 and PKCS#1)
        patterns += [line for line in text.splitlines() if len(line) >= 40 and b"-----" not in line]
    env = env_value().encode()  # the whole key file, as it would look if a CI secret were echoed
    patterns += [base64.b64encode(env)[:80], base64.urlsafe_b64encode(env)[:80]]
    # JSON-escaped PEM, as it sits in the key file
    patterns += [json.dumps(pem.decode()).encode()[1:60]]
    return patterns
