"""HTML-level spam pruning before extraction: hidden elements, link farms, spam in title/meta."""

from __future__ import annotations

import logging

from lxml import html as lxml_html

logger = logging.getLogger(__name__)


def prune_spam_html(tree: lxml_html.HtmlElement) -> dict[str, int]:
    """Remove spam elements from `tree` in place; return counts by reason (placeholder, to be deepened)."""
    removed = 0
    for element in tree.xpath('//*[@style][contains(translate(@style, " ", ""), "display:none")]'):
        parent = element.getparent()
        if parent is not None:
            element.drop_tree()
            removed += 1
    return {"hidden_elements": removed} if removed else {}
