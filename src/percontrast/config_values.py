"""Bounds on config *values* that a JSON schema cannot state, checked before anything else.

* **Size and depth.** YAML aliases let a few lines build a structure of 10^8 values
  (``&a [*b, *b, ...]`` eight levels deep). Loading shares the objects, so it is cheap, but the
  first consumer that copies or serialises the config (a job's params, a provenance hash) expands
  it and hangs the planner. Every value is walked once per reference with a budget, and a config
  deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_VALUES` is refused, naming the key.
* **Size.** Jobs receive the config (the report jobs nearly all of it) as JSON on their command
  line, which Linux limits to 128 KiB an argument: a config larger than
  :data:`MAX_CONFIG_BYTES` is refused, naming its largest value, before any job runs.
* **Finite numbers.** ``.nan`` and ``.inf`` are YAML floats and pass every ``minimum`` /
  ``maximum`` of a schema (comparisons with NaN are false). A NaN learning rate, clip bound,
  temperature or threshold would fail late or silently; any non-finite number is refused.
"""

from __future__ import annotations

import json
import math
import shlex
from typing import Any

#: Deepest nesting of mappings and lists a config may have (the schema's own is 6).
MAX_DEPTH = 16
#: Most values a config may hold, counting a value once per place it appears (aliases expanded).
MAX_VALUES = 100_000
#: Largest config, as the shell-quoted JSON a job receives on its command line (the report jobs
#: get nearly all of it in one argument). Linux refuses an argument over 128 KiB
#: (MAX_ARG_STRLEN), and Snakemake passes the whole shell command to ``bash -c`` as one: half
#: of it leaves room for the rest of the command. The shipped configs are 3-6 KB.
MAX_CONFIG_BYTES = 64 * 1024


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
    return size_problem(cfg)


def _size(value: Any) -> int:
    """Bytes of ``value`` on a job's command line: shell-quoted JSON, as the rules pass it."""
    return len(shlex.quote(json.dumps(value, sort_keys=True, default=str)))


def size_problem(cfg: Any) -> str | None:
    """``"key.path: message"`` when the config is too large to pass on a command line (naming
    the largest value in it), or None. Without this check an oversized value passed validation
    and every training job, and then the report jobs died with "Argument list too long"."""
    total = _size(cfg)
    if total <= MAX_CONFIG_BYTES:
        return None
    path: list[Any] = []
    value = cfg
    while isinstance(value, (dict, list, tuple)) and value:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        key, value = max(items, key=lambda kv: _size(kv[1]))
        path.append(key)
    return (f"{key_path(path)}: {_size(value):,} bytes, which makes the config {total:,} bytes "
            f"as the JSON jobs receive on their command line; at most {MAX_CONFIG_BYTES:,} "
            "(Linux refuses a command-line argument over 128 KiB: the jobs would fail with "
            "'Argument list too long'). Put long text in a file and name the file")
