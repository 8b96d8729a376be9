"""LLM-as-judge personalization and quality of one run's own-task generations (rule llm_judge)."""

import argparse

from percontrast.cli import json_arg, run, set_threads, setup
from percontrast.io import DataError, read_jsonl, write_json, write_jsonl


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
    parser.add_argument("--cache-dir", default="results/llm_cache")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", required=True, help="summary (JSON)")
    parser.add_argument("--items", required=True, help="per-generation scores (JSONL)")
    args = parser.parse_args()
    log = setup("llm_judge")
    set_threads(args.threads)

    from percontrast.data.records import read_records
    from percontrast.llm import LLMError, make_llm
    from percontrast.llm_judge import judge_generations

    spec = args.judge
    questions = {r.id: r.query for r in read_records(args.data)}
    generations = read_jsonl(args.generations)[: spec.get("n", 100)]
    if not generations:
        raise DataError(args.generations, "no generations to judge")
    items = []
    for line, g in enumerate(generations, start=1):
        for key in ("id", "output", "reference"):
            if key not in g:
                raise DataError(args.generations, "missing field", line=line, field=key)
        if g["id"] not in questions:
            raise DataError(args.generations, f"record {g['id']!r} is not in {args.data}",
                            line=line, field="id")
        items.append({"id": g["id"], "question": questions[g["id"]],
                      "reference": g["reference"], "output": g["output"]})
    name = spec["judge"]
    judge = make_llm(args.llm[name], cache_dir=args.cache_dir, name=name, device=args.device)
    try:
        summary, rows = judge_generations(
            judge, items, seed=args.seed, samples=spec.get("samples", 1),
            retries=spec.get("judge_retries", 2), temperature=spec.get("temperature"),
            max_new_tokens=spec.get("max_new_tokens"), scale=spec.get("scale", "x20"))
    except LLMError as err:  # an unusable judge: fail the job, write nothing
        raise SystemExit(f"error: {err}") from None
    write_jsonl(args.items, rows)
    write_json(args.out, {**args.run_info, "config_hash": args.config_hash, "seed": args.seed,
                          "judge": name, "judge_model": judge.spec.get("label",
                                                                       judge.spec["model"]),
                          **summary})
    log.info("judge %s: personalization %s, quality %s (missing %s; unparsed %s, refused %s) "
             "-> %s", name, summary["personalization"], summary["quality"], summary["missing"],
             summary["unparsed_judgments"], summary["refused_judgments"], args.out)


if __name__ == "__main__":
    run(main)
