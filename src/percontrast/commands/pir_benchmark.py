"""PIR token-classification benchmark: PerContrast vs word matching vs LLM judge (appendix A).

    percontrast pir_benchmark --model smollm2-135m --data data/synthetic/persona_qa.jsonl \
        --out results/pir/smollm2-135m

writes OUT/scores.jsonl (one line per answer token: text, PIR under every counterfactual, gold
label and kind, dev/test split, each method's label) and OUT/classification.json (P/R/F1 per
method at the paper's threshold as before; per counterfactual PR-AUC, ROC-AUC, the dev-chosen
threshold and its test P/R/F1, recall on verbatim vs paraphrased gold tokens; bootstrap
intervals of every F1 / AUC difference).
"""

import argparse
from pathlib import Path

from percontrast import layout
from percontrast.cli import json_arg, set_threads, setup
from percontrast.config import schema_default
from percontrast.io import read_jsonl, write_json, write_jsonl
from percontrast.prompts import COUNTERFACTUALS
from percontrast.stats import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True,
                        help="prepared model folder, or a registry name under data/models/")
    parser.add_argument("--data", required=True, help="persona-QA JSONL")
    parser.add_argument("--spc-csv", default=None,
                        help="Synthetic-Persona-Chat CSV: rows without a persona take the one "
                             "whose id they carry (e.g. tests/data/spc_persona_qa.jsonl)")
    parser.add_argument("--threshold", type=float, required=True,
                        help="personal if PIR > this (config pir.threshold; the paper's is 1)")
    parser.add_argument("--counterfactual", choices=COUNTERFACTUALS,
                        default=schema_default("pir.counterfactual"),
                        help="the counterfactual behind the `percontrast` label and `pir`")
    parser.add_argument("--variants", nargs="+", choices=COUNTERFACTUALS,
                        default=schema_default("pir.variants"), help="counterfactuals to score")
    parser.add_argument("--dev-fraction", type=float, default=schema_default("pir.dev_fraction"),
                        help="share of answers that choose the threshold (never reported on)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the dev split, placebo pairing and bootstrap")
    parser.add_argument("--n-resamples", type=int, default=DEFAULT_RESAMPLES)
    parser.add_argument("--confidence", type=float, default=DEFAULT_CONFIDENCE)
    parser.add_argument("--judge", type=json_arg, default={},
                        help="llm entry (JSON) for the LLM-as-judge baseline; {} skips it")
    parser.add_argument("--cache-dir", default=str(layout.path("llm_cache")))
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"),
                        default=schema_default("pir.precision"),
                        help="bf16 autocast where the chip has native bf16 (auto), or forced")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    log = setup("pir_benchmark")
    set_threads(args.threads)

    from percontrast.models import load_prepared
    from percontrast.pir_benchmark import run_benchmark, validate_rows

    model_dir = (Path(args.model) if Path(args.model).is_dir()
                 else layout.path("model", model=args.model))
    model, tokenizer = load_prepared(model_dir)
    from percontrast.precision import autocast, resolve

    precision = resolve(args.precision, model.device.type)
    rows = read_jsonl(args.data)
    if args.spc_csv:
        from percontrast.data.spc import load_spc_personas
        from percontrast.synthetic import attach_personas

        rows = attach_personas(rows, load_spc_personas(args.spc_csv), args.data)
    validate_rows(rows, args.data)
    judge = None
    if args.judge:
        from percontrast.llm import make_llm

        judge = make_llm(args.judge, cache_dir=args.cache_dir)
    boot = {"n_resamples": args.n_resamples, "confidence": args.confidence, "seed": args.seed}
    with autocast(precision, model.device.type):
        tokens, classification = run_benchmark(
            model, tokenizer, rows, threshold=args.threshold, counterfactual=args.counterfactual,
            variants=args.variants, dev_fraction=args.dev_fraction, seed=args.seed, boot=boot,
            judge=judge, batch_size=args.batch_size)
    classification["precision"] = precision
    classification["model"] = model_dir.name
    classification["judge"] = args.judge.get("label", args.judge.get("model")) or None
    classification["data"] = args.data
    out = Path(args.out)
    write_jsonl(out / "scores.jsonl", tokens)
    write_json(out / "classification.json", classification)
    for method in ("percontrast", "word_matching", "word_matching_lemma", "llm_judge"):
        if method in classification:
            m = classification[method]
            log.info("%-19s P %.3f R %.3f F1 %.3f", method, m["precision"], m["recall"], m["f1"])
    for name, v in classification["variants"].items():
        log.info("PIR %-8s AP %.3f ROC-AUC %.3f dev threshold %s", name, v["average_precision"],
                 v["roc_auc"], f"{v['dev_threshold']:.2f}" if "dev_threshold" in v else "-")
