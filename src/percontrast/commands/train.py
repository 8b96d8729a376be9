"""Fine-tune one model on one task with one loss (rule train); resumes after a kill."""

import argparse
import os
from pathlib import Path

from percontrast.cli import json_arg, seed_everything, set_threads, setup
from percontrast.data.records import read_split
from percontrast.methods import METHODS
from percontrast.plan import parse_run_id
from percontrast.run_folder import lock_run_folder
from percontrast.training import run_training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="prepared model folder (data/models/NAME)")
    parser.add_argument("--data", required=True, help="training records (JSONL)")
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--run", required=True, help="run id lr<lr>_clip<min>-<max>")
    parser.add_argument("--training", type=json_arg, required=True, help="training config (JSON)")
    parser.add_argument("--batch-size", type=int, required=True, help="global batch size")
    parser.add_argument("--chat-template-kwargs", type=json_arg, default={})
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", required=True, help="run folder")
    args = parser.parse_args()
    log = setup("train")
    set_threads(args.threads)
    seed_everything(args.seed)
    lr, clip_min, clip_max = parse_run_id(args.run)
    records = read_split(args.data)  # an empty split fails here, naming task and file
    if int(os.environ.get("RANK", "0")) == 0:  # the main process (launchers set RANK)
        Path(args.out).mkdir(parents=True, exist_ok=True)
        lock_run_folder(args.out)  # a second training in this folder fails now, not after loading
    summary = run_training(args.model, records, args.out, method=args.method, lr=lr,
                           clip=(clip_min, clip_max), training=args.training,
                           batch_size=args.batch_size, seed=args.seed,
                           chat_template_kwargs=args.chat_template_kwargs)
    log.info("done: %s", summary)
