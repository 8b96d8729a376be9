"""Render every paper table the config covers from results/ (rule tables), and next to each its
paper-vs-reproduction companion ``{table}_vs_paper`` (unless report.paper_comparison is false):
percontrast.report.render.render_tables."""

import argparse

from percontrast.artefacts import base_table_names
from percontrast.cli import json_arg, setup
from percontrast.config import check_config, validate_schema
from percontrast.report.render import render_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=json_arg, required=True, help="the pipeline config (JSON)")
    parser.add_argument("--results", default="results")
    parser.add_argument("--data", default="data")
    parser.add_argument("--tables", nargs="*", default=base_table_names(),
                        choices=base_table_names(),
                        help="base tables; the companion of each selected one is written too")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("tables")
    cfg = validate_schema(args.config)
    check_config(cfg)
    tables = render_tables(cfg, args.results, args.data, args.out, args.tables)
    log.info("wrote %d tables to %s", len(tables), args.out)
