"""The bundled demo generator: determinism, dataset shapes, a real and learnable personal signal."""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter

import pytest

from percontrast.data.demo import (
    DEMO_TASKS,
    LONG_TASKS,
    LONG_WORDS,
    MAX_DISTINCT_USERS,
    PERSONA_FACTS,
    SHORT_WORDS,
    find_markers,
    generate_aloe_like,
    generate_general_qa,
    generate_persona_qa,
    generate_task,
    make_users,
)
from percontrast.data.qa import drop_answer_text
from percontrast.data.records import TASK_TYPES, Record

CONFIG = {"n_users": 8, "records_per_user": 6, "profile_size": 8}

QUERY_PATTERNS = {
    "product_review": re.compile(
        r'^Generate the review text written by a reviewer who has a given an overall rating of '
        r'"[1-5]\.0" for a product with description "[^"]+"\. The summary of the review text is '
        r'"[^"]+"\.$'),
    "topic_writing": re.compile(r'^Generate the content for a reddit post "[^"]+"\.$'),
    "abstract_generation": re.compile(
        r'^Generate an abstract for the title "[^"]+" using the following items: '
        r'1\. .+ 2\. .+ 3\. .+$'),
    "news_headline": re.compile(r"^Generate a headline for the following article: \w.{60,}$"),
    "scholarly_title": re.compile(
        r"^Generate a title for the following abstract of a paper: \w.{100,}$"),
    "tweet_paraphrase": re.compile(
        r"^Paraphrase the following tweet without any explanation before or after it: \w.+$"),
}


def _words(text: str) -> list[str]:
    return re.findall(r"\w+(?:['-]\w+)*", text)


def _dump(records: list[Record]) -> str:
    return json.dumps([r.to_dict() for r in records], sort_keys=True)


@pytest.fixture(scope="module")
def demo() -> dict[str, list[Record]]:
    return {t: generate_task(t, seed=0, **CONFIG) for t in DEMO_TASKS}


# --------------------------------------------------------------------------- determinism

def test_same_seed_identical_different_seed_different(demo):
    for task in DEMO_TASKS:
        again = generate_task(task, seed=0, **CONFIG)
        assert _dump(again) == _dump(demo[task]), task
        other = generate_task(task, seed=1, **CONFIG)
        assert [r.reference for r in other] != [r.reference for r in demo[task]], task
    assert generate_persona_qa(30, 0) == generate_persona_qa(30, 0)
    assert generate_persona_qa(30, 0) != generate_persona_qa(30, 1)
    assert generate_aloe_like(4, 3, 0) == generate_aloe_like(4, 3, 0)
    assert generate_aloe_like(4, 3, 0) != generate_aloe_like(4, 3, 1)
    for kind in ("hotpotqa", "drop"):
        assert _dump(generate_general_qa(kind, 20, 0)) == _dump(generate_general_qa(kind, 20, 0))
        assert _dump(generate_general_qa(kind, 20, 0)) != _dump(generate_general_qa(kind, 20, 1))


_HASH_SCRIPT = """
import hashlib, json
from percontrast.data.demo import *
rows = [r.to_dict() for t in DEMO_TASKS
        for r in generate_task(t, n_users=5, records_per_user=3, profile_size=6, seed=11)]
rows += generate_persona_qa(20, 11) + generate_aloe_like(3, 2, 11)
rows += [r.to_dict() for k in ("hotpotqa", "drop") for r in generate_general_qa(k, 10, 11)]
print(hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest())
"""


def test_identical_across_processes_and_hash_seeds():
    digests = set()
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _HASH_SCRIPT], env=env, check=True,
                             capture_output=True, text=True, timeout=60)
        digests.add(out.stdout.strip())
    here = {}
    exec(_HASH_SCRIPT.replace("print(", "here['digest'] = ("), {"here": here})  # noqa: S102
    assert digests == {here["digest"]}


def test_users_distinct_and_prefix_stable():
    assert MAX_DISTINCT_USERS >= 12
    users = make_users(MAX_DISTINCT_USERS, seed=0)
    assert make_users(4, seed=0) == users[:4]
    assert len({u.id for u in users}) == MAX_DISTINCT_USERS
    for task in DEMO_TASKS:
        markers = [m for u in users for m in u.markers(task)]
        assert len(markers) == len(set(markers)), task  # no two users share a marker
    assert make_users(3, seed=1)[0] != users[0]
    with pytest.raises(ValueError):
        users[0].markers("dialogue")


# --------------------------------------------------------------------------- shapes

def test_records_validate_and_have_the_real_shapes(demo):
    for task, records in demo.items():
        assert task in TASK_TYPES
        assert len(records) == CONFIG["n_users"] * CONFIG["records_per_user"]
        assert len({r.id for r in records}) == len(records)
        lo, hi = LONG_WORDS if task in LONG_TASKS else SHORT_WORDS
        by_user: dict[str, list[Record]] = {}
        for r in records:
            assert Record.from_dict(json.loads(json.dumps(r.to_dict()))) == r
            assert r.task == task and r.user_id.startswith("s0-u")
            assert QUERY_PATTERNS[task].match(r.query), (task, r.query)
            assert lo <= len(r.reference.split()) <= hi, (task, r.reference)
            assert "{" not in r.reference and "}" not in r.query + " ".join(r.profile)
            assert len(r.profile) == CONFIG["profile_size"]
            assert all(r.reference not in entry for entry in r.profile)
            assert r.meta["markers"] == find_markers(r.reference, r.meta["user_markers"])
            by_user.setdefault(r.user_id, []).append(r)
        for user_records in by_user.values():  # one profile pool per user, distinct targets
            assert all(r.profile == user_records[0].profile for r in user_records)
            assert len({r.reference for r in user_records}) == len(user_records)


def test_profile_entries_render_like_the_retrieval_corpus(demo):
    review = demo["product_review"][0]
    assert all(re.match(r"^[1-5]\.0 ", e) for e in review.profile)
    descriptions = re.findall(r'description "([^"]+)"', review.query)
    assert descriptions and not any(descriptions[0] in e for e in review.profile)
    abstract = demo["abstract_generation"][0]
    items = abstract.query.split("items:", 1)[1]
    assert items.strip().startswith("1. ")
    for r in demo["tweet_paraphrase"]:
        assert len(r.profile[0].split()) <= SHORT_WORDS[1]  # LaMP-7 entries are bare tweets
    for r in demo["news_headline"]:  # "{title} {text}": a headline, then its article
        assert all(len(e.split()) > 25 for e in r.profile)
    # a long-form entry reads as sentences, not word salad
    for task in LONG_TASKS:
        text = demo[task][0].reference
        sentences = re.split(r"(?<=[.!?])\s+", text)
        assert len(sentences) >= 4 and all(s[:1].isupper() or s[:1] in "(#" for s in sentences)


def test_long_tasks_have_several_hundred_distinct_sentences():
    for task in LONG_TASKS:
        records = generate_task(task, n_users=20, records_per_user=10, profile_size=4, seed=2)
        sentences = {s for r in records for s in re.split(r"(?<=[.!?])\s+", r.reference)}
        assert len(sentences) >= 300, (task, len(sentences))
        # not always the same length: users differ in how much they write
        lengths = [len(r.reference.split()) for r in records]
        assert max(lengths) - min(lengths) >= 30, task


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown demo task"):
        generate_task("dialogue", n_users=1, records_per_user=1, profile_size=1, seed=0)
    with pytest.raises(ValueError):
        generate_task("news_headline", n_users=1, records_per_user=0, profile_size=1, seed=0)
    with pytest.raises(ValueError):
        generate_general_qa("squad", 1, 0)


# --------------------------------------------------------------------------- personal signal

def test_references_carry_markers_that_the_profile_shows(demo):
    for task, records in demo.items():
        by_user: dict[str, list[bool]] = {}
        for r in records:
            shown = [m for m in r.meta["markers"] if find_markers(" ".join(r.profile), [m])]
            by_user.setdefault(r.user_id, []).append(bool(shown))
        for user, hits in by_user.items():
            assert sum(hits) / len(hits) >= 0.8, (task, user, hits)


def test_markers_vary_between_entries(demo):
    """Not every entry has every marker: the model has to read the profile, not a constant."""
    for task, records in demo.items():
        r = records[0]
        texts = r.profile + [x.reference for x in records if x.user_id == r.user_id]
        for marker in r.meta["user_markers"]:
            share = sum(bool(find_markers(t, [marker])) for t in texts) / len(texts)
            assert share < 1.0, (task, marker)
        counts = [len(x.meta["markers"]) for x in records]
        assert len(set(counts)) >= 2, task


def test_markers_of_one_user_rarely_appear_in_another_users_texts():
    n = 40  # enough users to use (and reuse) most pool values
    users = {u.id: u for u in make_users(n, seed=3)}
    for task in DEMO_TASKS:
        records = generate_task(task, n_users=n, records_per_user=3, profile_size=2, seed=3)
        everyone = [m for u in users.values() for m in u.markers(task)]
        foreign = 0
        for r in records:
            own = set(users[r.user_id].markers(task))
            foreign += bool(find_markers(r.reference, [m for m in everyone if m not in own]))
        assert foreign / len(records) <= 0.02, (task, foreign / len(records))


def test_reference_overlaps_own_profile_more_than_another_users():
    def jaccard(a: str, b: str) -> float:
        x, y = set(_words(a.lower())), set(_words(b.lower()))
        return len(x & y) / len(x | y)

    for task in DEMO_TASKS:
        records = generate_task(task, n_users=10, records_per_user=6, profile_size=8, seed=4)
        profiles = {r.user_id: " ".join(r.profile) for r in records}
        users = list(profiles)
        own, other = [], []
        for r in records:
            own.append(jaccard(r.reference, profiles[r.user_id]))
            other += [jaccard(r.reference, profiles[u]) for u in users if u != r.user_id]
        assert statistics.mean(own) > statistics.mean(other) * 1.05, task


# --------------------------------------------------------------------------- persona QA

def test_persona_qa_shape_and_keywords():
    items = generate_persona_qa(100, seed=0)
    assert [it["id"] for it in items] == [f"pqa-{i:04d}" for i in range(100)]
    answer_tokens = keyword_tokens = 0
    for it in items:
        assert set(it) == {"id", "persona", "question", "answer", "keywords", "answer_style"}
        facts = re.split(r"(?<=\.)\s+", it["persona"])
        assert 4 <= len(facts) <= 6 and all(f.startswith(("I ", "My ")) for f in facts)
        assert it["question"].endswith("?") and len(it["question"].split()) <= 14
        n_words = len(_words(it["answer"]))
        assert 5 <= n_words <= 20, it["answer"]
        assert 1 <= len(it["keywords"]) <= 4
        for kw in it["keywords"]:
            assert _words(kw) == [kw]  # gold at the word level, as the paper scores
            assert find_markers(it["answer"], [kw]) == [kw], (kw, it["answer"])
        answer_tokens += n_words
        keyword_tokens += sum(len(re.findall(rf"(?i)\b{re.escape(kw)}\b", it["answer"]))
                              for kw in it["keywords"])
    assert 0.2 <= keyword_tokens / answer_tokens <= 0.45
    assert len({it["answer"] for it in items}) >= 60  # every fact of the pool used once


def _kind_counts(items):
    """Gold words whose surface form occurs in the persona (verbatim) and those that do not."""
    counts = Counter()
    for it in items:
        for kw in it["keywords"]:
            counts[(it["answer_style"], bool(find_markers(it["persona"], [kw])))] += 1
    return counts


def test_persona_qa_has_verbatim_and_paraphrase_answers_in_known_proportions():
    default = _kind_counts(generate_persona_qa(100, seed=42))
    verbatim_words = default[("verbatim", True)] + default[("paraphrase", True)]
    assert 0.2 <= verbatim_words / sum(default.values()) <= 0.32  # paper: word matching R 26.5%
    assert Counter(it["answer_style"] for it in generate_persona_qa(100, seed=0)) == {
        "verbatim": 15, "paraphrase": 85}  # VERBATIM_SHARE
    items = generate_persona_qa(100, seed=0, verbatim_share=0.5)
    assert Counter(it["answer_style"] for it in items) == {"verbatim": 50, "paraphrase": 50}
    counts = _kind_counts(items)
    # every gold word of a verbatim answer occurs in the persona ...
    assert counts[("verbatim", False)] == 0 and counts[("verbatim", True)] >= 100
    # ... most of a paraphrase's do not (names and places stay verbatim)
    assert counts[("paraphrase", False)] >= 5 * counts[("paraphrase", True)] > 0
    assert {it["answer_style"] for it in generate_persona_qa(40, 0, verbatim_share=0.0)} == {
        "paraphrase"}
    share = generate_persona_qa(40, 0, verbatim_share=0.25)
    assert sum(it["answer_style"] == "verbatim" for it in share) == 10
    with pytest.raises(ValueError, match="verbatim_share"):
        generate_persona_qa(4, 0, verbatim_share=1.5)


def test_persona_qa_fact_table_keeps_its_promises():
    """Each fact's verbatim gold words occur in the fact itself; every gold word occurs in its
    answer; answers have 5-20 words."""
    for _category, fact, _question, para, para_words, verb, verb_words in PERSONA_FACTS:
        for answer, words in ((para, para_words), (verb, verb_words)):
            assert 5 <= len(answer.split()) <= 20, answer
            assert all(find_markers(answer, [w]) for w in words), (answer, words)
        assert all(find_markers(fact, [w]) for w in verb_words), (fact, verb_words)


# --------------------------------------------------------------------------- ALOE and general QA

def test_aloe_like_shape():
    rows = generate_aloe_like(3, 4, seed=0)
    assert [r["id"] for r in rows] == [f"p{i:02d}-s{j}" for i in range(3) for j in range(4)]
    assert all(set(r) == {"id", "profile", "personality"} for r in rows)
    assert len({r["profile"] for r in rows}) == 3
    styles = {re.sub(r"\b(He|She)\b", "P", r["personality"]) for r in rows}
    assert len(styles) == 4  # the j-th personality is the same style for every profile
    assert all(re.match(r"^(He|She) is a \d\d-year-old ", r["profile"]) for r in rows)


def test_general_qa_shapes():
    hotpot = generate_general_qa("hotpotqa", 40, seed=0)
    assert Counter(r.meta["type"] for r in hotpot).keys() == {"bridge", "comparison"}
    for r in hotpot:
        assert Record.from_dict(r.to_dict()) == r and r.task == "hotpotqa" and r.profile == []
        assert r.query.endswith("?") and r.meta["answers"] == [r.reference]
        assert r.reference in r.meta["context"] and len(r.meta["context"].split("\n")) == 2
    drop = generate_general_qa("drop", 60, seed=0)
    kinds = Counter()
    for r in drop:
        assert Record.from_dict(r.to_dict()) == r and r.task == "drop" and r.profile == []
        (answer,) = r.meta["answers"]
        assert set(answer) == {"number", "date", "spans"}
        assert answer["date"] == {"day": "", "month": "", "year": ""}
        assert drop_answer_text(answer) == r.reference
        if answer["number"]:
            kinds["number"] += 1
            assert answer["number"].isdigit() and answer["spans"] == []
        else:
            kinds["span"] += 1
            assert all(s in r.meta["passage"] for s in answer["spans"])
    assert kinds["number"] >= 20 and kinds["span"] >= 5


def test_dump_is_json_serialisable_and_hash_stable(demo):
    digest = hashlib.sha256(_dump(demo["product_review"]).encode()).hexdigest()
    assert digest == hashlib.sha256(
        _dump(generate_task("product_review", seed=0, **CONFIG)).encode()).hexdigest()
