"""``percontrast <command>``: one command per workflow rule, which the rules' shells call, and
``summarize``, which renders docs/results.md from a finished run.

Each command module parses its arguments, calls the library once and writes its outputs
atomically (:mod:`percontrast.cli` holds what they share). ``percontrast --help`` lists them;
``percontrast <command> --help`` gives one command's arguments. ``python -m percontrast`` is the
same entry point, for launchers that take a module (``accelerate launch -m percontrast train``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: command (= the rule that calls it) -> what it does, for ``percontrast --help``
COMMANDS: dict[str, str] = {
    "prepare_model": "prepare one registry model into data/models/{model}",
    "load_task": "load and sample one task split",
    "retrieve": "attach each record's top-k profile entries (its persona)",
    "aloe_conversations": "the ALOE profile x personality pairs",
    "persona_qa": "the persona-QA set of the PIR benchmark",
    "train": "fine-tune one model on one task with one loss; resumes after a kill",
    "generate": "generate one checkpoint's replies to one test split",
    "score": "score one file of generations",
    "aloe": "ALOE conversations with one checkpoint",
    "llm_judge": "LLM-as-judge scores of one run's generations",
    "pir_benchmark": "the PIR benchmark of one model",
    "pir_figures": "figures 2, 4 and 5 from the PIR benchmark",
    "bench_step": "CE vs PerCE training-step time and memory on identical batches",
    "tables": "the report's tables",
    "figures": "the report's run figures",
    "claims": "claims.md and claims.json: every claim's estimate, interval and verdict",
    "index": "results/index.md",
    # no rule calls it: it runs after snakemake, on a finished run (tests/test_cli.py)
    "summarize": "docs/results.md from a finished run's claims.json, config and job times",
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: percontrast <command> [--help] [arguments]", "", "commands:"]
    lines += [f"  {name:<{width}}  {what}" for name, what in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Dispatch ``argv`` (default ``sys.argv[1:]``) to its command's ``main``, through
    :func:`percontrast.cli.run` (expected errors: one line, exit status 1). Only the chosen
    command's module is imported, so a command pays for no other's imports."""
    from percontrast.cli import run

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        sys.exit(0 if args else 2)
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"percontrast: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(f"percontrast.commands.{name}")
    sys.argv = [f"percontrast {name}", *rest]  # argparse's prog, in usage and error lines
    run(module.main)
