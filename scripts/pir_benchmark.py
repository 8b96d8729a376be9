"""PIR token-classification benchmark: PerContrast vs word matching vs LLM judge (appendix A).

    python scripts/pir_benchmark.py --model smollm2-135m --data data/synthetic/persona_qa.jsonl \
        --out results/pir/smollm2-135m

writes OUT/scores.jsonl (one line per answer token: text, PIR, gold and predicted labels) and
OUT/classification.json (precision / recall / F1 per method).
"""

import argparse
from pathlib import Path

from percontrast.cli import json_arg, run, set_threads, setup
from percontrast.io import read_jsonl, write_json, write_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True,
                        help="prepared model folder, or a registry name under data/models/")
    parser.add_argument("--data", required=True, help="persona-QA JSONL")
    parser.add_argument("--threshold", type=float, default=1.0, help="personal if PIR > this")
    parser.add_argument("--judge", type=json_arg, default={},
                        help="llm entry (JSON) for the LLM-as-judge baseline; {} skips it")
    parser.add_argument("--cache-dir", default="results/llm_cache")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    log = setup("pir_benchmark")
    set_threads(args.threads)

    from percontrast.models import load_prepared
    from percontrast.pir_benchmark import run_benchmark, validate_rows

    model_dir = Path(args.model) if Path(args.model).is_dir() else Path("data/models") / args.model
    model, tokenizer = load_prepared(model_dir)
    rows = read_jsonl(args.data)
    validate_rows(rows, args.data)
    judge = None
    if args.judge:
        from percontrast.llm import make_llm

        judge = make_llm(args.judge, cache_dir=args.cache_dir)
    tokens, classification = run_benchmark(model, tokenizer, rows, threshold=args.threshold,
                                           judge=judge, batch_size=args.batch_size)
    classification["model"] = model_dir.name
    classification["judge"] = args.judge.get("label", args.judge.get("model")) or None
    out = Path(args.out)
    write_jsonl(out / "scores.jsonl", tokens)
    write_json(out / "classification.json", classification)
    for method in ("percontrast", "word_matching", "llm_judge"):
        if method in classification:
            m = classification[method]
            log.info("%-13s P %.3f R %.3f F1 %.3f", method, m["precision"], m["recall"], m["f1"])


if __name__ == "__main__":
    run(main)
