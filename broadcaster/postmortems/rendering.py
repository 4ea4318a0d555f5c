"""Markdown to safe HTML: markdown-it-py (CommonMark, tables and strikethrough) renders it, and nh3
(the Ammonia sanitiser) keeps only a small set of tags and attributes, so a postmortem can hold no
script, no event handler, no style and no `javascript:` (or any other non-web) URL, whatever its
author typed. The HTML is made once, when the Markdown is written, and is what is hashed, approved
and shown."""

import nh3
from markdown_it import MarkdownIt

MOST_CHARACTERS = 50_000  # a long postmortem is a few thousand words
TAGS = {"p", "br", "hr", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])


HEADINGS = {1: 5, 2: 5, 3: 6, 4: 6, 5: 6, 6: 6}  # the page: h1 itself, h2 a section, h3 an incident, h4 "Postmortem"


def to_html(markdown: str) -> str:
    """The sanitised HTML of `markdown`. Its headings go under the page's outline: `#` and `##` become
    h5, the rest h6 (the postmortem's own heading is an h4 in its incident's entry)."""
    tokens = _MARKDOWN.parse(markdown)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{HEADINGS[int(token.tag[1])]}"
    rendered = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="nofollow noopener noreferrer", strip_comments=True).strip()
