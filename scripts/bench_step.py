"""Benchmark: training-step time and peak memory of CE, LossCE, EntCE and PerCE on the same
batches, one process per method, into results/bench/step.json (step_lora.json with --lora).
What it measures and why: :mod:`percontrast.bench`; the same as ``percontrast bench_step``.

    python scripts/bench_step.py [--lora] [--model qwen3-4b-arch] [--help]
"""

from percontrast.bench import main

if __name__ == "__main__":
    main()
