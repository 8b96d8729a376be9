"""Render every paper table the config covers from results/ (rule tables), and next to each its
paper-vs-reproduction companion ``{table}_vs_paper`` (unless report.paper_comparison is false)."""

import argparse

from percontrast.cli import json_arg, run, setup
from percontrast.config import check_config, validate_schema
from percontrast.report.compare import COMPANIONS, companions_of
from percontrast.report.tables import BUILDERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=json_arg, required=True, help="the pipeline config (JSON)")
    parser.add_argument("--results", default="results")
    parser.add_argument("--data", default="data")
    parser.add_argument("--tables", nargs="*", default=list(BUILDERS), choices=list(BUILDERS),
                        help="base tables; the companion of each selected one is written too")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("make_tables")
    cfg = validate_schema(args.config)
    check_config(cfg)
    builders = {name: BUILDERS[name] for name in args.tables}
    if cfg.get("report", {}).get("paper_comparison", True):
        builders.update({name: COMPANIONS[name] for name in companions_of(args.tables)})
    for name, builder in builders.items():
        table = (builder(cfg, args.results, args.data) if name.startswith("table6")
                 else builder(cfg, args.results))
        table.write(args.out)
        log.info("%s: %d rows, %d missing runs", name, len(table.rows), len(table.missing))


if __name__ == "__main__":
    run(main)
