"""precision: auto picks bf16 only where the chip computes it natively, on every stage, and a run
records what it used (issue: the CPU at its limit). Detection is mocked to check both outcomes
on any machine."""

from __future__ import annotations

import pytest
import torch

from percontrast import plan, precision
from percontrast.generation import generation_dtype
from percontrast.training import training_arguments


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_follows_the_cpu_and_forced_values_do_not(native, has_bf16, expected):
    native(has_bf16)
    assert precision.resolve("auto", "cpu") == expected
    assert precision.resolve(None, "cpu") == expected
    assert precision.resolve("fp32", "cpu") == "fp32"
    assert precision.resolve("bf16", "cpu") == "bf16"
    assert precision.planned("auto", "cpu") == expected
    assert precision.planned("auto", "cuda") == "auto"  # a GPU is resolved by its job
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.resolve("fp16", "cpu")


@pytest.mark.parametrize("has_bf16", [True, False])
def test_a_training_run_on_cpu_uses_and_records_bf16_only_where_native(native, tmp_path,
                                                                       has_bf16):
    native(has_bf16)
    args = training_arguments({"precision": "auto"}, tmp_path, method="perce", lr=1e-4,
                              batch_size=1, seed=0, device="cpu")
    assert args.bf16 is has_bf16 and args.use_cpu
    forced = training_arguments({"precision": "fp32"}, tmp_path, method="perce", lr=1e-4,
                                batch_size=1, seed=0, device="cpu")
    assert forced.bf16 is False


@pytest.mark.parametrize("has_bf16", [True, False])
def test_the_spec_carries_the_resolved_precision(native, repo, has_bf16):
    """On device: cpu the run's spec holds fp32 or bf16, never auto, so results made in one
    precision are never reused as the other's (the spec is what Snakemake compares)."""
    from percontrast import config as pc

    native(has_bf16)
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["training"]["precision"] = "auto"
    cfg["generation"]["precision"] = "auto"  # the tiny profile pins fp32
    run = plan.train_runs(cfg)[0]
    want = "bf16" if has_bf16 else "fp32"
    assert plan.run_training_spec(cfg, run)["precision"] == want
    assert plan.evaluation_generation(cfg, run, run.task)["precision"] == want
    cfg["training"]["precision"] = "fp32"
    assert plan.run_training_spec(cfg, run)["precision"] == "fp32"
    cfg["device"] = "cuda"
    cfg["training"]["precision"] = "auto"
    assert plan.run_training_spec(cfg, run)["precision"] == "auto"


@pytest.mark.parametrize("has_bf16, expected", [(True, "bfloat16"), (False, None)])
def test_generation_loads_bf16_weights_only_where_native(native, has_bf16, expected):
    native(has_bf16)
    assert generation_dtype("float32", "cpu", "auto") == expected
    assert generation_dtype(None, "cpu", "auto") == expected
    assert generation_dtype("float16", "cpu", "auto") is None  # a float16 pin stays
    assert generation_dtype("float32", "cpu", "bf16") == "bfloat16"
    assert generation_dtype("bfloat16", "cpu", "fp32") == "float32"


def test_the_planner_reads_the_same_cpu_features_as_torch():
    """The planner's /proc/cpuinfo reading and torch's check agree on this machine."""
    flags = precision._cpu_flags_native_bf16()
    if flags is None:
        pytest.skip("no /proc/cpuinfo here")
    precision._cpu_native_bf16.cache_clear()
    assert flags == precision.cpu_native_bf16()


def test_autocast_computes_in_bf16_only_when_asked():
    x = torch.randn(4, 8)
    w = torch.randn(8, 3)
    with precision.autocast("bf16", "cpu"):
        assert (x @ w).dtype == torch.bfloat16
    with precision.autocast("fp32", "cpu"):
        assert (x @ w).dtype == torch.float32


def test_table7_shows_the_precision_the_runs_recorded(repo, tmp_path):
    import json

    from percontrast import config as pc
    from percontrast import layout
    from percontrast.report.paper_tables import table7

    cfg = pc.load_config(repo / "configs/tiny.yaml")
    rows = dict(table7(cfg, tmp_path).rows)
    assert rows["Training precision"] == "fp32 (planned; no run has finished)"
    run = plan.train_runs(cfg)[0]
    done = layout.in_results("run_done", tmp_path, run)
    done.parent.mkdir(parents=True)
    done.write_text(json.dumps({"precision": "bf16"}))
    rows = dict(table7(cfg, tmp_path).rows)
    assert rows["Training precision"].startswith("bf16 (as the runs recorded it")
    assert rows["Generation precision"] == "fp32" and rows["Training seeds"] == "0"
