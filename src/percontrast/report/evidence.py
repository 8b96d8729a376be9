"""What the claims read: :class:`Evidence` finds a claim's result files, notes what is missing
and at which scale, and turns them into estimates: a paired bootstrap over test examples for one
training seed, or an interval over training seeds x test examples when the runs have several
seeds (:meth:`Evidence.gain`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from percontrast import plan
from percontrast.io import read_jsonl
from percontrast.metrics import example_scores
from percontrast.report.gains import bootstrap_settings
from percontrast.report.results import Results, read_result
from percontrast.report.verdicts import Claim
from percontrast.stats import (
    Estimate,
    aligned_scores,
    bootstrap_distribution,
    combine,
    combine_independent,
    compare,
    seed_example_interval,
)


@dataclass(frozen=True)
class Gain:
    """A claim's estimate with the two systems' means and what its interval covers."""

    estimate: Estimate | None
    baseline: float
    system: float
    covers: str


class Evidence:
    """Reads result files for the claims. Within :meth:`claim`, every file it cannot find is
    listed on the claim, every pipeline-scale run or evaluation it reads labels the claim so,
    and a comparison that cannot be made (too few examples, nothing in common) becomes the
    claim's note instead of failing the whole report."""

    def __init__(self, cfg: dict[str, Any], root: str | os.PathLike):
        self.cfg, self.root = cfg, Path(root)
        self.boot = bootstrap_settings(cfg)
        self.res = Results(cfg, root)
        self._small = False
        self._streams = 0

    @contextlib.contextmanager
    def claim(self, c: Claim):
        self.res.missing, self._small = [], False
        try:
            yield c
        except ValueError as err:
            c.note = (c.note + "; " if c.note else "") + str(err)
        c.missing = sorted(set(self.res.missing))
        c.pipeline_scale = c.pipeline_scale or self._small

    def _note_scale(self, run: plan.TrainRun, task: str) -> None:
        if not plan.is_full_scale(self.cfg, run) or plan.evaluation_limit(self.cfg, run, task):
            self._small = True

    def metrics(self, run: plan.TrainRun, task: str) -> dict | None:
        self._note_scale(run, task)
        return self.res.metrics(run, task)

    def best(self, model: str, task: str, method: str) -> dict | None:
        run, found = self.res.best_lr_run(model, task, method)
        if run is not None:
            self._note_scale(run, task)
        return found

    def scores(self, run: plan.TrainRun, task: str, metric: str) -> dict[str, float] | None:
        m = self.metrics(run, task)
        return None if m is None else example_scores(m, metric, source=str(run.path))

    def json_file(self, path: Path) -> Any:
        if not path.is_file():
            self.res.missing.append(str(path))
            return None
        return read_result(path)

    def jsonl_file(self, path: Path) -> list[dict] | None:
        if not path.is_file():
            self.res.missing.append(str(path))
            return None
        return read_jsonl(path)

    def distribution(self, samples: Sequence[Sequence[float]], statistic: Callable):
        """One independent test set's bootstrap distribution; each call draws from its own
        random stream (``[seed, k]``), so the sets :meth:`combine` joins are independent."""
        self._streams += 1
        return bootstrap_distribution(samples, statistic, n_resamples=self.boot["n_resamples"],
                                      seed=[self.boot["seed"], self._streams])

    def combine(self, parts, how) -> Estimate:
        return combine(parts, how, confidence=self.boot["confidence"])

    def seeds(self) -> str:
        n = len(dict.fromkeys([self.cfg["seed"], *plan.training_seeds(self.cfg)]))
        return f"{n} training seed{'s' if n > 1 else ''}" + (
            " (each example's score averaged over them)" if n > 1 else "")

    def seed_files(self, run: plan.TrainRun, task: str) -> list[dict] | None:
        """Each training seed's metrics of ``run`` on ``task`` (one file for a run without
        seeds; the files a seed-averaged cell is made of); None when one is missing (listed)."""
        self._note_scale(run, task)
        runs = plan.seed_runs(self.cfg, run) if task == run.task else [run]
        found = [read_result(self.res.metrics_path(r, task)) for r in runs]
        for r, f in zip(runs, found, strict=True):
            if f is None:
                self.res.missing.append(f"{r.path}/{task}")
        return None if any(f is None for f in found) else found

    def seed_scores(self, run: plan.TrainRun, task: str, metric: str
                    ) -> list[dict[str, float | None]] | None:
        """``{example id: score}`` of ``metric`` per training seed of ``run`` on ``task``,
        from its metrics files; None when one is missing."""
        files = self.seed_files(run, task)
        if files is None:
            return None
        return [example_scores(f, metric, source=str(f.get("generations") or run.path))
                for f in files]

    def gain(self, pairs: Sequence[tuple[plan.TrainRun, plan.TrainRun, str]], metric: str, *,
             relative: bool = False, what: str = "test examples",
             scores: Callable[[plan.TrainRun, str], list[dict] | None] | None = None
             ) -> Gain | None:
        """System minus baseline on ``metric`` over ``pairs`` of (baseline run, system run,
        task), each task counting equally. With several training seeds the interval covers
        seeds x examples (:func:`percontrast.stats.seed_example_interval`, tasks joined by
        :func:`~percontrast.stats.combine_independent`); with one, the paired bootstrap over
        test examples (:func:`percontrast.stats.compare`, stratified by task). ``scores(run,
        task)`` gives the per-seed ``{id: score}`` maps (default: the metrics files' ``metric``).
        None when a result is missing."""
        read = scores or (lambda run, task: self.seed_scores(run, task, metric))
        maps = [(read(a, t), read(b, t)) for a, b, t in pairs]
        if any(ma is None or mb is None for ma, mb in maps):
            return None
        k = min(min(len(ma), len(mb)) for ma, mb in maps)
        if k < 2:
            return self._one_seed_gain(maps, relative, what)
        parts, base, system = [], [], []
        for ma, mb in maps:
            rows = np.asarray(aligned([*ma[:k], *mb[:k]]), dtype=float)
            a, b = rows[:k], rows[k:]
            parts.append(seed_example_interval(a, b, relative=relative,
                                               confidence=self.boot["confidence"]))
            keep = ~(np.isnan(a).any(axis=0) | np.isnan(b).any(axis=0))
            base.append(float(a[:, keep].mean()))
            system.append(float(b[:, keep].mean()))
        est = parts[0] if len(parts) == 1 else combine_independent(
            parts, confidence=self.boot["confidence"])
        covers = f"{k} training seeds x {est.n} {what}"
        if est.df is not None:
            covers += f" (crossed random effects; t interval, df {est.df:.1f})"
        if est.seed_sd is not None:
            covers += (f"; seed-to-seed SD of the gain {est.seed_sd * 100:.3g} points"
                       if relative else f"; seed-to-seed SD of the gain {est.seed_sd:.3g}")
        return Gain(est, float(np.mean(base)), float(np.mean(system)), covers)

    def _one_seed_gain(self, maps, relative: bool, what: str) -> Gain:
        """One training seed: the paired bootstrap over test examples, tasks stratified."""
        a: list[float] = []
        b: list[float] = []
        groups: list[str] = []
        for k, (ma, mb) in enumerate(maps):
            xa, xb = aligned([ma[0], mb[0]])
            a += xa
            b += xb
            groups += [str(k)] * len(xa)
        comp = compare(a, b, groups=groups, **self.boot)
        est = comp.rel if relative else comp.diff
        covers = (f"{est.n} {what} resampled (paired, both methods); 1 training seed: the "
                  "interval covers test examples, not retraining") if est is not None else ""
        return Gain(est, comp.baseline, comp.system, covers)

    def covers_examples(self, c: Claim, what: str = "test examples") -> None:
        """State what ``c``'s interval resamples: its n paired examples, and the seeds."""
        if c.estimate is not None:
            c.covers = (f"{c.estimate.n} {what} resampled (paired, both methods); "
                        f"{self.seeds()}; the training data fixed")


def aligned(maps: Sequence[dict[str, float]]) -> list[list[float]]:
    """Per-example scores of several systems on one test set, over the examples all of them
    were scored on (pipeline-scale evaluations cover only the first records of the file)."""
    return aligned_scores(maps, what="result files of one test set")[1]
