"""LongLaMP-shaped demo texts: product reviews, reddit posts, paper abstracts.

Each text carries a random subset of its user's markers (so a model that reads the user's past
writings can predict them and one that does not cannot: the contrast PerContrast measures);
everything else comes from template pools shared by all users (``pools/casual.json``,
``reviews.json``, ``posts.json``, ``abstracts.json``), restricted per user to a stable subset of
habits. Texts are built long and pruned to the user's preferred length.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from percontrast.data.demo.pools import load
from percontrast.data.demo.text import (
    LONG_WORDS,
    article,
    cap,
    choose_kinds,
    insert_aside,
    prune,
    say,
    title_case,
)
from percontrast.data.demo.users import DemoUser, adj_phrase, habits, target_words, user_values

# -- casual register: personal sentence templates shared by reviews and posts (per marker kind)
_CASUAL = load("casual")
CASUAL_PERSONAL: dict[str, dict[str, tuple[str, ...]]] = _CASUAL["CASUAL_PERSONAL"]
#: Sentences carrying the user's adjective (and maybe intensifier), per sentiment.
STYLE_SENTENCES: dict[str, tuple[str, ...]] = _CASUAL["STYLE_SENTENCES"]
CASUAL_KIND_PROBS = {"opener": 0.55, "signoff": 0.55, "pet": 0.45, "hometown": 0.35,
                     "job": 0.35, "hobby": 0.35, "style": 0.6, "aside": 0.35}

# -- product reviews
_REVIEWS = load("reviews")
#: (product name, description, features)
PRODUCTS = _REVIEWS["PRODUCTS"]
RATING_WEIGHTS = ((5, 40), (4, 25), (3, 15), (2, 10), (1, 10))
SENTIMENT = {5: "pos", 4: "pos", 3: "mid", 2: "neg", 1: "neg"}
#: Review titles per star rating (JSON object keys are strings, ratings are ints).
REVIEW_SUMMARIES = {int(k): v for k, v in _REVIEWS["REVIEW_SUMMARIES"].items()}
REVIEW_INTROS = _REVIEWS["REVIEW_INTROS"]
REVIEW_BODY = _REVIEWS["REVIEW_BODY"]
REVIEW_VERDICTS = _REVIEWS["REVIEW_VERDICTS"]

# -- reddit posts
_POSTS = load("posts")
#: (titles, ordered narrative sentences)
TOPICS = _POSTS["TOPICS"]
#: Generic reddit lines: a question to readers near the end, or an edit/apology.
REDDIT_CLOSERS = _POSTS["REDDIT_CLOSERS"]

# -- abstracts (their topics also feed the LaMP-5-like titles)
_ABSTRACTS = load("abstracts")
PROBLEMS = _ABSTRACTS["PROBLEMS"]
METHODS = _ABSTRACTS["METHODS"]
MECHANISMS = _ABSTRACTS["MECHANISMS"]
COMPONENTS = _ABSTRACTS["COMPONENTS"]
#: Abstracts open with context, then a gap, then the contribution, details, results, outlook.
ABSTRACT_CONTEXT = _ABSTRACTS["ABSTRACT_CONTEXT"]
ABSTRACT_GAP = _ABSTRACTS["ABSTRACT_GAP"]
#: The contribution sentence; a user's academic opener is prefixed to it ("In this work, we").
ABSTRACT_METHOD = _ABSTRACTS["ABSTRACT_METHOD"]
ABSTRACT_DETAIL = _ABSTRACTS["ABSTRACT_DETAIL"]
ABSTRACT_MAIN_RESULT = _ABSTRACTS["ABSTRACT_MAIN_RESULT"]
ABSTRACT_RESULTS = _ABSTRACTS["ABSTRACT_RESULTS"]
ABSTRACT_CONCLUSION = _ABSTRACTS["ABSTRACT_CONCLUSION"]
ABSTRACT_PERSONAL = _ABSTRACTS["ABSTRACT_PERSONAL"]
ABSTRACT_KIND_PROBS = {"opener": 0.55, "project": 0.55, "style": 0.5, "domain": 0.45,
                       "signoff": 0.5}
TITLE_TEMPLATES = _ABSTRACTS["TITLE_TEMPLATES"]
#: For LaMP-5-like titles: templates a title prefix ("Rethinking ...") can go in front of.
SHORT_TITLE_TEMPLATES = _ABSTRACTS["SHORT_TITLE_TEMPLATES"]


def _weighted_rating(rng: random.Random) -> int:
    ratings, weights = zip(*RATING_WEIGHTS, strict=True)
    return rng.choices(ratings, weights=weights)[0]


def _casual_text(rng: random.Random, user: DemoUser, genre: str, *, head: list[str],
                 body: list[str], tail: list[str], style_key: str,
                 values: dict[str, str], pools: dict[str, Sequence[str]] | None = None) -> str:
    """Assemble a review or post: opener, ordered generic body with personal sentences slipped
    in, closing lines, sign-off; then prune generic sentences to the user's preferred length.
    ``genre`` (``review`` or ``post``) picks the personal sentences of ``CASUAL_PERSONAL``."""
    kinds = choose_kinds(rng, CASUAL_KIND_PROBS, at_most=5)
    personal = []
    for kind in ("pet", "hometown", "job", "hobby"):
        if kind in kinds:
            personal.append(say(rng, rng.choice(CASUAL_PERSONAL[genre][kind]), values))
    if "style" in kinds:
        personal.append(say(rng, rng.choice(STYLE_SENTENCES[style_key]),
                             {**values, "A": adj_phrase(rng, user)}, pools))
    parts: list[tuple[str, bool]] = [(s, True) for s in body]
    for sentence in personal:
        parts.insert(rng.randint(0, len(parts)), (sentence, False))
    parts = [(s, False) for s in head] + parts + [(s, False) for s in tail]
    target = target_words(rng, user, (45, 70), (75, 108))
    sentences = prune(rng, parts, target, LONG_WORDS[0] + 4)
    if "aside" in kinds:
        generic = set(body)
        sentences = insert_aside(rng, sentences,
                                  [i for i, s in enumerate(sentences) if s in generic],
                                  user.aside)
    if "opener" in kinds:
        sentences.insert(0, user.opener)
    if "signoff" in kinds:
        sentences.append(user.signoff)
    return " ".join(sentences)


def product_review(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    name, description, features = PRODUCTS[item]
    rating = _weighted_rating(rng)
    sentiment = SENTIMENT[rating]
    values = {**user_values(user), "name": name}
    pools = {"feature": features}
    summary = rng.choice(REVIEW_SUMMARIES[rating]).format(name=name)
    body = [say(rng, t, values, pools) for t in
            rng.sample(habits(user, f"review-{sentiment}", REVIEW_BODY[sentiment], 7), 7)]
    intro = rng.choice(habits(user, "review-intro", REVIEW_INTROS))
    verdict = rng.choice(habits(user, f"verdict-{sentiment}", REVIEW_VERDICTS[sentiment]))
    text = _casual_text(rng, user, "review",
                        head=[say(rng, intro, values)], body=body,
                        tail=[say(rng, verdict, values)],
                        style_key=sentiment, values=values, pools=pools)
    return {"overall": f"{rating}.0", "summary": summary, "description": description,
            "reviewText": text}


def topic_post(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    titles, narrative = TOPICS[item]
    values = user_values(user)
    sentences = [say(rng, t, values) for t in narrative]
    text = _casual_text(rng, user, "post", head=sentences[:1], body=sentences[1:],
                        tail=[say(rng, rng.choice(habits(user, "closer", REDDIT_CLOSERS)),
                                   values)],
                        style_key="post", values=values)
    return {"input": rng.choice(titles), "output": text}  # LongLaMP's field names


def abstract_topic(rng: random.Random, item: int) -> dict[str, str]:
    problem = PROBLEMS[item % len(PROBLEMS)]
    method = METHODS[(item // len(PROBLEMS) + 7 * item) % len(METHODS)]
    mechanism, mechanism2 = rng.sample(MECHANISMS, 2)
    return {"problem": problem, "Problem": cap(problem), "method": method,
            "mechanism": mechanism, "mechanism2": mechanism2,
            "component": rng.choice(COMPONENTS)}


def abstract_text(rng: random.Random, user: DemoUser, topic: dict[str, str], target: int,
                   *, personal: bool = True) -> tuple[str, list[str]]:
    """An abstract (and the key phrases it uses, for the query's "items"). ``personal=False``
    writes it without markers (LaMP-5 inputs, whose personal signal is in the title only)."""
    kinds = choose_kinds(rng, ABSTRACT_KIND_PROBS, at_most=4) if personal else []
    adj1, adj2 = rng.sample(user.academic_adjectives, 2)
    values = {**topic, "project": user.project, "domain": user.domain, "adj1": adj1,
              "adj2": adj2, "a_adj1": f"{article(adj1)} {adj1}"}

    def pick(name: str, pool: Sequence[str], k: int = 1) -> list[str]:
        return rng.sample(habits(user, f"abstract-{name}", pool, k), k)

    contribution = say(rng, pick("method", ABSTRACT_METHOD)[0], values)
    if "opener" in kinds:
        contribution = f"{user.academic_opener} {contribution[:1].lower()}{contribution[1:]}"
    parts: list[tuple[str, bool]] = [
        (say(rng, pick("context", ABSTRACT_CONTEXT)[0], values), False),
        (say(rng, pick("gap", ABSTRACT_GAP)[0], values), True),
        (contribution, False)]
    if "project" in kinds:
        parts.append((say(rng, rng.choice(ABSTRACT_PERSONAL["project"]), values), False))
    details = pick("detail", ABSTRACT_DETAIL, 3)
    parts += [(say(rng, s, values), True) for s in details]
    for kind in ("style", "domain"):
        if kind in kinds:
            parts.insert(rng.randint(3, len(parts)),
                         (say(rng, rng.choice(ABSTRACT_PERSONAL[kind]), values), False))
    parts.append((say(rng, pick("main-result", ABSTRACT_MAIN_RESULT)[0], values), False))
    parts += [(say(rng, s, values), True) for s in pick("results", ABSTRACT_RESULTS, 2)]
    parts.append((say(rng, pick("conclusion", ABSTRACT_CONCLUSION)[0], values), True))
    sentences = prune(rng, parts, target, LONG_WORDS[0] + 4)
    if "signoff" in kinds:
        sentences.append(user.academic_signoff)
    text = " ".join(sentences)
    items = [topic["method"], topic["problem"]]
    items += [topic[k] for k in ("mechanism", "mechanism2") if topic[k] in text]
    if topic["component"] in text:
        items.append(topic["component"])
    items += [p for p in ("benchmark datasets", "standard benchmarks", "ablation studies")
              if p in text.lower()]
    return text, items


def abstract_record(rng: random.Random, user: DemoUser, item: int) -> dict[str, Any]:
    topic = abstract_topic(rng, item)
    title = title_case(rng.choice(TITLE_TEMPLATES).format(**topic))
    target = target_words(rng, user, (50, 75), (80, 110))
    abstract, items = abstract_text(rng, user, topic, target)
    return {"title": title, "abstract": abstract, "items": items}
