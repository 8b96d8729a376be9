"""HotpotQA and DROP -> canonical records, for the "does personalization hurt general QA" check.

Both are read from one JSON object a line (the samples in shared/data; HotpotQA's original dev
file is a JSON list, also accepted). No persona: ``profile`` is empty and ``user_id`` is "".
The gold answers go into ``meta["answers"]`` so the metrics code can score with the official
rules (HotpotQA: answer strings; DROP: the raw answer dicts its evaluator expects).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from percontrast.data.records import Record
from percontrast.io import DataError, iter_jsonl, read_json


def _iter_objects(path: Path) -> Iterator[tuple[int | None, int, Any]]:
    """``(line, index, obj)`` from JSON Lines, or from a JSON list (line None) if it is one."""
    with open(path, "rb") as fh:  # bytes: text that is not UTF-8 is reported with its line
        head = fh.read(4096).lstrip()
    if head.startswith(b"["):
        data = read_json(path)
        for index, obj in enumerate(data):
            yield None, index, obj
        return
    for index, (lineno, obj) in enumerate(iter_jsonl(path)):
        yield lineno, index, obj


def _where(index: int, ident: str | None = None) -> str:
    return f"record {index}" + (f" ({ident})" if ident else "")


def _check_unique(path: Path, seen: dict[str, str], qid: str, where: str, line: int | None,
                  field: str) -> None:
    """Refuse a question id seen before (its predictions and scores are keyed by id: the
    generation and score jobs would fail on it a step later, naming an interim file)."""
    here = where + (f", line {line}" if line is not None else "")
    if qid in seen:
        raise DataError(path, f"{where}: duplicate {field.rpartition('.')[2]} {qid!r} (first at "
                        f"{seen[qid]})", line=line, field=field)
    seen[qid] = here


def render_hotpot_context(context: list) -> str:
    """``[[title, [sentences]], ...]`` -> ``Title: sentences`` paragraphs, one a line.

    HotpotQA sentences carry their own leading spaces, so they are concatenated as they are.
    """
    return "\n".join(f"{title}: {''.join(sentences).strip()}" for title, sentences in context)


def _check_context(path: Path, line: int | None, where: str, context: Any) -> None:
    if not isinstance(context, list):
        raise DataError(path, f"{where}: must be a list", line=line, field="context")
    for j, para in enumerate(context):
        ok = (isinstance(para, (list, tuple)) and len(para) == 2 and isinstance(para[0], str)
              and isinstance(para[1], list) and all(isinstance(s, str) for s in para[1]))
        if not ok:
            raise DataError(path, f"{where}: expected [title, [sentences]]", line=line,
                            field=f"context[{j}]")


def load_hotpotqa(path: str | os.PathLike, *, limit: int | None = None) -> list[Record]:
    """HotpotQA (distractor setting) questions with their 10 context paragraphs in meta."""
    path = Path(path)
    records: list[Record] = []
    seen: dict[str, str] = {}
    for line, index, obj in _iter_objects(path):
        if limit is not None and len(records) >= limit:
            break
        if not isinstance(obj, dict):
            raise DataError(path, f"{_where(index)}: expected an object", line=line)
        qid = obj.get("_id")
        if not isinstance(qid, str) or not qid.strip():
            raise DataError(path, f"{_where(index)}: missing or not a string", line=line,
                            field="_id")
        _check_unique(path, seen, qid, _where(index), line, "_id")
        where = _where(index, qid)
        for name in ("question", "answer"):
            if not isinstance(obj.get(name), str) or not obj[name].strip():
                raise DataError(path, f"{where}: missing, empty or not a string", line=line,
                                field=name)
        _check_context(path, line, where, obj.get("context"))
        meta: dict[str, Any] = {
            "dataset": "hotpotqa", "context": render_hotpot_context(obj["context"]),
            "answers": [obj["answer"]], "type": obj.get("type"), "level": obj.get("level"),
        }
        if "supporting_facts" in obj:
            meta["supporting_facts"] = obj["supporting_facts"]
        records.append(Record(id=qid, task="hotpotqa", user_id="", query=obj["question"],
                              reference=obj["answer"], profile=[], meta=meta))
    return records


def drop_answer_text(answer: dict) -> str:
    """A DROP answer dict as text: the number, else the spans joined by ", ", else the date
    parts present as "month day year"; "" when all are empty."""
    number = answer.get("number")
    if number not in (None, "") and str(number).strip():
        return str(number).strip()
    spans = [s.strip() for s in answer.get("spans") or [] if isinstance(s, str) and s.strip()]
    if spans:
        return ", ".join(spans)
    date = answer.get("date") or {}
    parts = [str(date.get(k)).strip() for k in ("month", "day", "year")
             if date.get(k) not in (None, "") and str(date.get(k)).strip()]
    return " ".join(parts)


def _check_answer(path: Path, line: int | None, where: str, field: str, answer: Any) -> None:
    if not isinstance(answer, dict):
        raise DataError(path, f"{where}: must be an object", line=line, field=field)
    spans = answer.get("spans", [])
    if not isinstance(spans, list) or not all(isinstance(s, str) for s in spans):
        raise DataError(path, f"{where}: must be a list of strings", line=line,
                        field=f"{field}.spans")
    date = answer.get("date", {})
    if not isinstance(date, dict):
        raise DataError(path, f"{where}: must be an object", line=line, field=f"{field}.date")
    if isinstance(answer.get("number"), (dict, list, bool)):
        raise DataError(path, f"{where}: must be a number or string", line=line,
                        field=f"{field}.number")


def load_drop(path: str | os.PathLike, *, limit: int | None = None) -> list[Record]:
    """One record per DROP question (a line holds a passage and all its questions).

    ``meta["answers"]`` = ``[answer] + validated_answers``, raw, as the official evaluator takes.
    """
    path = Path(path)
    records: list[Record] = []
    seen: dict[str, str] = {}
    for line, index, obj in _iter_objects(path):
        if limit is not None and len(records) >= limit:
            break
        if not isinstance(obj, dict):
            raise DataError(path, f"{_where(index)}: expected an object", line=line)
        section = obj.get("section_id")
        where = _where(index, section if isinstance(section, str) else None)
        if not isinstance(obj.get("passage"), str) or not obj["passage"].strip():
            raise DataError(path, f"{where}: missing, empty or not a string", line=line,
                            field="passage")
        qa_pairs = obj.get("qa_pairs")
        if not isinstance(qa_pairs, list):
            raise DataError(path, f"{where}: missing or not a list", line=line, field="qa_pairs")
        for k, qa in enumerate(qa_pairs):
            if limit is not None and len(records) >= limit:
                break
            field = f"qa_pairs[{k}]"
            if not isinstance(qa, dict):
                raise DataError(path, f"{where}: expected an object", line=line, field=field)
            qid = qa.get("query_id")
            if not isinstance(qid, str) or not qid.strip():
                raise DataError(path, f"{where}: missing query_id", line=line,
                                field=f"{field}.query_id")
            _check_unique(path, seen, qid, f"{where}, {field}", line, f"{field}.query_id")
            qwhere = f"{where}, query_id {qid}"
            if not isinstance(qa.get("question"), str) or not qa["question"].strip():
                raise DataError(path, f"{qwhere}: missing or empty", line=line,
                                field=f"{field}.question")
            _check_answer(path, line, qwhere, f"{field}.answer", qa.get("answer"))
            validated = qa.get("validated_answers") or []
            if not isinstance(validated, list):
                raise DataError(path, f"{qwhere}: must be a list", line=line,
                                field=f"{field}.validated_answers")
            for v, ans in enumerate(validated):
                _check_answer(path, line, qwhere, f"{field}.validated_answers[{v}]", ans)
            reference = drop_answer_text(qa["answer"])
            if not reference:
                raise DataError(path, f"{qwhere}: answer has no number, span or date", line=line,
                                field=f"{field}.answer")
            records.append(Record(
                id=qid, task="drop", user_id="", query=qa["question"], reference=reference,
                profile=[], meta={"dataset": "drop", "passage": obj["passage"].strip(),
                                  "answers": [qa["answer"], *validated],
                                  "section_id": section}))
    return records


def load_hotpotqa_split(name: str, spec: dict[str, Any], split: str, *, seed: int
                        ) -> list[Record]:
    """Source ``hotpotqa`` of a task_registry entry (registry): its ``path``, test-only."""
    return load_hotpotqa(spec["path"])


def load_drop_split(name: str, spec: dict[str, Any], split: str, *, seed: int) -> list[Record]:
    """Source ``drop`` of a task_registry entry (registry): its ``path``, test-only."""
    return load_drop(spec["path"])
