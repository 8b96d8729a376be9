"""Plumbing shared by the scripts in scripts/: argument types, logging, threads, seeding.

Scripts stay thin (parse arguments, call the library, write outputs atomically); what they have
in common lives here so each one reads as its few real lines.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import random
import sys
from typing import Any


def json_arg(text: str) -> Any:
    """argparse type for config fragments passed as JSON on the command line: a JSON object
    (every fragment a rule passes is one); ``[1]`` or ``"x"`` is a usage error, not a
    traceback where the command first reads a key."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg}): {text[:80]!r}") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object ({{...}}), got a JSON "
                                         f"{type(value).__name__}: {text[:80]!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (a count of records, a limit)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (threads, entries kept)."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def setup(description: str, argv_parser=None) -> logging.Logger:
    """Configure logging to stderr (Snakemake sends it to the rule's log:)."""
    logging.basicConfig(level=os.environ.get("PERCONTRAST_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    return logging.getLogger(description)


def set_threads(n: int | None) -> None:
    """Give torch the cores Snakemake granted the job, not every core of the machine."""
    if n:
        import torch

        torch.set_num_threads(n)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover
        pass


#: errno values of a full disk or an exhausted quota.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
#: How libraries that do not raise OSError report a write the disk had no room for (torch's
#: zip writer: "unexpected pos 6294656 vs 6294544"; safetensors: "os error 28").
_DISK_FULL_TEXT = ("No space left on device", "os error 28", "unexpected pos",
                   "PytorchStreamWriter failed writing file", "file write failed")


def _out_path() -> str:
    """The command's ``--out`` (where it writes), else the working directory."""
    argv = sys.argv
    for i, arg in enumerate(argv):
        if arg == "--out" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--out="):
            return arg.partition("=")[2]
    return os.getcwd()


def _free_space(path: str) -> str:
    import shutil

    where = os.path.abspath(path)
    while where and not os.path.exists(where):
        parent = os.path.dirname(where)
        if parent == where:
            break
        where = parent
    try:
        return f"{shutil.disk_usage(where).free / 1e9:.2f} GB free"
    except OSError:
        return "free space unknown"


def _disk_full(err: BaseException) -> str | None:
    """The message for an error that is a full disk, or None."""
    if isinstance(err, OSError) and err.errno in _DISK_FULL:
        path = err.filename or _out_path()
    elif any(text in str(err) for text in _DISK_FULL_TEXT):
        path = _out_path()
    else:
        return None
    return (f"the disk is full: writing {path} failed ({_free_space(path)} there; "
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else err!r}). Free "
            "some space and rerun: a training resumes from its last complete checkpoint")


def _os_error(err: OSError) -> str:
    """An OSError as one line that names the path and what was expected there."""
    where = err.filename if err.filename is not None else _out_path()
    extra = f" -> {err.filename2}" if getattr(err, "filename2", None) else ""
    hint = {errno.EISDIR: "a file was expected there, not a folder",
            errno.ENOTDIR: "a part of this path is a file, not a folder",
            errno.EEXIST: ("a file is there, where a folder is needed"
                           if os.path.isfile(where) else "it already exists"),
            errno.EACCES: "no permission", errno.EROFS: "the file system is read-only",
            errno.ENOENT: "no such file or folder"}.get(err.errno, "")
    return f"{where}{extra}: {err.strerror or err}" + (f" ({hint})" if hint else "")


def run(main) -> None:
    """Run a script's ``main``; turn expected errors into one clear line and exit status 1:
    bad data or config, a missing or misplaced file (a folder given as an input, an ``--out``
    under a file), a full disk (naming where), a run folder another process is training in."""
    from percontrast.config import ConfigError
    from percontrast.io import DataError

    expected: tuple[type[BaseException], ...] = (DataError, ConfigError)
    try:
        main()
    except Exception as err:
        llm = sys.modules.get("percontrast.llm")  # an LLMError needs the module imported
        folder = sys.modules.get("percontrast.run_folder")
        known = expected + ((llm.LLMError,) if llm else ()) + (
            (folder.RunFolderLocked,) if folder else ())
        full = _disk_full(err)
        if full is not None:
            message = full
        elif isinstance(err, known):
            message = str(err)
        elif isinstance(err, (FileNotFoundError, IsADirectoryError, NotADirectoryError,
                              FileExistsError, PermissionError)) or (
                isinstance(err, OSError) and err.errno == errno.EROFS):
            message = _os_error(err) if err.errno is not None else str(err)
        else:
            raise
        logging.getLogger("percontrast").error("%s", message)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
