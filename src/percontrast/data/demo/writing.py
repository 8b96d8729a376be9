"""Demo records of the six writing tasks, shaped like LongLaMP / LaMP records.

Each user's texts come from their own generator (seeded by seed, task and user id), so adding
users never changes existing users' data. A user's first texts form the profile shared by all
their records; the following ones are the records' references.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

from percontrast.data import registry
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
from percontrast.data.demo.users import DemoUser, make_users
from percontrast.data.records import Record


@dataclass(frozen=True)
class DemoWriting:
    """How the demo writes one task type: how many distinct items (products, topics, stories
    ...) its pool holds and the function writing a user's text about one, the instruction the
    real dataset gives for such a text (wording copied from it), the text's field that is the
    record's reference, and which of the user's marker sets (:meth:`DemoUser.markers`) it
    carries. Its entries have the task type's profile fields (registry), so they render as the
    real dataset's retrieval corpus does."""

    n_items: int
    write: Callable[[Random, DemoUser, int], dict[str, Any]]
    query: Callable[[dict[str, Any]], str]
    reference: str
    markers: str


def _abstract_query(entry: dict[str, Any]) -> str:
    items = " ".join(f"{i}. {item}" for i, item in enumerate(entry["items"], start=1))
    return (f'Generate an abstract for the title "{entry["title"]}" using the following '
            f'items: {items}')


def _review_query(entry: dict[str, Any]) -> str:
    return (f'Generate the review text written by a reviewer who has a given an overall '
            f'rating of "{entry["overall"]}" for a product with description '
            f'"{entry["description"]}". The summary of the review text is '
            f'"{entry["summary"]}".')


#: The task types the demo generator covers, in the registry's order (LongLaMP-shaped, then
#: LaMP-shaped).
WRITINGS: dict[str, DemoWriting] = {
    "abstract_generation": DemoWriting(len(PROBLEMS) * len(METHODS), abstract_record,
                                       _abstract_query, "abstract", "academic"),
    "product_review": DemoWriting(len(PRODUCTS), product_review, _review_query, "reviewText",
                                  "casual"),
    "topic_writing": DemoWriting(
        len(TOPICS), topic_post,
        lambda e: f'Generate the content for a reddit post "{e["input"]}".', "output", "casual"),
    "news_headline": DemoWriting(
        len(STORIES), news_item,
        lambda e: f"Generate a headline for the following article: {e['text']}", "title",
        "headline"),
    "scholarly_title": DemoWriting(
        len(PROBLEMS) * len(METHODS), scholar_item,
        lambda e: f"Generate a title for the following abstract of a paper: {e['abstract']}",
        "title", "title"),
    "tweet_paraphrase": DemoWriting(
        len(TWEETS), tweet_item,
        lambda e: ("Paraphrase the following tweet without any explanation before or after it: "
                   f"{e['paraphrase']}"), "text", "tweet"),
}
DEMO_TASKS = tuple(WRITINGS)
#: Long-form (LongLaMP-shaped) and short-form (LaMP-shaped) demo tasks.
LONG_TASKS = tuple(t for t in DEMO_TASKS if registry.task_type(t).benchmark == registry.LONGLAMP)
SHORT_TASKS = tuple(t for t in DEMO_TASKS if t not in LONG_TASKS)


def _writing(task_type: str) -> DemoWriting:
    if task_type not in WRITINGS:
        raise ValueError(f"unknown demo task type {task_type!r}; known: {', '.join(DEMO_TASKS)}")
    return WRITINGS[task_type]


def render_entry(task_type: str, entry: dict[str, str]) -> str:
    """A past writing as LongLaMP's / LaMP's retrieval corpus text for ``task_type``: its
    profile fields (registry) joined by a space."""
    _writing(task_type)
    return " ".join(entry[f] for f in registry.task_type(task_type).profile_fields)


def task_query(task_type: str, entry: dict[str, Any]) -> str:
    """The instruction the real dataset gives for ``entry`` (wording copied from it)."""
    return _writing(task_type).query(entry)


def user_markers(user: DemoUser, task_type: str) -> list[str]:
    """The strings that identify ``user`` in texts of ``task_type`` (see find_markers)."""
    return user.markers(_writing(task_type).markers)


def generate_task(task_type: str, *, n_users: int, records_per_user: int, profile_size: int,
                  seed: int) -> list[Record]:
    """``n_users * records_per_user`` records of ``task_type``, user-major order.

    Each user writes ``profile_size + records_per_user`` texts about distinct items (products,
    topics, stories ...) while the task's pool lasts: the first ``profile_size`` are the
    profile shared by all the user's records, the rest are the records' references.
    """
    writing = _writing(task_type)
    if records_per_user < 1 or profile_size < 1:
        raise ValueError("records_per_user and profile_size must be >= 1")
    n_items = writing.n_items
    records = []
    for user in make_users(n_users, seed):
        rng = seeded_rng("demo-task", seed, task_type, user.id)
        order = list(range(n_items))
        rng.shuffle(order)
        entries = [writing.write(rng, user, order[j % n_items])
                   for j in range(profile_size + records_per_user)]
        profile = [render_entry(task_type, e) for e in entries[:profile_size]]
        markers = user.markers(writing.markers)
        for k, entry in enumerate(entries[profile_size:]):
            reference = entry[writing.reference]
            records.append(Record(
                id=f"demo-{task_type}-{user.id}-r{k:02d}", task=task_type, user_id=user.id,
                query=writing.query(entry), reference=reference, profile=list(profile),
                meta={"dataset": "demo", "seed": seed,
                      "markers": find_markers(reference, markers),
                      "user_markers": markers}))
    return records
