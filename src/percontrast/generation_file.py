"""The generations file (``results/generations/.../{eval_task}.jsonl``): its one writer and its
one reader.

One JSON line per test record, in the test file's order: ``id``, ``task``, ``output`` (the
sampled text), ``reference``, ``n_tokens``, ``finished`` (stopped at EOS rather than the token
budget) and ``prompt_persona`` (the system prompt as generation fitted it into the budget: what
marker recall counts as visible to the model, see ``percontrast.markers``). Kept free of torch so
the scoring jobs start fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from percontrast.io import DataError, iter_jsonl


def persona_text(messages: list[dict[str, str]]) -> str:
    """The system prompt the model saw (task instruction + the persona as fitted)."""
    return "\n".join(m["content"] for m in messages if m["role"] == "system")


def generation_rows(records: Sequence[Any], results: Iterable[Any],
                    conversations: Sequence[list[dict[str, str]]]) -> Iterator[dict[str, Any]]:
    """The file's rows for ``records``, their generations and the prompts they were sampled
    from (one each, in order)."""
    for r, g, m in zip(records, results, conversations, strict=True):
        yield {"id": r.id, "task": r.task, "output": g.text, "reference": r.reference,
               "n_tokens": g.n_tokens, "finished": g.finished, "prompt_persona": persona_text(m)}


def read_generations(path: str | os.PathLike, records: Sequence[Any]
                     ) -> tuple[list[str], list[str | None]]:
    """Outputs in the order of ``records`` (every record needs exactly one generation), and the
    persona text each prompt showed (``prompt_persona``; None in files that lack it)."""
    outputs: dict[str, str] = {}
    shown: dict[str, str | None] = {}
    for line, row in iter_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise DataError(path, "missing id", line=line, field="id")
        if not isinstance(row.get("output"), str):
            raise DataError(path, f"record {row['id']!r}: output must be a string", line=line,
                            field="output")
        if row["id"] in outputs:
            raise DataError(path, f"duplicate generation for record {row['id']!r}", line=line,
                            field="id")
        outputs[row["id"]] = row["output"]
        shown[row["id"]] = row.get("prompt_persona")
    missing = [r.id for r in records if r.id not in outputs]
    if missing:
        raise DataError(path, f"no generation for {len(missing)} test record(s), e.g. "
                        f"{missing[0]!r}", field="id")
    return [outputs[r.id] for r in records], [shown[r.id] for r in records]
