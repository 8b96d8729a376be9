"""One entry point from a ``task_registry`` entry and a split to canonical records.

The registry entry names a ``source`` (where the data lives) and a ``type`` (what the task is);
this module maps the pair to the right loader, so scripts and users never branch on datasets.
Sampling to ``n`` records happens here too, seeded, so the pipeline's train/test files are a
deterministic function of (config, seed).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from percontrast.data.records import QA_TASK_TYPES, Record
from percontrast.data.sampling import sample_records

#: Loader default split names per source (LongLaMP's hub splits; SPC's CSV names).
DEFAULT_SPLITS = {
    "longlamp": {"train": "train", "test": "test"},
    "spc": {"train": "train", "test": "test"},
}
#: The bundled Synthetic-Persona-Chat has the valid and test files: training reads valid.
BUNDLED_SPLITS = {"train": "valid", "test": "test"}


def split_seed(seed: int, name: str, split: str) -> int:
    """A per-(task, split) seed, stable across processes (unlike ``hash()``)."""
    return (seed * 1_000_003 + zlib.crc32(f"{name}/{split}".encode())) % (2**31)


def source_split(spec: dict[str, Any], split: str) -> str:
    default = BUNDLED_SPLITS if spec.get("bundled") else DEFAULT_SPLITS.get(spec["source"], {})
    splits = {**default, **spec.get("splits", {})}
    return splits.get(split, split)


def load_task_records(name: str, spec: dict[str, Any], split: str, *, seed: int = 0
                      ) -> list[Record]:
    """All records of task ``name``'s ``split`` (before sampling)."""
    source, task_type = spec["source"], spec["type"]
    if source == "demo":
        return _load_demo(task_type, spec, split, split_seed(seed, name, split))
    if source == "longlamp":
        from percontrast.data.longlamp import load_longlamp

        kwargs = {"hub_id": spec["hub_id"]} if "hub_id" in spec else {}
        return load_longlamp(task_type, source_split(spec, split), path=spec.get("path"),
                             **kwargs)
    if source == "lamp":
        from percontrast.data.lamp import LAMP_TASKS, load_lamp

        number = next(n for n, (t, _) in LAMP_TASKS.items() if t == task_type)
        files = spec["files"][split]
        return load_lamp(number, files["questions"], files["outputs"])
    if source == "spc":
        from percontrast.data.spc import load_spc_dialogue

        spc_split = source_split(spec, split)
        path = spec.get("path")
        if spec.get("bundled"):
            from percontrast.datasets import spc_csv

            path = spc_csv(spc_split)
        elif path and Path(path).is_dir():
            path = Path(path) / f"Synthetic-Persona-Chat_{spc_split}.csv"
        kwargs = {"hub_id": spec["hub_id"]} if "hub_id" in spec else {}
        return load_spc_dialogue(path, split=spc_split, seed=seed,
                                 speakers=tuple(spec.get("speakers", (1,))),
                                 first_turns=spec.get("first_turns"),
                                 grounded_only=spec.get("grounded_only", False),
                                 turns_per_conversation=spec.get("turns_per_conversation", 1),
                                 **kwargs)
    if source == "hotpotqa":
        from percontrast.data.qa import load_hotpotqa

        return load_hotpotqa(spec["path"])
    if source == "drop":
        from percontrast.data.qa import load_drop

        return load_drop(spec["path"])
    raise ValueError(f"task {name!r}: unknown source {source!r}")


def _load_demo(task_type: str, spec: dict[str, Any], split: str, seed: int) -> list[Record]:
    """Demo records; train and test come from different seeds, hence different users, as in
    LongLaMP's user-based split (test users are never seen in training)."""
    from percontrast.data import demo

    n_users = spec.get("n_users", 8)
    per_user = spec.get("records_per_user", 4)
    if task_type in QA_TASK_TYPES:
        return demo.generate_general_qa(task_type, n_users * per_user, seed)
    return demo.generate_task(task_type, n_users=n_users, records_per_user=per_user,
                              profile_size=spec.get("profile_size", 8), seed=seed)


def load_task(name: str, spec: dict[str, Any], split: str, *, n: int | None, seed: int
              ) -> list[Record]:
    """Load task ``name``'s ``split`` and keep a seeded sample of ``n`` records."""
    records = load_task_records(name, spec, split, seed=seed)
    return sample_records(records, n, split_seed(seed, name, split))
