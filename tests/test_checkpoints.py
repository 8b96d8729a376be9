"""Resuming a killed training run: half-written and damaged checkpoints, torn logs, checkpoints of
other settings, and the run's loss over its resumes (percontrast.checkpoints, run_training)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from percontrast.data.records import write_records
from percontrast.models import load_prepared, prepare_model
from percontrast.run_folder import whole_run_loss
from percontrast.training import run_training
from tests.test_training import TINY, TRAINING, CrashAt, make_records

REPO = Path(__file__).resolve().parents[1]
RUN = {"method": "perce", "lr": 1e-3, "clip": (0.8, 5.0), "batch_size": 2, "seed": 0}


@pytest.fixture(scope="module")
def reference(tiny_dir, tmp_path_factory):
    """An uninterrupted 6-step run: what every resumed run must end as."""
    out = tmp_path_factory.mktemp("ref") / "run"
    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    return summary, out


@pytest.fixture(scope="module")
def crashed(tiny_dir, tmp_path_factory):
    """A run killed right after saving checkpoint-4 (checkpoint-2 and -4 complete, log 1..4)."""
    out = tmp_path_factory.mktemp("crashed") / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_dir, make_records(8), out, training=TRAINING, callbacks=[CrashAt(4)],
                     **RUN)
    return out


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def log_steps(run: Path) -> list[int]:
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return [r["step"] for r in rows if "loss" in r]


def assert_same_model(a: Path, b: Path) -> None:
    ma, _ = load_prepared(a / "model", device="cpu")
    mb, _ = load_prepared(b / "model", device="cpu")
    for (name, pa), (_, pb) in zip(ma.named_parameters(), mb.named_parameters(), strict=True):
        torch.testing.assert_close(pa, pb, atol=1e-5, rtol=1e-4, msg=name)


KILL_WHILE_SAVING = """
import json, os, signal, sys
import torch
from transformers import Trainer
from percontrast.data.records import read_records
from percontrast.training import run_training

torch.set_num_threads(1)
save = Trainer._save_optimizer_and_scheduler


def killed(self, output_dir):  # SIGKILL after the weights, before optimizer and trainer state
    if self.state.global_step == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    save(self, output_dir)


Trainer._save_optimizer_and_scheduler = killed
a = json.loads(sys.argv[1])
run_training(a["model"], read_records(a["data"]), a["out"], training=a["training"],
             method="perce", lr=1e-3, clip=(0.8, 5.0), batch_size=2, seed=0)
"""


def test_a_run_killed_while_saving_resumes_from_the_last_complete_checkpoint(
        tiny_dir, reference, tmp_path):
    data, out = tmp_path / "train.jsonl", tmp_path / "run"
    write_records(data, make_records(8))
    proc = subprocess.run(
        [sys.executable, "-c", KILL_WHILE_SAVING,
         json.dumps({"model": str(tiny_dir), "data": str(data), "out": str(out),
                     "training": TRAINING})],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-3000:]
    half = out / "checkpoints" / "checkpoint-4"
    assert (half / "model.safetensors").is_file()  # killed in the middle of writing it
    assert not (half / "trainer_state.json").exists()

    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    assert summary["resumed_from"] == "checkpoint-2" and summary["global_step"] == 6
    assert [s["checkpoint"] for s in summary["skipped_checkpoints"]] == ["checkpoint-4"]
    assert "incomplete" in summary["skipped_checkpoints"][0]["reason"]
    assert log_steps(out) == [1, 2, 3, 4, 5, 6]
    assert_same_model(out, reference[1])
    # done.json's loss is over all 6 steps, not the 4 after the resume
    assert summary["train_loss"] == pytest.approx(reference[0]["train_loss"], rel=1e-4)
    assert summary["train_loss_this_session"] != pytest.approx(summary["train_loss"], rel=1e-3)


def _garbage_safetensors(ckpt: Path) -> None:
    path = ckpt / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[:64] = b"\x13" * 64  # header length and JSON header overwritten, same size
    path.write_bytes(bytes(data))


def _truncate_optimizer(ckpt: Path) -> None:
    path = ckpt / "optimizer.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage_state(ckpt: Path) -> None:
    path = ckpt / "trainer_state.json"
    path.write_text('{"global_step": 4, "log_history": [{"loss": 1.0, "st')


def _half_written(ckpt: Path) -> None:  # as the Trainer leaves it when killed before the state
    for name in ("trainer_state.json", "rng_state.pth", "percontrast_checkpoint.json"):
        (ckpt / name).unlink(missing_ok=True)


@pytest.mark.parametrize("damage, named", [
    (_garbage_safetensors, "model.safetensors"),
    (_truncate_optimizer, "optimizer.pt"),
    (_garbage_state, "trainer_state.json"),
    (_half_written, "incomplete"),
], ids=["corrupt-weights", "truncated-optimizer", "garbage-state", "half-written"])
def test_a_damaged_checkpoint_is_skipped_for_the_previous_one(tiny_dir, reference, crashed,
                                                              tmp_path, damage, named):
    out = copy_run(crashed, tmp_path / "run")
    damage(out / "checkpoints" / "checkpoint-4")
    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    assert summary["resumed_from"] == "checkpoint-2" and summary["global_step"] == 6
    (skipped,) = summary["skipped_checkpoints"]
    assert skipped["checkpoint"] == "checkpoint-4" and named in skipped["reason"]
    assert log_steps(out) == [1, 2, 3, 4, 5, 6]
    assert_same_model(out, reference[1])
    assert summary["train_loss"] == pytest.approx(reference[0]["train_loss"], rel=1e-4)


def test_a_torn_last_log_line_is_dropped(tiny_dir, reference, crashed, tmp_path, caplog):
    out = copy_run(crashed, tmp_path / "run")
    with open(out / "log.jsonl", "a") as fh:
        fh.write('{"step": 5, "loss": 9.1, "grad_no')  # killed while appending step 5's row
    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    assert summary["resumed_from"] == "checkpoint-4" and summary["skipped_checkpoints"] == []
    assert log_steps(out) == [1, 2, 3, 4, 5, 6]
    assert "torn last line" in caplog.text
    assert summary["train_loss"] == pytest.approx(reference[0]["train_loss"], rel=1e-4)


def test_a_checkpoint_of_other_training_settings_is_never_resumed(tiny_dir, crashed, tmp_path,
                                                                  caplog):
    """The issue's case: checkpoints of a max_steps-6 run, rerun with max_steps 2."""
    out = copy_run(crashed, tmp_path / "run")
    short = {**TRAINING, "max_steps": 2}
    summary = run_training(tiny_dir, make_records(8), out, training=short, **RUN)
    assert summary["resumed_from"] is None and summary["global_step"] == 2
    assert sorted(s["checkpoint"] for s in summary["skipped_checkpoints"]) == \
        ["checkpoint-2", "checkpoint-4"]
    assert all("training.max_steps: 6 -> 2" in s["reason"]
               for s in summary["skipped_checkpoints"])
    assert "starting fresh" in caplog.text
    assert log_steps(out) == [1, 2]  # the other run's rows are gone
    fresh = run_training(tiny_dir, make_records(8), tmp_path / "fresh", training=short, **RUN)
    assert summary["train_loss"] == pytest.approx(fresh["train_loss"], rel=1e-6)
    assert summary["train_loss"] > 0
    assert_same_model(out, tmp_path / "fresh")


@pytest.mark.parametrize("change", ["data", "model", "learning_rate"])
def test_a_checkpoint_of_other_data_or_model_is_never_resumed(tiny_dir, crashed, tmp_path,
                                                              change):
    out = copy_run(crashed, tmp_path / "run")
    records, model, run = make_records(8), tiny_dir, dict(RUN)
    if change == "data":
        records[3].reference += " Changed."
        expect = "the training data differ"
    elif change == "model":
        model = prepare_model("tiny", TINY, tmp_path / "tiny-seed1", seed=1)
        expect = "model.seed: 0 -> 1"
    else:
        run["lr"] = 2e-3
        expect = "learning_rate: 0.001 -> 0.002"
    summary = run_training(model, records, out, training={**TRAINING, "max_steps": 2}, **run)
    assert summary["resumed_from"] is None and summary["global_step"] == 2
    assert all(expect in s["reason"] for s in summary["skipped_checkpoints"])
    assert len(summary["skipped_checkpoints"]) == 2


def test_whole_run_loss_weights_each_logging_window_by_its_steps():
    history = [{"step": 2, "loss": 4.0}, {"step": 4, "loss": 2.0},  # before the checkpoint
               {"step": 5, "loss": 1.0}, {"step": 6, "train_loss": 1.0}]  # this session
    # steps 1-4 sum to 2*4 + 2*2 = 12, steps 5-6 to 2*1.0 (the Trainer's session mean)
    assert whole_run_loss(history, resumed_step=4, session_loss=1.0, global_step=6) == \
        pytest.approx(14 / 6)
    # a checkpoint at step 3 with logs every 2 steps: step 3 counts at the logged mean (4.0)
    assert whole_run_loss(history[:1], resumed_step=3, session_loss=1.0, global_step=6) == \
        pytest.approx((12 + 3) / 6)
    assert whole_run_loss([], resumed_step=0, session_loss=1.5, global_step=6) == 1.5


def test_a_log_line_damaged_before_the_end_is_an_error_naming_file_and_line(tmp_path):
    from percontrast.io import DataError
    from percontrast.training import _read_log

    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "lo\n{"step": 3, "loss": 1.0}\n')
    with pytest.raises(DataError, match=r"log\.jsonl, line 2"):
        _read_log(path)


def test_a_run_killed_after_its_last_step_reports_the_whole_runs_loss(tiny_dir, reference,
                                                                      tmp_path):
    """Resumed from its final checkpoint, a run trains no step in its last session (the Trainer,
    resumed mid-epoch at max_steps, would take a 7th); its loss is still the whole run's."""
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_dir, make_records(8), out, training=TRAINING, callbacks=[CrashAt(6)],
                     **RUN)
    with open(out / "log.jsonl", "a") as fh:
        fh.write('{"step": 6, "train_runti')  # killed while logging the end of training
    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    assert summary["resumed_from"] == "checkpoint-6" and summary["global_step"] == 6
    assert_same_model(out, reference[1])  # no 7th step past max_steps
    assert summary["train_loss_this_session"] == 0.0
    assert summary["train_loss"] == pytest.approx(reference[0]["train_loss"], rel=1e-4)
    assert log_steps(out) == [1, 2, 3, 4, 5, 6]
    assert (out / "log.jsonl").read_text().endswith("}\n")  # the torn line is gone
