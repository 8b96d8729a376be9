"""The personal-token identification methods of the PIR benchmark (paper appendix A, figure 4)
and the counterfactuals PIR is measured against: one order, label and colour each.

The figures (bars, PR curves), ``table_pir`` and its paper companion, and the claims take their
names from here, as the training methods' come from :mod:`percontrast.methods`. Light: no
heavy imports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PirMethod:
    """One way of labelling answer tokens personal."""

    name: str  # the key in classification.json
    label: str  # legends and table rows
    short: str  # the paper's name of it (the paper companion's rows)
    prose: str  # in a sentence (claims.md)
    color: str  # its bar in figure 4
    point_color: str  # its operating point in the PR-curve figure (word_matching_lemma there
    # takes word matching's bar colour, so the exact-word rule gets a darker one)
    marker: str  # its operating point's marker in the PR-curve figure


PERCONTRAST = PirMethod("percontrast", "PerContrast (PIR)", "PerContrast", "PerContrast",
                        "#d1495b", "#d1495b", "o")
WORD_MATCHING = PirMethod("word_matching", "Word matching", "Word matching", "word matching",
                          "#8d99ae", "#2e4057", "s")
WORD_MATCHING_LEMMA = PirMethod("word_matching_lemma", "Word matching (lemmas)",
                                "Word matching (lemmas)", "word matching on lemmas", "#8d99ae",
                                "#8d99ae", "D")
LLM_JUDGE = PirMethod("llm_judge", "LLM-as-judge", "LLM-as-judge", "the LLM judge", "#00798c",
                      "#00798c", "^")

#: The methods of figure 4 and the paper's comparison, in the paper's order.
PAPER_METHODS: tuple[PirMethod, ...] = (PERCONTRAST, WORD_MATCHING, LLM_JUDGE)
#: The binary (non-PIR) methods this project scores, in table and legend order.
BASELINES: tuple[PirMethod, ...] = (WORD_MATCHING, WORD_MATCHING_LEMMA, LLM_JUDGE)
BY_NAME = {m.name: m for m in (PERCONTRAST, *BASELINES)}
#: Word matching's label beside its lemma variant: the paper's rule is the exact-word one.
WORD_MATCHING_EXACT_LABEL = "Word matching (paper: exact words)"


def baseline_label(name: str, *, with_lemmas: bool) -> str:
    """A binary method's label in table_pir and the PR-curve legend; word matching is named
    the paper's exact-word rule when its lemma variant is shown too."""
    if name == WORD_MATCHING.name and with_lemmas:
        return WORD_MATCHING_EXACT_LABEL
    return BY_NAME[name].label


@dataclass(frozen=True)
class Counterfactual:
    """What replaces the persona when PIR is measured (``pir.variants``)."""

    name: str
    label: str  # the PR-curve legend
    words: str  # in table_pir's rows: "PerContrast (PIR > 1, {words})"
    color: str
    linestyle: str


COUNTERFACTUALS: tuple[Counterfactual, ...] = (
    Counterfactual("removed", "PIR, persona removed (paper)", "persona removed", "#d1495b", "-"),
    Counterfactual("filler", "PIR vs neutral filler", "neutral filler", "#edae49", "--"),
    Counterfactual("placebo", "PIR vs another user's persona", "another user's persona",
                   "#66a182", ":"),
)
COUNTERFACTUAL_BY_NAME = {c.name: c for c in COUNTERFACTUALS}
