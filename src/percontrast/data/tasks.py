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


def _same_file(a: str | Path, b: str | Path) -> bool:
    a, b = Path(a), Path(b)
    try:
        return a.samefile(b)
    except OSError:  # one is missing: compare the paths as written (made absolute)
        return a.resolve() == b.resolve()


def split_overlap_problem(name: str, spec: dict[str, Any]) -> str | None:
    """Why task ``name``'s train and test splits would read the same data, or None.

    A task is trained on its train split and scored on its test split, so both must come from
    disjoint data: a ``path:`` that is one file (SPC, LongLaMP) would be read for both, and so
    would two split names mapped to one (``splits: {train: test}``) or LaMP ``files`` naming the
    same questions file twice. The message starts with the key path."""
    source = spec.get("source")
    key = f"task_registry.{name}"
    if source in ("spc", "longlamp"):
        path = spec.get("path")
        if path is not None and not spec.get("bundled") and Path(path).is_file():
            expected = ("Synthetic-Persona-Chat_{split}.csv" if source == "spc"
                        else "{split}.json or {split}.jsonl")
            return (f"{key}.path: {path} is one file, which would be read for both the train "
                    f"and the test split (test records would be training records); point path "
                    f"at a folder holding one file per split ({expected}, split = "
                    f"{source_split(spec, 'train')!r} and {source_split(spec, 'test')!r})")
        train, test = source_split(spec, "train"), source_split(spec, "test")
        if train == test:
            return (f"{key}.splits: train and test both read the {train!r} split (test records "
                    "would be training records); map them to different splits")
    if source == "lamp":
        files = spec.get("files") or {}
        train, test = files.get("train") or {}, files.get("test") or {}
        if train.get("questions") and test.get("questions") and _same_file(
                train["questions"], test["questions"]):
            return (f"{key}.files: train and test both read {test['questions']} (test records "
                    "would be training records); give each split its own questions file")
    return _same_content_problem(key, spec)


def _same_content_problem(key: str, spec: dict[str, Any]) -> str | None:
    """Two split files with the same bytes (a copy of test.json saved as train.json). LaMP's
    outputs file may serve both splits: only its questions files are compared."""
    from percontrast.io import file_sha256

    def files(split: str) -> list[str]:
        found = task_data_files(spec, split)
        if spec.get("source") == "lamp":
            questions = ((spec.get("files") or {}).get(split) or {}).get("questions")
            found = [f for f in found if f == str(questions)]
        return found

    train = {file_sha256(f): f for f in files("train")}
    for f in files("test"):
        digest = file_sha256(f)
        if digest in train and digest != "missing":
            field = "files" if spec.get("source") == "lamp" else "path"
            return (f"{key}.{field}: the train file {train[digest]} and the test file {f} have "
                    "the same content (test records would be training records)")
    return None


def task_data_files(spec: dict[str, Any], split: str) -> list[str]:
    """The local files task ``spec``'s ``split`` is read from (none for the hub, the demo and
    the bundled SPC copy, which is package data verified against its manifest on load):
    the workflow tracks them, so that editing one reruns the jobs that read it, and only those.
    A file that is named but absent is left out; the loader reports it."""
    source = spec["source"]
    path = spec.get("path")
    files: list[Path] = []
    if source == "lamp":
        entry = (spec.get("files") or {}).get(split) or {}
        files = [Path(entry[k]) for k in ("questions", "outputs") if entry.get(k)]
    elif source in ("hotpotqa", "drop") and path:
        files = [Path(path)]
    elif source == "spc" and not spec.get("bundled"):  # the bundled copy is package data
        if path:
            folder = Path(path)
            files = [folder / f"Synthetic-Persona-Chat_{source_split(spec, split)}.csv"
                     if folder.is_dir() else folder]
    elif source == "longlamp" and path:
        folder, name = Path(path), source_split(spec, split)
        candidates = [folder / f"{name}.json", folder / f"{name}.jsonl"] \
            if folder.is_dir() else [folder]
        files = [c for c in candidates if c.is_file()][:1]  # the one the loader reads
    return [str(f) for f in files if f.is_file()]


def task_data_fingerprint(spec: dict[str, Any], split: str) -> dict[str, str]:
    """``{file: sha256}`` of :func:`task_data_files`: what a job's params carry so that a file
    replaced by other content (even an older one) reruns the job."""
    from percontrast.io import file_sha256

    return {f: file_sha256(f) for f in task_data_files(spec, split)}


def load_task_records(name: str, spec: dict[str, Any], split: str, *, seed: int = 0
                      ) -> list[Record]:
    """All records of task ``name``'s ``split`` (before sampling). A task whose train and test
    splits would read the same data is refused (:func:`split_overlap_problem`)."""
    source, task_type = spec["source"], spec["type"]
    if task_type not in QA_TASK_TYPES:  # QA tasks are test-only: they have no train split
        problem = split_overlap_problem(name, spec)
        if problem is not None:
            from percontrast.config import ConfigError

            raise ConfigError(problem)
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
