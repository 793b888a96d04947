"""`serve`: build a preview with a loopback base URL, serve it, rebuild on change.

The preview is built in the project's cache (api.preview_folder) and kept there, so the next
session starts from it: only what changed since is rendered and signed again.

The preview never writes the ledger: awards seen only in a preview are not published, so
their temporary links must not be frozen; they are minted from a secret kept in the project's
cache instead (ledger.PreviewMinter), so a new award keeps its preview address from save to
save and its preview credential is signed once (the build memo remembers it). It reports
exactly what `build` would: while the content has errors, every page of the preview is an
error page listing them (never a stale preview that build would refuse), until a saved fix
rebuilds it. A missing page gets the site's own 404.html, as on a static host.
"""
from __future__ import annotations

import functools
import html
import io
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .. import api
from ..diagnostics import format_text

Echo = Callable[[str], None]


def _fingerprint(project: Path) -> tuple:
    stats = []
    for folder in ("content", "templates"):
        for path in sorted((project / folder).rglob("*")):
            if path.is_file():
                st = path.stat()
                stats.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(stats)


class _Preview:
    """What the server shows: the built folder, or the errors of the last build."""

    def __init__(self, out: Path, as_run: Callable[[str], str]):
        self.out, self.as_run = out, as_run
        self.errors: str | None = None  # set while the content does not build

    def error_page(self) -> bytes:
        return ERROR_PAGE.format(errors=html.escape(self.as_run(self.errors or ""))).encode("utf-8")


ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Build failed · Badgekiln preview</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}}
pre{{background:#fff4f4;border-left:4px solid #b00020;padding:1rem;overflow:auto;white-space:pre-wrap}}</style>
</head><body><h1>The site does not build</h1>
<p>A build would refuse this content, so the preview shows these errors instead of the site.
Fix them and save: this page reloads by itself.</p>
<pre>{errors}</pre></body></html>
"""


def _rebuild(project: Path, preview: _Preview, base_url: str, echo: Echo) -> None:
    result = api.build(project, api.BuildOptions(base_url=base_url, out=preview.out, record_ledger=False,
                                                 minter=api.preview_minter(project)))
    if result.unchanged:  # as the last session left it (the preview is kept between sessions)
        preview.errors = None
        echo("the preview is up to date")
        return
    diagnostics = result.checked.diagnostics
    text = format_text(diagnostics) if diagnostics else ""
    if text:
        echo(text)
    if result.written:
        preview.errors = None
        echo(f"rebuilt {result.files} files")
    else:
        preview.errors = text or "the build failed"
        echo("preview not updated: fix the errors above (the preview shows them meanwhile)")


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".json": "application/json",
                      ".svg": "image/svg+xml"}

    def __init__(self, *args, preview: _Preview, **kwargs):
        self.preview = preview
        super().__init__(*args, directory=str(preview.out), **kwargs)

    def send_head(self):
        if self.preview.errors is not None:
            return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, self.preview.error_page())
        return super().send_head()

    def send_error(self, code, message=None, explain=None):
        page = self.preview.out / "404.html"
        if code == HTTPStatus.NOT_FOUND and page.is_file():  # as a static host does
            self._send(HTTPStatus.NOT_FOUND, page.read_bytes(), write=True)
            return
        super().send_error(code, message, explain)

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND)  # a folder without index.html: no listing on a static host
        return None

    def _send(self, status: HTTPStatus, body: bytes, write: bool = False):
        """Headers for an HTML body; send_head's callers copy the returned file, send_error's do not."""
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not write:
            return io.BytesIO(body)
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


def serve(project: Path, port: int, poll_seconds: float = 1.0, echo: Echo = lambda line: None,
          as_run: Callable[[str], str] = lambda text: text) -> int:
    """Serve until Ctrl-C; `echo` gets each terminal line, `as_run` words hints on the error page as run."""
    with api.preview_folder(project) as out:
        preview = _Preview(out, as_run)
        server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Handler, preview=preview))
        base_url = f"http://127.0.0.1:{server.server_address[1]}/"
        seen = _fingerprint(project)  # before building, so an edit made meanwhile is not missed
        _rebuild(project, preview, base_url, echo)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        echo(f"Serving a preview at {base_url} (Ctrl-C to stop); rebuilding when content/ or templates/ change")
        try:
            while True:
                time.sleep(poll_seconds)
                current = _fingerprint(project)
                if current != seen:
                    seen = current
                    _rebuild(project, preview, base_url, echo)
        except KeyboardInterrupt:
            echo("stopped")
        finally:
            server.shutdown()
    return 0
