"""LaMP-shaped demo texts: news headlines (LaMP-4), paper titles (LaMP-5), tweets (LaMP-7).

The personal signal sits in the short output (headline, title, tweet), while the input (article,
abstract, neutral paraphrase) carries none, as in the real datasets. Pools:
``pools/news.json``, ``tweets.json``; titles reuse the abstracts' topics.
"""

from __future__ import annotations

import random

from percontrast.data.demo.long_tasks import SHORT_TITLE_TEMPLATES, abstract_text, abstract_topic
from percontrast.data.demo.markers import find_markers
from percontrast.data.demo.pools import load
from percontrast.data.demo.text import cap, choose_kinds, say, title_case
from percontrast.data.demo.users import DemoUser, adj_phrase, habits, user_values

_NEWS = load("news")
#: (subject, verb, object, core article sentence, follow-up sentence)
STORIES = _NEWS["STORIES"]
NEWS_GENERIC = _NEWS["NEWS_GENERIC"]
NEWS_KIND_PROBS = {"column": 0.55, "tail": 0.45, "hometown": 0.45}

SCHOLAR_KIND_PROBS = {"project": 0.5, "prefix": 0.5, "adjective": 0.45, "domain": 0.4}

#: (the user's tweet, a neutral paraphrase without the personal tokens). Slots in the tweet:
#: {A} the user's adjective phrase, {pet_name}, {hometown}, {hobby}; the paraphrase may name
#: {pet_kind} (not a marker).
TWEETS = load("tweets")["TWEETS"]


def news_item(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    subject, verb, obj, core, follow = STORIES[item]
    article = " ".join([core, follow] + [say(rng, s, {}) for s in
                                         rng.sample(habits(user, "news", NEWS_GENERIC), 2)])
    headline = f"{subject} {verb} {obj}"
    kinds = choose_kinds(rng, NEWS_KIND_PROBS, at_most=3)
    if "hometown" in kinds:  # the local angle: "Duluth City Council Approves ..."
        headline = f"{user.hometown} {headline}"
    if "tail" in kinds:
        headline += user.headline_tail
    if "column" in kinds:
        headline = f"{user.column} {headline}"
    return {"title": headline, "text": article}


def scholar_item(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    topic = abstract_topic(rng, item)
    abstract, _ = abstract_text(rng, user, topic, rng.randint(55, 85), personal=False)
    kinds = choose_kinds(rng, SCHOLAR_KIND_PROBS, at_most=3)
    method = topic["method"]
    if "adjective" in kinds:
        method = f"{rng.choice(user.academic_adjectives)} {method}"
    title = rng.choice(SHORT_TITLE_TEMPLATES).format(method=method, problem=topic["problem"])
    if "domain" in kinds:
        title += f" in {user.domain}"
    if "prefix" in kinds:
        title = f"{user.title_prefix} {title}"
    title = title_case(title)
    if "project" in kinds:
        title = f"{user.project}: {title}"
    return {"title": title, "abstract": abstract}


def tweet_item(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    tweet, paraphrase = TWEETS[item]
    values = {**user_values(user), "A": adj_phrase(rng, user)}
    text = tweet.format(**values)
    if rng.random() < 0.6:
        text = f"{user.tic} {text}" if rng.random() < 0.5 else f"{text} {user.tic}"
    if rng.random() < 0.45 or not find_markers(text, user.markers("tweet")):
        text = f"{text} {user.hashtag}"
    return {"text": text, "paraphrase": cap(paraphrase.format(**values))}
