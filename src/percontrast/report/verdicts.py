"""The verdict vocabulary of results/claims.md: a :class:`Claim`, its verdict from its interval
(:func:`verdict`), and Holm's family-wise adjustment (:func:`holm`).

* **holds** — the interval lies entirely on the claimed side of 0;
* **contradicted** — it lies entirely on the other side;
* **inconclusive** — it contains 0 (at this scale the data cannot tell);
* **not run** — a result file it needs does not exist (listed).

Kept apart from the claim families (:mod:`percontrast.report.claims`) so that the paper
companions (:mod:`percontrast.report.compare`) can use the same vocabulary without importing
the claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from percontrast.stats import Estimate

HOLDS, CONTRADICTED, INCONCLUSIVE, NOT_RUN = "holds", "contradicted", "inconclusive", "not run"
VERDICTS = (HOLDS, CONTRADICTED, INCONCLUSIVE, NOT_RUN)


def verdict(estimate: Estimate | None, direction: int = 1) -> str:
    """holds / contradicted / inconclusive / not run, from the interval alone."""
    if estimate is None:
        return NOT_RUN
    side = estimate.direction() * direction
    return HOLDS if side > 0 else CONTRADICTED if side < 0 else INCONCLUSIVE


@dataclass
class Claim:
    """One headline claim: the paper's number, ours with its interval, the verdict."""

    id: str
    stage: str
    statement: str
    source: str
    paper: str
    unit: str
    estimate: Estimate | None = None
    direction: int = 1
    pipeline_scale: bool = False
    missing: list[str] = field(default_factory=list)
    note: str = ""
    #: what the interval resamples, and over how many training seeds (claims.md says it)
    covers: str = ""
    #: the verdict after Holm's adjustment over the family of claims (:func:`holm`)
    holm_verdict: str | None = None
    holm_p: float | None = None

    @property
    def verdict(self) -> str:
        return verdict(self.estimate, self.direction)

    def ours(self) -> str:
        """This run's statistic as ``value [low, high]`` in the claim's unit."""
        e = self.estimate
        if e is None:
            return "—"
        scale = 100.0 if self.unit in ("%", "pts") else 1.0
        fmt = "{:+.2f}" if scale == 100.0 else "{:+.4f}"
        head = fmt.format(e.value * scale) + ("%" if self.unit == "%" else "")
        if e.low is None:
            return head + " (n too small for an interval)"
        return f"{head} [{fmt.format(e.low * scale)}, {fmt.format(e.high * scale)}]"

    @property
    def p_value(self) -> float | None:
        """Bootstrap p-value against the claim's direction (small = strong support)."""
        p = self.estimate.p_value if self.estimate else None
        return None if p is None else (p if self.direction > 0 else 1 - p)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "stage": self.stage, "claim": self.statement,
                "source": self.source, "paper": self.paper, "unit": self.unit,
                "ours": self.ours(), "p_value": self.p_value,
                "estimate": self.estimate and self.estimate.to_dict(),
                "verdict": self.verdict, "pipeline_scale": self.pipeline_scale,
                "covers": self.covers, "holm_p": self.holm_p, "holm_verdict": self.holm_verdict,
                "missing": self.missing, "note": self.note}


def two_sided_p(c: Claim) -> float | None:
    """The claim's two-sided bootstrap p-value, 2 min(p, 1 - p) of its one-sided one."""
    p = c.p_value
    return None if p is None else min(1.0, 2 * min(p, 1 - p))


def holm(claims: Sequence[Claim], *, confidence: float = 0.95) -> None:
    """Holm's step-down adjustment over the family of claims that have a p-value (every claim
    this run decides or leaves inconclusive; "not run" ones are not in the family). Sets each
    member's ``holm_p`` (adjusted two-sided p) and ``holm_verdict``: the claim's direction when
    the adjusted p is below 1 - confidence, else inconclusive. The per-claim verdicts answer one
    question each; these answer all of them at once with a family-wise error of 1 - confidence.
    """
    alpha = 1 - confidence
    family = sorted(((two_sided_p(c), k) for k, c in enumerate(claims)
                     if two_sided_p(c) is not None), key=lambda t: t[0])
    m, running = len(family), 0.0
    for rank, (p, k) in enumerate(family):
        running = max(running, min(1.0, (m - rank) * p))
        c = claims[k]
        c.holm_p = running
        side = c.estimate.value * c.direction
        c.holm_verdict = (INCONCLUSIVE if running >= alpha or side == 0
                          else HOLDS if side > 0 else CONTRADICTED)


def p_text(p: float, n_resamples: int) -> str:
    """A bootstrap p-value as text: 0 means below the resolution of ``n_resamples``."""
    return f"< {1 / n_resamples:.1g}" if p == 0 else f"{p:.3g}"


def holm_summary(claims: Sequence[Claim], confidence: float = 0.95) -> str:
    """One line on the family-wise verdicts (:func:`holm`)."""
    family = [c for c in claims if c.holm_verdict is not None]
    counts = {v: sum(c.holm_verdict == v for c in family) for v in VERDICTS}
    return (f"over the family of the {len(family)} claims with a p-value (two-sided bootstrap "
            f"p, Holm's step-down adjustment, family-wise error {1 - confidence:.0%}): "
            + (", ".join(f"{n} {v}" for v, n in counts.items() if n) or "none"))
