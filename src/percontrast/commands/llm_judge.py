"""LLM-as-judge personalization and quality of one run's own-task generations (rule llm_judge)."""

import argparse

from percontrast import layout
from percontrast.cli import json_arg, set_threads, setup
from percontrast.io import read_jsonl, write_json, write_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generations", required=True, help="the run's generations (JSONL)")
    parser.add_argument("--data", required=True, help="the test records they answer (JSONL)")
    parser.add_argument("--judge", type=json_arg, required=True,
                        help="evaluation.llm_judge (JSON)")
    parser.add_argument("--llm", type=json_arg, required=True, help="llm entries (JSON)")
    parser.add_argument("--run-info", type=json_arg, default={})
    parser.add_argument("--config-hash", default="")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--cache-dir", default=str(layout.path("llm_cache")))
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", required=True, help="summary (JSON)")
    parser.add_argument("--items", required=True, help="per-generation scores (JSONL)")
    args = parser.parse_args()
    log = setup("llm_judge")
    set_threads(args.threads)

    from percontrast.data.records import read_records
    from percontrast.llm import LLMError
    from percontrast.llm_judge import judge_run

    questions = {r.id: r.query for r in read_records(args.data)}
    try:
        summary, rows = judge_run(read_jsonl(args.generations), questions, args.judge, args.llm,
                                  seed=args.seed, cache_dir=args.cache_dir, device=args.device,
                                  source=args.generations, records_source=args.data)
    except LLMError as err:  # an unusable judge: fail the job, write nothing
        raise SystemExit(f"error: {err}") from None
    write_jsonl(args.items, rows)
    write_json(args.out, {**args.run_info, "config_hash": args.config_hash, "seed": args.seed,
                          **summary})
    log.info("judge %s: personalization %s, quality %s (missing %s; unparsed %s, refused %s) "
             "-> %s", summary["judge"], summary["personalization"], summary["quality"],
             summary["missing"], summary["unparsed_judgments"], summary["refused_judgments"],
             args.out)
