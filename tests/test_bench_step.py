"""The benchmark's bookkeeping (percontrast.bench, run by scripts/bench_step.py and the rule),
without training: on CPU the peak memory it reports is the memory pass's (glibc mmap threshold
pinned, so RSS follows live memory: issue 21), the step times are the timing runs', and the
timing runs' own RSS is kept beside it."""

from __future__ import annotations

import json
import sys

import pytest


def load_bench():
    import percontrast.bench

    return percontrast.bench


def fake_worker(calls):
    """A run_worker that records its calls: the memory pass (env set) reports 3000 MB, the timing
    runs 4500 MB (what glibc keeps) and a step time per call."""

    def run_worker(method, precision, label, **env):
        calls.append((method, label, env))
        memory = bool(env)
        slower = 2.0 if precision == "bf16" else 1.0  # a CPU without native bf16
        return {"method": method, "precision": precision,
                "step_time_median_s": 9.0 if memory else slower * (1.0 + len(calls)),
                "step_times_s": [1.0], "measured_step_times_s": [1.0],
                "peak_memory_mb": 3000.0 if memory else 4500.0,
                "memory_kind": "process peak RSS", "load_peak_memory_mb": 540.0,
                "malloc_mmap_threshold": env.get("MALLOC_MMAP_THRESHOLD_"),
                "trainable_parameters": 1}
    return run_worker


def run_main(bench, monkeypatch, tmp_path, *extra):
    out = tmp_path / "step.json"
    monkeypatch.setattr(sys, "argv", ["bench_step.py", "--methods", "ce", "perce", "--steps", "3",
                                      "--warmup", "1", "--repeats", "2", "--cpu",
                                      "--model-dir", str(tmp_path), "--out", str(out),
                                      *(extra or ("--precisions", "fp32"))])
    bench.main()
    return json.loads(out.read_text())


def test_on_cpu_the_peak_is_the_memory_pass_and_the_times_the_timing_runs(monkeypatch,
                                                                           tmp_path):
    bench = load_bench()
    calls = []
    monkeypatch.setattr(bench, "run_worker", fake_worker(calls))
    result = run_main(bench, monkeypatch, tmp_path)
    memory_calls = [(m, env) for m, label, env in calls if label == "memory pass"]
    assert memory_calls == [("ce", {"MALLOC_MMAP_THRESHOLD_": "131072"}),
                            ("perce", {"MALLOC_MMAP_THRESHOLD_": "131072"})]
    assert len(calls) == 6  # 2 repeats x 2 methods, then one memory pass each
    assert all(env == {} for _, label, env in calls if label != "memory pass")
    ce = result["methods"]["ce"]
    assert ce["peak_memory_mb"] == 3000.0 and ce["peak_rss_timing_runs_mb"] == [4500.0, 4500.0]
    assert ce["step_time_median_s"] < 9.0  # never the memory pass's (slowed) steps
    assert ce["load_peak_memory_mb"] == 540.0 and ce["malloc_mmap_threshold"] == "131072"
    assert "memory pass" in ce["memory_kind"] and result["memory_pass_threshold"] == 131072


@pytest.mark.parametrize("extra", [("--memory-pass-threshold", "0"),
                                   ("--model", "qwen3-tiny-arch")])
def test_without_a_memory_pass_the_peak_is_the_timing_runs_rss(monkeypatch, tmp_path, extra):
    bench = load_bench()
    calls = []
    monkeypatch.setattr(bench, "run_worker", fake_worker(calls))
    result = run_main(bench, monkeypatch, tmp_path, *extra, "--precisions", "fp32")
    assert len(calls) == 4 and all(label != "memory pass" for _, label, _ in calls)
    assert result["methods"]["ce"]["peak_memory_mb"] == 4500.0
    assert result["memory_pass_threshold"] is None


def test_fp32_and_bf16_are_measured_in_one_run_with_their_ratio(monkeypatch, tmp_path):
    """The default measures both precisions, every method in each, and reports bf16 / fp32 per
    method from the two medians; ``methods`` (what the cost claim reads) is the first one."""
    bench = load_bench()
    calls = []
    monkeypatch.setattr(bench, "run_worker", fake_worker(calls))
    result = run_main(bench, monkeypatch, tmp_path, "--precisions", "fp32", "bf16",
                      "--memory-pass-threshold", "0")
    assert len(calls) == 8  # 2 precisions x 2 repeats x 2 methods
    assert set(result["precisions"]) == {"fp32", "bf16"} and result["precision"] == "fp32"
    fp32, bf16 = (result["precisions"][p]["methods"] for p in ("fp32", "bf16"))
    assert result["methods"] == fp32
    for method in ("ce", "perce"):
        assert result["bf16_over_fp32"][method] == pytest.approx(
            bf16[method]["step_time_median_s"] / fp32[method]["step_time_median_s"])
        assert bf16[method]["precision"] == "bf16"
    assert result["chip"]["cpu_native_bf16"] in (True, False)


def test_the_worker_command_line_drops_the_lists_and_adds_its_own(monkeypatch):
    bench = load_bench()
    argv = ["--methods", "ce", "perce", "--precisions", "fp32", "bf16", "--steps", "3", "--bf16",
            "--cpu"]
    assert bench._worker_argv(argv) == ["--steps", "3", "--cpu"]
