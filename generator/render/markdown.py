"""Markdown to safe HTML for criteria, descriptions and narratives.

A fresh `markdown.Markdown` per document (instances keep state), a pinned extension list,
then an allow-list sanitiser (nh3/ammonia) so a `<script>` or `onerror=` in content renders
inert: raw HTML in Markdown is a feature attackers use, not one badge issuers need.
"""
from __future__ import annotations

from functools import lru_cache

import markdown as _markdown
import nh3
from markupsafe import Markup

EXTENSIONS = ["sane_lists", "tables", "fenced_code"]
ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "code", "pre", "blockquote",
                "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


@lru_cache(maxsize=4096)  # pure: a badge's criteria render once, not once per award page
def to_html(text: str | None) -> Markup:
    if not text:
        return Markup("")
    html = _markdown.Markdown(extensions=EXTENSIONS, output_format="html").convert(text)
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return Markup(clean)
