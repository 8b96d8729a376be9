"""The one canonical record every task is converted to, and its JSON Lines (de)serialisation.

``{"id", "task", "user_id", "query", "reference", "profile": [str], "meta": {}}``

* ``task`` is a *task type* (:mod:`percontrast.data.registry`): it selects the prompt template
  and the retrieval query, whatever dataset the record came from (LongLaMP, LaMP, the demo
  generator...).
* ``profile`` holds the user's past writings, one string per entry, already rendered the way the
  retriever indexes them (LongLaMP's corpus fields); after retrieval it holds the top-k entries,
  best first.
* ``meta`` carries loader-specific extras (gold answer aliases for QA, source ids...).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from percontrast.data import registry
from percontrast.io import DataError, iter_jsonl, write_jsonl

#: Task types and what they are (a live view of :mod:`percontrast.data.registry`), and those
#: scored by exact match / F1 against gold answers (no persona, no ROUGE/METEOR).
TASK_TYPES: Mapping[str, str] = registry.TASK_DESCRIPTIONS
QA_TASK_TYPES: Sequence[str] = registry.QA_TASK_TYPES

_STR_FIELDS = ("id", "task", "user_id", "query", "reference")


@dataclass
class Record:
    id: str
    task: str
    user_id: str
    query: str
    reference: str
    profile: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: Any, *, path: str | os.PathLike = "<memory>",
                  line: int | None = None) -> Record:
        """Validate ``obj`` and build a Record; errors name path, line and field."""
        if not isinstance(obj, dict):
            raise DataError(path, f"expected a JSON object, got {type(obj).__name__}", line=line)
        for name in _STR_FIELDS:
            if name not in obj:
                raise DataError(path, "missing required field", line=line, field=name)
            if not isinstance(obj[name], str):
                raise DataError(path, f"must be a string, got {type(obj[name]).__name__}",
                                line=line, field=name)
        if obj["task"] not in TASK_TYPES:
            raise DataError(path, f"unknown task type {obj['task']!r}; known: "
                            f"{', '.join(TASK_TYPES)}", line=line, field="task")
        if not obj["reference"].strip():
            raise DataError(path, "empty reference", line=line, field="reference")
        profile = obj.get("profile", [])
        if not isinstance(profile, list) or not all(isinstance(p, str) for p in profile):
            raise DataError(path, "must be a list of strings", line=line, field="profile")
        meta = obj.get("meta", {})
        if not isinstance(meta, dict):
            raise DataError(path, "must be an object", line=line, field="meta")
        unknown = set(obj) - set(_STR_FIELDS) - {"profile", "meta"}
        if unknown:
            raise DataError(path, f"unknown field(s) {sorted(unknown)}", line=line,
                            field=sorted(unknown)[0])
        return cls(**{k: obj[k] for k in _STR_FIELDS}, profile=list(profile), meta=dict(meta))


def read_records(path: str | os.PathLike) -> list[Record]:
    """Read and validate a JSON Lines file of canonical records."""
    records, seen = [], {}
    for lineno, obj in iter_jsonl(path):
        rec = Record.from_dict(obj, path=path, line=lineno)
        if rec.id in seen:
            raise DataError(path, f"duplicate id {rec.id!r} (first on line {seen[rec.id]})",
                            line=lineno, field="id")
        seen[rec.id] = lineno
        records.append(rec)
    return records


def read_split(path: str | os.PathLike) -> list[Record]:
    """Read the records of one task split (``data/processed/{task}/{split}.jsonl``) that a job
    needs at least one of. An empty split is an error naming the task, the split and the file
    here, at the start, rather than a crash deep inside the Trainer or the generator."""
    records = read_records(path)
    if not records:
        task, split = Path(path).parent.name, Path(path).stem
        raise DataError(path, f"the {split!r} split of task {task!r} has no records")
    return records


def write_records(path: str | os.PathLike, records: Iterable[Record]) -> int:
    return write_jsonl(path, (r.to_dict() for r in records))
