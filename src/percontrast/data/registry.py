"""The task types and data sources: one registry each, one record per task type or source.

A ``task_registry`` entry of the config names a *type* (what the task is: its prompt, how its
profile is searched, how it is scored) and a *source* (where its records come from). Every place
that needs to know about one reads its record here: the records' validation, the prompt
templates, retrieval, the metrics' choice, the config checks, the loaders' dispatch, the
workflow's splits and the claims' task labels. Adding a source is its loader module plus one
:class:`Source` entry (and its name in the schema's enum, which a test keeps equal); adding a
task type is one :class:`TaskType` entry (and the schema's enum). ``tests/test_toy_source.py``
registers a toy source and carries it through.

Kept free of heavy imports (and of the loaders themselves, which are named by dotted path and
imported only when a split is loaded), because the Snakefile reads it while planning.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from percontrast.registries import FieldView, NameView, add_record, remove_added

#: The splits a task can have, in the order the workflow makes them.
SPLITS = ("train", "test")

#: How a task type is scored (percontrast.metrics): ROUGE-L and METEOR against the reference,
#: or exact match and F1 against gold answers (general QA, no persona).
METRICS = ("generation", "qa")


@dataclass(frozen=True)
class Template:
    """A task type's prompt (appendix D): the ``instruction`` always present; the persona part
    (``persona_intro``, the retrieved entries, ``persona_outro``); ``plain``, what replaces the
    persona part when it is removed. ``context`` = (label, meta key) puts a record's evidence
    (QA's context or passage) in the user turn before the question."""

    instruction: str
    persona_intro: str
    persona_outro: str
    plain: str
    context: tuple[str, str] | None = None


@dataclass(frozen=True)
class TaskType:
    """One task type: its name (records' ``task``, the config's ``type``), the short label of
    the paper's tables, what it is, the benchmark it comes from, its prompt template, the
    fields a past writing is rendered from for the retriever (``optional_profile_fields`` may
    be missing), the marker after which its query holds the retrieval query (None: the whole
    query), its metric and the splits it has (general QA is test-only)."""

    name: str
    label: str
    description: str
    benchmark: str
    template: Template
    profile_fields: tuple[str, ...] = ()
    optional_profile_fields: tuple[str, ...] = ()
    retrieval_query_after: str | None = None
    metric: str = "generation"
    splits: tuple[str, ...] = SPLITS

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ValueError(f"task type {self.name!r}: metric must be one of {METRICS}")
        if not self.splits or not set(self.splits) <= set(SPLITS):
            raise ValueError(f"task type {self.name!r}: splits must be among {SPLITS}")


@dataclass(frozen=True)
class Source:
    """One data source of ``task_registry`` entries.

    ``loader`` is a dotted path ``module.function`` (imported only when called) or a callable,
    ``loader(name, spec, split, *, seed) -> list[Record]``, given the entry with the defaults of
    ``options`` filled in and a split of :data:`SPLITS`. ``benchmark`` restricts the task types
    it gives to that benchmark's (None: any). ``required`` maps each key it needs to the
    message of its absence; ``options`` each key it reads besides to its default (None: unset);
    ``refused_elsewhere`` are options a task of another source may not set (they would do
    nothing there). Where the data lie, for the workflow to track them: ``path_files``, the
    file names (``{split}``, first found wins) a ``path`` folder holds per split; or
    ``split_files``, the keys of ``files.<split>`` naming a split's files, its own file first
    (the others may serve both splits). ``named_splits``: it reads a split by name (a hub split,
    a file per split), so ``splits:`` may rename them. ``bundled_splits``: the split names of the
    copy shipped in the package, read with ``bundled: true``."""

    name: str
    loader: str | Callable[..., Any]
    description: str
    benchmark: str | None = None
    required: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    refused_elsewhere: tuple[str, ...] = ()
    path_files: tuple[str, ...] = ()
    split_files: tuple[str, ...] = ()
    named_splits: bool = False
    bundled_splits: Mapping[str, str] | None = None

    def types(self) -> tuple[str, ...]:
        """The task types this source gives (every registered one without a benchmark)."""
        return tuple(t.name for t in _TASK_TYPES
                     if self.benchmark is None or t.benchmark == self.benchmark)

    def reads_path(self) -> bool:
        return "path" in self.required or "path" in self.options

    def bundled(self, spec: Mapping[str, Any]) -> bool:
        """Does ``spec`` read the copy shipped in the package?"""
        return self.bundled_splits is not None and bool(spec.get("bundled"))

    def with_defaults(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``spec`` with this source's option defaults filled in: what the loader is
        given (the config entry itself is left as written, so jobs' params do not change)."""
        return {**self.options, **spec}

    def load(self, name: str, spec: Mapping[str, Any], split: str, *, seed: int) -> list:
        loader = self.loader
        if isinstance(loader, str):
            module, _, function = loader.rpartition(".")
            loader = getattr(importlib.import_module(module), function)
        return loader(name, self.with_defaults(spec), split, seed=seed)


# --------------------------------------------------------------------------- task types

#: The benchmarks the task types come from that more than one place asks about (the config's
#: evaluation.lamp_tasks and evaluation.dialogue.tasks, the LongLaMP loader and the claims).
LONGLAMP, LAMP, PERSONA_CHAT = "LongLaMP", "LaMP", "Synthetic-Persona-Chat"

#: In the order of the paper's tables: LongLaMP, LaMP, dialogue, general QA. A list, so that
#: :func:`register_task_type` can add one; read it through the functions and views below.
_TASK_TYPES: list[TaskType] = [
    TaskType(
        "abstract_generation", "PAG", "LongLaMP personalized abstract generation (PAG)",
        LONGLAMP,
        # Appendix D.1, verbatim.
        Template("Your task is to write abstracts for the user's paper.",
                 "The following are abstracts from the user's previous papers:",
                 "Based on these examples, compose a new abstract that is consistent with the "
                 "user's preferred style and language.",
                 "Compose a new abstract."),
        profile_fields=("title", "abstract"),
        # its input reads "Generate an abstract for the title ... using the following items:
        # ..."; LongLaMP searches with the items only (extract_before_bullets), as the
        # instruction words would otherwise dominate BM25
        retrieval_query_after="items:"),
    TaskType(
        "product_review", "PRW", "LongLaMP personalized product review writing (PRW)",
        LONGLAMP,
        Template("Your task is to write product review texts for the user.",
                 "The following are the previous reviews from the user:",
                 "Based on these examples, compose a new product review that is consistent "
                 "with the user's preferred style and tone.",
                 "Compose a new product review."),
        # LongLaMP's corpus skips the parts a review lacks
        profile_fields=("overall", "summary", "description", "reviewText"),
        optional_profile_fields=("overall", "summary", "description", "reviewText")),
    TaskType(
        "topic_writing", "PTW", "LongLaMP personalized topic writing (PTW)", LONGLAMP,
        Template("Your task is to write on a given topic for the user.",
                 "The following are examples of the user's previous writings:",
                 "Based on these examples, write a new text on the given topic that is "
                 "consistent with the user's preferred style and tone.",
                 "Write a new text on the given topic."),
        profile_fields=("input", "output")),
    # LaMP (table 5): the paper gives no template; these follow the D.1 pattern.
    TaskType(
        "news_headline", "PNHG", "LaMP-4 personalized news headline generation (PNHG)", LAMP,
        Template("Your task is to write news headlines for the user.",
                 "The following are the user's previous articles with their headlines:",
                 "Based on these examples, write a headline that is consistent with the user's "
                 "preferred style.",
                 "Write a headline."),
        profile_fields=("title", "text")),
    TaskType(
        "scholarly_title", "PSTG", "LaMP-5 personalized scholarly title generation (PSTG)",
        LAMP,
        Template("Your task is to write titles for the user's papers.",
                 "The following are the user's previous papers:",
                 "Based on these examples, write a title that is consistent with the user's "
                 "preferred style.",
                 "Write a title."),
        profile_fields=("title", "abstract")),
    TaskType(
        "tweet_paraphrase", "PTP", "LaMP-7 personalized tweet paraphrasing (PTP)", LAMP,
        Template("Your task is to paraphrase tweets for the user.",
                 "The following are the user's previous tweets:",
                 "Based on these examples, paraphrase the tweet in the user's own style.",
                 "Paraphrase the tweet."),
        profile_fields=("text",)),
    # Personalized dialogue (Synthetic-Persona-Chat as a task); it searches with the
    # conversation so far.
    TaskType(
        "dialogue", "SPC", "Synthetic-Persona-Chat personalized dialogue: user 1's next turn",
        PERSONA_CHAT,
        Template("You are User 1 in a conversation with User 2. Write User 1's next turn only.",
                 "This is User 1's persona:",
                 "Stay consistent with this persona.",
                 "")),
    # General QA (table 11): no persona part at all; test-only.
    TaskType(
        "hotpotqa", "HotpotQA", "HotpotQA distractor setting (general QA, no persona)",
        "HotpotQA",
        Template("Answer the question using the context. Reply with the answer only.", "", "",
                 "", context=("Context", "context")),
        metric="qa", splits=("test",)),
    TaskType(
        "drop", "DROP", "DROP reading comprehension (general QA, no persona)", "DROP",
        Template("Answer the question using the passage. Reply with the answer only (a number, "
                 "a date or a short span).", "", "", "", context=("Passage", "passage")),
        metric="qa", splits=("test",)),
]


# --------------------------------------------------------------------------- sources

_SOURCES: list[Source] = [
    Source("demo", "percontrast.data.demo.source.load_split",
           "the bundled, seeded demo generator (percontrast.data.demo)",
           options={"n_users": 8, "records_per_user": 4, "profile_size": 8}),
    Source("longlamp", "percontrast.data.longlamp.load_split",
           "LongLaMP's user setting, from the hub or a local copy",
           benchmark=LONGLAMP, options={"path": None, "hub_id": None, "splits": None},
           path_files=("{split}.json", "{split}.jsonl"), named_splits=True),
    Source("lamp", "percontrast.data.lamp.load_split",
           "LaMP's official questions and outputs files",
           benchmark=LAMP, required={"files": "LaMP needs files.train/test"},
           split_files=("questions", "outputs")),
    Source("spc", "percontrast.data.spc.load_split",
           "Synthetic-Persona-Chat: the bundled copy, a local copy or the hub",
           benchmark=PERSONA_CHAT,
           options={"bundled": False, "speakers": (1,), "first_turns": None,
                    "grounded_only": False, "turns_per_conversation": 1,
                    "path": None, "hub_id": None, "splits": None},
           refused_elsewhere=("bundled", "speakers", "first_turns", "grounded_only",
                              "turns_per_conversation"),
           path_files=("Synthetic-Persona-Chat_{split}.csv",), named_splits=True,
           bundled_splits={"train": "valid", "test": "test"}),
    Source("hotpotqa", "percontrast.data.qa.load_hotpotqa_split",
           "a HotpotQA JSON Lines (or JSON list) file", benchmark="HotpotQA",
           required={"path": "hotpotqa needs a local path"}),
    Source("drop", "percontrast.data.qa.load_drop_split",
           "a DROP JSON Lines file", benchmark="DROP",
           required={"path": "drop needs a local path"}),
]

_BUILT_IN_TYPES = tuple(_TASK_TYPES)
_BUILT_IN_SOURCES = tuple(_SOURCES)


# --------------------------------------------------------------------------- live views

TASK_TYPE_NAMES: Sequence[str] = NameView(_TASK_TYPES)
#: Task types scored by exact match / F1 against gold answers (no persona, no ROUGE/METEOR).
QA_TASK_TYPES: Sequence[str] = NameView(_TASK_TYPES, lambda t: t.metric == "qa")
#: Task types with a train split: the ones a model can be trained on.
TRAINABLE_TASK_TYPES: Sequence[str] = NameView(_TASK_TYPES, lambda t: "train" in t.splits)
TASK_DESCRIPTIONS: Mapping[str, str] = FieldView(_TASK_TYPES, "description")
SOURCE_NAMES: Sequence[str] = NameView(_SOURCES)


# --------------------------------------------------------------------------- lookups

def task_type(name: str) -> TaskType:
    """The record of task type ``name``; an unknown one is a ``ValueError`` listing the known."""
    for t in _TASK_TYPES:
        if t.name == name:
            return t
    raise ValueError(f"unknown task type {name!r}; known: {', '.join(TASK_TYPE_NAMES)}")


def source(name: str) -> Source:
    """The record of source ``name``; an unknown one is a ``ValueError`` listing the known."""
    for s in _SOURCES:
        if s.name == name:
            return s
    raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}")


def task_types() -> tuple[TaskType, ...]:
    """Every registered task type, in order."""
    return tuple(_TASK_TYPES)


def sources() -> tuple[Source, ...]:
    """Every registered source, in order."""
    return tuple(_SOURCES)


def types_of(benchmark: str) -> tuple[str, ...]:
    """The task types of one benchmark (``"LaMP"`` -> its three), in order."""
    return tuple(t.name for t in _TASK_TYPES if t.benchmark == benchmark)


def source_split(spec: Mapping[str, Any], split: str) -> str:
    """The name under which task ``spec``'s source holds ``split``: the entry's ``splits:``
    renaming, else the bundled copy's names, else the split itself."""
    src = source(spec["source"])
    default = src.bundled_splits if src.bundled(spec) else {}
    return {**default, **(spec.get("splits") or {})}.get(split, split)


def local_split_file(spec: Mapping[str, Any], split: str) -> Path | None:
    """The local file task ``spec``'s ``split`` is read from when its source reads a ``path``:
    the path itself, or in a folder the first of the source's :attr:`Source.path_files` there
    (the first name when none is, for the loader to report). None without a path or when the
    entry reads the bundled copy."""
    src = source(spec["source"])
    path = spec.get("path")
    if not path or not src.reads_path() or src.bundled(spec):
        return None
    folder = Path(path)
    if not src.path_files or not folder.is_dir():
        return folder
    name = source_split(spec, split)
    candidates = [folder / pattern.format(split=name) for pattern in src.path_files]
    return next((c for c in candidates if c.is_file()), candidates[0])


# --------------------------------------------------------------------------- registering

def register_task_type(new: TaskType) -> None:
    """Add a task type (its name goes into the schema's enum too). A taken name is an error."""
    add_record(_TASK_TYPES, new, "task type")


def unregister_task_type(name: str) -> None:
    """Remove a task type added with :func:`register_task_type` (the built-in ones stay)."""
    remove_added(_TASK_TYPES, name, _BUILT_IN_TYPES)


def register_source(new: Source) -> None:
    """Add a source (its name goes into the schema's enum too). A taken name is an error."""
    add_record(_SOURCES, new, "source")


def unregister_source(name: str) -> None:
    """Remove a source added with :func:`register_source` (the built-in ones stay)."""
    remove_added(_SOURCES, name, _BUILT_IN_SOURCES)
