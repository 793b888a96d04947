"""Validate: declarative field specs for every content file, and the scalar parsers they use."""
