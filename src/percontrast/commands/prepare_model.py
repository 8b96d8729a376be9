"""Materialise one model registry entry under data/models/{name} (rule prepare_model)."""

import argparse
from pathlib import Path

from percontrast.cli import json_arg, setup
from percontrast.io import DataError
from percontrast.models import ModelUnavailableError, prepare_model

#: A saved model folder needs these (any one of each group), else loading fails with an error
#: about something else (an empty folder asks for sentencepiece).
_LOCAL_NEEDS = {"config.json": ("config.json",),
                "a tokenizer (tokenizer.json, tokenizer.model or tokenizer_config.json)":
                    ("tokenizer.json", "tokenizer.model", "tokenizer_config.json"),
                "safetensors weights (*.safetensors)": ("*.safetensors",)}


def check_local_folder(path) -> None:
    """A ``source: local`` model's folder holds a saved model, or a DataError says what lacks."""
    if not path:
        raise DataError("<spec>", "source local needs path: (the model folder)", field="path")
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(folder, "the model folder does not exist (or is not a folder)")
    missing = [what for what, names in _LOCAL_NEEDS.items()
               if not any(any(folder.glob(name)) for name in names)]
    if missing:
        raise DataError(folder, f"is not a saved model: no {', no '.join(missing)} (save one "
                        "with save_pretrained(..., safe_serialization=True) and its tokenizer)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True, help="registry name")
    parser.add_argument("--spec", type=json_arg, required=True, help="registry entry (JSON)")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed (tiny models)")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    log = setup("prepare_model")
    args.spec.pop("files_fingerprint", None)  # the workflow's fingerprint of a local folder
    if args.spec.get("source") == "local":
        check_local_folder(args.spec.get("path"))
    try:
        out = prepare_model(args.name, args.spec, args.out, seed=args.seed)
    except ModelUnavailableError as err:
        raise SystemExit(f"error: {err}") from err
    log.info("prepared %s (%s) in %s", args.name, args.spec.get("source"), out)
