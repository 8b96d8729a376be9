"""Datasets shipped inside the package, each with its attribution and a checksum manifest.

A user's fresh clone (or an installed wheel) has no other copy of real data, so the default
pipeline's real-data arm reads these. Every open verifies the file against ``MANIFEST.json``
(SHA-256 and size): a file edited by hand, truncated or replaced fails loudly, naming the file,
rather than silently changing every number downstream.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from percontrast.io import DataError

ROOT = Path(__file__).resolve().parent
SPC = "synthetic_persona_chat"


def manifest(name: str) -> dict:
    """The ``MANIFEST.json`` of bundled dataset ``name`` (a folder beside this module)."""
    path = ROOT / name / "MANIFEST.json"
    if not path.is_file():
        raise DataError(path, f"no bundled dataset {name!r} (its MANIFEST.json is missing)")
    return json.loads(path.read_text(encoding="utf-8"))


def verify(path: str | Path, expected: dict) -> None:
    """Fail with a :class:`DataError` naming ``path`` unless its size and SHA-256 match."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "bundled data file is missing; reinstall percontrast")
    size = path.stat().st_size
    if size != expected["bytes"]:
        raise DataError(path, f"bundled data file has {size} bytes, its manifest says "
                        f"{expected['bytes']}: the file was changed; restore it (git checkout)")
    digest = _sha256(str(path), size, path.stat().st_mtime_ns)
    if digest != expected["sha256"]:
        raise DataError(path, f"bundled data file's SHA-256 is {digest}, its manifest says "
                        f"{expected['sha256']}: the file was changed; restore it (git checkout)")


@functools.lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:  # size/mtime: a changed file re-hashes
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bundled_file(name: str, filename: str, *, root: str | Path | None = None) -> Path:
    """The verified path of ``filename`` in bundled dataset ``name`` (``root`` replaces the
    package folder, for tests)."""
    folder = Path(root) if root is not None else ROOT / name
    files = manifest(name)["files"] if root is None else json.loads(
        (folder / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    if filename not in files:
        raise DataError(folder / filename, f"not part of the bundled {name} "
                        f"(it has {', '.join(sorted(files))})")
    path = folder / filename
    verify(path, files[filename])
    return path


def spc_csv(split: str, *, root: str | Path | None = None) -> Path:
    """The bundled Synthetic-Persona-Chat CSV of ``split`` (``valid`` or ``test``), verified."""
    return bundled_file(SPC, f"Synthetic-Persona-Chat_{split}.csv", root=root)
