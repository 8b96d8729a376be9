"""One entry point from a ``task_registry`` entry and a split to canonical records.

The registry entry names a ``source`` (where the data lives) and a ``type`` (what the task is);
the source's record in :mod:`percontrast.data.registry` names its loader, its keys and where its
files lie, so neither this module nor scripts and users branch on datasets.
Sampling to ``n`` records happens here too, seeded, so the pipeline's train/test files are a
deterministic function of (config, seed).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from percontrast.config_error import ConfigError
from percontrast.data.records import Record
from percontrast.data.registry import local_split_file, source, source_split, task_type
from percontrast.data.sampling import sample_records

__all__ = ["load_task", "load_task_records", "source_split", "split_overlap_problem",
           "split_seed", "task_data_files", "task_data_fingerprint"]


def split_seed(seed: int, name: str, split: str) -> int:
    """A per-(task, split) seed, stable across processes (unlike ``hash()``)."""
    return (seed * 1_000_003 + zlib.crc32(f"{name}/{split}".encode())) % (2**31)


def _same_file(a: str | Path, b: str | Path) -> bool:
    a, b = Path(a), Path(b)
    try:
        return a.samefile(b)
    except OSError:  # one is missing: compare the paths as written (made absolute)
        return a.resolve() == b.resolve()


def split_overlap_problem(name: str, spec: dict[str, Any]) -> str | None:
    """Why task ``name``'s train and test splits would read the same data, or None.

    A task is trained on its train split and scored on its test split, so both must come from
    disjoint data: a ``path:`` that is one file (where the source expects a folder of one file
    per split: SPC, LongLaMP) would be read for both, and so would two split names mapped to one
    (``splits: {train: test}``) or LaMP ``files`` naming the same questions file twice. The
    message starts with the key path."""
    try:
        src = source(spec.get("source"))
    except ValueError:  # an unknown source reads no data (its loader reports it)
        return None
    key = f"task_registry.{name}"
    if src.named_splits:
        path = spec.get("path")
        if (src.path_files and path is not None and not src.bundled(spec)
                and Path(path).is_file()):
            return (f"{key}.path: {path} is one file, which would be read for both the train "
                    f"and the test split (test records would be training records); point path "
                    f"at a folder holding one file per split ({' or '.join(src.path_files)}, "
                    f"split = {source_split(spec, 'train')!r} and "
                    f"{source_split(spec, 'test')!r})")
        train, test = source_split(spec, "train"), source_split(spec, "test")
        if train == test:
            return (f"{key}.splits: train and test both read the {train!r} split (test records "
                    "would be training records); map them to different splits")
    if src.split_files:
        own = src.split_files[0]
        files = spec.get("files") or {}
        train, test = files.get("train") or {}, files.get("test") or {}
        if train.get(own) and test.get(own) and _same_file(train[own], test[own]):
            return (f"{key}.files: train and test both read {test[own]} (test records "
                    f"would be training records); give each split its own {own} file")
    return _same_content_problem(key, spec)


def _same_content_problem(key: str, spec: dict[str, Any]) -> str | None:
    """Two split files with the same bytes (a copy of test.json saved as train.json). Of a
    source's ``files.<split>`` only each split's own file is compared (LaMP's outputs file may
    serve both splits)."""
    from percontrast.io import file_sha256

    src = source(spec["source"])

    def files(split: str) -> list[str]:
        found = task_data_files(spec, split)
        if src.split_files:
            own = ((spec.get("files") or {}).get(split) or {}).get(src.split_files[0])
            found = [f for f in found if f == str(own)]
        return found

    train = {file_sha256(f): f for f in files("train")}
    for f in files("test"):
        digest = file_sha256(f)
        if digest in train and digest != "missing":
            field = "files" if src.split_files else "path"
            return (f"{key}.{field}: the train file {train[digest]} and the test file {f} have "
                    "the same content (test records would be training records)")
    return None


def task_data_files(spec: dict[str, Any], split: str) -> list[str]:
    """The local files task ``spec``'s ``split`` is read from (none for the hub, the demo and
    the bundled SPC copy, which is package data verified against its manifest on load):
    the workflow tracks them, so that editing one reruns the jobs that read it, and only those.
    A file that is named but absent is left out; the loader reports it."""
    src = source(spec["source"])
    if src.split_files:
        entry = (spec.get("files") or {}).get(split) or {}
        files = [Path(entry[k]) for k in src.split_files if entry.get(k)]
    else:
        file = local_split_file(spec, split)
        files = [file] if file is not None else []
    return [str(f) for f in files if f.is_file()]


def task_data_fingerprint(spec: dict[str, Any], split: str) -> dict[str, str]:
    """``{file: sha256}`` of :func:`task_data_files`: what a job's params carry so that a file
    replaced by other content (even an older one) reruns the job."""
    from percontrast.io import file_sha256

    return {f: file_sha256(f) for f in task_data_files(spec, split)}


def load_task_records(name: str, spec: dict[str, Any], split: str, *, seed: int = 0
                      ) -> list[Record]:
    """All records of task ``name``'s ``split`` (before sampling), from its source's loader. A
    task whose train and test splits would read the same data is refused
    (:func:`split_overlap_problem`)."""
    try:
        src = source(spec["source"])
    except ValueError:
        raise ValueError(f"task {name!r}: unknown source {spec['source']!r}") from None
    if "train" in task_type(spec["type"]).splits:  # test-only tasks (QA) have no train split
        problem = split_overlap_problem(name, spec)
        if problem is not None:
            raise ConfigError(problem)
    return src.load(name, spec, split, seed=seed)


def load_task(name: str, spec: dict[str, Any], split: str, *, n: int | None, seed: int
              ) -> list[Record]:
    """Load task ``name``'s ``split`` and keep a seeded sample of ``n`` records."""
    records = load_task_records(name, spec, split, seed=seed)
    return sample_records(records, n, split_seed(seed, name, split))
