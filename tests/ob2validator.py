"""Test helper: validate a served static site with the IMS Open Badges 2.0 validator.

Not a test module. Typical use from a test that built a site for base URL ``base_url``::

    from ob2validator import serve_directory, validate

    with serve_directory(site_dir) as base_url:      # http://127.0.0.1:PORT/
        build_site(site_dir, base_url)                # ids must use this base URL
        [res] = validate([base_url + "assertions/x.json"], recipient="a@example.org")
        assert res["valid"], res["messages"]

The validator (badgecheck 1.2.0) lives in its own venv, .validator-venv/ at the repository root,
created on first use by tests/tools/setup_validator.sh; it runs in a subprocess
(tests/tools/ob2_validate.py) with all network access except loopback refused and the OB 2.0
JSON-LD context answered from a local copy.
"""
import contextlib
import functools
import http.server
import json
import os
import subprocess
import sys
import threading

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)
TOOLS_DIR = os.path.join(TESTS_DIR, "tools")
SETUP_SCRIPT = os.path.join(TOOLS_DIR, "setup_validator.sh")
VALIDATE_SCRIPT = os.path.join(TOOLS_DIR, "ob2_validate.py")
VENV_DIR = os.path.join(REPO_ROOT, ".validator-venv")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".json": "application/json",
        ".png": "image/png",
        ".svg": "image/svg+xml",
        ".html": "text/html; charset=utf-8",
    }

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@contextlib.contextmanager
def serve_directory(path):
    """Serve ``path`` on 127.0.0.1 at an ephemeral port; yield the base URL (ending in "/").

    Files may be written after the server starts (each request reads the disk), so a site can be
    generated for the yielded base URL.
    """
    handler = functools.partial(_QuietHandler, directory=os.fspath(path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="ob2-site-server", daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:{}/".format(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def validator_python():
    """Path of the validator venv's python, creating the venv with setup_validator.sh if needed.

    setup_validator.sh is idempotent and cheap when up to date, so it always runs once per
    process: it also rebuilds the venv when the requirements file changed.
    """
    if not getattr(validator_python, "_checked", False):
        subprocess.run(["bash", SETUP_SCRIPT], check=True, stdout=subprocess.DEVNULL)
        validator_python._checked = True
    return os.path.join(VENV_DIR, "bin", "python")


def validate(urls, recipient=None, timeout=600):
    """Validate assertion URLs; return one result dict per URL, in order.

    Each result: {"input", "valid", "errorCount", "warningCount", "messages", "blockedUrls"};
    messages are badgecheck's report messages ({"messageLevel", "name", "result", "success", ...}).
    ``recipient`` (an email) makes badgecheck check the assertion's identity hash against it.
    """
    if isinstance(urls, str):
        urls = [urls]
    cmd = [validator_python(), VALIDATE_SCRIPT]
    if recipient is not None:
        cmd += ["--recipient", recipient]
    cmd += list(urls)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)
    if proc.returncode != 0:
        raise RuntimeError("ob2_validate.py failed (exit {}):\n{}".format(proc.returncode, proc.stderr))
    try:
        return json.loads(proc.stdout)["results"]
    except (ValueError, KeyError) as exc:
        raise RuntimeError("ob2_validate.py printed no result ({}):\nstdout:\n{}\nstderr:\n{}".format(
            exc, proc.stdout, proc.stderr)) from exc


def error_messages(result):
    """The ERROR-level message texts of one result (handy in assertion messages)."""
    return [m.get("result") for m in result["messages"] if m.get("messageLevel") == "ERROR"]


if __name__ == "__main__":  # manual use: python tests/ob2validator.py URL...
    print(json.dumps(validate(sys.argv[1:]), indent=1))
