"""Load one task split from its source and keep a seeded sample (rule load_task)."""

import argparse

from percontrast.cli import json_arg, non_negative_int, setup
from percontrast.data.records import write_records
from percontrast.data.tasks import load_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", required=True, help="task_registry name")
    parser.add_argument("--spec", type=json_arg, required=True, help="task_registry entry (JSON)")
    parser.add_argument("--split", choices=["train", "test"], required=True)
    parser.add_argument("--n", type=non_negative_int, default=None,
                        help="records kept (all if omitted)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("load_task")
    args.spec.pop("data_sha256", None)  # the workflow's fingerprint of the files (a rerun key)
    records = load_task(args.task, args.spec, args.split, n=args.n, seed=args.seed)
    if not records:
        raise SystemExit(f"error: task {args.task!r} ({args.split}) yielded no records")
    write_records(args.out, records)
    users = len({r.user_id for r in records})
    log.info("%s/%s: %d records from %d users (%s) -> %s", args.task, args.split, len(records),
             users, args.spec["source"], args.out)
