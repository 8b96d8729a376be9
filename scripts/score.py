"""Score one generation file (rule score): ROUGE-L + METEOR, or EM/F1 for HotpotQA and DROP."""

import argparse

from percontrast.cli import json_arg, run, setup
from percontrast.data.records import QA_TASK_TYPES, read_records
from percontrast.io import DataError, iter_jsonl, write_json


def read_generations(path: str, records) -> list[str]:
    """Outputs in the order of ``records``; every record needs exactly one generation."""
    outputs: dict[str, str] = {}
    for line, row in iter_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise DataError(path, "missing id", line=line, field="id")
        if not isinstance(row.get("output"), str):
            raise DataError(path, f"record {row['id']!r}: output must be a string", line=line,
                            field="output")
        if row["id"] in outputs:
            raise DataError(path, f"duplicate generation for record {row['id']!r}", line=line,
                            field="id")
        outputs[row["id"]] = row["output"]
    missing = [r.id for r in records if r.id not in outputs]
    if missing:
        raise DataError(path, f"no generation for {len(missing)} test record(s), e.g. "
                        f"{missing[0]!r}", field="id")
    return [outputs[r.id] for r in records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generations", required=True)
    parser.add_argument("--data", required=True, help="the test records they answer")
    parser.add_argument("--run-info", type=json_arg, default={},
                        help="model / train task / method / run / eval task (JSON)")
    parser.add_argument("--config-hash", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("score")

    from percontrast.metrics import summarize

    records = read_records(args.data)
    if not records:
        raise DataError(args.data, "no test records to score")
    predictions = read_generations(args.generations, records)
    if records[0].task in QA_TASK_TYPES:
        scores = summarize("qa", predictions, records)
    else:
        scores = summarize("generation", predictions, [r.reference for r in records])
    result = {**args.run_info, "generations": args.generations, "config_hash": args.config_hash,
              "seed": args.seed, "judge": None, **scores}
    write_json(args.out, result)
    log.info("%s", {k: v for k, v in scores.items() if not isinstance(v, list)})


if __name__ == "__main__":
    run(main)
