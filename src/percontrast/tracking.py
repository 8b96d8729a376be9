"""Experiment tracking (``training.report_to``) through the Trainer's own integrations.

TensorBoard and MLflow write into the run's folder (``layout.RUN_MEMBERS``: ``tensorboard/``,
``mlruns/``), so a run's curves travel with its model. Training logs — the loss, learning rate
and PerCE's statistics (:meth:`percontrast.training.PerCETrainer.log`) — reach every integration
as scalars (``train/loss``, ``train/weight_mean``, ``train/frac_clip_min`` ...).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from percontrast.layout import run_member

#: The Trainer integrations ``training.report_to`` may name (the config schema lists the same).
REPORT_TO = ("tensorboard", "mlflow")
_INSTALL = {"tensorboard": ("tensorboard", "tensorboardX"), "mlflow": ("mlflow",)}


def report_integrations(training: dict[str, Any]) -> list[str]:
    """``training.report_to`` as the Trainer's list of integrations: ``[]`` when absent or
    ``"none"`` (the offline default: nothing is reported anywhere)."""
    value = training.get("report_to", "none")
    if value is None or value == "none":
        return []
    names = [value] if isinstance(value, str) else list(value)
    unknown = [n for n in names if n not in REPORT_TO]
    if unknown:
        raise ValueError(f"training.report_to: {', '.join(map(repr, unknown))} is not one of "
                         f"{', '.join(REPORT_TO)} (or none)")
    return list(dict.fromkeys(names))


def check_integrations(training: dict[str, Any]) -> list[str]:
    """:func:`report_integrations`, failing (a :class:`~percontrast.config.ConfigError`) when a
    named integration's package is not installed: at train start, with the key and the fix,
    rather than deep in the Trainer (mlflow is not a dependency of the project)."""
    from percontrast.config import ConfigError

    names = report_integrations(training)
    for name in names:
        if not any(importlib.util.find_spec(mod) for mod in _INSTALL[name]):
            raise ConfigError(f"training.report_to names {name}, but {name} is not installed: "
                              f"pip install {name} (in the training environment), or remove "
                              f"{name} from training.report_to")
    return names


def tensorboard_dir(run_dir: str | Path) -> Path:
    """Where TensorBoard's event files of a run go: the run folder's ``tensorboard/``."""
    return run_member(run_dir, "tensorboard")


@contextmanager
def tracking_environment(integrations: list[str], run_dir: str | Path) -> Iterator[None]:
    """While the Trainer is built and trains: TensorBoard writes to ``<run_dir>/tensorboard/``
    and MLflow to a file store in ``<run_dir>/mlruns/``, through the environment variables the
    Trainer's own callbacks read (``TENSORBOARD_LOGGING_DIR``, ``MLFLOW_TRACKING_URI``). A
    variable the user has set wins; the environment is restored afterwards."""
    run_dir = Path(run_dir).resolve()
    wanted = {}
    if "tensorboard" in integrations:
        wanted["TENSORBOARD_LOGGING_DIR"] = str(tensorboard_dir(run_dir))
    if "mlflow" in integrations:
        wanted["MLFLOW_TRACKING_URI"] = f"file:{run_member(run_dir, 'mlflow')}"
    added = {k: v for k, v in wanted.items() if not os.environ.get(k)}
    saved = {k: os.environ.get(k) for k in added}
    os.environ.update(added)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
