"""Demo users: personal facts and signature phrases, and how a user's writing habits show.

Every user has personal facts (a pet's name, a hometown, a job, a hobby; for academic writing a
system name and an application domain) and signature phrases (an opening habit, a sign-off, a
favourite intensifier and adjectives, a recurring aside, a headline column tag ...). Pools
(``pools/users.json``) are disjoint from each other and from the shared templates, so a marker
found in a text always points at one user; their sizes bound how many users get distinct values.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from percontrast.data.demo.pools import load
from percontrast.data.demo.text import article, permutation, seeded_rng

_POOLS = load("users")
NAMES = _POOLS["NAMES"]
SHE_NAMES = frozenset(_POOLS["SHE_NAMES"])
PET_KINDS = _POOLS["PET_KINDS"]
PET_NAMES = _POOLS["PET_NAMES"]
HOMETOWNS = _POOLS["HOMETOWNS"]
JOBS = _POOLS["JOBS"]
HOBBIES = _POOLS["HOBBIES"]
#: Opening habits: a short sentence the user starts casual texts with.
OPENERS = _POOLS["OPENERS"]
#: Closing sign-offs.
SIGNOFFS = _POOLS["SIGNOFFS"]
INTENSIFIERS = _POOLS["INTENSIFIERS"]
#: Favourite casual adjectives (two per user); all positive, used straight or sarcastically.
ADJECTIVES = _POOLS["ADJECTIVES"]
#: Recurring parenthetical asides, slipped into a sentence before its final punctuation.
ASIDES = _POOLS["ASIDES"]
#: Headline habits for LaMP-4-like news: a column tag in front, a tail behind.
COLUMN_TAGS = _POOLS["COLUMN_TAGS"]
HEADLINE_TAILS = _POOLS["HEADLINE_TAILS"]
#: Verbal tics of a user's tweets ("ngl", "lol"), put in front of or behind the tweet.
TICS = _POOLS["TICS"]
HASHTAGS = _POOLS["HASHTAGS"]
# -- academic register (abstracts, titles)
PROJECTS = _POOLS["PROJECTS"]
DOMAINS = _POOLS["DOMAINS"]
#: Academic opening habits; they prefix the sentence that states the contribution ("..., we").
ACADEMIC_OPENERS = _POOLS["ACADEMIC_OPENERS"]
ACADEMIC_ADJECTIVES = _POOLS["ACADEMIC_ADJECTIVES"]
ACADEMIC_SIGNOFFS = _POOLS["ACADEMIC_SIGNOFFS"]
#: Title habits for LaMP-5-like titles ("Rethinking X for Y").
TITLE_PREFIXES = _POOLS["TITLE_PREFIXES"]


@dataclass(frozen=True)
class DemoUser:
    """One synthetic writer: personal facts, signature phrases, and a length preference."""

    id: str
    name: str
    pronoun: str  # "she" or "he", for ALOE-style descriptions
    pet_kind: str
    pet_name: str
    hometown: str
    job: str
    hobby: str
    opener: str
    signoff: str
    intensifier: str
    adjectives: tuple[str, str]
    aside: str
    column: str
    headline_tail: str
    hashtag: str
    tic: str
    project: str
    domain: str
    academic_opener: str
    academic_adjectives: tuple[str, str]
    academic_signoff: str
    title_prefix: str
    length: str  # "short" or "long": where in the allowed range the user's texts fall

    @property
    def a_job(self) -> str:
        return f"{article(self.job)} {self.job}"

    def markers(self, kind: str) -> list[str]:
        """The strings that identify this user in one kind of text (see find_markers):
        ``casual`` (reviews, posts), ``academic`` (abstracts), ``headline``, ``title`` (paper
        titles) or ``tweet``. Each task type's kind is in
        :data:`percontrast.data.demo.writing.WRITINGS`."""
        casual = [self.pet_name, self.hometown, self.job, self.hobby, self.opener, self.signoff,
                  self.intensifier, *self.adjectives, self.aside]
        table = {
            "casual": casual,
            "academic": [self.project, self.domain, self.academic_opener,
                         *self.academic_adjectives, self.academic_signoff],
            "headline": [self.column, _tail_marker(self.headline_tail), self.hometown],
            "title": [self.project, self.title_prefix, *self.academic_adjectives, self.domain],
            "tweet": [self.pet_name, self.hometown, self.hobby, self.intensifier,
                      *self.adjectives, self.hashtag, self.tic],
        }
        if kind not in table:
            raise ValueError(f"no demo markers of kind {kind!r}; known: {', '.join(table)}")
        return list(table[kind])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tail_marker(tail: str) -> str:
    """A headline tail without its joining punctuation (", Explained" -> "Explained")."""
    return tail.lstrip(",:- ")


#: Up to this many users per seed, no two users share any marker.
MAX_DISTINCT_USERS = min(
    *(len(p) for p in (PET_NAMES, HOMETOWNS, JOBS, HOBBIES, OPENERS, SIGNOFFS, INTENSIFIERS,
                       ASIDES, COLUMN_TAGS, HEADLINE_TAILS, TICS, HASHTAGS, PROJECTS, DOMAINS,
                       ACADEMIC_OPENERS, ACADEMIC_SIGNOFFS, TITLE_PREFIXES)),
    len(ADJECTIVES) // 2, len(ACADEMIC_ADJECTIVES) // 2)


def make_users(n_users: int, seed: int) -> list[DemoUser]:
    """``n_users`` users; user i is the same for every ``n_users`` > i (prefix-stable).

    Every attribute pool is shuffled once per seed and user i takes position i (two positions
    for the adjective pairs), so users have pairwise distinct markers as long as ``n_users`` does
    not exceed :data:`MAX_DISTINCT_USERS` (the smallest marker pool; pair pools count half);
    beyond that values repeat, but in different combinations.
    """
    if n_users < 0:
        raise ValueError(f"n_users must be >= 0, got {n_users}")
    pick = seeded_rng("demo-users", seed)
    perms = {name: permutation(pool, pick) for name, pool in (
        ("name", NAMES), ("pet_kind", PET_KINDS), ("pet_name", PET_NAMES),
        ("hometown", HOMETOWNS), ("job", JOBS), ("hobby", HOBBIES), ("opener", OPENERS),
        ("signoff", SIGNOFFS), ("intensifier", INTENSIFIERS), ("adjectives", ADJECTIVES),
        ("aside", ASIDES), ("column", COLUMN_TAGS), ("headline_tail", HEADLINE_TAILS),
        ("hashtag", HASHTAGS), ("tic", TICS), ("project", PROJECTS), ("domain", DOMAINS),
        ("academic_opener", ACADEMIC_OPENERS), ("academic_adjectives", ACADEMIC_ADJECTIVES),
        ("academic_signoff", ACADEMIC_SIGNOFFS), ("title_prefix", TITLE_PREFIXES))}

    def at(name: str, i: int) -> str:
        return perms[name][i % len(perms[name])]

    def pair(name: str, i: int) -> tuple[str, str]:
        pool = perms[name]
        k = len(pool) // 2
        # pairs (0,1), (2,3), ...; after one round, shift the pairing so combinations differ
        j = (2 * i + (i // k)) % len(pool)
        return pool[j], pool[(j + 1) % len(pool)]

    users = []
    for i in range(n_users):
        name = at("name", i)
        length = "long" if seeded_rng("demo-user-length", seed, i).random() < 0.5 else "short"
        users.append(DemoUser(
            id=f"s{seed}-u{i:03d}", name=name, pronoun="she" if name in SHE_NAMES else "he",
            pet_kind=at("pet_kind", i), pet_name=at("pet_name", i), hometown=at("hometown", i),
            job=at("job", i), hobby=at("hobby", i), opener=at("opener", i),
            signoff=at("signoff", i), intensifier=at("intensifier", i),
            adjectives=pair("adjectives", i), aside=at("aside", i), column=at("column", i),
            headline_tail=at("headline_tail", i), hashtag=at("hashtag", i), tic=at("tic", i),
            project=at("project", i), domain=at("domain", i),
            academic_opener=at("academic_opener", i),
            academic_adjectives=pair("academic_adjectives", i),
            academic_signoff=at("academic_signoff", i), title_prefix=at("title_prefix", i),
            length=length))
    return users


# -- how a user's habits show in a text


def target_words(rng: random.Random, user: DemoUser, short: tuple[int, int],
                  long: tuple[int, int]) -> int:
    return rng.randint(*(short if user.length == "short" else long))


def adj_phrase(rng: random.Random, user: DemoUser) -> str:
    adjective = rng.choice(user.adjectives)
    return f"{user.intensifier} {adjective}" if rng.random() < 0.6 else adjective


def habits(user: DemoUser, name: str, pool: Sequence[str], need: int = 1) -> tuple[str, ...]:
    """The part of a shared template pool this user tends to use (60%, at least ``need``).

    People reuse their own phrasings; restricting each user to a stable subset of the generic
    templates makes texts of one user more alike than texts of two users, beyond the markers.
    """
    keep = min(len(pool), max(need, round(0.6 * len(pool))))
    return tuple(seeded_rng("demo-habits", user.id, name).sample(list(pool), keep))


def user_values(user: DemoUser) -> dict[str, str]:
    return {"pet_name": user.pet_name, "pet_kind": user.pet_kind, "hometown": user.hometown,
            "job": user.job, "a_job": user.a_job, "hobby": user.hobby}
