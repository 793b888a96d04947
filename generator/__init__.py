"""Badgekiln: compile Open Badges content (YAML in git) into a static site.

Public API (imported lazily, so `import badgekiln.bake` stays light):

    badgekiln.check(project, BuildOptions(...)) -> CheckResult
    badgekiln.build(project, BuildOptions(...)) -> BuildResult
    badgekiln.merge(project, shard_folders, out) -> BuildResult  (joins `build --shard I/N` outputs)
"""

__version__ = "0.1.0"

_API = ("BuildOptions", "BuildResult", "CheckResult", "MergeError", "WriteError", "build", "check", "merge")


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'badgekiln' has no attribute {name!r}")


__all__ = ["__version__", *_API]
