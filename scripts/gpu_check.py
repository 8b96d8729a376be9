"""The GPU check: one short run that measures what only a GPU can (scripts/gpu_check.sh runs it).

Stages, each timed and recorded even when another fails, in ``results/bench/gpu.json``:

1. ``bench_full``: scripts/bench_step.py on the random-init Qwen3-4B shape in bf16, CE vs PerCE:
   median step time, the PerCE/CE step ratio, peak GPU memory per method.
2. ``bench_lora``: the same with ``--lora``.
3. ``train_generate``: a random-init model of a real architecture (the Qwen3-4B shape with two
   layers) prepared as a model folder, trained a few PerCE steps by ``percontrast train`` (the
   rule's command, run as ``python -m percontrast`` from src/), then sampled greedily on the GPU
   through :func:`percontrast.generation.load_for_generation` (bf16, SDPA, static KV cache):
   tokens/s with length-sorted batches and in input order, also with the dynamic cache, and the
   greedy outputs compared with a CPU run of the same weights (fp32 on both, and the GPU's bf16
   against CPU fp32).
4. ``fsdp``: one ``accelerate launch`` FSDP training step (envs/accelerate_fsdp.yaml) when more than
   one GPU is present; skipped otherwise.

Imports only what the GPU machines have (torch, transformers, peft, accelerate): no snakemake,
gguf, jsonschema, datasets... The random-init models need a tokenizer; the project's comes from
the bundled GGUF, which needs ``gguf``, so ``--prepare`` saves it as a plain tokenizer folder
(build/gpu_check/tokenizer, about 3 MB) on a machine with the project's environment, and that
folder travels with the working tree.

``--dry-run`` runs every stage on CPU with toy shapes in under a minute (tests/test_gpu_check.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
DEFAULT_TOKENIZER = REPO / "build" / "gpu_check" / "tokenizer"

#: The Qwen3-4B shape with two decoder layers (and the tokenizer's vocabulary): a real
#: architecture at full width, small enough to train, save and run on CPU too.
GEN_MODEL = {"source": "tiny", "architecture": "qwen3", "hidden_size": 2560,
             "intermediate_size": 9728, "num_layers": 2, "num_heads": 32, "num_kv_heads": 8,
             "head_dim": 128, "tie_word_embeddings": True}
DRY_GEN_MODEL = {"source": "tiny", "architecture": "qwen3", "hidden_size": 64,
                 "intermediate_size": 128, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2,
                 "head_dim": 16, "tie_word_embeddings": False}

#: (full run, dry run) sizes of each stage.
SIZES = {
    "bench_model": ("qwen3-4b-arch", "qwen3-tiny-arch"),
    "bench_steps": (6, 3),
    "bench_warmup": (2, 1),
    "bench_timeout_s": (150, 300),  # the dry run is a hang guard on a CPU that may be busy
    "train_steps": (4, 2),
    "gen_prompts": (64, 6),
    "gen_batch": (16, 4),
    "gen_new_tokens": (64, 8),
    "compare_prompts": (8, 3),
    "compare_new_tokens": (24, 6),
    "stage_timeout_s": (180, 300),
}


def size(args, key):
    return SIZES[key][1 if args.dry_run else 0]


def log(msg: str) -> None:
    print(f"[gpu_check] {msg}", file=sys.stderr, flush=True)


def env() -> dict[str, str]:
    src = str(REPO / "src")
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + path if path else ""),
            "PERCONTRAST_LOG_LEVEL": os.environ.get("PERCONTRAST_LOG_LEVEL", "WARNING"),
            "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


def run_stage(name: str, results: dict, fn, *args) -> None:
    """Run one stage; record its result, or its error, and its duration."""
    log(f"{name} ...")
    start = time.perf_counter()
    try:
        out = fn(*args)
        results[name] = {"ok": True, **out}
    except Exception as err:  # one failing stage must not lose the others' numbers
        results[name] = {"ok": False, "error": f"{type(err).__name__}: {err}",
                         "traceback": traceback.format_exc()[-3000:]}
        log(f"{name} FAILED: {err}")
    results[name]["seconds"] = round(time.perf_counter() - start, 2)


def subprocess_checked(cmd: list[str], timeout: int) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=timeout,
                          cwd=REPO, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited {proc.returncode}: "
                           f"{proc.stderr[-2000:]}")
    return proc


# --------------------------------------------------------------------------- stages

def environment(args) -> dict:
    import torch
    import transformers

    cuda = torch.cuda.is_available() and not args.dry_run
    out = {"python": platform.python_version(), "torch": torch.__version__,
           "transformers": transformers.__version__, "cuda": cuda,
           "n_gpus": torch.cuda.device_count() if cuda else 0}
    for name in ("peft", "accelerate"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = None
    if cuda:
        props = torch.cuda.get_device_properties(0)
        out.update(gpu=torch.cuda.get_device_name(0),
                   gpu_memory_gb=round(props.total_memory / 2**30, 1),
                   bf16_supported=torch.cuda.is_bf16_supported())
    return out


def bench(args, work: Path, lora: bool) -> dict:
    """scripts/bench_step.py, CE vs PerCE; its JSON plus the numbers the summary shows."""
    out_file = work / ("step_lora.json" if lora else "step.json")
    cmd = [sys.executable, str(SCRIPTS / "bench_step.py"), "--model", size(args, "bench_model"),
           "--methods", "ce", "perce", "--steps", str(size(args, "bench_steps")),
           "--warmup", str(size(args, "bench_warmup")), "--repeats", "1",
           "--tokenizer", str(args.tokenizer), "--out", str(out_file)]
    if not args.dry_run:
        cmd.append("--bf16")
    else:
        cmd += ["--cpu", "--max-length", "512", "--profile-entries", "2", "--threads", "1"]
    if lora:
        cmd.append("--lora")
    subprocess_checked(cmd, size(args, "bench_timeout_s"))
    result = json.loads(out_file.read_text())
    methods = result["methods"]
    return {
        "command": " ".join(Path(c).name if c == sys.executable else c for c in cmd),
        "model": result["model"], "bf16": result["bf16"], "lora": result["lora"],
        "step_time_median_s": {m: r["step_time_median_s"] for m, r in methods.items()},
        "peak_memory_mb": {m: r["peak_memory_mb"] for m, r in methods.items()},
        "memory_kind": methods["ce"]["memory_kind"],
        "step_ratio_perce_to_ce": result["ratio_to_ce"]["perce"]["step_time"],
        "memory_ratio_perce_to_ce": result["ratio_to_ce"]["perce"]["peak_memory"],
        "trainable_parameters": methods["ce"]["trainable_parameters"],
        "prompt_tokens_with_persona": methods["ce"]["prompt_tokens_with_persona"],
        "device": methods["ce"]["device"],
    }


def load_tokenizer(folder: Path):
    from transformers import AutoTokenizer

    from percontrast.models import _ensure_pad

    tok = AutoTokenizer.from_pretrained(folder)
    _ensure_pad(tok)
    return tok


def prepare_random_model(spec: dict, tokenizer, out: Path) -> Path:
    """A prepared-model folder (as percontrast.models.prepare_model writes) for a random-init
    model, with the given tokenizer instead of the bundled GGUF's."""
    from percontrast.io import write_json
    from percontrast.models import MANIFEST, build_tiny

    model, _ = build_tiny(spec, tokenizer=tokenizer, seed=0)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    write_json(out / MANIFEST, {"name": "gpu-check-qwen3", "spec": spec, "seed": 0,
                                "weights": "local", "architecture": type(model).__name__,
                                "n_parameters": sum(p.numel() for p in model.parameters())})
    return out


def demo_records(n: int, seed: int):
    """Demo product reviews with personas of 1 to 8 past reviews: prompts of varied length."""
    from percontrast.data.demo import generate_task

    records = []
    for k, profile in enumerate((1, 2, 4, 8)):
        part = generate_task("product_review", n_users=max(1, n // 8 + 1), records_per_user=2,
                             profile_size=profile, seed=seed + k)
        records += part
    return records[:n] if len(records) >= n else (records * (n // len(records) + 1))[:n]


def conversations_of(tokenizer, records, max_prompt_tokens: int):
    from percontrast.prompts import generation_messages

    return [generation_messages(tokenizer, r, max_prompt_tokens)[0] for r in records]


def train_generate(args, work: Path, results: dict) -> dict:
    import torch

    from percontrast.data.records import write_records
    from percontrast.generation import generate, load_for_generation, resolve_cache
    from percontrast.prompts import encode_prompt

    tok = load_tokenizer(args.tokenizer)
    spec = dict(DRY_GEN_MODEL if args.dry_run else GEN_MODEL)
    base = prepare_random_model(spec, tok, work / "model")
    train_file = work / "train.jsonl"
    write_records(train_file, demo_records(8, seed=0))
    training = {"epochs": 1, "max_steps": size(args, "train_steps"), "per_device_batch_size": 1,
                "max_length": 1024, "warmup_ratio": 0.0, "save_steps": 1000,
                "logging_steps": 1, "precision": "fp32" if args.dry_run else "bf16",
                "track_pir": True}
    run_dir = work / "run"
    cmd = [sys.executable, "-m", "percontrast", "train", "--model", str(base), "--data",
           str(train_file), "--method", "perce", "--run", "lr1e-05_clip0.8-5", "--training",
           json.dumps(training), "--batch-size", "2", "--seed", "0", "--out", str(run_dir)]
    if args.dry_run:
        cmd += ["--threads", "1"]
    t0 = time.perf_counter()
    subprocess_checked(cmd, size(args, "stage_timeout_s"))
    out: dict = {"model": {k: v for k, v in spec.items() if k != "source"},
                 "train_seconds": round(time.perf_counter() - t0, 2),
                 "train_steps": json.loads((run_dir / "done.json").read_text())["global_step"]}
    folder = run_dir / "model"
    device = "cpu" if args.dry_run else "cuda"

    model, tok, settings = load_for_generation(folder, device=device)
    out["gpu_settings"] = settings
    convs = conversations_of(tok, demo_records(size(args, "gen_prompts"), seed=1), 1024)
    lengths = [len(encode_prompt(tok, c)) for c in convs]
    out["prompt_tokens"] = {"min": min(lengths), "max": max(lengths),
                            "mean": round(sum(lengths) / len(lengths), 1)}
    kwargs = dict(temperature=0, max_new_tokens=size(args, "gen_new_tokens"),
                  batch_size=size(args, "gen_batch"))
    # warm-up on the longest prompts (the call's largest cache): allocation, kernel choice and,
    # with the static cache, torch.compile, all left out of the timings
    longest = sorted(range(len(convs)), key=lambda i: -lengths[i])[:kwargs["batch_size"]]
    t0 = time.perf_counter()
    try:
        generate(model, tok, [convs[i] for i in longest], **kwargs)
    except Exception as err:  # e.g. torch.compile failing: the dynamic-cache runs still count
        out["warmup_error"] = f"{type(err).__name__}: {err}"[:1000]
    out["warmup_seconds"] = round(time.perf_counter() - t0, 2)
    runs: dict = {}
    texts: dict = {}
    # auto: what the generate rule uses (a static cache on CUDA where supported)
    for label, extra in (("sorted", {}), ("unsorted", {"sort_by_length": False}),
                         ("sorted_dynamic", {"cache_implementation": "dynamic"}),
                         ("unsorted_dynamic", {"sort_by_length": False,
                                               "cache_implementation": "dynamic"})):
        if device == "cuda":
            torch.cuda.synchronize()
        try:
            got = generate(model, tok, convs, **kwargs, **extra)
        except Exception as err:
            runs[label] = {"error": f"{type(err).__name__}: {err}"[:1000]}
            log(f"generate {label} FAILED: {err}")
            continue
        runs[label] = {"tokens": got.n_tokens, "seconds": round(got.seconds, 3),
                       "tokens_per_s": round(got.tokens_per_second, 1)}
        texts[label] = [r.token_ids for r in got]
        log(f"generate {label}: {got.tokens_per_second:.1f} tokens/s")
    out["generation"] = runs
    out["generation_settings"] = {**kwargs, "n_prompts": len(convs),
                                  "auto_cache": resolve_cache("auto", model) or "dynamic"}
    out["sort_speedup"] = ratio(runs, "sorted", "unsorted")
    out["sort_speedup_dynamic"] = ratio(runs, "sorted_dynamic", "unsorted_dynamic")
    out["sorted_equals_unsorted_greedy"] = share_equal(texts.get("sorted"),
                                                        texts.get("unsorted"))
    out["auto_equals_dynamic_greedy"] = share_equal(texts.get("sorted"),
                                                     texts.get("sorted_dynamic"))

    # greedy outputs of the same weights on CPU (fp32) vs the GPU in fp32 and in bf16
    small = convs[:size(args, "compare_prompts")]
    ckw = dict(temperature=0, max_new_tokens=size(args, "compare_new_tokens"),
               batch_size=len(small))
    fast = [r.token_ids for r in generate(model, tok, small, **ckw,
                                          cache_implementation="dynamic")]
    del model
    from percontrast.models import load_prepared

    exact, _ = load_prepared(folder, device=device, dtype="float32")
    gpu_fp32 = [r.token_ids for r in generate(exact, tok, small, **ckw,
                                              cache_implementation="dynamic")]
    del exact
    cpu_model, _ = load_prepared(folder, device="cpu", dtype="float32")
    cpu = [r.token_ids for r in generate(cpu_model, tok, small, **ckw)]
    out["greedy_vs_cpu"] = {
        "n_prompts": len(small), "max_new_tokens": ckw["max_new_tokens"],
        "gpu_fp32_identical": share_equal(gpu_fp32, cpu),
        "gpu_fp32_common_prefix": prefix_share(gpu_fp32, cpu),
        "gpu_fast_dtype": settings["dtype"],
        "gpu_fast_identical": share_equal(fast, cpu),
        "gpu_fast_common_prefix": prefix_share(fast, cpu),
    }
    if device == "cuda":
        out["peak_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    results["_trained_model"] = str(base)
    return out


def ratio(runs: dict, a: str, b: str) -> float | None:
    x, y = runs.get(a, {}).get("tokens_per_s"), runs.get(b, {}).get("tokens_per_s")
    return round(x / y, 3) if x and y else None


def share_equal(a: list | None, b: list | None) -> float | None:
    if a is None or b is None:
        return None
    return round(sum(x == y for x, y in zip(a, b, strict=True)) / len(a), 3) if a else 1.0


def prefix_share(a: list, b: list) -> float:
    """Mean share of each response's tokens before the first difference."""
    shares = []
    for x, y in zip(a, b, strict=True):
        n = 0
        while n < min(len(x), len(y)) and x[n] == y[n]:
            n += 1
        shares.append(n / max(len(x), len(y), 1))
    return round(sum(shares) / len(shares), 3) if shares else 1.0


def fsdp(args, work: Path, results: dict) -> dict:
    n = results["environment"].get("n_gpus", 0)
    if n < 2:
        return {"skipped": f"{n} GPU(s): the FSDP step needs at least 2"}
    base = results.get("_trained_model")
    if not base:
        raise RuntimeError("no prepared model (train_generate failed before preparing it)")
    train_file = work / "train.jsonl"
    training = {"epochs": 1, "max_steps": 1, "per_device_batch_size": 1, "max_length": 1024,
                "warmup_ratio": 0.0, "save_steps": 1000, "logging_steps": 1,
                "precision": "bf16", "track_pir": True}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
           str(REPO / "envs" / "accelerate_fsdp.yaml"), "--num_processes", str(n),
           "-m", "percontrast", "train", "--model", base, "--data", str(train_file),
           "--method", "perce", "--run", "lr1e-05_clip0.8-5", "--training", json.dumps(training),
           "--batch-size", str(n), "--seed", "0", "--out", str(work / "fsdp_run")]
    subprocess_checked(cmd, size(args, "stage_timeout_s"))
    done = json.loads((work / "fsdp_run" / "done.json").read_text())
    return {"n_gpus": n, "global_step": done["global_step"], "train_loss": done["train_loss"]}


# --------------------------------------------------------------------------- summary

def summary_lines(results: dict) -> list[str]:
    envr = results.get("environment", {})
    lines = [f"GPU check ({'dry run, CPU' if results['dry_run'] else envr.get('gpu', '?')}; "
             f"torch {envr.get('torch')}, transformers {envr.get('transformers')}, "
             f"{results['total_seconds']:.0f} s)"]
    for name, title in (("bench_full", "full fine-tuning"), ("bench_lora", "LoRA")):
        r = results.get(name, {})
        if r.get("ok"):
            mem = r["peak_memory_mb"]
            lines.append(f"  {title:16s} PerCE/CE step {r['step_ratio_perce_to_ce']:.3f}x "
                         f"(CE {r['step_time_median_s']['ce']:.3f} s, PerCE "
                         f"{r['step_time_median_s']['perce']:.3f} s); peak memory CE "
                         f"{mem['ce'] / 1024:.2f} GB, PerCE {mem['perce'] / 1024:.2f} GB")
        else:
            lines.append(f"  {title:16s} FAILED: {r.get('error', 'not run')[:200]}")
    r = results.get("train_generate", {})
    if r.get("ok"):
        g = r["generation"]

        def tps(label):
            return f"{g[label]['tokens_per_s']:.0f}" if "tokens_per_s" in g[label] else "failed"

        lines.append(f"  generation       {tps('sorted')} tokens/s sorted, {tps('unsorted')} "
                     f"unsorted ({r['generation_settings']['auto_cache']} cache); "
                     f"{tps('sorted_dynamic')} / {tps('unsorted_dynamic')} (dynamic); "
                     f"{r['gpu_settings']['dtype']}, {r['gpu_settings']['attention']} attention")
        c = r["greedy_vs_cpu"]
        lines.append(f"  greedy vs CPU    fp32 identical {c['gpu_fp32_identical']:.0%} "
                     f"(prefix {c['gpu_fp32_common_prefix']:.0%}); {c['gpu_fast_dtype']} "
                     f"identical {c['gpu_fast_identical']:.0%} "
                     f"(prefix {c['gpu_fast_common_prefix']:.0%})")
    else:
        lines.append(f"  train->generate  FAILED: {r.get('error', 'not run')[:200]}")
    r = results.get("fsdp", {})
    lines.append("  fsdp             " + (r.get("skipped") or (
        f"step ok on {r['n_gpus']} GPUs, loss {r['train_loss']:.3f}" if r.get("ok")
        else f"FAILED: {r.get('error', 'not run')[:200]}")))
    return lines


def prepare_tokenizer(folder: Path) -> None:
    """Save SmolLM2's tokenizer (from the bundled GGUF; needs gguf) as a plain folder."""
    from percontrast.models import _bundled_tokenizer

    tok = _bundled_tokenizer()
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(folder)
    log(f"tokenizer saved to {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true",
                        help="every stage on CPU with toy shapes (seconds; for tests)")
    parser.add_argument("--prepare", action="store_true",
                        help="only save the tokenizer folder (needs the gguf package)")
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER)
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch folder (default: build/gpu_check/work[-dry])")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: results/bench/gpu.json (gpu_dry_run.json with --dry-run)")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["bench_full", "bench_lora", "train_generate", "fsdp"])
    args = parser.parse_args()
    if args.prepare or not (args.tokenizer / "tokenizer_config.json").is_file():
        try:
            prepare_tokenizer(args.tokenizer)
        except Exception as err:
            raise SystemExit(f"no tokenizer folder at {args.tokenizer} and it cannot be made "
                             f"here ({err}); run `bash scripts/gpu_check.sh --prepare` where the "
                             "project's environment is installed and carry that folder") from err
        if args.prepare:
            return
    args.tokenizer = args.tokenizer.resolve()
    work = args.work or REPO / "build" / "gpu_check" / ("work-dry" if args.dry_run else "work")
    work = work.resolve()
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out_file = args.out or REPO / "results" / "bench" / (
        "gpu_dry_run.json" if args.dry_run else "gpu.json")
    if str(REPO / "src") not in sys.path:
        sys.path.insert(0, str(REPO / "src"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.dry_run:
        import torch

        torch.set_num_threads(1)

    start = time.perf_counter()
    results: dict = {"check": "scripts/gpu_check.sh", "dry_run": args.dry_run,
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    run_stage("environment", results, environment, args)
    if not args.dry_run and not results["environment"].get("cuda"):
        raise SystemExit("no CUDA device: run on a GPU machine, or use --dry-run")
    stages = (("bench_full", bench, args, work, False), ("bench_lora", bench, args, work, True),
              ("train_generate", train_generate, args, work, results),
              ("fsdp", fsdp, args, work, results))
    for name, fn, *fargs in stages:
        if name in args.skip:
            results[name] = {"ok": False, "skipped": "--skip"}
            continue
        run_stage(name, results, fn, *fargs)
    results.pop("_trained_model", None)
    results["total_seconds"] = round(time.perf_counter() - start, 1)
    results["ok"] = all(results[name].get("ok") or "skipped" in results[name]
                        for name, *_ in stages)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=str) + "\n")
    tmp.replace(out_file)
    print("\n".join(summary_lines(results)))
    print(f"-> {out_file}")
    sys.exit(0 if results["ok"] else 1)


if __name__ == "__main__":
    main()
