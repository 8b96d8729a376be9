"""The demo persona-QA set, shaped like the paper's synthetic set (appendix A/E).

A persona (4-6 first-person facts), a short generic question, a 5-20 word answer inferable from
one fact, each fact answered twice: a *paraphrase* (sew -> "stitch") and a *verbatim* answer that
reuses the fact's own words. Gold personal tokens are words, as in the paper ("contained within
a ground-truth personal word"): every occurrence of a listed word in the answer. The verbatim
answers' gold words all occur in the fact; most of the paraphrases' do not (names and places
stay names and places). Facts and fillers: ``pools/persona_qa.json``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from percontrast.data.demo.pools import load
from percontrast.data.demo.text import seeded_rng
from percontrast.data.demo.users import HOMETOWNS, PET_NAMES

_POOLS = load("persona_qa")
#: (category, persona fact, question, paraphrase answer, its gold words, verbatim answer, its
#: gold words); {pet}, {town}, {color}, {city} slots.
PERSONA_FACTS = _POOLS["PERSONA_FACTS"]
#: Persona filler facts (category, sentence); never the answer's source.
PERSONA_DISTRACTORS = _POOLS["PERSONA_DISTRACTORS"]
#: Slot values; pets and towns are the users' pools.
PERSONA_SLOTS = {"pet": PET_NAMES, "town": HOMETOWNS, **_POOLS["PERSONA_SLOTS"]}
# categories a fact may not be combined with (would contradict it or answer it)
_CONFLICTS = {"home": {"living"}, "job": {"school"}, "car": {"vehicle"}, "drink": {"water"},
              "diet": {"food"}, "family": {"age", "living"}, "study": {"school"},
              "money": {"living"}}


def _fill_persona_slots(rng: random.Random, texts: Sequence[str]) -> list[str]:
    values = {k: rng.choice(v) for k, v in PERSONA_SLOTS.items()}
    return [t.format(**values) for t in texts]


#: Share of demo persona-QA answers that reuse the fact's words (the rest paraphrase it). 0.15
#: makes about a quarter of the gold words verbatim: the paper's word matching found 26.5% of
#: its gold tokens (appendix A), the one measurement of that share in its data.
VERBATIM_SHARE = 0.15


def generate_persona_qa(n: int, seed: int, verbatim_share: float = VERBATIM_SHARE
                        ) -> list[dict[str, Any]]:
    """``n`` persona-QA items like the paper's synthetic set (Appendix A/E).

    ``{"id", "persona", "question", "answer", "keywords", "answer_style"}``: ``keywords`` are the
    gold personal *words*; ``answer_style`` is ``verbatim`` for exactly
    ``round(n * verbatim_share)`` items (seeded positions), whose gold words all occur in the
    persona, and ``paraphrase`` for the rest, whose gold words mostly do not. Word matching can
    only find the first kind; the split makes that measurable instead of an accident of the
    data. Facts cycle through a shuffled pool, so up to ``len(PERSONA_FACTS)`` items use
    distinct answer facts.
    """
    if not 0 <= verbatim_share <= 1:
        raise ValueError(f"verbatim_share must lie in [0, 1], got {verbatim_share}")
    rng = seeded_rng("demo-persona-qa", seed)
    order = list(range(len(PERSONA_FACTS)))
    rng.shuffle(order)
    verbatim = set(rng.sample(range(n), round(n * verbatim_share)))
    items = []
    for i in range(n):
        category, fact, question, *answers = PERSONA_FACTS[order[i % len(order)]]
        style = "verbatim" if i in verbatim else "paraphrase"
        answer, keywords = answers[2:] if style == "verbatim" else answers[:2]
        fact, answer, *keywords = _fill_persona_slots(rng, (fact, answer, *keywords))
        banned = {category} | _CONFLICTS.get(category, set())
        n_distractors = rng.randint(3, 5)  # persona of 4-6 facts, like Synthetic-Persona-Chat
        distractors, used = [], set(banned)
        for cat, sentence in rng.sample(PERSONA_DISTRACTORS, len(PERSONA_DISTRACTORS)):
            if len(distractors) == n_distractors:
                break
            if cat not in used:
                distractors.append(sentence)
                used.add(cat)
        facts = distractors + [fact]
        rng.shuffle(facts)
        items.append({"id": f"pqa-{i:04d}", "persona": " ".join(facts), "question": question,
                      "answer": answer, "keywords": list(keywords), "answer_style": style})
    return items
