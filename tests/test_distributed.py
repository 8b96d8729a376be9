"""Multi-process training on CPU: ``accelerate launch --multi_gpu --num_processes 2`` of the rule's
own script (torchrun; without CUDA the Trainer's accelerator runs on CPU over gloo) equals
single-process training with the same global batch. (``accelerate launch --cpu --num_processes 2``
starts one process in accelerate 1.x: ``--cpu`` selects its single-process or mpirun launcher.)

Adam hides a loss that is off by a constant factor, but not one normalised per process instead of
over the whole all-process batch (examples then weigh differently), and the logged loss and
grad-norm show any scale error directly; so weights, losses and grad-norms are all compared. The
token-weight statistics in the log must cover every process's tokens, not rank 0's.

FSDP is not tested here because on CPU the Trainer cannot run it: with transformers 5.24 and
accelerate 1.15 a CPU job (``use_cpu``) becomes ``DistributedType.MULTI_CPU`` (DDP over gloo) and
the FSDP plugin of envs/accelerate_fsdp.yaml is ignored, so launching with that file on CPU trains
exactly as this DDP test does (checked); without ``use_cpu`` and without CUDA the Trainer does not
run distributed at all. torch's own FSDP2 (``fully_shard``) does run on CPU over gloo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from percontrast.data.records import write_records
from percontrast.models import prepare_model
from tests.conftest import REPO
from tests.test_training import TINY, make_records

TRAINING = {"epochs": 1, "max_steps": 3, "per_device_batch_size": 1, "max_length": 256,
            "warmup_ratio": 0.0, "save_steps": 50, "logging_steps": 1, "precision": "fp32",
            "track_pir": True}
GLOBAL_BATCH = 4
# accelerate launch on CPU: two gloo processes, one thread each (2 cores)
LAUNCH = ["--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
          "--dynamo_backend", "no"]
DDP = ["--multi_gpu", *LAUNCH]
# measured with a clock, or counting forwarded tokens per second: differ between any two runs
TIMING = {"tokens_per_s", "step_time_s", "train_runtime", "train_samples_per_second",
          "train_steps_per_second"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("dist")
    model = prepare_model("tiny", TINY, root / "tiny", seed=0)
    data = root / "train.jsonl"
    write_records(data, make_records(12))  # unequal response lengths: normalisation matters
    return model, data


def train(inputs, out: Path, method: str, launcher: list[str] | None) -> Path:
    """`percontrast train` as the rule runs it (as a module, ``-m percontrast``, under accelerate
    launch); ``launcher``: accelerate launch arguments or None."""
    model, data = inputs
    prefix = ([sys.executable, "-m", "accelerate.commands.launch", *launcher] if launcher
              else [sys.executable])
    cmd = [*prefix, "-m", "percontrast", "train", "--model", str(model), "--data", str(data),
           "--method", method, "--run", "lr0.001_clip0.8-5", "--training", json.dumps(TRAINING),
           "--batch-size", str(GLOBAL_BATCH), "--seed", "0", "--threads", "1", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PERCONTRAST_LOG_LEVEL": "WARNING"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def log_rows(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows if "loss" in r]


@pytest.fixture(scope="module")
def single(inputs, tmp_path_factory):
    """Single-process reference runs, one per method, shared by the DDP comparisons."""
    root = tmp_path_factory.mktemp("single")
    return {m: train(inputs, root / m, m, None) for m in ("ce", "perce")}


def assert_same_training(run: Path, ref: Path, processes: int) -> None:
    done, ref_done = (json.loads((r / "done.json").read_text()) for r in (run, ref))
    assert done["global_step"] == ref_done["global_step"] == TRAINING["max_steps"]
    # the same global batch: 2 processes x 1 example x 2 accumulation steps = 1 x 1 x 4
    assert done["gradient_accumulation_steps"] * processes == ref_done[
        "gradient_accumulation_steps"] == GLOBAL_BATCH
    weights, ref_weights = (load_file(str(r / "model" / "model.safetensors")) for r in (run, ref))
    assert weights.keys() == ref_weights.keys()
    init = load_file(str(Path(json.loads((ref / "model" / "percontrast_model.json")
                                         .read_text())["trained_from"]) / "model.safetensors"))
    moved = max(float((ref_weights[k] - init[k]).abs().max()) for k in init)
    assert moved > 1e-3  # training changed the weights: the comparison below means something
    for name in ref_weights:
        torch.testing.assert_close(weights[name], ref_weights[name], atol=2e-6, rtol=1e-5,
                                   msg=lambda m, n=name: f"{n}: {m}")
    rows, ref_rows = log_rows(run), log_rows(ref)
    assert len(rows) == len(ref_rows) == TRAINING["max_steps"]
    for row, ref_row in zip(rows, ref_rows, strict=True):
        assert row.keys() == ref_row.keys()
        # statistics gathered over all processes: rank 0 alone sees half the response tokens
        assert row["response_tokens"] == ref_row["response_tokens"]
        for key, ref_value in ref_row.items():
            assert row[key] == pytest.approx(ref_value, rel=1e-5, abs=1e-6), (key, row["step"])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ce", "perce"])
def test_ddp_on_two_cpu_processes_equals_one_process(inputs, single, tmp_path, method):
    run = train(inputs, tmp_path / "ddp", method, DDP)
    assert_same_training(run, single[method], processes=2)
    assert not (run / "checkpoints").exists() and not (run / ".model.staging").exists()


def test_train_rule_builds_its_launcher_from_the_gpu_resource(tmp_path):
    """One GPU: plain python; several: accelerate launch with the FSDP config, N processes."""
    from tests.conftest import TINY_CONFIG, snakemake

    target = "results/train/tiny-llama/review/perce/lr0.001_clip0.8-5/done.json"
    commands = {}
    for gpus in (1, 4):
        result = snakemake(target, "-n", "-p", "--cores", "2", "--forceall", "--configfile",
                           str(TINY_CONFIG), "--set-resources", f"train:gpu={gpus}",
                           "--resources", "gpu=8", cwd=tmp_path)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out[-3000:]
        commands[gpus] = next(line.removeprefix("Shell command: ") for line in out.splitlines()
                              if " train --model " in line)
    # the installed entry point, and under accelerate the same entry point as a module
    assert commands[1].startswith("percontrast train --model ")
    fsdp = REPO / "envs" / "accelerate_fsdp.yaml"
    assert commands[4].startswith(
        f"accelerate launch --config_file {fsdp} --num_processes 4 -m percontrast train ")
    for launcher in ("accelerate", "percontrast"):
        assert shutil.which(launcher), f"{launcher}, which the rule calls, must be on PATH"
