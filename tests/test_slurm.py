"""The SLURM path for real: a single-node cluster on this machine (scripts/slurm_cluster.sh), the
tiny config through ``--executor slurm --profile profiles/slurm``, outputs compared with the local
run of the same config (the session's ``tiny_run``).

Only a subset of targets goes through SLURM, chosen so every kind of job runs there: the model
jobs that declare a ``gpu`` resource (train, generate, pir_benchmark), the CPU jobs (load_task,
retrieve, prepare_model, score) and a report job (pir_figures). The whole DAG would double the
suite's longest test for no new kind of job.

Needs root and Debian's ``slurm-wlm`` and ``munge`` (.ci/run installs them); otherwise it skips
saying why, unless ``PERCONTRAST_REQUIRE_SLURM=1`` (set by .ci/run as root), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, TINY_CONFIG, snakemake

CLUSTER = REPO / "scripts" / "slurm_cluster.sh"
RUN = "tiny-llama/review/perce/lr0.001_clip0.8-5"
TARGETS = [f"results/metrics/{RUN}/review.json", "results/figures/figure4_pir_classification.png"]
# Outputs of those targets that must be byte-identical to the local run: data, trained weights,
# generations, scores, the PIR benchmark and a figure.
IDENTICAL = [
    "data/processed/review/train.jsonl",
    "data/processed/review/test.jsonl",
    "data/models/tiny-llama/model.safetensors",
    "data/synthetic/persona_qa.jsonl",
    f"results/train/{RUN}/model/model.safetensors",
    f"results/train/{RUN}/model/config.json",
    f"results/generations/{RUN}/review.jsonl",
    f"results/metrics/{RUN}/review.json",
    "results/pir/tiny-llama/scores.jsonl",
    "results/pir/tiny-llama/classification.json",
    "results/figures/figure2_pir_heatmap.png",
    "results/figures/figure4_pir_classification.png",
    "results/figures/figure5_pir_histogram.png",
]
# Fields measured with a clock: they differ between any two runs.
TIMING = {"train_seconds_this_session", "tokens_per_s", "step_time_s", "train_runtime",
          "train_samples_per_second", "train_steps_per_second"}


def _skip_or_fail(reason: str):
    if os.environ.get("PERCONTRAST_REQUIRE_SLURM") == "1":
        pytest.fail(f"PERCONTRAST_REQUIRE_SLURM=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """A single-node cluster for this module, brought down (daemons stopped) whatever happens."""
    if os.geteuid() != 0:
        _skip_or_fail("the single-node SLURM cluster needs root")
    missing = [c for c in ("munged", "slurmctld", "slurmd", "sbatch") if not shutil.which(c)]
    if missing:
        _skip_or_fail(f"{', '.join(missing)} not installed (apt-get install -y slurm-wlm munge)")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        _skip_or_fail("snakemake-executor-plugin-slurm not installed (pip install -e '.[slurm]')")
    state = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "SLURM_CLUSTER_DIR": str(state)}
    up = subprocess.run(["bash", str(CLUSTER), "up"], capture_output=True, text=True, env=env,
                        timeout=120)
    try:
        if up.returncode != 0:
            _skip_or_fail(f"the SLURM cluster did not start: {up.stderr.strip()[-1500:]}")
        yield {**env, "SLURM_CONF": str(state / "slurm.conf")}
    finally:
        pids = [p for p in (state / "slurmctld.pid", state / "slurmd.pid",
                            state / "munge" / "munged.pid") if p.exists()]
        pids = [int(p.read_text()) for p in pids]
        down = subprocess.run(["bash", str(CLUSTER), "down"], capture_output=True, text=True,
                              env=env, timeout=120)
        assert down.returncode == 0, down.stderr
        for pid in pids:  # every daemon is gone
            assert not Path(f"/proc/{pid}").exists(), f"daemon {pid} still running"


def _strip_timing(obj):
    if isinstance(obj, dict):
        return {k: _strip_timing(v) for k, v in obj.items() if k not in TIMING}
    return obj


@pytest.mark.slow
@pytest.mark.timeout(1800)  # includes building tiny_run when this is the session's first user
def test_tiny_targets_through_slurm_equal_the_local_run(slurm_cluster, tiny_run, tmp_path):
    # the local run's own checks are test_workflow's; here it only has to hold these outputs
    missing = [rel for rel in IDENTICAL if not (tiny_run.directory / rel).exists()]
    assert not missing, f"the local tiny run lacks {missing}: {tiny_run.result.stderr[-3000:]}"
    sinfo = subprocess.run(["sinfo", "-h", "-o", "%P %T %c"], capture_output=True, text=True,
                           env=slurm_cluster, check=True)
    assert sinfo.stdout.split()[1] == "idle", sinfo.stdout
    # the documented command; the cluster-specific flags come after it, as the profile says: no
    # accounting storage here (sacct cannot answer), and short status intervals for a tiny DAG
    result = subprocess.run(
        ["python", "-m", "snakemake", "-s", str(REPO / "workflow" / "Snakefile"), "-d",
         str(tmp_path), *TARGETS, "--executor", "slurm", "--profile",
         str(REPO / "profiles" / "slurm"), "--configfile", str(TINY_CONFIG),
         "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
         "--seconds-between-status-checks", "2"],
        capture_output=True, text=True, cwd=tmp_path, env=slurm_cluster, timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    # every job went through sbatch (none ran locally), each kind of job among them
    submitted = log.count("has been submitted with SLURM jobid")
    assert submitted == log.count("Finished jobid") == 11, log[-6000:]
    for rule in ("train", "generate", "pir_benchmark", "score", "pir_figures", "prepare_model"):
        assert f"Rule: {rule})" in log
    for rel in IDENTICAL:
        assert (tmp_path / rel).read_bytes() == (tiny_run.directory / rel).read_bytes(), rel
    # the run summary and the training log match except for wall-clock measurements
    done = [json.loads((d / f"results/train/{RUN}/done.json").read_text())
            for d in (tmp_path, tiny_run.directory)]
    assert _strip_timing(done[0]) == _strip_timing(done[1])
    logs = [[_strip_timing(json.loads(line)) for line in
             (d / f"results/train/{RUN}/log.jsonl").read_text().splitlines()]
            for d in (tmp_path, tiny_run.directory)]
    assert logs[0] == logs[1] and len(logs[0]) == 3
    # the rules' own logs are where the local executor writes them; SLURM's logs of successful
    # jobs are removed (kept for failed ones under logs/slurm/)
    assert (tmp_path / f"logs/train/{RUN}.log").is_file()
    assert not any((tmp_path / "logs" / "slurm").rglob("*.log"))


def test_paper_sizes_layer_on_the_slurm_profile(tmp_path):
    """profiles/slurm/paper adds partitions and multi-GPU training to profiles/slurm: the train job
    then asks for 8 GPUs and its command is accelerate launch with the FSDP config."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")
    result = snakemake("-n", "-p", "--executor", "slurm", "--profile",
                       str(REPO / "profiles" / "slurm"), "--workflow-profile",
                       str(REPO / "profiles" / "slurm" / "paper"), "--configfile",
                       str(REPO / "configs" / "paper.yaml"), "--forceall",
                       "results/train/qwen3-4b/review/perce/lr2e-05_clip0.8-5/done.json",
                       cwd=tmp_path, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    fsdp = REPO / "envs" / "accelerate_fsdp.yaml"
    assert f"accelerate launch --config_file {fsdp} --num_processes 8" in out
