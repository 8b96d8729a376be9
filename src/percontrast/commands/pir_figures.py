"""Figures 2, 4 and 5 from PIR benchmark results (rule pir_figures), and the PR curves of PIR
under each counterfactual with the word-matching and judge operating points beside them:
percontrast.report.render.render_pir_figures."""

import argparse

from percontrast.cli import setup
from percontrast.report.render import render_pir_figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pir", nargs="+", required=True,
                        help="results/pir/{model} folders; the first one feeds figures 2 and 5")
    parser.add_argument("--n-heatmap", type=int, default=8, help="answers in the heat-map")
    parser.add_argument("--out", required=True, help="figures folder")
    args = parser.parse_args()
    log = setup("pir_figures")
    paths = render_pir_figures(args.pir, args.out, n_heatmap=args.n_heatmap)
    log.info("wrote %d PIR figures to %s", len(paths), args.out)
