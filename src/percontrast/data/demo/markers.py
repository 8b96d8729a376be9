"""Where a user's markers occur in a text: the one definition of "a marker occurs".

Markers match as whole words, case-insensitively; the records' ``meta["markers"]``, the
marker-token masks of training (:mod:`percontrast.prompts`) and :mod:`percontrast.markers` all
read these two functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.lru_cache(maxsize=8192)
def _marker_re(marker: str) -> re.Pattern[str]:
    # word boundaries only where the marker itself starts/ends with a word character, so that
    # "Explainer:", "(long story)" and "#nofilter" match as well as "Biscuit"
    head = r"(?<!\w)" if re.match(r"\w", marker) else ""
    tail = r"(?!\w)" if re.search(r"\w$", marker) else ""
    return re.compile(head + re.escape(marker) + tail, re.IGNORECASE)


def marker_spans(text: str, markers: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of every occurrence of any marker in ``text``, sorted.

    The one definition of "a marker occurs" (whole words, case-insensitive): :func:`find_markers`
    and the training token masks (:func:`percontrast.prompts.encode_pair`) both read it, so the
    tokens logged as marker tokens are exactly the occurrences the records' ``meta["markers"]``
    counted. Spans of different markers may overlap ("Oslo" inside "Oslo Fjord").
    """
    return sorted({m.span() for marker in dict.fromkeys(markers)
                   for m in _marker_re(marker).finditer(text)})


def find_markers(text: str, markers: Iterable[str]) -> list[str]:
    """The markers that occur in ``text`` as whole words (case-insensitive), in given order."""
    return [m for m in dict.fromkeys(markers) if marker_spans(text, [m])]
