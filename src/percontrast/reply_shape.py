"""The shape of a reply, to tell "worse replies" from "longer replies" (table_reply_shape).

PerCE's replies on real dialogue are longer than CE's and repeat persona sentences more, and
ROUGE-L's F-measure punishes a reply that is longer than its reference even when it holds the
reference's words. Per generation this module measures:

* ``length``: new tokens generated (the generations file's ``n_tokens``, stop token included);
* ``at_cap``: 1 when the reply ran to ``max_new_tokens`` without stopping (``finished`` false);
* ``persona_repeat``: 1 when the reply repeats one of the user's persona sentences nearly
  verbatim: a sentence of at least :data:`MIN_SENTENCE_WORDS` words whose ROUGE-L recall
  against the reply (the share of its words the reply holds in order) is at least
  :data:`REPEAT_RECALL`. The persona is SPC's own persona sentences where the record has them,
  else the record's retrieved profile entries, split into sentences;
* ``rouge_l_precision`` / ``rouge_l_recall``: ROUGE-L's two halves against the reference;
* ``rouge_l_matched``: ROUGE-L F of the reply cut to its reference's length in words, so a
  long reply is judged on as many words as its reference has.

ROUGE-L is :mod:`percontrast.generation_metrics`' own scorer, so these numbers use the tokens the
ROUGE-L of the metrics files uses.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from percontrast.io import DataError, read_jsonl

KEYS = ("length", "at_cap", "persona_repeat", "rouge_l_precision", "rouge_l_recall",
        "rouge_l_matched")
MIN_SENTENCE_WORDS = 4
REPEAT_RECALL = 0.8
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def persona_sentences(record: Any) -> list[str]:
    """The user's persona as sentences of at least :data:`MIN_SENTENCE_WORDS` words."""
    meta = getattr(record, "meta", None) or {}
    entries = meta.get("persona") or list(getattr(record, "profile", []) or [])
    sentences = [s.strip() for entry in entries for s in _SENTENCE.split(str(entry))]
    return [s for s in sentences if len(s.split()) >= MIN_SENTENCE_WORDS]


def cut_to_words(text: str, n_words: int) -> str:
    """``text``'s first ``n_words`` whitespace-separated words."""
    return " ".join(text.split()[:max(n_words, 0)])


def reply_shape(output: str, reference: str, persona: Sequence[str], *, n_tokens: int,
                finished: bool, scorer=None) -> dict[str, float]:
    """The :data:`KEYS` of one reply (see the module docstring)."""
    if scorer is None:
        scorer = _scorer()
    full = scorer.score(reference, output)["rougeL"]
    matched = scorer.score(reference, cut_to_words(output, len(reference.split())))["rougeL"]
    repeat = any(scorer.score(sentence, output)["rougeL"].recall >= REPEAT_RECALL
                 for sentence in persona) if output.strip() else False
    return {"length": float(n_tokens), "at_cap": float(not finished),
            "persona_repeat": float(repeat), "rouge_l_precision": full.precision,
            "rouge_l_recall": full.recall, "rouge_l_matched": matched.fmeasure}


def _scorer():
    from percontrast.generation_metrics import _rouge_scorer

    return _rouge_scorer()


def shape_scores(generations: str | os.PathLike, records: Sequence[Any]
                 ) -> dict[str, dict[str, float]]:
    """``{record id: reply shape}`` for every generation of a generations file, with each
    record's reference and persona from ``records`` (the test split)."""
    by_id = {r.id: r for r in records}
    scorer = _scorer()
    out: dict[str, dict[str, float]] = {}
    for line, row in enumerate(read_jsonl(generations), start=1):
        for key in ("id", "output", "n_tokens", "finished"):
            if key not in row:
                raise DataError(generations, f"no {key!r} (rerun its generate job)", line=line,
                                field=key)
        record = by_id.get(row["id"])
        if record is None:
            raise DataError(generations, f"record {row['id']!r} is not in the test split",
                            line=line, field="id")
        out[row["id"]] = reply_shape(row["output"], record.reference, persona_sentences(record),
                                     n_tokens=int(row["n_tokens"]),
                                     finished=bool(row["finished"]), scorer=scorer)
    return out


def seed_shape_scores(cfg: dict[str, Any], root: str | os.PathLike, run, task: str,
                      records: Sequence[Any], missing: list[str]
                      ) -> list[dict[str, dict[str, float]]] | None:
    """:func:`shape_scores` of each training seed's generations of ``run`` on ``task`` (the
    seeds of :func:`percontrast.plan.seed_runs`); None, with the first absent file appended to
    ``missing``, while one is not written yet."""
    from percontrast import layout, plan

    out = []
    for seed_run in plan.seed_runs(cfg, run):
        path = layout.in_results("generations", root, seed_run, eval_task=task)
        if not path.is_file():
            missing.append(str(path))
            return None
        out.append(shape_scores(path, records))
    return out
