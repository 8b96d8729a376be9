"""Folder outputs take the umask's modes, whoever wrote the files in them (issue 20 item 10)."""

from __future__ import annotations

import os

from percontrast.io import atomic_dir


def test_atomic_dir_gives_every_file_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "sub").mkdir(mode=0o700)
            for name, mode in (("private", 0o600), ("sub/deep", 0o600), ("tool", 0o700)):
                (tmp / name).write_text("x")
                os.chmod(tmp / name, mode)
    finally:
        os.umask(old)
    out = tmp_path / "out"
    modes = {p.name: p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    # (the tool keeps its own x bit, filtered by the umask)
    assert modes == {"out": 0o750, "sub": 0o750, "private": 0o640, "deep": 0o640, "tool": 0o740}
