"""Validate hosted Open Badges 2.0 assertions with the IMS validator (badgecheck 1.2.0), offline.

Run with the validator's own venv (see tests/tools/setup_validator.sh):

    .validator-venv/bin/python tests/tools/ob2_validate.py [--recipient EMAIL] URL [URL...]

Each URL (normally http://127.0.0.1:PORT/...json of an Assertion) is passed to
``openbadges.verify`` exactly as a consumer would, and ONE JSON object is printed on stdout:

    {"results": [{"input": url, "valid": bool, "errorCount": n, "warningCount": n,
                  "messages": [...], "blockedUrls": [...]}, ...]}

Network policy (applied below every requests.Session, including requests_cache's CachedSession,
by patching ``requests.adapters.HTTPAdapter.send``, and also installed as PyLD's default document
loader so no JSON-LD code path can fall back to urllib):
  * the OB 2.0 JSON-LD context URLs are answered from tests/tools/openbadges-v2.json;
  * loopback URLs (127.0.0.0/8, ::1, localhost) go through normally (proxies bypassed);
  * every other URL is refused with requests.ConnectionError (fail closed) and listed in the
    result's ``blockedUrls``.
requests_cache only ever gets the in-memory backend (no sqlite file in the working directory).
"""
import argparse
import contextlib
import io
import ipaddress
import json
import os
import sys
import urllib.parse

import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

HERE = os.path.dirname(os.path.abspath(__file__))
OB2_CONTEXT_FILE = os.path.join(HERE, "openbadges-v2.json")

# Exact URL -> local file. The OB 1.x context (https://w3id.org/openbadges/v1) is deliberately
# absent: it is only needed to upgrade 1.x badges, and no vetted local copy exists, so it is refused.
LOCAL_DOCUMENTS = {
    "https://w3id.org/openbadges/v2": OB2_CONTEXT_FILE,
    "http://w3id.org/openbadges/v2": OB2_CONTEXT_FILE,
    "https://openbadgespec.org/v2/context.json": OB2_CONTEXT_FILE,
    "http://openbadgespec.org/v2/context.json": OB2_CONTEXT_FILE,
}

BLOCKED = []  # URLs refused during the current verification


def _is_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_response(request, path):
    with open(path, "rb") as fh:
        body = fh.read()
    headers = {"Content-Type": "application/ld+json", "Content-Length": str(len(body))}
    raw = HTTPResponse(body=io.BytesIO(body), headers=headers, status=200, reason="OK",
                       preload_content=False, decode_content=False)
    response = requests.Response()
    response.status_code = 200
    response.reason = "OK"
    response.headers = CaseInsensitiveDict(headers)
    response.raw = raw
    response.url = request.url
    response.request = request
    response.encoding = "utf-8"
    response._content = body
    return response


_original_send = requests.adapters.HTTPAdapter.send


def _guarded_send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
    url = request.url
    # urldefrag: a JSON-LD loader may ask for "...v2#term"; match on the document URL.
    doc_url = urllib.parse.urldefrag(url)[0]
    if doc_url in LOCAL_DOCUMENTS:
        return _local_response(request, LOCAL_DOCUMENTS[doc_url])
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme in ("http", "https") and _is_loopback(url):
        return _original_send(self, request, stream=stream, timeout=timeout or 30,
                              verify=verify, cert=cert, proxies={})
    BLOCKED.append(url)
    raise requests.ConnectionError(
        "ob2_validate offline harness: refusing non-loopback URL {}".format(url), request=request)


def install_network_guard():
    requests.adapters.HTTPAdapter.send = _guarded_send

    # PyLD's own default loader uses urllib, not requests: replace it with one that goes through
    # the guarded requests transport (badgecheck passes its own requests-based loader almost
    # everywhere, but a call without options would otherwise escape the guard).
    from pyld import jsonld

    session = requests.Session()

    def guarded_loader(url):
        try:
            resp = session.get(url, headers={"Accept": "application/ld+json, application/json"})
            resp.raise_for_status()
            return {"contextUrl": None, "documentUrl": url, "document": resp.json()}
        except Exception as cause:
            raise jsonld.JsonLdError("Could not retrieve JSON-LD document from URL.",
                                     "jsonld.LoadDocumentError", code="loading document failed",
                                     cause=cause)

    jsonld.set_document_loader(guarded_loader)


def validate_one(url, recipient=None):
    import openbadges

    del BLOCKED[:]
    profile = {"email": recipient} if recipient else None
    # Fresh in-memory caches per call; never the sqlite backend (it would write http_cache.sqlite
    # into the working directory).
    result = openbadges.verify(url, recipient_profile=profile,
                               use_cache=True, cache_backend="memory")
    report = result["report"]
    return {
        "input": url,
        "valid": bool(report["valid"]),
        "errorCount": report["errorCount"],
        "warningCount": report["warningCount"],
        "messages": report["messages"],
        "blockedUrls": sorted(set(BLOCKED)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--recipient", metavar="EMAIL",
                        help="trusted recipient email; runs the identity hash check")
    args = parser.parse_args(argv)

    install_network_guard()
    # badgecheck logs task tracebacks to stderr; anything printed to stdout by the validator
    # would corrupt the single JSON object, so stdout is redirected to stderr meanwhile.
    with contextlib.redirect_stdout(sys.stderr):
        results = [validate_one(url, args.recipient) for url in args.urls]
    json.dump({"results": results}, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
