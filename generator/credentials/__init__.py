"""Credentials: Open Badges 2.0 and 3.0 documents, identity hashing, signing, status lists."""
