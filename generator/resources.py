"""Where Badgekiln's own files are: the package, its data, and the built-in templates.

The templates ship inside the wheel (badgekiln/templates/); in a clone or an editable install
they are the repository's top-level templates/ folder, beside generator/.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DATA = PACKAGE / "data"
TEMPLATES = PACKAGE / "templates" if (PACKAGE / "templates").is_dir() else PACKAGE.parent / "templates"
