"""Figures 2, 4 and 5 from PIR benchmark results (rule pir_figures)."""

import argparse
import itertools
from pathlib import Path

from percontrast.cli import run, setup
from percontrast.io import read_json, read_jsonl
from percontrast.report import figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pir", nargs="+", required=True,
                        help="results/pir/{model} folders; the first one feeds figures 2 and 5")
    parser.add_argument("--n-heatmap", type=int, default=8, help="answers in the heat-map")
    parser.add_argument("--out", required=True, help="figures folder")
    args = parser.parse_args()
    log = setup("pir_figures")
    out = Path(args.out)
    classification = {Path(d).name: read_json(Path(d) / "classification.json") for d in args.pir}
    figures.pir_classification_bars(classification, out / "figure4_pir_classification.png")
    main_dir = Path(args.pir[0])
    tokens = read_jsonl(main_dir / "scores.jsonl")
    threshold = classification[main_dir.name]["threshold"]
    figures.pir_histogram(tokens, threshold, out / "figure5_pir_histogram.png",
                          title=f"PIR of answer tokens ({main_dir.name})")
    answers = [list(group) for _, group in itertools.groupby(tokens, key=lambda t: t["id"])]
    shown = [a for a in answers if any(t["gold"] for t in a)][:args.n_heatmap]
    figures.pir_heatmap(shown, out / "figure2_pir_heatmap.png",
                        title=f"Per-token PIR on persona-QA answers ({main_dir.name})")
    log.info("wrote figures 2, 4, 5 to %s", out)


if __name__ == "__main__":
    run(main)
