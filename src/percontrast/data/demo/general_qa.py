"""Demo general-QA records (no persona), shaped like the HotpotQA and DROP loaders' output.

They let the general-ability evaluation run offline: HotpotQA-like bridge / comparison questions
over two short paragraphs, DROP-like counting and arithmetic questions over a passage, with
answers computed from the generated facts. Names and words: ``pools/general_qa.json``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from percontrast.data.demo.pools import load
from percontrast.data.demo.text import seeded_rng
from percontrast.data.records import Record

_POOLS = load("general_qa")
FIRST_NAMES = _POOLS["FIRST_NAMES"]
LAST_NAMES = _POOLS["LAST_NAMES"]
QA_CITIES = _POOLS["QA_CITIES"]
FILM_WORDS = _POOLS["FILM_WORDS"]
GENRES = _POOLS["GENRES"]
INSTRUMENTS = _POOLS["INSTRUMENTS"]
UNIVERSITIES = _POOLS["UNIVERSITIES"]
COMPANY_WORDS = _POOLS["COMPANY_WORDS"]
COMPANY_KINDS = _POOLS["COMPANY_KINDS"]
TEAMS = _POOLS["TEAMS"]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _hotpot_item(rng: random.Random) -> tuple[str, str, list[tuple[str, str]], str]:
    """(question, answer, [(title, paragraph), ...], type): bridge or comparison questions."""
    kind = rng.randrange(4)
    if kind == 0:  # film -> director -> birthplace
        a, b = rng.choice(FILM_WORDS)
        film, person, city = f"The {a} {b}", _person(rng), rng.choice(QA_CITIES)
        year = rng.randint(1968, 2019)
        paras = [(film, f"{film} is a {year} {rng.choice(GENRES)} film directed by {person}. "
                        f"It was shot over {rng.randint(20, 90)} days and premiered at a small "
                        "festival."),
                 (person, f"{person} (born {rng.randint(1930, year - 22)}) is a filmmaker born "
                          f"in {city}. {person.split()[1]} studied painting before turning to "
                          "film.")]
        return f"In which city was the director of {film} born?", city, paras, "bridge"
    if kind == 1:  # band -> founder -> instrument
        band = f"The {rng.choice(COMPANY_WORDS)} {rng.choice(('Quartet', 'Collective', 'Band'))}"
        person, instrument = _person(rng), rng.choice(INSTRUMENTS)
        paras = [(band, f"{band} is a jazz group formed in {rng.randint(1960, 2015)} by "
                        f"{person}. The group has released {rng.randint(2, 14)} albums."),
                 (person, f"{person} is a musician best known for playing the {instrument}. "
                          f"{person.split()[1]} also teaches at a conservatory.")]
        return f"What instrument does the founder of {band} play?", instrument, paras, "bridge"
    if kind == 2:  # building -> architect -> university
        building = f"{rng.choice(COMPANY_WORDS)} Hall"
        person, university = _person(rng), rng.choice(UNIVERSITIES)
        paras = [(building, f"{building} is a concert venue in {rng.choice(QA_CITIES)}, "
                            f"designed by the architect {person} and opened in "
                            f"{rng.randint(1950, 2020)}."),
                 (person, f"{person} is an architect who studied at {university}. "
                          f"{person.split()[1]} is known for timber buildings.")]
        return f"Where did the architect of {building} study?", university, paras, "bridge"
    # comparison: which company was founded first
    first, second = rng.sample(COMPANY_WORDS, 2)
    kinds = rng.sample(COMPANY_KINDS, 2)
    c1, c2 = f"{first} {kinds[0]}", f"{second} {kinds[1]}"
    y1, y2 = rng.sample(range(1850, 2010), 2)
    paras = [(c1, f"{c1} is a company founded in {y1} in {rng.choice(QA_CITIES)}."),
             (c2, f"{c2} is a company founded in {y2}. It employs about "
                  f"{rng.randint(50, 900)} people.")]
    answer = c1 if y1 < y2 else c2
    return f"Which was founded first, {c1} or {c2}?", answer, paras, "comparison"


def _yards(n: int) -> str:
    """ "a 35-yard", "an 8-yard", "an 18-yard" (article by pronunciation)."""
    return f"{'an' if str(n).startswith('8') or n in (11, 18) else 'a'} {n}-yard"


def _drop_answer(number: str = "", spans: Sequence[str] = ()) -> dict[str, Any]:
    return {"number": number, "date": {"day": "", "month": "", "year": ""}, "spans": list(spans)}


def _drop_item(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    """(passage, question, DROP answer dict): a game recap or census counts, with arithmetic."""
    if rng.random() < 0.6:
        home, away = rng.sample(TEAMS, 2)
        names: list[str] = []
        while len(names) < 4:
            name = _person(rng)
            if all(name.split()[1] != n.split()[1] for n in names):
                names.append(name)
        kicker, qb, receiver, runner = names
        goals = rng.sample(range(21, 55), 3)
        td_pass, td_run = rng.randint(5, 70), rng.randint(1, 30)
        passage = (f"Hoping to rebound from a road loss, the {home} stayed at home for a duel "
                   f"with the {away}. In the first quarter, {home} kicker {kicker} made "
                   f"{_yards(goals[0])} field goal. The {away} answered with {_yards(td_pass)} "
                   f"touchdown pass from quarterback {qb} to {receiver}. In the second quarter, "
                   f"{kicker} added {_yards(goals[1])} field goal, and later {_yards(goals[2])} "
                   f"field goal before halftime. In the fourth quarter, {runner} ran in "
                   f"{_yards(td_run)} touchdown for the {home}.")
        options = [
            (f"How many field goals did {kicker} kick?", _drop_answer("3")),
            ("How many yards was the longest field goal?", _drop_answer(str(max(goals)))),
            ("How many yards longer was the longest field goal than the shortest?",
             _drop_answer(str(max(goals) - min(goals)))),
            (f"Who caught the touchdown pass from {qb}?", _drop_answer(spans=[receiver])),
            ("Which team scored first?", _drop_answer(spans=[home])),
            ("How many total yards of touchdowns were scored?",
             _drop_answer(str(td_pass + td_run))),
        ]
    else:
        year = rng.choice((1990, 2000, 2010))
        people = rng.randint(3000, 30000)
        households = people // rng.randint(2, 3)
        families = households - rng.randint(200, households // 3)
        under18 = rng.randint(18, 32)
        county = f"{rng.choice(COMPANY_WORDS)} County"
        passage = (f"As of the census of {year}, there were {people} people, {households} "
                   f"households, and {families} families residing in {county}. "
                   f"{under18}% of the population was under the age of 18, and the median age "
                   f"was {rng.randint(30, 45)} years.")
        options = [
            ("How many more households than families were there?",
             _drop_answer(str(households - families))),
            ("How many more people than households were there?",
             _drop_answer(str(people - households))),
            ("What percent of the population was not under the age of 18?",
             _drop_answer(str(100 - under18))),
            ("Which were there more of, households or families?",
             _drop_answer(spans=["households"])),
        ]
    question, answer = rng.choice(options)
    return passage, question, answer


def generate_general_qa(kind: str, n: int, seed: int) -> list[Record]:
    """``n`` general-QA records (no persona) shaped like the HotpotQA / DROP loaders' output.

    hotpotqa: two short paragraphs, a bridge or comparison question, ``meta["context"]``
    rendered as the loader does ("Title: paragraph" lines) and ``meta["answers"]``.
    drop: a passage, a counting/arithmetic or span question, ``meta["passage"]`` and
    ``meta["answers"]`` = [the official DROP answer dict].
    """
    if kind not in ("hotpotqa", "drop"):
        raise ValueError(f"unknown general QA kind {kind!r}; known: hotpotqa, drop")
    rng = seeded_rng("demo-qa", kind, seed)
    records = []
    for i in range(n):
        if kind == "hotpotqa":
            question, answer, paras, qtype = _hotpot_item(rng)
            rng.shuffle(paras)
            context = "\n".join(f"{title}: {text}" for title, text in paras)
            meta: dict[str, Any] = {"dataset": "demo", "context": context, "answers": [answer],
                                    "type": qtype}
            reference = answer
        else:
            passage, question, answer_dict = _drop_item(rng)
            meta = {"dataset": "demo", "passage": passage, "answers": [answer_dict]}
            reference = answer_dict["number"] or ", ".join(answer_dict["spans"])
        records.append(Record(id=f"demo-{kind}-s{seed}-{i:04d}", task=kind, user_id="",
                              query=question, reference=reference, profile=[], meta=meta))
    return records
