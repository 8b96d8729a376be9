"""Where persona keywords occur in an answer: the one definition both of their users share.

The synthetic persona-QA builder (:mod:`percontrast.synthetic`) keeps an LLM's keyword only when
it occurs in the answer, and the PIR benchmark (:mod:`percontrast.pir_benchmark`) scores tokens
against the same occurrences; so the rule lives here, in neither of them, and the builder does
not depend on the benchmark.

Demo users' *markers* have their own rule (:func:`percontrast.data.demo.marker_spans`): word
boundaries only where the marker itself starts / ends with a word character, so "#nofilter"
matches after a letter-free gap; keywords here are always word-bounded and stripped first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def keyword_spans(answer: str, keywords: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of each keyword (case-insensitive, word-bounded)."""
    spans = []
    for kw in keywords:
        kw = kw.strip()
        if kw:
            pattern = r"(?<!\w)" + re.escape(kw) + r"(?!\w)"
            spans += [(m.start(), m.end()) for m in re.finditer(pattern, answer, re.IGNORECASE)]
    return sorted(set(spans))
