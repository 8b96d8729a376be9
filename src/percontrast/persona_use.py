"""Ground-truth persona use on real dialogue (Synthetic-Persona-Chat).

SPC gives every speaker a persona of a few sentences written before the conversation, so whether a
reply draws on *this* speaker's persona can be scored against text nobody here wrote. The unit is
a **persona word**: a content word of the persona (:func:`percontrast.nlp.is_content_word`, less
:data:`FRAME_WORDS`) whose WordNet forms the conversation so far does not contain. A word already
in the context can be echoed without any persona, so it never counts. Two words match when their
lemma sets (:func:`percontrast.nlp.lemmas`) share a form ("dogs" matches "dog").

Per reply (:func:`score_replies`):

* ``persona_words``: distinct persona words the reply uses;
* ``placebo_words``: the same count against another user's persona (a seeded draw from the test
  population): what any fluent reply scores by chance;
* ``persona_lift``: ``persona_words - placebo_words``;
* ``grounded_recall``: of the reference reply's persona words, the share the reply reproduces
  (undefined, ``nan``, where the reference uses none);
* ``persona_hits1``: Hits@1 of the true persona among ``k`` personas (itself, the placebo and
  ``k - 2`` more seeded draws) ranked by the reply's persona-word count; tied top ranks share the
  credit, so a reply that uses no persona word scores exactly chance, ``1 / k``.

The draws depend only on the record id and the population (never on the run or its training seed),
so every system evaluated on one test file is scored against the same placebo and candidates: a
paired comparison, and seed-averaged runs average scores of the same draws.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from percontrast.nlp import is_content_word, lemmas, words_with_offsets

#: Hits@1 ranks the true persona among this many (fewer when the population is smaller).
CANDIDATES = 10
#: Content words persona sentences use to frame a fact rather than state one ("I *love* to ...",
#: "my *favorite* ..."): they say nothing about *which* persona, and counting them would credit
#: any friendly reply.
FRAME_WORDS = frozenset("""like love loves loved enjoy enjoys favorite favourite really also get go
going make want think know good great lot much many thing things time day days year years one new
well people person always never every best big little lot lots try trying work""".split())
#: The per-reply keys :func:`score_replies` returns (and the metrics file's ``examples`` carry).
KEYS = ("persona_words", "placebo_words", "persona_lift", "grounded_recall", "persona_hits1")


def _forms(text: str) -> dict[str, frozenset[str]]:
    """Content words of ``text`` (lower-cased) -> their WordNet forms."""
    out: dict[str, frozenset[str]] = {}
    for word, _, _ in words_with_offsets(text):
        w = word.lower().strip("'-")
        if w not in out and w not in FRAME_WORDS and is_content_word(w):
            out[w] = lemmas(w)
    return out


def _all_forms(text: str) -> set[str]:
    """Every form of every alphabetic word of ``text`` (content or not): what a context holds."""
    forms: set[str] = set()
    for word, _, _ in words_with_offsets(text):
        forms |= lemmas(word)
    return forms


def persona_words(persona: Sequence[str], context: str) -> dict[str, frozenset[str]]:
    """The persona's content words whose forms the context lacks (word -> forms)."""
    return _persona_words(persona, _all_forms(context))


def _persona_words(persona: Sequence[str], seen: set[str]) -> dict[str, frozenset[str]]:
    return {w: f for w, f in _forms("\n".join(persona)).items() if not f & seen}


def used(words: dict[str, frozenset[str]], text: str) -> set[str]:
    """The ``words`` whose forms occur in ``text``."""
    return _used(words, _all_forms(text))


def _used(words: dict[str, frozenset[str]], forms: set[str]) -> set[str]:
    return {w for w, f in words.items() if f & forms}


def has_grounded_reference(persona: Sequence[str], context: str, reference: str) -> bool:
    """Whether the reference reply uses a persona word (the turn is one where the persona can
    matter); decided on ground truth only, never on a model's output."""
    return bool(used(persona_words(persona, context), reference))


def candidates(record_id: str, own_user: str, users: dict[str, Any], seed: int,
               k: int = CANDIDATES) -> list[str]:
    """The other users behind ``record_id``'s placebo (first) and Hits@1 candidates: users of
    other conversations (``users`` maps a user to its conversation; the partner in the same
    conversation is never a placebo, since the reply may answer what the partner said)."""
    rng = random.Random(f"persona-use:{seed}:{record_id}")
    pool = sorted(u for u, conv in users.items() if conv != users[own_user])
    return rng.sample(pool, min(k - 1, len(pool)))


def score_reply(reply: str, persona: Sequence[str], context: str, reference: str,
                others: Sequence[Sequence[str]]) -> dict[str, float]:
    """One reply's scores (see the module docstring); ``others[0]`` is the placebo persona and
    all of ``others`` compete with ``persona`` for Hits@1."""
    seen, said = _all_forms(context), _all_forms(reply)  # each text's forms, once
    own = _persona_words(persona, seen)
    in_reply = _used(own, said)
    n_own = len(in_reply)
    counts = [len(_used(_persona_words(p, seen), said)) for p in others]
    placebo = counts[0] if counts else 0
    gold = used(own, reference)
    recall = len(gold & in_reply) / len(gold) if gold else math.nan
    top = max([n_own, *counts])
    hits = 1.0 / (1 + sum(c == top for c in counts)) if n_own == top else 0.0
    return {"persona_words": float(n_own), "placebo_words": float(placebo),
            "persona_lift": float(n_own - placebo), "grounded_recall": recall,
            "persona_hits1": hits}


def _persona(record: Any) -> list[str]:
    """The speaker's whole persona: ``meta.persona`` (the loader keeps it before retrieval cuts
    the profile to the top-k), else the profile."""
    return list(record.meta.get("persona") or record.profile)


def has_persona_ground_truth(records: Sequence[Any]) -> bool:
    """Whether ``records`` are SPC dialogue turns (whose personas are ground truth)."""
    return bool(records) and all(r.task == "dialogue" and (r.meta.get("persona") or r.profile)
                                 for r in records)


def score_replies(replies: Sequence[str], records: Sequence[Any], population: Sequence[Any],
                  *, seed: int = 0, k: int = CANDIDATES) -> list[dict[str, float]]:
    """Per-reply scores of ``replies`` to ``records``; the placebo and candidate personas are
    drawn from the users of ``population`` (the whole test file, so a shorter evaluation of its
    first records draws the same ones)."""
    if len(replies) != len(records):
        raise ValueError(f"{len(replies)} replies for {len(records)} records")
    personas: dict[str, list[str]] = {}
    users: dict[str, Any] = {}
    for r in [*population, *records]:
        personas.setdefault(r.user_id, _persona(r))
        users.setdefault(r.user_id, r.meta.get("conversation", r.user_id))
    out = []
    for reply, r in zip(replies, records, strict=True):
        others = [personas[u] for u in candidates(r.id, r.user_id, users, seed, k)]
        out.append(score_reply(reply, _persona(r), r.query, r.reference, others))
    return out


def n_candidates(population: Sequence[Any], k: int = CANDIDATES) -> int:
    """The number of personas Hits@1 ranks: ``k``, or fewer when the population has fewer
    conversations (users of the record's own conversation never compete)."""
    return min(k, len({r.meta.get("conversation", r.user_id) for r in population}))


def summary(rows: Sequence[dict[str, float]], population: Sequence[Any],
            k: int = CANDIDATES) -> dict[str, Any]:
    """The means a metrics file carries beside the per-example rows: each key of :data:`KEYS`
    (``grounded_recall`` over the ``n_grounded_recall`` replies whose reference uses a persona
    word), and ``persona_candidates``, the k of Hits@1 (chance is 1/k)."""
    out: dict[str, Any] = {}
    for key in KEYS:
        vals = [r[key] for r in rows if not math.isnan(r[key])]
        out[key] = math.fsum(vals) / len(vals) if vals else None
    out["n_grounded_recall"] = sum(not math.isnan(r["grounded_recall"]) for r in rows)
    out["persona_candidates"] = n_candidates(population, k)
    return out
