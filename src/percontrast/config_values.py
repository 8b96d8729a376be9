"""Bounds on config *values* that a JSON schema cannot state, checked before anything else.

* **Size and depth.** YAML aliases let a few lines build a structure of 10^8 values
  (``&a [*b, *b, ...]`` eight levels deep). Loading shares the objects, so it is cheap, but the
  first consumer that copies or serialises the config (a job's params, a provenance hash) expands
  it and hangs the planner. Every value is walked once per reference with a budget, and a config
  deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_VALUES` is refused, naming the key.
* **Finite numbers.** ``.nan`` and ``.inf`` are YAML floats and pass every ``minimum`` /
  ``maximum`` of a schema (comparisons with NaN are false). A NaN learning rate, clip bound,
  temperature or threshold would fail late or silently; any non-finite number is refused.
"""

from __future__ import annotations

import math
from typing import Any

#: Deepest nesting of mappings and lists a config may have (the schema's own is 6).
MAX_DEPTH = 16
#: Most values a config may hold, counting a value once per place it appears (aliases expanded).
MAX_VALUES = 100_000


def key_path(parts: list[Any]) -> str:
    """``["a", "b", 0, "c"]`` -> ``"a.b[0].c"``, the way config errors name a key."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def value_problem(cfg: Any) -> str | None:
    """The first problem of ``cfg``'s values as ``"key.path: message"``, or None."""
    budget = MAX_VALUES
    stack: list[tuple[Any, list[Any]]] = [(cfg, [])]
    while stack:
        value, path = stack.pop()
        budget -= 1
        if budget < 0:
            return (f"{key_path(path[:3])}: the config holds more than {MAX_VALUES:,} values "
                    "once YAML aliases are expanded (an alias bomb?); write the values out")
        if len(path) > MAX_DEPTH:
            return (f"{key_path(path[:MAX_DEPTH])}: nested more than {MAX_DEPTH} levels deep; a "
                    "config value this deep is a mistake (or a YAML alias bomb)")
        if isinstance(value, bool):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            return f"{key_path(path)}: {value} is not a finite number"
        if isinstance(value, dict):
            stack.extend((v, [*path, k]) for k, v in reversed(list(value.items())))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, [*path, i]) for i, v in reversed(list(enumerate(value))))
    return None
