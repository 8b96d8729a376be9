"""Demo records of the six writing tasks, shaped like LongLaMP / LaMP records.

Each user's texts come from their own generator (seeded by seed, task and user id), so adding
users never changes existing users' data. A user's first texts form the profile shared by all
their records; the following ones are the records' references.
"""

from __future__ import annotations

from typing import Any

from percontrast.data.demo.long_tasks import (
    METHODS,
    PROBLEMS,
    PRODUCTS,
    TOPICS,
    abstract_record,
    product_review,
    topic_post,
)
from percontrast.data.demo.markers import find_markers
from percontrast.data.demo.short_tasks import STORIES, TWEETS, news_item, scholar_item, tweet_item
from percontrast.data.demo.text import seeded_rng
from percontrast.data.demo.users import make_users
from percontrast.data.records import Record

#: Task types the demo generator covers (LongLaMP-shaped first, then LaMP-shaped).
LONG_TASKS = ("abstract_generation", "product_review", "topic_writing")
SHORT_TASKS = ("news_headline", "scholarly_title", "tweet_paraphrase")
DEMO_TASKS = LONG_TASKS + SHORT_TASKS

#: task type -> (number of content items, item generator)
_ITEMS = {
    "product_review": (len(PRODUCTS), product_review),
    "topic_writing": (len(TOPICS), topic_post),
    "abstract_generation": (len(PROBLEMS) * len(METHODS), abstract_record),
    "news_headline": (len(STORIES), news_item),
    "scholarly_title": (len(PROBLEMS) * len(METHODS), scholar_item),
    "tweet_paraphrase": (len(TWEETS), tweet_item),
}


def render_entry(task_type: str, entry: dict[str, str]) -> str:
    """A past writing as LongLaMP's / LaMP's retrieval corpus text for ``task_type``."""
    fields = {"topic_writing": ("summary", "content"),
              "product_review": ("overall", "summary", "description", "reviewText"),
              "abstract_generation": ("title", "abstract"),
              "news_headline": ("title", "text"),
              "scholarly_title": ("title", "abstract"),
              "tweet_paraphrase": ("text",)}[task_type]
    return " ".join(entry[f] for f in fields)


def task_query(task_type: str, entry: dict[str, Any]) -> str:
    """The instruction the real dataset gives for ``entry`` (wording copied from it)."""
    if task_type == "product_review":
        return (f'Generate the review text written by a reviewer who has a given an overall '
                f'rating of "{entry["overall"]}" for a product with description '
                f'"{entry["description"]}". The summary of the review text is '
                f'"{entry["summary"]}".')
    if task_type == "topic_writing":
        return f'Generate the content for a reddit post "{entry["summary"]}".'
    if task_type == "abstract_generation":
        items = " ".join(f"{i}. {item}" for i, item in enumerate(entry["items"], start=1))
        return (f'Generate an abstract for the title "{entry["title"]}" using the following '
                f'items: {items}')
    if task_type == "news_headline":
        return f"Generate a headline for the following article: {entry['text']}"
    if task_type == "scholarly_title":
        return f"Generate a title for the following abstract of a paper: {entry['abstract']}"
    if task_type == "tweet_paraphrase":
        return ("Paraphrase the following tweet without any explanation before or after it: "
                f"{entry['paraphrase']}")
    raise ValueError(f"unknown demo task type {task_type!r}; known: {', '.join(DEMO_TASKS)}")


_REFERENCE_FIELD = {"product_review": "reviewText", "topic_writing": "content",
                    "abstract_generation": "abstract", "news_headline": "title",
                    "scholarly_title": "title", "tweet_paraphrase": "text"}


def generate_task(task_type: str, *, n_users: int, records_per_user: int, profile_size: int,
                  seed: int) -> list[Record]:
    """``n_users * records_per_user`` records of ``task_type``, user-major order.

    Each user writes ``profile_size + records_per_user`` texts about distinct items (products,
    topics, stories ...) while the task's pool lasts: the first ``profile_size`` are the
    profile shared by all the user's records, the rest are the records' references.
    """
    if task_type not in _ITEMS:
        raise ValueError(f"unknown demo task type {task_type!r}; known: {', '.join(DEMO_TASKS)}")
    if records_per_user < 1 or profile_size < 1:
        raise ValueError("records_per_user and profile_size must be >= 1")
    n_items, make_item = _ITEMS[task_type]
    records = []
    for user in make_users(n_users, seed):
        rng = seeded_rng("demo-task", seed, task_type, user.id)
        order = list(range(n_items))
        rng.shuffle(order)
        entries = [make_item(rng, user, order[j % n_items])
                   for j in range(profile_size + records_per_user)]
        profile = [render_entry(task_type, e) for e in entries[:profile_size]]
        user_markers = user.markers(task_type)
        for k, entry in enumerate(entries[profile_size:]):
            reference = entry[_REFERENCE_FIELD[task_type]]
            records.append(Record(
                id=f"demo-{task_type}-{user.id}-r{k:02d}", task=task_type, user_id=user.id,
                query=task_query(task_type, entry), reference=reference, profile=list(profile),
                meta={"dataset": "demo", "seed": seed,
                      "markers": find_markers(reference, user_markers),
                      "user_markers": user_markers}))
    return records
