"""Badgekiln: compile Open Badges content (YAML in git) into a static site."""

__version__ = "0.1.0"
