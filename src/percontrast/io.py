"""Atomic file output and line-numbered JSON Lines input.

Every file the pipeline writes goes through this module: content is written to a temporary file
in the destination folder and renamed into place, so a killed job never leaves a half-written file
that Snakemake (or a person) would take for a finished one. Reading JSON Lines reports the file and
line of a malformed record (bad JSON, bytes that are not UTF-8) instead of a bare
``JSONDecodeError`` / ``UnicodeDecodeError``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any


def _umask_mode(base: int) -> int:
    """``base`` filtered by the process umask: mkstemp/mkdtemp create 0600/0700, which would
    leave results unreadable to collaborators on a shared cluster file system."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def honour_umask(root: str | os.PathLike) -> None:
    """Give ``root`` and everything under it the modes a plain ``open`` / ``mkdir`` would under
    the process umask (0644 / 0755 under umask 022). Some writers create private files whatever
    the umask (safetensors writes ``model.safetensors`` 0600), so on a shared cluster other
    accounts could not read a trained model; executable bits are kept, filtered by the umask."""
    root = Path(root)
    file_mode, dir_mode = _umask_mode(0o666), _umask_mode(0o777)
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        st = path.stat()
        want = dir_mode if path.is_dir() else file_mode | _umask_mode(st.st_mode & 0o111)
        if st.st_mode & 0o777 != want:
            os.chmod(path, want)


class DataError(ValueError):
    """Bad input data. The message names the file, the record (line) and the field."""

    def __init__(self, path: str | os.PathLike, message: str, *, line: int | None = None,
                 field: str | None = None):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.field = str(path), line, field


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"
                ) -> Iterator[IO[Any]]:
    """Open a temp file next to ``path``; on success fsync and rename it to ``path``.

    On any exception the temp file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode(0o666))
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _name_full_disk(err, path)
        raise


def _name_full_disk(err: BaseException, path: Path) -> None:
    """A full disk while writing ``path``: raise it again naming ``path`` (a write's OSError
    names no file, and the CLI says which disk is full from it)."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT) \
            and err.filename is None:
        raise OSError(err.errno, err.strerror, str(path)) from err


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, indent=2, ensure_ascii=False, sort_keys=False)
        fh.write("\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> int:
    """Write one JSON object per line, atomically. Returns the number of rows written."""
    n = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n


def read_utf8(path: str | os.PathLike, *, bom: bool = False) -> str:
    """A text file's content; bytes that are not UTF-8 are a DataError naming the file, line
    and column (not a bare ``UnicodeDecodeError``). ``bom``: drop a leading byte-order mark."""
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as err:
        line_start = data.rfind(b"\n", 0, err.start) + 1
        raise DataError(path, _not_utf8(err, line_start),
                        line=data.count(b"\n", 0, err.start) + 1) from err


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    text = read_utf8(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, f"invalid JSON: {err.msg}", line=err.lineno) from err


def _not_utf8(err: UnicodeDecodeError, line_start: int = 0) -> str:
    column = err.start - line_start + 1
    return f"not valid UTF-8 (byte 0x{err.object[err.start]:02x} at column {column})"


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, object)`` for each non-blank line; bad JSON or bytes that are not
    UTF-8 name file and line (lines are decoded one by one: a whole-file text read would fail
    with a bare ``UnicodeDecodeError`` at an unknown line)."""
    path = Path(path)
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(path, _not_utf8(err), line=lineno) from err
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(path, f"invalid JSON: {err.msg}", line=lineno) from err


def read_jsonl(path: str | os.PathLike) -> list[Any]:
    return [obj for _, obj in iter_jsonl(path)]


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder beside ``path``; on success replace ``path`` with it.

    For outputs that are folders (a saved model): either the whole folder appears, or nothing.
    Everything in it gets the umask's modes (:func:`honour_umask`), whoever wrote it.
    """
    path = Path(path)
    if path.is_symlink():  # replacing it would delete the folder the link points to
        raise DataError(path, f"is a symbolic link (to {os.readlink(path)}); this output folder "
                        "is replaced whole when it is rewritten, which would delete what the "
                        "link points to: remove the link (a model folder elsewhere is a "
                        "registry entry with source: local and path: that folder)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        honour_umask(tmp)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        _name_full_disk(err, path)
        raise


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes; ``"missing"`` when it does not exist. Read once per process
    for a given (path, size, modification time), so a workflow that asks for every job's data
    files hashes each file once."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return _sha256_of(str(path.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_fingerprint(path: str | os.PathLike) -> str:
    """A short hash of every file under ``path`` (relative name, size, modification time), or
    ``"missing"``: it changes when a file is added, removed, replaced or edited. Sizes and times
    rather than bytes, because a model folder holds many GB of weights."""
    path = Path(path)
    if not path.is_dir():
        return "missing"
    rows = []
    for item in sorted(path.rglob("*")):
        if item.is_file():
            st = item.stat()
            rows.append(f"{item.relative_to(path).as_posix()}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
