"""Ground-truth personalization: does a generation reuse the user's own personal markers?

LongLaMP-style metrics (ROUGE-L, METEOR) compare a generation with one reference text and cannot
tell a personal token from any other. The demo data can: every demo user has personal markers (a
pet's name, a hometown, a signature phrase ...; :mod:`percontrast.data.demo`), each record knows
which of them its reference contains (``meta["markers"]``) and the user's whole set
(``meta["user_markers"]``). That is the paper's appendix-A idea — personal tokens are known —
applied to what trained models generate. Per generation:

* **marker recall**: of the reference's markers that are *visible* in the prompt (they occur in
  the retrieved profile entries the prompt shows), the share the generation reproduces. A model
  can only be expected to copy what it was shown, so markers absent from the profile do not
  count; a record without a visible marker has no recall (NaN, left out of the mean).
* **own markers**: how many distinct markers of the user's own set the generation contains.
* **leaked markers**: how many distinct markers of *other* users (of the same test split) it
  contains — the placebo: a model that sprays memorised markers around scores here, not above.

Markers match as whole words, case-insensitively (:func:`percontrast.data.demo.find_markers`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from percontrast.data.demo import find_markers

#: Per-example keys written by :func:`marker_scores` (and the metrics files' ``examples``).
MARKER_KEYS = ("marker_recall", "own_markers", "leaked_markers")

__all__ = ["MARKER_KEYS", "has_markers", "other_user_markers", "visible_markers", "marker_scores",
           "score_markers"]


def has_markers(records: Sequence[Any]) -> bool:
    """True when every record carries the ground truth (``meta`` markers and user_markers)."""
    return bool(records) and all(
        isinstance((r.meta or {}).get("markers"), list)
        and isinstance((r.meta or {}).get("user_markers"), list) for r in records)


def other_user_markers(records: Sequence[Any]) -> dict[str, list[str]]:
    """``{user_id: markers of the other users in records}``, excluding the user's own markers
    (users may share a marker when a pool is smaller than the number of users)."""
    by_user: dict[str, list[str]] = {}
    for r in records:
        by_user.setdefault(r.user_id, list(r.meta["user_markers"]))
    out = {}
    for user, own in by_user.items():
        own_lower = {m.lower() for m in own}
        others = [m for u, ms in by_user.items() if u != user for m in ms
                  if m.lower() not in own_lower]
        out[user] = list(dict.fromkeys(others))
    return out


def visible_markers(record: Any, shown: str | None = None) -> list[str]:
    """The reference's markers that the prompt shows: in ``shown`` (the prompt's persona text,
    as generation fitted it into its token budget) or, without it, in the record's profile."""
    return find_markers("\n".join(record.profile) if shown is None else shown,
                        record.meta["markers"])


def marker_scores(generation: str, record: Any, others: Sequence[str],
                  shown: str | None = None) -> dict[str, float]:
    """Marker recall (NaN without a visible marker), own and leaked marker counts of one
    generation for ``record``; ``others`` are the other users' markers, ``shown`` what the
    prompt showed of the profile (default: the whole retrieved profile)."""
    visible = visible_markers(record, shown)
    reproduced = find_markers(generation, visible)
    return {
        "marker_recall": len(reproduced) / len(visible) if visible else math.nan,
        "own_markers": float(len(find_markers(generation, record.meta["user_markers"]))),
        "leaked_markers": float(len(find_markers(generation, others))),
    }


def score_markers(predictions: Sequence[str], records: Sequence[Any], *,
                  shown: Sequence[str | None] | None = None,
                  population: Sequence[Any] | None = None) -> list[dict[str, float]]:
    """Per-example :func:`marker_scores` (records must carry markers). ``shown``: per record,
    the persona text its prompt showed; ``population``: the records whose users count as "other
    users" (default ``records``; pass the whole test split when scoring a prefix of it, so leak
    rates of full and partial evaluations count the same markers)."""
    if len(predictions) != len(records):
        raise ValueError(f"{len(predictions)} predictions but {len(records)} records")
    if not has_markers(records) or (population is not None and not has_markers(population)):
        raise ValueError("records carry no markers (meta.markers / meta.user_markers): marker "
                         "metrics exist for the demo data only")
    others = other_user_markers(population if population is not None else records)
    shown = shown if shown is not None else [None] * len(records)
    return [marker_scores(p, r, others[r.user_id], s)
            for p, r, s in zip(predictions, records, shown, strict=True)]
