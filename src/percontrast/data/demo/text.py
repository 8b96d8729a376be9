"""Seeded randomness and sentence helpers shared by every demo generator.

Determinism: only ``random.Random`` seeded with strings (hashed with SHA-512 by ``random``, so
independent of ``PYTHONHASHSEED``), no set iteration, no numpy.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from percontrast.data.demo.pools import load

#: Reference lengths in words: LongLaMP-shaped tasks are kept short enough for CPU training.
LONG_WORDS = (40, 120)
SHORT_WORDS = (5, 25)

#: Fillers drawn afresh for each sentence that names them (multiplies sentence variety).
FILLERS: dict[str, tuple[str, ...]] = {**load("fillers")["FILLERS"],
                                       "n": tuple(str(x) for x in range(2, 16))}

_SMALL_WORDS = frozenset({"a", "an", "the", "for", "with", "via", "of", "in", "and", "to", "on",
                          "from", "at", "by", "or"})


def seeded_rng(*parts: object) -> random.Random:
    """A generator seeded by a string: stable across processes and Python versions."""
    return random.Random(":".join(str(p) for p in parts))


def permutation(pool: Sequence[str], rng: random.Random) -> list[str]:
    perm = list(pool)
    rng.shuffle(perm)
    return perm


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Slots(dict):
    """Template values; missing fillers ({time}, {person}, {feature} ...) are drawn from
    ``pools`` once per sentence. ``{x2}`` draws from the pool of ``x``, avoiding ``{x}``'s value,
    so "the {feature} and the {feature2}" names two different parts."""

    def __init__(self, rng: random.Random, values: dict[str, str],
                 pools: dict[str, Sequence[str]]):
        super().__init__(values)
        self._rng, self._pools = rng, pools

    def __missing__(self, key: str) -> str:
        base = key[:-1] if key.endswith("2") and key[:-1] in self._pools else key
        if base not in self._pools:
            raise KeyError(key)
        options = [v for v in self._pools[base] if base == key or v != self.get(base)]
        self[key] = value = self._rng.choice(options)
        return value


def say(rng: random.Random, template: str, values: dict[str, str],
         pools: dict[str, Sequence[str]] | None = None) -> str:
    """Fill a template (fresh fillers each call) and capitalise the sentence."""
    return cap(template.format_map(_Slots(rng, values, {**FILLERS, **(pools or {})})))


def title_case(text: str) -> str:
    """Headline-style title case that keeps acronyms and capitalises hyphen parts."""
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if i > 0 and word in _SMALL_WORDS:
            out.append(word)
        else:
            out.append("-".join(p[:1].upper() + p[1:] for p in word.split("-")))
    return " ".join(out)


def n_words(text: str | Iterable[str]) -> int:
    if isinstance(text, str):
        return len(text.split())
    return sum(len(t.split()) for t in text)


def choose_kinds(rng: random.Random, probs: dict[str, float], *, at_most: int) -> list[str]:
    """Which marker kinds a text carries: each independently, at least one, at most a few.

    Independent inclusion gives the variation the brief asks for (not every entry has every
    marker) while keeping each marker frequent enough to show up in a top-4 retrieved profile.
    """
    kinds = [k for k, p in probs.items() if rng.random() < p]
    if not kinds:
        kinds = [rng.choice(list(probs))]
    while len(kinds) > at_most:
        kinds.pop(rng.randrange(len(kinds)))
    return kinds


def prune(rng: random.Random, parts: list[tuple[str, bool]], target: int,
           lo: int) -> list[str]:
    """Drop removable (generic) sentences at random, keeping order, until near ``target`` words.

    Texts are built long and pruned, so personal sentences are never dropped and the length
    lands in the user's preferred range without padding loops.
    """
    parts = list(parts)
    total = n_words(s for s, _ in parts)
    while total > target:
        removable = [i for i, (s, r) in enumerate(parts) if r and total - n_words(s) >= lo]
        if not removable:
            break
        i = rng.choice(removable)
        total -= n_words(parts[i][0])
        del parts[i]
    return [s for s, _ in parts]


def insert_aside(rng: random.Random, sentences: list[str], candidates: Sequence[int],
                  aside: str) -> list[str]:
    """Slip ``aside`` into one candidate sentence, before its final punctuation."""
    sentences = list(sentences)
    options = [i for i in candidates if sentences[i][-1:] in ".!"] or list(candidates)
    if not options:
        return sentences
    i = rng.choice(options)
    s = sentences[i]
    sentences[i] = f"{s[:-1]} {aside}{s[-1]}" if s[-1:] in ".!?" else f"{s} {aside}"
    return sentences
