"""The demo generator as a ``task_registry`` source (``source: demo``; the registry entry is in
:mod:`percontrast.data.registry`, with the defaults of its sizes)."""

from __future__ import annotations

from typing import Any

from percontrast.data import registry
from percontrast.data.demo.general_qa import generate_general_qa
from percontrast.data.demo.writing import generate_task
from percontrast.data.records import Record
from percontrast.data.tasks import split_seed


def load_split(name: str, spec: dict[str, Any], split: str, *, seed: int) -> list[Record]:
    """Demo records of task ``name``'s ``split``; train and test come from different seeds,
    hence different users, as in LongLaMP's user-based split (test users are never seen in
    training)."""
    task_type, seed = spec["type"], split_seed(seed, name, split)
    n_users, per_user = spec["n_users"], spec["records_per_user"]
    if task_type in registry.QA_TASK_TYPES:
        return generate_general_qa(task_type, n_users * per_user, seed)
    return generate_task(task_type, n_users=n_users, records_per_user=per_user,
                         profile_size=spec["profile_size"], seed=seed)
