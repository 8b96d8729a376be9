"""Write results/claims.md and claims.json (rule claims): the paper's headline claims, this run's
evidence with paired-bootstrap intervals, and a verdict computed from the result files."""

import argparse

from percontrast.cli import json_arg, setup
from percontrast.config import check_config, validate_schema
from percontrast.report.claims import write_claims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=json_arg, required=True, help="the pipeline config (JSON)")
    parser.add_argument("--results", default="results")
    parser.add_argument("--out", required=True, help="claims.md")
    parser.add_argument("--json", required=True, help="claims.json")
    args = parser.parse_args()
    log = setup("claims")
    cfg = validate_schema(args.config)
    check_config(cfg)
    claims = write_claims(cfg, args.results, args.out, args.json)
    for c in claims:
        log.info("%-44s %-13s %s", c.id, c.verdict, c.ours())
