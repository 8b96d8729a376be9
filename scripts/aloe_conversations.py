"""The ALOE benchmark's profile x personality pairs, or demo stand-ins (rule aloe_conversations)."""

import argparse

from percontrast.cli import json_arg, run, setup
from percontrast.io import write_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=json_arg, required=True, help="evaluation.aloe (JSON)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("aloe_conversations")
    spec = args.spec
    n_prof, n_pers = spec.get("n_profiles", 20), spec.get("n_personalities", 5)
    if spec.get("source", "demo") == "files":
        from percontrast.data.aloe import load_aloe_benchmark

        rows = load_aloe_benchmark(spec["profile_path"], spec["personality_path"],
                                   n_profiles=n_prof, n_personalities=n_pers)
    else:
        from percontrast.data.demo import generate_aloe_like

        rows = generate_aloe_like(n_prof, n_pers, args.seed)
    write_jsonl(args.out, rows)
    log.info("%d ALOE conversations (%s) -> %s", len(rows), spec.get("source", "demo"), args.out)


if __name__ == "__main__":
    run(main)
