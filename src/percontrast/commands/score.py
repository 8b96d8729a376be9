"""Score one generation file (rule score): ROUGE-L + METEOR (and persona use on real dialogue),
or EM/F1 for HotpotQA and DROP."""

import argparse

from percontrast.cli import json_arg, non_negative_int, setup
from percontrast.data.records import QA_TASK_TYPES, read_records
from percontrast.generation_file import read_generations
from percontrast.io import DataError, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generations", required=True)
    parser.add_argument("--data", required=True, help="the test records they answer")
    parser.add_argument("--run-info", type=json_arg, default={},
                        help="model / train task / method / run / eval task (JSON)")
    parser.add_argument("--config-hash", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--limit", type=non_negative_int, default=0,
                        help="score the first N test records only, as generate did (0: all)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("score")

    from percontrast import persona_use
    from percontrast.markers import has_markers, score_markers
    from percontrast.metrics import metrics_file, summarize
    from percontrast.persona_use import has_persona_ground_truth, score_replies

    population = read_records(args.data)
    records = population[:args.limit] if args.limit > 0 else population
    if not records:
        raise DataError(args.data, "no test records to score")
    predictions, shown = read_generations(args.generations, records)
    if records[0].task in QA_TASK_TYPES:
        scores = summarize("qa", predictions, records)
    else:
        scores = summarize("generation", predictions, [r.reference for r in records])
    markers = (score_markers(predictions, records, shown=shown, population=population)
               if has_markers(population) else None)
    if has_persona_ground_truth(population):  # real dialogue: SPC's own persona sentences
        rows = score_replies(predictions, records, population)
        scores["per_example"].update({k: [r[k] for r in rows] for k in persona_use.KEYS})
        scores.update(persona_use.summary(rows, population))
    body = metrics_file([r.id for r in records], scores, markers)
    result = {**args.run_info, "generations": args.generations, "config_hash": args.config_hash,
              "seed": args.seed, "judge": None, **body}
    write_json(args.out, result)
    log.info("%s", {k: v for k, v in body.items() if not isinstance(v, list)})
