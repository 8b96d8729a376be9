"""Materialise one model registry entry under data/models/{name} (rule prepare_model)."""

import argparse

from percontrast.cli import json_arg, setup
from percontrast.models import ModelUnavailableError, prepare_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True, help="registry name")
    parser.add_argument("--spec", type=json_arg, required=True, help="registry entry (JSON)")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed (tiny models)")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    log = setup("prepare_model")
    args.spec.pop("files_fingerprint", None)  # the workflow's fingerprint of a local folder
    try:
        out = prepare_model(args.name, args.spec, args.out, seed=args.seed)
    except ModelUnavailableError as err:
        raise SystemExit(f"error: {err}") from err
    log.info("prepared %s (%s) in %s", args.name, args.spec.get("source"), out)
