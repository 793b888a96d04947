"""`serve`: build into a temporary folder with a loopback base URL, serve it, rebuild on change.

The preview never writes the ledger: awards seen only in a preview are not published, so
their temporary links must not be frozen.
"""
from __future__ import annotations

import functools
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .. import api
from ..diagnostics import format_text


def _fingerprint(project: Path) -> tuple:
    stats = []
    for folder in ("content", "templates"):
        for path in sorted((project / folder).rglob("*")):
            if path.is_file():
                st = path.stat()
                stats.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(stats)


def _rebuild(project: Path, out: Path, base_url: str) -> None:
    result = api.build(project, api.BuildOptions(base_url=base_url, out=out, record_ledger=False))
    checked = result.checked
    if checked.diagnostics:
        print(format_text(checked.diagnostics), file=sys.stderr)
    print(f"rebuilt {result.files} files" if result.written else "preview not updated: fix the errors above",
          file=sys.stderr)


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".json": "application/json",
                      ".svg": "image/svg+xml"}

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


def serve(project: Path, port: int, poll_seconds: float = 1.0) -> int:
    with tempfile.TemporaryDirectory(prefix="badgekiln-preview-") as tmp:
        out = Path(tmp) / "site"
        handler = functools.partial(_Quiet, directory=str(out))
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        base_url = f"http://127.0.0.1:{server.server_address[1]}/"
        seen = _fingerprint(project)  # before building, so an edit made meanwhile is not missed
        _rebuild(project, out, base_url)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"Serving a preview at {base_url} (Ctrl-C to stop); rebuilding when content/ or templates/ change",
              flush=True)
        try:
            while True:
                time.sleep(poll_seconds)
                current = _fingerprint(project)
                if current != seen:
                    seen = current
                    _rebuild(project, out, base_url)
        except KeyboardInterrupt:
            print("stopped")
        finally:
            server.shutdown()
    return 0
