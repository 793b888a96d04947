"""Crypto: offline JSON-LD, Data Integrity (eddsa-rdfc-2022), Multikey, did:web, JWS, the keyring."""
