"""Loads the demo generator's word and template pools, shipped as JSON next to the code.

Why data files: about half of the generator was literal word lists; as data they can be read and
extended without scrolling past code, and the code that uses them stays short. JSON has no
tuples, so every list is turned back into a tuple on load: the pools are immutable and compare
equal to what the generator always used (their order is part of the seeded output, so it is kept
exactly as written in the file). Each file is parsed once per process.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The pools of ``pools/<name>.json``: ``{POOL_NAME: tuple or dict of tuples}``."""
    path = resources.files(__package__).joinpath("pools", f"{name}.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"demo pool file {path}: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"demo pool file {path}: expected an object of named pools")
    return {k: _frozen(v) for k, v in data.items()}
