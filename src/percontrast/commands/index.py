"""Write results/index.md: a line per table and figure with the command that rebuilds it."""

import argparse

from percontrast.cli import json_arg, setup
from percontrast.io import write_text
from percontrast.report.index import build_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=json_arg, required=True, help="the pipeline config (JSON)")
    parser.add_argument("--configfile", default=None, help="the config file named in commands")
    parser.add_argument("--claims", default=None, help="claims.md (linked first)")
    parser.add_argument("--tables", nargs="*", default=[], help="table Markdown files")
    parser.add_argument("--figures", nargs="*", default=[], help="figure PNG files")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("index")
    text = build_index(args.config, args.tables, args.figures, configfile=args.configfile,
                       claims=args.claims)
    write_text(args.out, text)
    log.info("%d tables, %d figures -> %s", len(args.tables), len(args.figures), args.out)
