"""The persona-QA set with gold personal keywords (rule persona_qa, paper appendix A).

``source: demo`` writes the bundled deterministic set; ``source: synthetic`` asks an LLM to write
question / answer / keywords for Synthetic-Persona-Chat personas (appendix D.2 prompt). What a
source means lives in :func:`percontrast.persona_qa.build_persona_qa_set`; this script only
parses arguments, calls it and writes the rows.
"""

import argparse

from percontrast import layout
from percontrast.cli import json_arg, setup
from percontrast.config import section_defaults
from percontrast.io import write_jsonl
from percontrast.persona_qa import build_persona_qa_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=json_arg, required=True, help="persona_qa config (JSON)")
    parser.add_argument("--llm", type=json_arg, default={}, help="llm entries (JSON)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=str(layout.path("llm_cache")))
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("persona_qa")
    args.spec.pop("data_sha256", None)  # a workflow's fingerprint of spc_csv (a rerun key)
    spec = section_defaults("persona_qa", args.spec)
    rows = build_persona_qa_set(spec, seed=args.seed, llms=args.llm,
                                cache_dir=args.cache_dir)
    write_jsonl(args.out, rows)
    log.info("%d persona-QA pairs (%s) -> %s", len(rows), spec["source"],
             args.out)
