"""ALOE persona files -> the benchmark's (profile, personality) pairs.

ALOE ships its personas as "JSONL" files whose lines are bare JSON strings. Not every line is
one string: the training pool ``profile.jsonl`` has a line holding two strings written back to
back (``"...""..."``), so each line is decoded as a sequence of JSON values (strings, or lists of
strings) instead of with a single ``json.loads``.

The benchmark is the first ``n_profiles`` profiles x the first ``n_personalities``
personalities (20 x 5 = 100 conversations for the eval files), in profile-major order.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from percontrast.io import DataError, read_utf8

_DECODER = json.JSONDecoder()


def _decode_line(path: Path, lineno: int, line: str) -> list[str]:
    values, pos, text = [], 0, line.strip()
    while pos < len(text):
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise DataError(path, f"invalid JSON at column {err.pos + 1}: {err.msg}",
                            line=lineno) from err
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str):
                raise DataError(path, f"expected a JSON string (or list of strings), got "
                                f"{type(item).__name__}", line=lineno)
            if not item.strip():
                raise DataError(path, "empty persona string", line=lineno)
            values.append(item.strip())
        pos = end
        while pos < len(text) and text[pos] in " \t,":  # tolerate `"a", "b"` as well
            pos += 1
    return values


def read_aloe_lines(path: str | os.PathLike) -> list[str]:
    """All persona strings in an ALOE file, in order; blank lines skipped, bad lines named."""
    path = Path(path)
    result: list[str] = []
    for lineno, line in enumerate(read_utf8(path).split("\n"), start=1):
        if line.strip():
            result.extend(_decode_line(path, lineno, line))
    return result


def load_aloe_benchmark(profile_path: str | os.PathLike, personality_path: str | os.PathLike, *,
                        n_profiles: int = 20, n_personalities: int = 5) -> list[dict]:
    """``[{"id": "p{i:02d}-s{j}", "profile", "personality"}]`` for i < n_profiles, j < n_pers.

    Profile-major order (all personalities of profile 0 first). Too few personas -> DataError.
    """
    profiles = read_aloe_lines(profile_path)
    personalities = read_aloe_lines(personality_path)
    if len(profiles) < n_profiles:
        raise DataError(profile_path, f"has {len(profiles)} profiles, {n_profiles} needed")
    if len(personalities) < n_personalities:
        raise DataError(personality_path,
                        f"has {len(personalities)} personalities, {n_personalities} needed")
    return [{"id": f"p{i:02d}-s{j}", "profile": profiles[i], "personality": personalities[j]}
            for i in range(n_profiles) for j in range(n_personalities)]


def aloe_conversations(spec: dict[str, Any], seed: int) -> list[dict[str, str]]:
    """The profile x personality pairs ALOE talks through (``evaluation.aloe``): from the
    benchmark's files (``source: files``) or the demo stand-ins (``source: demo``). The one
    place that dispatches on the source."""
    from percontrast.config import section_defaults

    spec = section_defaults("evaluation.aloe", spec)
    n_profiles, n_personalities = spec["n_profiles"], spec["n_personalities"]
    if spec["source"] == "files":
        return load_aloe_benchmark(spec["profile_path"], spec["personality_path"],
                                   n_profiles=n_profiles, n_personalities=n_personalities)
    from percontrast.data.demo import generate_aloe_like

    return generate_aloe_like(n_profiles, n_personalities, seed)
