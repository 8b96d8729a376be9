"""Write docs/results.md from a finished run: the verdict table (claims.json), the configuration
(index.md), the commit, the date, the wall time and the per-rule job times (benchmarks/).

    percontrast summarize results --out docs/results.md --wall-time "22 min 1 s"

Run it in the clone that made the run (its ``git rev-parse HEAD`` is the commit shown), after
``snakemake`` has finished; no rule calls it.
"""

import argparse

from percontrast.cli import setup
from percontrast.io import write_text
from percontrast.report.summary import render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", help="the run's results folder (holds claims.json)")
    parser.add_argument("--out", required=True, help="the Markdown page to write")
    parser.add_argument("--benchmarks", default=None,
                        help="Snakemake's benchmark folder (default: benchmarks/ beside RESULTS)")
    parser.add_argument("--wall-time", default=None,
                        help="the run's measured wall time, e.g. '22 min 1 s' (no file records it)")
    parser.add_argument("--command", default=None, help="the command that made the run")
    parser.add_argument("--commit", default=None, help="default: git rev-parse HEAD, or unknown")
    parser.add_argument("--date", default=None, help="default: claims.json's modification time")
    args = parser.parse_args()
    log = setup("summarize")
    text = render(args.results, benchmarks=args.benchmarks, commit=args.commit, date=args.date,
                  wall_time=args.wall_time, command=args.command)
    write_text(args.out, text)
    log.info("%s -> %s", args.results, args.out)
