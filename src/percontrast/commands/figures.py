"""Training curves, the E-step on marker tokens, LR robustness, cross-task heat-maps and ALOE by
round (rule figures): percontrast.report.render.render_figures."""

import argparse

from percontrast import config as pc
from percontrast.cli import json_arg, setup
from percontrast.report.render import render_figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=json_arg, required=True, help="the pipeline config (JSON)")
    parser.add_argument("--results", default="results", help="results root to read")
    parser.add_argument("--out", required=True, help="figures folder")
    args = parser.parse_args()
    log = setup("figures")
    cfg = pc.validate_schema(args.config)
    pc.check_config(cfg)
    paths = render_figures(cfg, args.results, args.out)
    log.info("wrote %d figures to %s", len(paths), args.out)
