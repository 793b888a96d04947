#!/usr/bin/env python3
"""`python build.py [command]`: the Badgekiln command line for this project folder."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generator.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(default_project=Path(__file__).resolve().parent))
