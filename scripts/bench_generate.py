"""Benchmark: generation tokens/s at each precision and batch size, into
results/bench/generate.json. What it measures and why: :mod:`percontrast.bench_generation`.

    python scripts/bench_generate.py [--n 64] [--batch-sizes 8 16 32 64] [--help]
"""

from percontrast.bench_generation import main

if __name__ == "__main__":
    main()
