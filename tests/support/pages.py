"""Reading the tool's HTML pages in tests: forms' hidden fields, and the page as words."""

from __future__ import annotations

import html as h
import re
from html.parser import HTMLParser


class _Forms(HTMLParser):
    """Each form's action, method and hidden fields (launch id and CSRF token)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"_action": a.get("action") or "", "_method": (a.get("method") or "get").lower()})
        elif tag == "input" and self.forms and a.get("type") == "hidden" and a.get("name"):
            self.forms[-1][a["name"]] = a.get("value") or ""


def forms_of(html: str) -> list[dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def hidden_fields(html: str, index: int = 0, *, method: str | None = None) -> dict[str, str]:
    """The hidden fields of the index-th form (of those with this method, if one is given)."""
    found = [f for f in forms_of(html) if method is None or f["_method"] == method][index]
    return {k: v for k, v in found.items() if not k.startswith("_")}


def text_of(html: str) -> str:
    """The page as words (tags and the SVG's markup dropped, its text kept)."""
    body = re.sub(r"<head>.*?</head>", " ", html, flags=re.S)
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", h.unescape(body)).strip()
