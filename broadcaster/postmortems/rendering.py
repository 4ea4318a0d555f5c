"""Markdown to safe HTML: markdown-it-py (CommonMark, tables and strikethrough) renders it, and nh3
(the Ammonia sanitiser) keeps only a small set of tags and attributes, so a postmortem can hold no
script, no event handler, no style and no `javascript:` (or any other non-web) URL, whatever its
author typed. The HTML is made once, when the Markdown is written, and is what is hashed, approved
and shown."""

import nh3
from markdown_it import MarkdownIt

MOST_CHARACTERS = 50_000  # a long postmortem is a few thousand words
TAGS = {"p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])


def to_html(markdown: str) -> str:
    """The sanitised HTML of `markdown`. A level-1 heading becomes a level-2 one: the page's title is
    the only h1, and an incident's postmortem sits under its incident's heading."""
    rendered = _MARKDOWN.render(markdown)
    rendered = rendered.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="nofollow noopener noreferrer", strip_comments=True).strip()
