"""Benchmark: training-step time and peak memory of CE, LossCE, EntCE and PerCE.

Each method trains with the real ``PerCETrainer`` on the same batches (demo product reviews with
persona-length prompts, identical order), in its own process so that peak memory is comparable.
The median step time over the measured steps (after warm-up) and the peak memory are written to
``results/bench/step.json`` with the ratios to CE. The paper's claim to check: PerCE's extra
grad-free forward on the short persona-removed context costs little (target <= 1.10x CE).

Peak memory is what the training step needs, not what the allocator happens to keep. On a GPU it
is ``torch.cuda.max_memory_allocated`` (live tensors). On CPU, the process peak RSS under glibc's
default malloc is mostly allocator history: after the first step glibc raises its mmap threshold
(up to 32 MB), later activations come from a heap that fragments and is not given back, and the
peak RSS lands 0.7-1.9 GB above the live peak, differently for each method and run (SmolLM2-135M,
1.3k-token prompts: full fine-tuning 4.7 GB RSS for 4.0 GB live, LoRA 4.1-4.6 GB for 2.8 GB).
So on CPU (prepared models) each method runs once more, a *memory pass* on the same batches with
the mmap threshold pinned at glibc's initial 128 KiB (``MALLOC_MMAP_THRESHOLD_``: every large
tensor is then mapped and unmapped with its lifetime, and RSS follows live memory); its peak RSS
is ``peak_memory_mb``. The pinned threshold costs 15-30% more time in page faults, so step times
come from the timing runs only, whose peak RSS is kept as ``peak_rss_timing_runs_mb``.
``load_peak_memory_mb`` is the peak before training (imports, weights, LoRA wrapping, batches),
a part of every peak.

    percontrast bench_step (the rule's command), or python scripts/bench_step.py:
    python scripts/bench_step.py                          # bundled SmolLM2-135M on CPU
    python scripts/bench_step.py --model qwen3-4b-arch    # random-init Qwen3-4B shape (GPU)
    python scripts/bench_step.py --lora                   # LoRA (training.lora defaults), to
                                                          # results/bench/step_lora.json
    python scripts/bench_step.py --memory-pass-threshold 0  # no memory pass (timing RSS only)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from percontrast import layout
from percontrast.methods import METHODS
from percontrast.precision import PRECISIONS

#: glibc's initial mmap threshold: pinned there, malloc maps every allocation above it and unmaps
#: it on free, so the peak RSS of the memory pass is the live peak (see the module docstring).
MEMORY_PASS_THRESHOLD = 128 * 1024

#: Random-init model shapes for GPU runs (no hub needed). Qwen3-4B: 36 layers, 2560 hidden,
#: 9728 FFN, 32 heads / 8 KV heads, head_dim 128, vocab 151,936, tied embeddings.
ARCHITECTURES = {
    "qwen3-4b-arch": {"source": "tiny", "architecture": "qwen3", "hidden_size": 2560,
                      "intermediate_size": 9728, "num_layers": 36, "num_heads": 32,
                      "num_kv_heads": 8, "head_dim": 128, "vocab_size": 151936,
                      "dtype": "bfloat16"},
    # the same architecture at toy size: scripts/gpu_check.py --dry-run runs the GPU path on CPU
    "qwen3-tiny-arch": {"source": "tiny", "architecture": "qwen3", "hidden_size": 64,
                        "intermediate_size": 128, "num_layers": 2, "num_heads": 4,
                        "num_kv_heads": 2, "head_dim": 16, "dtype": "float32"},
}


def load_tokenizer(folder: str | None):
    """A saved Hugging Face tokenizer folder (scripts/gpu_check.py --prepare writes one), else
    None: build_tiny then takes SmolLM2's from the bundled GGUF, which needs the gguf package
    that the GPU machines lack."""
    if not folder:
        return None
    from transformers import AutoTokenizer

    from percontrast.models import _ensure_pad

    tok = AutoTokenizer.from_pretrained(folder)
    _ensure_pad(tok)
    return tok


def build_pairs(tokenizer, n: int, profile_entries: int, max_length: int, seed: int):
    from percontrast.data.demo import generate_task
    from percontrast.prompts import encode_record

    records = generate_task("product_review", n_users=max(2, n // 2), records_per_user=2,
                            profile_size=profile_entries, seed=seed)[:n]
    return [encode_record(tokenizer, r, max_length=max_length) for r in records]


def worker(args) -> dict:
    """Train ``args.steps`` steps with one method; report per-step times and peak memory."""
    import torch
    from transformers import TrainerCallback

    from percontrast.lora import apply_lora
    from percontrast.models import build_tiny, load_prepared
    from percontrast.pir import PairCollator
    from percontrast.training import PerCETrainer, training_arguments

    torch.set_num_threads(args.threads or torch.get_num_threads())
    cuda = torch.cuda.is_available() and not args.cpu
    if args.model in ARCHITECTURES:
        spec = dict(ARCHITECTURES[args.model])
        if cuda:  # random init on the GPU: seconds, not a minute of CPU time for 4B weights
            spec["init_device"] = "cuda"
        model, tok = build_tiny(spec, tokenizer=load_tokenizer(args.tokenizer), seed=0)
    else:  # the prepared safetensors copy: GGUF de-quantisation would dominate peak memory
        model, tok = load_prepared(args.model_dir, device="cpu")
    pairs = build_pairs(tok, args.steps * args.batch, args.profile_entries, args.max_length,
                        args.seed)

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times, self.t0 = [], None

        def on_step_begin(self, *a, **k):
            if cuda:
                torch.cuda.synchronize()
            self.t0 = time.perf_counter()

        def on_step_end(self, *a, **k):
            if cuda:
                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.t0)

    timer = StepTimer()
    with tempfile.TemporaryDirectory() as tmp:
        # the same settings function as a training run; no PIR tracking for the baselines, so
        # they cost exactly their own loss
        training = {"per_device_batch_size": args.batch, "max_steps": args.steps,
                    "warmup_ratio": 0.0, "logging_steps": 10**9, "track_pir": False,
                    "precision": args.worker_precision,
                    "gradient_checkpointing": args.gradient_checkpointing}
        if args.lora:  # the same wrapping as a training run with training.lora
            training["lora"] = {"r": args.lora_r}
            model = apply_lora(model, training, seed=args.seed)
        load_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        targs = training_arguments(training, tmp, method=args.method, lr=1e-5,
                                   batch_size=args.batch, seed=args.seed,
                                   device="cpu" if args.cpu else None, save_strategy="no")
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        trainer = PerCETrainer(model=model, args=targs, train_dataset=pairs,
                               data_collator=PairCollator(tok.pad_token_id), callbacks=[timer])
        trainer.train()
    measured = timer.times[args.warmup:]
    with_len = statistics.mean(len(p.with_ids) for p in pairs)
    without_len = statistics.mean(len(p.without_ids) for p in pairs)
    tokens = args.batch * with_len
    return {
        "method": args.method, "precision": args.worker_precision,
        "step_time_median_s": statistics.median(measured),
        "step_times_s": timer.times,
        "measured_step_times_s": measured,
        "tokens_per_s": tokens / statistics.median(measured),
        "peak_memory_mb": (torch.cuda.max_memory_allocated() / 2**20 if cuda else
                           resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "memory_kind": "cuda max_memory_allocated" if cuda else "process peak RSS",
        "load_peak_memory_mb": None if cuda else load_peak,
        "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_"),
        "prompt_tokens_with_persona": with_len,
        "prompt_tokens_without_persona": without_len,
        "response_tokens": statistics.mean(len(p.response_ids) for p in pairs),
        "device": torch.cuda.get_device_name() if cuda else platform.processor() or "cpu",
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "frozen_parameters_with_grad": sum(p.numel() for p in model.parameters()
                                           if not p.requires_grad and p.grad is not None),
    }


def _worker_argv(argv: list[str]) -> list[str]:
    """The command line without the options that pick methods and precisions (a worker gets
    its own ``--method`` and ``--worker-precision``)."""
    out, skip = [], False
    for a in argv:
        if a in ("--methods", "--precisions"):
            skip = True
            continue
        if skip and not a.startswith("--"):
            continue
        skip = False
        if a != "--bf16":
            out.append(a)
    return out


def run_worker(method: str, precision: str, label: str, **env: str) -> dict:
    """One worker process for ``method`` in ``precision`` (this module, same arguments); its
    JSON result."""
    cmd = [sys.executable, "-m", "percontrast.bench", *_worker_argv(sys.argv[1:]),
           "--method", method, "--worker-precision", precision]
    print(f"[bench] {label}: {method} ({precision}) ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PERCONTRAST_LOG_LEVEL": "WARNING", **env})
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"worker for {method} ({precision}) failed")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"[bench] {method} ({precision}): median step {r['step_time_median_s']:.3f} s, "
          f"peak {r['peak_memory_mb']:.0f} MB (load {r['load_peak_memory_mb'] or 0:.0f} MB)",
          file=sys.stderr)
    return r


def parser() -> argparse.ArgumentParser:
    """The benchmark's command line (``percontrast bench_step``, ``scripts/bench_step.py``)."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="smollm2-135m",
                   help="a random-init shape (" + ", ".join(ARCHITECTURES) + ") or the name of "
                   "the prepared model in --model-dir (rule bench_step: the config's bench.model)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--steps", type=int, default=14, help="steps per method, warm-up included")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2,
                   help="runs per method, in rotating order (medians over repeats)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--profile-entries", type=int, default=8,
                   help="past reviews in the persona (8 demo reviews ~ 1.1k prompt tokens)")
    p.add_argument("--max-length", type=int, default=2048)
    p.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=["fp32", "bf16"],
                   help="precisions measured, each with every method; the first is the one "
                   "`methods` and the cost claim report, and with fp32 and bf16 both, their "
                   "step-time ratio is reported (bf16 is autocast: fp32 master weights)")
    p.add_argument("--bf16", action="store_true", help="the same as --precisions bf16")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--lora", action="store_true",
                   help="train a LoRA adapter (training.lora defaults: all linear layers)")
    p.add_argument("--lora-r", type=int, default=16, help="LoRA rank with --lora")
    p.add_argument("--cpu", action="store_true", help="stay on CPU even with a GPU")
    p.add_argument("--memory-pass-threshold", type=int, default=None, metavar="BYTES",
                   help="on CPU, the glibc mmap threshold of the extra run per method that "
                   f"measures peak memory (default {MEMORY_PASS_THRESHOLD}, glibc's initial "
                   "value, for the prepared model; none for the random-init shapes, GPU shapes "
                   "that a CPU only dry-runs); 0: no memory pass, peak memory is the timing "
                   "runs' RSS")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tokenizer", default=None,
                   help="saved tokenizer folder for the random-init shapes (default: the bundled "
                   "SmolLM2 GGUF's, which needs the gguf package)")
    p.add_argument("--model-dir", default=str(layout.path("model", model="smollm2-135m")),
                   help="prepared bundled model (made here if missing)")
    p.add_argument("--out", help="default: results/bench/step.json, step_lora.json with --lora")
    p.add_argument("--method", help=argparse.SUPPRESS)  # worker mode
    p.add_argument("--worker-precision", help=argparse.SUPPRESS)  # worker mode
    return p


def measure(args, precision: str, memory_pass: bool) -> dict[str, dict]:
    """Every method's runs in ``precision``, merged over repeats (and its memory pass)."""
    # Methods run in rotating order over the repeats (ce, perce / perce, ce / ...): on a shared
    # machine the position in the sequence shifts step times by ~10%, more than the effect.
    runs: dict[str, list[dict]] = {m: [] for m in args.methods}
    for rep in range(args.repeats):
        shift = rep % len(args.methods)
        for method in args.methods[shift:] + args.methods[:shift]:
            runs[method].append(run_worker(method, precision,
                                           f"repeat {rep + 1}/{args.repeats}"))
    memory: dict[str, dict] = {}
    if memory_pass:  # the same batches, once per method: memory is the same in every repeat
        for method in args.methods:
            memory[method] = run_worker(method, precision, "memory pass",
                                        MALLOC_MMAP_THRESHOLD_=str(args.memory_pass_threshold))
    return {method: _merged(reps, memory.get(method), args.memory_pass_threshold)
            for method, reps in runs.items()}


def _merged(reps: list[dict], memory: dict | None, threshold: int) -> dict:
    rss = [r["peak_memory_mb"] for r in reps]
    out = {
        **reps[0],
        "step_time_median_s": statistics.median(r["step_time_median_s"] for r in reps),
        "peak_memory_mb": memory["peak_memory_mb"] if memory else statistics.median(rss),
        "memory_kind": (f"process peak RSS, memory pass (glibc mmap threshold pinned at "
                        f"{threshold} B)" if memory else reps[0]["memory_kind"]),
        "peak_rss_timing_runs_mb": rss,
        "step_time_median_s_per_repeat": [r["step_time_median_s"] for r in reps],
        "step_times_s": [t for r in reps for t in r["step_times_s"]],
        "measured_step_times_s": [t for r in reps for t in r["measured_step_times_s"]],
    }
    if memory:
        out["load_peak_memory_mb"] = memory["load_peak_memory_mb"]
        out["malloc_mmap_threshold"] = memory["malloc_mmap_threshold"]
    return out


def ratio_to_ce(results: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Each method's median step time and peak memory over CE's."""
    base = results["ce"]
    return {m: {"step_time": r["step_time_median_s"] / base["step_time_median_s"],
                "peak_memory": r["peak_memory_mb"] / base["peak_memory_mb"]}
            for m, r in results.items()}


def main() -> None:
    args = parser().parse_args()
    if args.bf16:
        args.precisions = ["bf16"]
    if args.steps <= args.warmup:
        parser().error("--steps must exceed --warmup (at least one measured step)")
    if args.out is None:
        args.out = str(layout.path("bench_step_lora" if args.lora else "bench_step"))
    if args.method:  # a worker: one method, result as JSON on the last stdout line
        print(json.dumps(worker(args)))
        return
    if args.model == "smollm2-135m" and not Path(args.model_dir).is_dir():
        from percontrast.models import prepare_model

        prepare_model("smollm2-135m", {"source": "bundled-gguf", "dtype": "float32"},
                      args.model_dir)
    import torch

    from percontrast.lora import lora_settings
    from percontrast.precision import describe, resolve

    cuda = torch.cuda.is_available() and not args.cpu
    precisions = list(dict.fromkeys(resolve(p, "cuda" if cuda else "cpu")
                                    for p in args.precisions))
    if args.memory_pass_threshold is None:
        args.memory_pass_threshold = 0 if args.model in ARCHITECTURES else MEMORY_PASS_THRESHOLD
    memory_pass = args.memory_pass_threshold > 0 and not cuda
    by_precision = {p: measure(args, p, memory_pass) for p in precisions}
    results = by_precision[precisions[0]]
    out = {
        "benchmark": "training step, PerCETrainer, identical batches per method",
        "model": args.model, "batch": args.batch, "steps": args.steps, "warmup": args.warmup,
        "repeats": args.repeats, "precision": precisions[0], "chip": describe(),
        "bf16": precisions[0] == "bf16", "gradient_checkpointing": args.gradient_checkpointing,
        "lora": lora_settings({"lora": {"r": args.lora_r}}) if args.lora else None,
        "memory_pass_threshold": args.memory_pass_threshold if memory_pass else None,
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "methods": results,
    }
    if "ce" in results:
        out["ratio_to_ce"] = ratio_to_ce(results)
    if len(precisions) > 1:
        out["precisions"] = {p: {"methods": r, **({"ratio_to_ce": ratio_to_ce(r)}
                                                  if "ce" in r else {})}
                             for p, r in by_precision.items()}
    if {"fp32", "bf16"} <= set(precisions):
        out["bf16_over_fp32"] = {
            m: by_precision["bf16"][m]["step_time_median_s"]
            / by_precision["fp32"][m]["step_time_median_s"] for m in args.methods}
    from percontrast.io import write_json

    write_json(args.out, out)
    print(json.dumps({k: out[k] for k in ("ratio_to_ce", "bf16_over_fp32") if k in out},
                     indent=2))


if __name__ == "__main__":
    main()
