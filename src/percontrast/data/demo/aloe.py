"""ALOE-shaped demo rows: a user profile crossed with personality / communication styles.

Profiles are written from the demo users (job, hometown, pet, hobby), so the same people appear
across the demo's artefacts; likes, dislikes, goals and styles: ``pools/aloe.json``.
"""

from __future__ import annotations

import random

from percontrast.data.demo.pools import load
from percontrast.data.demo.text import article, cap, permutation, seeded_rng
from percontrast.data.demo.users import DemoUser, make_users

_POOLS = load("aloe")
ALOE_LIKES = _POOLS["ALOE_LIKES"]
ALOE_DISLIKES = _POOLS["ALOE_DISLIKES"]
ALOE_GOALS = _POOLS["ALOE_GOALS"]
#: Personality / communication styles, written like ALOE's personality descriptions.
ALOE_PERSONALITIES = _POOLS["ALOE_PERSONALITIES"]


def _aloe_profile(rng: random.Random, user: DemoUser) -> str:
    p = cap(user.pronoun)
    likes = rng.sample(ALOE_LIKES, 2)
    age = rng.randint(19, 68)
    return (f"{p} is a {age}-year-old {user.job} who grew up in {user.hometown}. "
            f"{p} lives with {article(user.pet_kind)} {user.pet_kind} named {user.pet_name} "
            f"and spends most weekends on {user.hobby}. {p} loves {likes[0]} and {likes[1]}, "
            f"but can't stand {rng.choice(ALOE_DISLIKES)}. "
            f"Right now {user.pronoun} is focused on {rng.choice(ALOE_GOALS)}.")


def generate_aloe_like(n_profiles: int, n_personalities: int, seed: int) -> list[dict[str, str]]:
    """ALOE-shaped ``{"id": "p{i:02d}-s{j}", "profile", "personality"}``, profile-major order.

    As in ALOE, the j-th personality is the same description for every profile (the benchmark is
    profiles x personalities); pronouns follow the profile's user.
    """
    rng = seeded_rng("demo-aloe", seed)
    styles = permutation(ALOE_PERSONALITIES, rng)
    rows = []
    for i, user in enumerate(make_users(n_profiles, seed)):
        profile = _aloe_profile(seeded_rng("demo-aloe-profile", seed, i), user)
        for j in range(n_personalities):
            personality = styles[j % len(styles)].format(P=cap(user.pronoun))
            rows.append({"id": f"p{i:02d}-s{j}", "profile": profile, "personality": personality})
    return rows
