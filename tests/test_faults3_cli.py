"""Issue 31, items 14 and 15: one writer per run folder, and one clear line instead of a
traceback.

* Two ``percontrast train`` processes on one run folder: the second deleted the first's live
  checkpoint as "incomplete", or both "succeeded" with ``log.jsonl`` interleaving two runs. The
  main process now locks the folder before it touches a checkpoint; a second fails, naming the
  holder.
* A folder given as an input, an ``--out`` under a file, ``--spec '[1]'``, a negative ``--n``,
  a full disk, ``prepare_model`` onto a symlinked folder and an empty ``local`` model folder
  gave tracebacks (or a question about sentencepiece): each is now one ``error:`` line.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from percontrast import cli
from percontrast.io import DataError, atomic_dir, atomic_open


def percontrast(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "percontrast", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def _one_line_error(result: subprocess.CompletedProcess, rc: int = 1) -> str:
    assert result.returncode == rc, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr.strip().splitlines()[-1]


# ------------------------------------------------------------------------- item 14: the lock

HOLDER = textwrap.dedent("""
    import sys, time
    from percontrast.run_folder import lock_run_folder
    lock_run_folder(sys.argv[1])
    print("locked", flush=True)
    time.sleep(60)
""")


class _Accelerator:
    def wait_for_everyone(self):
        pass


def _trainer(run_dir: Path):
    return SimpleNamespace(args=SimpleNamespace(output_dir=str(run_dir / "checkpoints")),
                           accelerator=_Accelerator(), is_world_process_zero=lambda: True)


def test_a_second_training_in_one_run_folder_fails_before_touching_it(tmp_path):
    from percontrast.run_folder import resume_point

    run = tmp_path / "run"
    live = run / "checkpoints" / "checkpoint-2"  # being written by the first process
    live.mkdir(parents=True)
    (live / "model.safetensors").write_bytes(b"half")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code = ("import sys\nfrom percontrast.run_folder import resume_point\n"
                "from tests.test_faults3_cli import _trainer\n"
                "from pathlib import Path\n"
                "resume_point(_trainer(Path(sys.argv[1])), {})\n")
        second = subprocess.run([sys.executable, "-c", code, str(run)], capture_output=True,
                                text=True, timeout=60, cwd=Path(__file__).parents[1])
        assert second.returncode != 0
        assert "RunFolderLocked" in second.stderr
        assert f"{run}: another process is training into this run folder (pid {holder.pid} " \
               in second.stderr
        assert (live / "model.safetensors").read_bytes() == b"half"  # not deleted
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone (however it ended): the folder can be trained in again
    choice = resume_point(_trainer(run), {})
    assert choice.resume_from is None and not live.exists()  # now skipped and removed


def test_the_lock_error_is_one_cli_line(tmp_path):
    from percontrast.run_folder import RunFolderLocked

    def main():
        raise RunFolderLocked("run: another process is training into this run folder (pid 1)")

    with pytest.raises(SystemExit) as exit_:
        cli.run(main)
    assert exit_.value.code == 1


# ------------------------------------------------------------------------- item 15: the CLI

def test_spec_that_is_not_an_object_and_a_negative_n(tmp_path):
    line = _one_line_error(percontrast("load_task", "--task", "t", "--spec", "[1]", "--split",
                                       "train", "--out", "x.jsonl", cwd=tmp_path), rc=2)
    assert line == ("percontrast load_task: error: argument --spec: expected a JSON object "
                    "({...}), got a JSON list: '[1]'")
    spec = json.dumps({"type": "topic_writing", "source": "demo"})
    line = _one_line_error(percontrast("load_task", "--task", "t", "--spec", spec, "--split",
                                       "train", "--n", "-3", "--out", "x.jsonl", cwd=tmp_path),
                           rc=2)
    assert line == "percontrast load_task: error: argument --n: must be 0 or more, got -3"


def test_an_input_that_is_a_folder_and_an_out_under_a_file(tmp_path):
    (tmp_path / "folder").mkdir()
    line = _one_line_error(percontrast("retrieve", "--input", "folder", "--k", "2",
                                       "--retriever", "bm25", "--out", "o.jsonl", cwd=tmp_path))
    assert line == ("error: folder: Is a directory (a file was expected there, not a folder)")
    (tmp_path / "afile").write_text("x")
    spec = json.dumps({"type": "topic_writing", "source": "demo", "n_users": 2,
                       "records_per_user": 2})
    line = _one_line_error(percontrast("load_task", "--task", "t", "--spec", spec, "--split",
                                       "train", "--out", "afile/x.jsonl", cwd=tmp_path))
    assert line == "error: afile: File exists (a file is there, where a folder is needed)"


def test_prepare_model_onto_a_symlink_and_from_an_empty_local_folder(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    (tmp_path / "link").symlink_to(target)
    empty = tmp_path / "empty"
    empty.mkdir()
    spec = json.dumps({"source": "local", "path": str(empty)})
    line = _one_line_error(percontrast("prepare_model", "--name", "m", "--spec", spec,
                                       "--out", "out", cwd=tmp_path))
    assert line.startswith(f"error: {empty}: is not a saved model: no config.json, no a "
                           "tokenizer")
    assert "sentencepiece" not in line
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (empty / name).write_text("{}")
    line = _one_line_error(percontrast("prepare_model", "--name", "m", "--spec", spec,
                                       "--out", "link", cwd=tmp_path))
    assert line.startswith(f"error: link: is a symbolic link (to {target})")
    assert (target / "keep.txt").read_text() == "mine"
    with pytest.raises(DataError, match="is a symbolic link"), atomic_dir(tmp_path / "link"):
        pass


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 6294656 vs "
                 "6294544"),
])
def test_a_full_disk_is_one_line_naming_the_path(tmp_path, monkeypatch, capsys, error):
    monkeypatch.setattr(sys, "argv", ["percontrast train", "--out", str(tmp_path / "run")])

    def main():
        raise error

    with pytest.raises(SystemExit) as exit_:
        cli.run(main)
    assert exit_.value.code == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"error: the disk is full: writing {tmp_path / 'run'} failed (")
    assert "GB free there" in line and "resumes from its last complete checkpoint" in line


def test_a_full_disk_while_writing_names_the_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "out.json"
    with pytest.raises(OSError) as err, atomic_open(target) as fh:
        fh.write("{}")
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(target)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_an_incomplete_checkpoint_names_the_disk_as_a_cause(tmp_path):
    from percontrast.checkpoints import checkpoint_problem

    ckpt = tmp_path / "checkpoint-3"
    ckpt.mkdir()
    problem = checkpoint_problem(ckpt, {})
    assert problem.startswith("incomplete: no percontrast_checkpoint.json (the job stopped while "
                              "writing it: killed, out of time, or out of disk space; ")
    assert "GB free there now" in problem
