"""The training methods this project compares: one list, one display label each.

Every other place that names a method (the loss dispatch, the config schema's enum, Snakemake's
``{method}`` wildcard, the scripts' ``--method`` choices, table rows and figure legends) takes it
from here, so a new loss is added in one place (plus its weighting in ``percontrast.losses``);
tests/test_config.py checks that the schema's enum equals ``METHODS``. Kept free of heavy imports
because the Snakefile reads it while planning.
"""

from __future__ import annotations

# In the paper's table order: the baseline, the two token-weighting baselines, then the method.
METHODS: tuple[str, ...] = ("ce", "lossce", "entce", "perce")
LABELS: dict[str, str] = {"ce": "CE", "lossce": "LossCE", "entce": "EntCE", "perce": "PerCE"}


def method_label(method: str) -> str:
    """The paper's name of a method (``"perce"`` -> ``"PerCE"``)."""
    try:
        return LABELS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}") from None


def wildcard_pattern() -> str:
    """The regular expression of Snakemake's ``{method}`` wildcard."""
    return "|".join(METHODS)
