"""Experiment tracking (``training.report_to``): TensorBoard event files in the run folder carry
the loss and PerCE's statistics; MLflow named without mlflow installed fails at train start."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os

import pytest

from percontrast.config import ConfigError
from percontrast.tracking import report_integrations, tracking_environment
from percontrast.training import run_training, training_arguments
from tests.test_training import TRAINING, make_records

STEPS = 3
# PerCE's statistics (PerCETrainer.log), as the Trainer's TensorBoard callback names them
PERCE_SCALARS = ("weight_mean", "frac_clip_min", "frac_clip_max", "pir_mean",
                 "pir_marker_mean", "pir_other_mean", "weight_marker_mean")


def marked_records(n: int):
    """The training records, with their known markers (the pet, the town): marker-token PIR."""
    out = []
    for r in make_records(n):
        pet, town = r.user_id, r.reference.split(" in ")[-1].split(".")[0]
        out.append(dataclasses.replace(r, meta={"markers": [pet, town]}))
    return out


def read_scalars(log_dir) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the event files under ``log_dir``: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_tensorboard_event_files_carry_the_loss_and_perce_statistics(tiny_dir, tmp_path,
                                                                    monkeypatch):
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    out = tmp_path / "run"
    training = {**TRAINING, "max_steps": STEPS, "report_to": ["tensorboard"]}
    run_training(tiny_dir, marked_records(8), out, method="perce", lr=1e-3, clip=(0.8, 5.0),
                 training=training, batch_size=2, seed=0)
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))  # in the run folder
    scalars = read_scalars(out / "tensorboard")
    rows = {r["step"]: r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())
            if "loss" in r}
    for name in ("loss", "learning_rate", *PERCE_SCALARS):
        points = scalars.get(f"train/{name}")
        assert points is not None, f"train/{name} not in {sorted(scalars)}"
        assert [step for step, _ in points] == list(range(1, STEPS + 1)), name
        for step, value in points:  # the same numbers as the run's own log
            assert value == pytest.approx(rows[step][name], rel=1e-5, abs=1e-6), (name, step)
    assert "TENSORBOARD_LOGGING_DIR" not in os.environ  # the environment is restored


def test_no_tracking_by_default(tiny_dir, tmp_path):
    assert report_integrations({}) == [] and report_integrations({"report_to": "none"}) == []
    args = training_arguments({}, tmp_path, method="perce", lr=1e-3, batch_size=1, seed=0)
    assert args.report_to in ([], "none", ["none"])
    assert training_arguments({"report_to": ["tensorboard"]}, tmp_path, method="perce", lr=1e-3,
                              batch_size=1, seed=0).report_to == ["tensorboard"]
    with pytest.raises(ValueError, match="training.report_to"):
        report_integrations({"report_to": ["wandb"]})


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is not None, reason="mlflow installed")
def test_mlflow_without_mlflow_fails_at_train_start_naming_the_key(tiny_dir, tmp_path):
    training = {**TRAINING, "max_steps": 1, "report_to": ["tensorboard", "mlflow"]}
    with pytest.raises(ConfigError, match=r"training\.report_to.*pip install mlflow"):
        run_training(tiny_dir, make_records(2), tmp_path / "run", method="perce", lr=1e-3,
                     clip=(0.8, 5.0), training=training, batch_size=2, seed=0)
    assert not (tmp_path / "run").exists()  # failed before any work


def test_mlflow_gets_a_file_store_in_the_run_folder_unless_one_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    with tracking_environment(["mlflow"], tmp_path / "run"):
        assert os.environ["MLFLOW_TRACKING_URI"] == f"file:{(tmp_path / 'run').resolve()}/mlruns"
    assert "MLFLOW_TRACKING_URI" not in os.environ
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    with tracking_environment(["mlflow", "tensorboard"], tmp_path / "run"):
        assert os.environ["MLFLOW_TRACKING_URI"] == "http://tracking.example:5000"  # the user's
        assert os.environ["TENSORBOARD_LOGGING_DIR"].endswith("run/tensorboard")
    assert "TENSORBOARD_LOGGING_DIR" not in os.environ
    assert os.environ["MLFLOW_TRACKING_URI"] == "http://tracking.example:5000"
