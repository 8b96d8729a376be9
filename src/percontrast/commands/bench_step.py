"""CE vs PerCE training-step time and memory on identical batches (rule bench_step):
:mod:`percontrast.bench`, as ``scripts/bench_step.py`` runs it."""

from percontrast.bench import main

__all__ = ["main"]
