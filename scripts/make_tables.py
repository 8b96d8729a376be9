"""Render every paper table the config covers from results/ (rule tables)."""

import argparse

from percontrast.cli import json_arg, run, setup
from percontrast.config import check_config, validate_schema
from percontrast.report.tables import BUILDERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=json_arg, required=True, help="the pipeline config (JSON)")
    parser.add_argument("--results", default="results")
    parser.add_argument("--data", default="data")
    parser.add_argument("--tables", nargs="*", default=list(BUILDERS), choices=list(BUILDERS))
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("make_tables")
    cfg = validate_schema(args.config)
    check_config(cfg)
    for name in args.tables:
        builder = BUILDERS[name]
        table = (builder(cfg, args.results, args.data) if name == "table6"
                 else builder(cfg, args.results))
        table.write(args.out)
        log.info("%s: %d rows, %d missing runs", name, len(table.rows), len(table.missing))


if __name__ == "__main__":
    run(main)
