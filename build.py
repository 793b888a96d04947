#!/usr/bin/env python3
"""`python build.py [command]`: the Badgekiln command line for this clone, without installing it.

It loads generator/ as the package `badgekiln` (the name it has when installed), so there is one
copy of every class whichever way Badgekiln is started.
"""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _load_badgekiln() -> None:
    if "badgekiln" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("badgekiln", ROOT / "generator" / "__init__.py",
                                                  submodule_search_locations=[str(ROOT / "generator")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["badgekiln"] = module
    spec.loader.exec_module(module)


if __name__ == "__main__":
    _load_badgekiln()
    from badgekiln.cli import main

    sys.exit(main(default_project=ROOT))
