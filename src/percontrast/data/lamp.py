"""LaMP-4 / LaMP-5 / LaMP-7 (short-form personalization) -> canonical records.

Read from the benchmark's official files: a questions file (a JSON list of ``{"id", "input",
"profile": [{"id", ...}]}``) and an outputs file (``{"task": "LaMP_4", "golds": [{"id",
"output"}]}``). Questions and golds are joined on ``id``; profile entries are rendered as LaMP's
own retriever indexes them (the task type's profile fields in :mod:`percontrast.data.registry`,
joined by a space).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from percontrast.data import registry
from percontrast.data.records import Record
from percontrast.io import DataError, read_json

#: LaMP number -> the task type it is.
LAMP_TASKS: dict[int, str] = {4: "news_headline", 5: "scholarly_title", 7: "tweet_paraphrase"}


def lamp_number(number: int | str) -> int:
    """Accept 4, "4", "LaMP_4" or "LaMP-4"; only the generation tasks we support."""
    text = str(number).strip()
    for prefix in ("lamp_", "lamp-", "lamp"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
            break
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n not in LAMP_TASKS:
        raise ValueError(f"unsupported LaMP task {number!r}; supported: "
                         f"{', '.join(f'LaMP_{k}' for k in LAMP_TASKS)}")
    return n


class _FieldError(ValueError):
    """A bad profile-entry field; ``field`` names it so the loader can point at it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def render_lamp_entry(number: int | str, entry: Any) -> str:
    """One profile entry as the text LaMP's retriever indexes; ValueError names a bad field."""
    fields = registry.task_type(LAMP_TASKS[lamp_number(number)]).profile_fields
    if not isinstance(entry, dict):
        raise ValueError(f"profile entry must be an object, got {type(entry).__name__}")
    parts = []
    for name in fields:
        if name not in entry or entry[name] is None:
            raise _FieldError(name, "missing required field")
        if not isinstance(entry[name], str):
            raise _FieldError(name, f"must be a string, got {type(entry[name]).__name__}")
        if entry[name].strip():
            parts.append(entry[name].strip())
    if not parts:  # an entry the retriever would index as "" (LongLaMP's loader refuses it too)
        raise _FieldError(fields[0], f"profile entry has no text in any of {list(fields)}")
    return " ".join(parts)


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        return None
    return str(value).strip()


def _read_golds(outputs_path: Path, number: int) -> dict[str, str]:
    data = read_json(outputs_path)
    if isinstance(data, dict):
        task = data.get("task")
        if task is not None and str(task).replace("-", "_").lower() != f"lamp_{number}":
            raise DataError(outputs_path, f"task is {task!r} but LaMP_{number} was asked for",
                            field="task")
        if "golds" not in data:
            raise DataError(outputs_path, "missing required field", field="golds")
        golds = data["golds"]
    else:
        golds = data
    if not isinstance(golds, list):
        raise DataError(outputs_path, f"must be a list, got {type(golds).__name__}", field="golds")
    result: dict[str, str] = {}
    first: dict[str, int] = {}
    for i, gold in enumerate(golds):
        if not isinstance(gold, dict):
            raise DataError(outputs_path, f"gold {i}: expected an object", field="golds")
        gid = _id(gold.get("id"))
        if gid is None:
            raise DataError(outputs_path, f"gold {i}: missing or bad id", field=f"golds[{i}].id")
        output = gold.get("output")
        if not isinstance(output, str) or not output.strip():
            raise DataError(outputs_path, f"gold {i} (id {gid}): missing or empty output",
                            field=f"golds[{i}].output")
        if gid in first:  # which of the two is the reference? Refuse rather than keep the last
            same = "the same output" if result[gid] == output else "different outputs"
            raise DataError(outputs_path, f"gold {i}: duplicate id {gid!r} (first at gold "
                            f"{first[gid]}, with {same})", field=f"golds[{i}].id")
        first[gid] = i
        result[gid] = output
    return result


def load_lamp(number: int | str, questions_path: str | os.PathLike,
              outputs_path: str | os.PathLike, *, limit: int | None = None) -> list[Record]:
    """The first ``limit`` questions of LaMP-``number`` joined with their gold outputs.

    Every question must have a gold (else DataError naming both files and the id); golds without
    a question are ignored (an outputs file may cover more than one questions file).
    """
    n = lamp_number(number)
    task_type = LAMP_TASKS[n]
    questions_path, outputs_path = Path(questions_path), Path(outputs_path)
    questions = read_json(questions_path)
    if not isinstance(questions, list):
        raise DataError(questions_path, f"expected a JSON list of questions, got "
                        f"{type(questions).__name__}")
    golds = _read_golds(outputs_path, n)
    records: list[Record] = []
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if limit is not None and len(records) >= limit:
            break
        if not isinstance(q, dict):
            raise DataError(questions_path, f"record {i}: expected an object, got "
                            f"{type(q).__name__}")
        qid = _id(q.get("id"))
        if qid is None:
            raise DataError(questions_path, f"record {i}: missing or bad id", field="id")
        if qid in seen:
            raise DataError(questions_path, f"record {i}: duplicate id {qid!r}", field="id")
        seen.add(qid)
        if not isinstance(q.get("input"), str):
            raise DataError(questions_path, f"record {i} (id {qid}): missing or not a string",
                            field="input")
        profile = q.get("profile")
        if not isinstance(profile, list):
            raise DataError(questions_path, f"record {i} (id {qid}): missing or not a list",
                            field="profile")
        rendered = []
        for j, entry in enumerate(profile):
            try:
                rendered.append(render_lamp_entry(n, entry))
            except _FieldError as err:
                raise DataError(questions_path, f"record {i} (id {qid}): {err}",
                                field=f"profile[{j}].{err.field}") from None
            except ValueError as err:
                raise DataError(questions_path, f"record {i} (id {qid}): {err}",
                                field=f"profile[{j}]") from None
        if qid not in golds:
            raise DataError(questions_path, f"question id {qid!r} has no gold output in "
                            f"{outputs_path}", field="id")
        records.append(Record(
            id=f"LaMP_{n}-{qid}", task=task_type, user_id=f"LaMP_{n}-{qid}", query=q["input"],
            reference=golds[qid], profile=rendered,
            meta={"dataset": f"LaMP_{n}", "source_id": qid}))
    return records


def load_split(name: str, spec: dict[str, Any], split: str, *, seed: int) -> list[Record]:
    """Source ``lamp`` of a task_registry entry (registry): the split's ``files``."""
    number = next(n for n, t in LAMP_TASKS.items() if t == spec["type"])
    files = spec["files"][split]
    return load_lamp(number, files["questions"], files["outputs"])
