"""The ALOE benchmark's profile x personality pairs, or demo stand-ins (rule aloe_conversations):
percontrast.data.aloe.aloe_conversations."""

import argparse

from percontrast.cli import json_arg, setup
from percontrast.config import section_defaults
from percontrast.data.aloe import aloe_conversations
from percontrast.io import write_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=json_arg, required=True, help="evaluation.aloe (JSON)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("aloe_conversations")
    args.spec.pop("data_sha256", None)  # the workflow's fingerprint of the files (a rerun key)
    spec = section_defaults("evaluation.aloe", args.spec)
    rows = aloe_conversations(spec, args.seed)
    write_jsonl(args.out, rows)
    log.info("%d ALOE conversations (%s) -> %s", len(rows), spec["source"],
             args.out)
