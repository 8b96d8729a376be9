"""LongLaMP (user setting) -> canonical records, from the hub or from a local copy of its files.

The three long-form tasks the paper trains and evaluates on. Each hub record has ``input`` (the
instruction), ``output`` (the user's text) and ``profile`` (the user's past writings as dicts).
Profile entries are rendered to one string each exactly the way LongLaMP's retrievers index them
(its retrieval corpus), so BM25 / Contriever see the same text as in the original code.

A local copy is a folder holding ``{split}.json`` (a JSON list, the hub export) or
``{split}.jsonl`` (one record a line) with the hub's fields; pass it as ``path=`` so that runs
without network never touch the hub.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from percontrast.data import registry
from percontrast.data.hub import load_hub_dataset
from percontrast.data.records import Record
from percontrast.io import DataError, iter_jsonl, read_json

HUB_ID = "LongLaMP/LongLaMP"
SPLITS = ("train", "val", "test")

#: Record fields that, when present, identify the user (LongLaMP names it differently per task).
ID_FIELDS = ("name", "user_id", "id", "reviewerId", "author")


def hub_config(task_type: str) -> str:
    """The hub config of a task type: its "user" split setting, as in the paper."""
    return f"{task_type}_user"


class ProfileEntryError(ValueError):
    """A profile entry lacks a field or has one of the wrong type; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _check_task(task_type: str) -> registry.TaskType:
    """The registry record of a LongLaMP task type (its profile fields are LongLaMP's corpus
    fields, in the order they are joined)."""
    known = registry.types_of(registry.LONGLAMP)
    if task_type not in known:
        raise ValueError(f"unknown LongLaMP task type {task_type!r}; known: {', '.join(known)}")
    return registry.task_type(task_type)


def _as_text(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ProfileEntryError(field, f"must be a string, got {type(value).__name__}")
    return str(value).strip()


def render_profile_entry(task_type: str, entry: dict) -> str:
    """One profile entry as the retrieval-corpus string LongLaMP indexes for ``task_type``.

    The task type's ``profile_fields`` (:mod:`percontrast.data.registry`) joined by a space,
    empty parts skipped and its ``optional_profile_fields`` skipped when missing (a review's
    ``overall`` may be a number). Raises :class:`ProfileEntryError` naming the bad field.
    """
    record = _check_task(task_type)
    fields, optional = record.profile_fields, set(record.optional_profile_fields)
    if not isinstance(entry, dict):
        raise ProfileEntryError("", f"profile entry must be an object, got {type(entry).__name__}")
    parts = []
    for name in fields:
        value = entry.get(name)
        if value is None:
            if name in optional:
                continue
            raise ProfileEntryError(name, "missing required field")
        text = _as_text(value, name)
        if text:
            parts.append(text)
    if not parts:
        raise ProfileEntryError(fields[0], f"profile entry has none of {list(fields)}")
    return " ".join(parts)


def local_split_file(path: str | os.PathLike, split: str) -> Path:
    """``path`` itself if it is a file, else ``path/{split}.json`` or ``path/{split}.jsonl``."""
    path = Path(path)
    if path.is_file():
        return path
    candidates = [path / f"{split}.json", path / f"{split}.jsonl"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {split} split in {path}: expected one of "
                            f"{', '.join(str(c) for c in candidates)}")


def iter_local_records(file: Path) -> Iterator[tuple[int, int | None, Any]]:
    """Yield ``(record_index, line_or_None, obj)`` from a JSON list or a JSON Lines file."""
    if file.suffix == ".jsonl":
        for index, (lineno, obj) in enumerate(iter_jsonl(file)):
            yield index, lineno, obj
        return
    data = read_json(file)
    if not isinstance(data, list):
        raise DataError(file, f"expected a JSON list of records, got {type(data).__name__}")
    for index, obj in enumerate(data):
        yield index, None, obj


def record_error(source: str | os.PathLike, index: int, line: int | None, message: str,
                 field: str | None = None) -> DataError:
    """A DataError that names the file, the record (0-based index, and line for JSONL), field."""
    return DataError(source, f"record {index}: {message}", line=line, field=field)


def _source_id(obj: dict) -> str | None:
    for name in ID_FIELDS:
        value = obj.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def convert_record(task_type: str, split: str, index: int, obj: Any, *,
                   source: str | os.PathLike, line: int | None = None) -> Record:
    """Validate one LongLaMP record and build the canonical Record (errors name the record)."""
    if not isinstance(obj, dict):
        raise record_error(source, index, line, f"expected an object, got {type(obj).__name__}")
    for name in ("input", "output"):
        if name not in obj or obj[name] is None:
            raise record_error(source, index, line, "missing required field", name)
        if not isinstance(obj[name], str):
            raise record_error(source, index, line,
                               f"must be a string, got {type(obj[name]).__name__}", name)
    if not obj["output"].strip():
        raise record_error(source, index, line, "empty output (the reference text)", "output")
    profile = obj.get("profile")
    if profile is None:
        raise record_error(source, index, line, "missing required field", "profile")
    if not isinstance(profile, list):
        raise record_error(source, index, line,
                           f"must be a list of objects, got {type(profile).__name__}", "profile")
    rendered = []
    for j, entry in enumerate(profile):
        try:
            rendered.append(render_profile_entry(task_type, entry))
        except ProfileEntryError as err:
            field = f"profile[{j}]" + (f".{err.field}" if err.field else "")
            raise record_error(source, index, line, str(err), field) from None
    source_id = _source_id(obj)
    rec_id = f"{task_type}-{split}-{source_id if source_id is not None else index}"
    meta: dict[str, Any] = {"dataset": "LongLaMP", "split": split, "index": index}
    if source_id is not None:
        meta["source_id"] = source_id
    return Record(id=rec_id, task=task_type, user_id=source_id or rec_id,
                  query=obj["input"], reference=obj["output"], profile=rendered, meta=meta)


def load_longlamp(task_type: str, split: str, *, path: str | os.PathLike | None = None,
                  hub_id: str = HUB_ID, limit: int | None = None,
                  revision: str | None = None) -> list[Record]:
    """The first ``limit`` (all if None) records of one LongLaMP task and split.

    ``path`` (a folder with ``{split}.json``/``{split}.jsonl``, or the file itself) reads a local
    copy; otherwise the hub config ``{task_type}_user`` is loaded via :func:`load_hub_dataset`,
    which raises ``HubUnavailableError`` at once when the hub cannot be reached.
    """
    _check_task(task_type)
    if split not in SPLITS:
        raise ValueError(f"unknown LongLaMP split {split!r}; known: {', '.join(SPLITS)}")
    if path is not None:
        file = local_split_file(path, split)
        source: str | os.PathLike = file
        rows: Any = iter_local_records(file)
    else:
        config = hub_config(task_type)
        dataset = load_hub_dataset(
            hub_id, config, split=split, revision=revision,
            local_hint=(f"pass `path=` (the task's `path:` in the "
                        f"config) to a folder holding {split}.json or {split}.jsonl with the "
                        f"hub's records (input, output, profile)"))
        source = f"hf://datasets/{hub_id}/{config}/{split}"
        rows = ((i, None, row) for i, row in enumerate(dataset))
    records: list[Record] = []
    seen: set[str] = set()
    for index, line, obj in rows:
        if limit is not None and len(records) >= limit:
            break
        rec = convert_record(task_type, split, index, obj, source=source, line=line)
        if rec.id in seen:  # a user listed twice: keep ids unique and stable
            rec.id = f"{task_type}-{split}-{index}"
            if rec.id in seen:
                raise record_error(source, index, line, f"duplicate id {rec.id!r}")
        seen.add(rec.id)
        records.append(rec)
    return records


def load_split(name: str, spec: dict[str, Any], split: str, *, seed: int) -> list[Record]:
    """Source ``longlamp`` of a task_registry entry (its defaults filled in; registry)."""
    return load_longlamp(spec["type"], registry.source_split(spec, split), path=spec["path"],
                         hub_id=HUB_ID if spec["hub_id"] is None else spec["hub_id"])
