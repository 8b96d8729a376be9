"""The training methods this project compares: one registry, one record per method.

Every other place that names a method (the loss dispatch, the config schema's enum, Snakemake's
``{method}`` wildcard, the commands' ``--method`` choices, table rows, figure legends and line
styles, the trainer's extra inputs) takes it from here. Adding a method is its :class:`Method`
record below plus its weight rule in :data:`percontrast.losses.WEIGHT_RULES`; tests check that
the two agree, that the schema's enum equals :data:`METHODS`, and carry a toy method through
planning, a training step, table 1 and the training figure. Kept free of heavy imports because
the Snakefile reads it while planning.

Two methods are controls, not the paper's: they separate PerCE's thesis (it matters *which*
tokens get the weight) from its confounds (how much weight there is in total):

* ``perce_shuffled`` keeps PerCE's weights and permutes them among the response tokens of the
  same sequence at every step: the same weights, no selection.
* ``perce_normalized`` divides PerCE's weights by their mean over the sequence's response tokens:
  the same selection, CE's total step size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from percontrast.registries import FieldView, NameView, add_record, remove_added

#: What a method's weights are computed from, besides the log-probs of the persona forward:
#: nothing, the persona-free forward (PIR), or the model's predictive entropy.
NEEDS = ("nothing", "counterfactual", "entropy")


@dataclass(frozen=True)
class Method:
    """One training method: its name (the ``{method}`` wildcard and config value), the label
    tables and legends print, its colour and matplotlib line style, and what its token weights
    need. ``control`` marks the controls that are this project's, not the paper's."""

    name: str
    label: str
    color: str
    linestyle: str | tuple
    needs: str = "nothing"
    control: bool = False
    description: str = ""

    def __post_init__(self):
        if self.needs not in NEEDS:
            raise ValueError(f"method {self.name!r}: needs must be one of {NEEDS}")


#: In the paper's table order (the baseline, the two token-weighting baselines, the method),
#: then the controls. A list, so that :func:`register` can add one; read it through the views
#: below, which always show the registry as it is now.
_REGISTRY: list[Method] = [
    Method("ce", "CE", "#5b6c8f", "--", description="cross-entropy, every token weight 1"),
    Method("lossce", "LossCE", "#e9a23b", ":",
           description="upweights tokens with above-average loss"),
    Method("entce", "EntCE", "#2a9d8f", "-.", needs="entropy",
           description="upweights tokens with above-average predictive entropy"),
    Method("perce", "PerCE", "#d1495b", "-", needs="counterfactual",
           description="weights tokens by clip(PIR): the paper's method"),
    Method("perce_shuffled", "PerCE-shuffled", "#8e6fb5", "-", needs="counterfactual",
           control=True,
           description="PerCE's weights permuted among the sequence's response tokens each "
                       "step: the same weights, no selection"),
    Method("perce_normalized", "PerCE-normalized", "#b5651d", ":", needs="counterfactual",
           control=True,
           description="PerCE's weights over their mean on the sequence's response tokens: "
                       "the same selection, CE's step size"),
]


METHODS: Sequence[str] = NameView(_REGISTRY)
#: The paper's methods (tables 1, 2, 5 ...), without this project's controls.
PAPER_METHODS: Sequence[str] = NameView(_REGISTRY, lambda m: not m.control)
#: The controls of PerCE (this project's, table_controls).
CONTROL_METHODS: Sequence[str] = NameView(_REGISTRY, lambda m: m.control)
LABELS: Mapping[str, str] = FieldView(_REGISTRY, "label")

#: The baseline every gain is measured against, and the paper's method.
BASELINE, PERCE = "ce", "perce"


def register(new: Method) -> None:
    """Add a method to the registry (its weight rule goes to
    :func:`percontrast.losses.register_rule`). A name already taken is an error."""
    add_record(_REGISTRY, new, "method")


def unregister(name: str) -> None:
    """Remove a method added with :func:`register` (the built-in ones stay)."""
    remove_added(_REGISTRY, name, _BUILT_IN)


def registry() -> tuple[Method, ...]:
    """Every registered method, in order."""
    return tuple(_REGISTRY)


def method(name: str) -> Method:
    """The registry record of ``name``; an unknown name is a ``ValueError`` listing the known."""
    for m in _REGISTRY:
        if m.name == name:
            return m
    raise ValueError(f"unknown method {name!r}; one of {', '.join(METHODS)}")


def method_label(name: str) -> str:
    """The paper's name of a method (``"perce"`` -> ``"PerCE"``)."""
    return method(name).label


def needs(name: str) -> str:
    """What ``name``'s weights need besides the log-probs (see :data:`NEEDS`)."""
    return method(name).needs


def wildcard_pattern() -> str:
    """The regular expression of Snakemake's ``{method}`` wildcard (longest names first, so
    ``perce`` never matches the start of ``perce_shuffled``)."""
    return "|".join(sorted(METHODS, key=len, reverse=True))


def in_order(names) -> list[str]:
    """``names`` in the registry's order (unknown names are an error)."""
    wanted = set(names)
    for name in wanted:
        method(name)
    return [m for m in METHODS if m in wanted]


_BUILT_IN = tuple(_REGISTRY)
