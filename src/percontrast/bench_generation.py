"""Benchmark: generation throughput (new tokens per second) at each precision and batch size.

The generate rule spends most of a CPU run's evaluation time. Its speed depends on two settings:
the weights' precision (``generation.precision``; bf16 halves the bytes read per decoded token
and runs on native bf16 units where the chip has them) and the batch (``generation.batch_size``;
a larger batch amortises reading the weights over more rows, until padding and the KV cache
cost more than they save). This measures both on the same prompts, with the pipeline's own
:func:`percontrast.generation.generate`, and writes ``results/bench/generate.json``.

Each setting generates for the same prompts with the same seed, after one warm-up batch, and
records the wall time, the new tokens and the process's peak RSS. A precision that the chip does
not compute natively is measured only when asked for by name (``--precisions fp32 bf16``), since
emulated bf16 on such a CPU is tens of times slower than fp32.

    python scripts/bench_generate.py --model data/models/smollm2-135m \\
        --data data/processed/spc/test.jsonl --n 64 --max-new-tokens 40 --threads 1
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from percontrast import layout

BATCH_SIZES = (8, 16, 32, 64)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(layout.path("model", model="smollm2-135m")),
                   help="a prepared model folder or a training run's folder")
    p.add_argument("--data", default=str(layout.path("processed", task="spc", split="test")),
                   help="test records (JSONL) whose prompts are generated for")
    p.add_argument("--n", type=int, default=64, help="prompts (the first N records)")
    p.add_argument("--max-new-tokens", type=int, default=40)
    p.add_argument("--temperature", type=float, default=0.4)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    p.add_argument("--precisions", nargs="+", choices=("auto", "fp32", "bf16"),
                   default=["fp32", "auto"],
                   help="auto = what generation.precision: auto picks on this chip")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(layout.path("bench_generate")))
    return p


def _conversations(tokenizer, data: str, n: int) -> list:
    from percontrast.data.records import read_records
    from percontrast.prompts import generation_messages

    records = read_records(data)[:n]
    if not records:
        raise SystemExit(f"error: {data}: no records to generate for")
    return [generation_messages(tokenizer, r, None)[0] for r in records]


def measure(folder: str, precision: str, batch_sizes, args) -> list[dict]:
    """Tokens/s of each batch size in one precision (one model load, one warm-up)."""
    from percontrast.generation import generate, load_for_generation

    model, tokenizer, settings = load_for_generation(folder, device="cpu", precision=precision)
    conversations = _conversations(tokenizer, args.data, args.n)
    kw = {"temperature": args.temperature, "max_new_tokens": args.max_new_tokens,
          "seed": args.seed}
    generate(model, tokenizer, conversations[:min(batch_sizes)], batch_size=min(batch_sizes),
             **kw)  # warm-up: first-call allocations and kernel selection
    rows = []
    for batch in batch_sizes:
        start = time.perf_counter()
        out = generate(model, tokenizer, conversations, batch_size=batch, **kw)
        seconds = time.perf_counter() - start
        rows.append({"precision": precision, "dtype": settings["dtype"], "batch_size": batch,
                     "prompts": len(conversations), "new_tokens": out.n_tokens,
                     "seconds": seconds, "tokens_per_s": out.n_tokens / seconds,
                     "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        print(f"[bench_generate] {precision} ({settings['dtype']}) batch {batch}: "
              f"{rows[-1]['tokens_per_s']:.1f} tokens/s", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    args = parser().parse_args()
    import torch

    from percontrast.layout import trained_model
    from percontrast.precision import describe, resolve

    torch.set_num_threads(args.threads)
    folder = str(trained_model(args.model))
    precisions = list(dict.fromkeys(resolve(p, "cpu") for p in args.precisions))
    rows = [row for p in precisions for row in measure(folder, p, args.batch_sizes, args)]
    base = next((r for r in rows if r["precision"] == "fp32" and r["batch_size"] == 8), None)
    for r in rows:
        r["speedup_over_fp32_batch8"] = (r["tokens_per_s"] / base["tokens_per_s"]
                                         if base else None)
    best = {p: max((r for r in rows if r["precision"] == p), key=lambda r: r["tokens_per_s"])
            ["batch_size"] for p in precisions}
    out = {"benchmark": "generation throughput, percontrast.generation.generate, CPU",
           "model": folder, "data": args.data, "threads": args.threads, "chip": describe(),
           "auto_precision": resolve("auto", "cpu"), "best_batch_size": best,
           "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]), "rows": rows}
    from percontrast.io import write_json

    write_json(args.out, out)
    print(json.dumps({"best_batch_size": best, "auto_precision": out["auto_precision"]}))


if __name__ == "__main__":
    main()
