"""Recipient identity: salted SHA-256 of the trimmed, lower-cased email (OB 2.0 IdentityHash).

The salt is minted per award in the ledger, so the same person's awards cannot be linked by
comparing hashes, and the plaintext address never reaches the output.
"""
from __future__ import annotations

import hashlib

from ..validate.values import normalise_email


def identity_hash(email: str, salt: str) -> str:
    """`sha256$<hex>` of normalised email + salt, as OB 2.0 section IdentityHash defines it."""
    digest = hashlib.sha256((normalise_email(email) + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def matches(identity: str, salt: str, email: str) -> bool:
    """Whether `email` (in any case or spacing) is the address behind a hashed identity."""
    try:
        return identity.lower() == identity_hash(email, salt)
    except ValueError:
        return False
