"""The PIR-vs-word-matching claims of results/claims.md, from benchmark token rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from percontrast import config as pc
from percontrast.ranking import prf
from percontrast.report.claims import CONTRADICTED, HOLDS, build_claims, claim_estimates


def token_rows(n_answers: int = 30, seed: int = 0) -> list[dict]:
    """Per answer: a verbatim gold token word matching finds, a paraphrased one it misses
    (PIR high on both), and four other tokens (PIR low, one sometimes above the threshold)."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_answers):
        for i in range(6):
            gold = i < 2
            pir = (2.5 if gold else 0.0) + rng.normal(0, 0.4)
            rows.append({"id": f"a{a}", "gold": gold,
                         "kind": ("verbatim" if i == 0 else "paraphrase") if gold else None,
                         "split": "dev" if a < 9 else "test", "pir": pir, "pir_removed": pir,
                         "percontrast": pir > 1.0, "word_matching": i == 0})
    return rows


def test_claim_estimates_from_token_rows():
    rows = token_rows()
    est = claim_estimates(rows, counterfactual="removed", boot={"n_resamples": 500, "seed": 0})
    # word matching: P 1, R 0.5 -> F1 2/3; PerContrast finds (nearly) every gold token
    assert est["f1"].value > 0.25 and est["f1"].low > 0 and est["f1"].n == 30
    assert est["f1_dev"].n == 21 and est["f1_dev"].low > 0
    assert est["ap"].value == pytest.approx(1 - (0.5 * 1 + 0.5 * 2 / 6), abs=0.02)
    assert est["recall"]["word_matching"] == {"verbatim": {"recall": 1.0, "n_gold": 30},
                                              "paraphrase": {"recall": 0.0, "n_gold": 30}}
    # every answer in the test split: no dev answer to choose a threshold on
    all_test = [{**r, "split": "test"} for r in rows]
    no_dev = claim_estimates(all_test, counterfactual="removed",
                             boot={"n_resamples": 500, "seed": 0})
    assert no_dev["f1"].value == pytest.approx(est["f1"].value) and no_dev["f1_dev"] is None


@pytest.mark.parametrize("flip, verdict", [(False, HOLDS), (True, CONTRADICTED)])
def test_pir_claims_in_claims_md(repo, tmp_path, flip, verdict):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["report"]["bootstrap"] = {"n_resamples": 500}
    rows = token_rows()
    if flip:  # PIR ranks other tokens first, and word matching finds every gold token
        for r in rows:
            r["pir_removed"] = r["pir"] = -r["pir"]
            r["percontrast"], r["word_matching"] = r["pir"] > 1.0, r["gold"]
    path = tmp_path / "pir" / cfg["pir"]["models"][0] / "scores.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    claims = {c.id: c for c in build_claims(cfg, tmp_path)}
    model = cfg["pir"]["models"][0]
    for cid in (f"figure4_pir_f1_{model}", f"figure4_pir_f1_dev_{model}",
                f"figure4_pir_ap_{model}"):
        assert claims[cid].verdict == verdict, cid
    if not flip:
        assert "word matching 100% / 0%" in claims[f"figure4_pir_f1_{model}"].note


def test_table_pir_lists_every_counterfactual_and_both_word_matching_rules(repo, tmp_path):
    from percontrast.pir_benchmark import evaluate
    from percontrast.report.paper_tables import table_pir

    cfg = pc.load_config(repo / "configs/tiny.yaml")
    rows = token_rows()
    for r in rows:
        r["pir_filler"] = r["pir"] - 1.0
        r["word_matching_lemma"] = r["word_matching"] or r["kind"] == "paraphrase"
    gold = [r["gold"] for r in rows]
    cls = {"percontrast": prf([r["percontrast"] for r in rows], gold), "threshold": 1.0,
           "word_matching": prf([r["word_matching"] for r in rows], gold),
           "word_matching_lemma": prf([r["word_matching_lemma"] for r in rows], gold),
           "counterfactual": "removed",
           **evaluate(rows, threshold=1.0, counterfactual="removed",
                      variants=["removed", "filler"], boot={"n_resamples": 100})}
    path = tmp_path / "pir" / cfg["pir"]["models"][0] / "classification.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(cls))
    t = table_pir(cfg, tmp_path)
    methods = [r[1] for r in t.rows]
    assert methods[:2] == ["PerContrast (PIR > 1, persona removed)",
                           "PerContrast (PIR > 1, neutral filler)"]
    assert methods[-2:] == ["Word matching (paper: exact words)", "Word matching (lemmas)"]
    assert sum("from dev" in m for m in methods) == 2
    by = {r[1]: r for r in t.rows}
    exact, lemma = by["Word matching (paper: exact words)"], by["Word matching (lemmas)"]
    assert (exact[7], exact[8], lemma[8]) == (1.0, 0.0, 1.0)  # recall verbatim / paraphrase
    assert by["PerContrast (PIR > 1, persona removed)"][5] == pytest.approx(
        cls["variants"]["removed"]["average_precision"])


def test_pir_figures_draw_the_pr_curves(repo, tmp_path):
    import subprocess
    import sys

    from percontrast.pir_benchmark import evaluate

    rows = token_rows()
    for r in rows:
        r.update(token="x", pir_filler=r["pir"] - 1.0,
                 llm_judge=r["gold"] and r["kind"] == "verbatim")
    gold = [r["gold"] for r in rows]
    cls = {m: prf([bool(r[m]) for r in rows], gold)
           for m in ("percontrast", "word_matching", "llm_judge")}
    cls.update(threshold=1.0, **evaluate(
        rows, threshold=1.0, counterfactual="removed", variants=["removed", "filler"],
        boot={"n_resamples": 50}))
    pir_dir = tmp_path / "pir" / "m"
    pir_dir.mkdir(parents=True)
    (pir_dir / "classification.json").write_text(json.dumps(cls))
    (pir_dir / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "figures"
    done = subprocess.run([sys.executable, "-m", "percontrast", "pir_figures", "--pir",
                           str(pir_dir), "--out", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "figure4_pir_pr_curves.png").stat().st_size > 20_000
