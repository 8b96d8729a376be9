"""Plumbing shared by the scripts in scripts/: argument types, logging, threads, seeding.

Scripts stay thin (parse arguments, call the library, write outputs atomically); what they have
in common lives here so each one reads as its few real lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
from typing import Any


def json_arg(text: str) -> Any:
    """argparse type for config fragments passed as JSON on the command line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg}): {text[:80]!r}") from err


def setup(description: str, argv_parser=None) -> logging.Logger:
    """Configure logging to stderr (Snakemake sends it to the rule's log:)."""
    logging.basicConfig(level=os.environ.get("PERCONTRAST_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    return logging.getLogger(description)


def set_threads(n: int | None) -> None:
    """Give torch the cores Snakemake granted the job, not every core of the machine."""
    if n:
        import torch

        torch.set_num_threads(n)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover
        pass


def run(main) -> None:
    """Run a script's ``main``; turn expected errors into one clear line and exit status 1."""
    from percontrast.config import ConfigError
    from percontrast.io import DataError

    expected: tuple[type[BaseException], ...] = (DataError, ConfigError, FileNotFoundError)
    try:
        main()
    except Exception as err:
        llm = sys.modules.get("percontrast.llm")  # an LLMError needs the module imported
        if not isinstance(err, expected + ((llm.LLMError,) if llm else ())):
            raise
        logging.getLogger("percontrast").error("%s", err)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
