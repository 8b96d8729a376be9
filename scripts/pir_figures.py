"""Figures 2, 4 and 5 from PIR benchmark results (rule pir_figures), and the PR curves of PIR
under each counterfactual with the word-matching and judge operating points beside them."""

import argparse
import itertools
from pathlib import Path

from percontrast.cli import run, setup
from percontrast.io import read_json, read_jsonl
from percontrast.report import figures

PR_FIGURE = "figure4_pir_pr_curves"
VARIANT_STYLE = {"removed": ("#d1495b", "-"), "filler": ("#edae49", "--"),
                 "placebo": ("#66a182", ":")}
VARIANT_LABELS = {"removed": "PIR, persona removed (paper)", "filler": "PIR vs neutral filler",
                  "placebo": "PIR vs another user's persona"}
BASELINE_STYLE = {"word_matching": ("Word matching (paper: exact words)", "#2e4057", "s"),
                  "word_matching_lemma": ("Word matching (lemmas)", "#8d99ae", "D"),
                  "llm_judge": ("LLM-as-judge", "#00798c", "^")}


def pr_curves(results: dict[str, dict], path: Path) -> None:
    """Per PIR model: precision-recall curve of PIR under each counterfactual (AP in the
    legend; o = PIR > the paper's threshold, x = PIR > the dev-chosen threshold) and the single
    operating points of the binary methods; the dashed line is the share of gold tokens (a
    random ranking's precision)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(figures.STYLE):
        fig, axes = plt.subplots(1, len(results), figsize=(5.6 * len(results), 4.6),
                                 squeeze=False)
        for ax, (model, cls) in zip(axes[0], results.items(), strict=True):
            variants, baselines = cls.get("variants", {}), cls.get("baselines", {})
            if not variants:  # a classification.json from before threshold-free metrics
                figures._no_data(ax, "no threshold-free metrics: rerun pir_benchmark")
                continue
            for name, v in variants.items():
                color, line = VARIANT_STYLE.get(name, ("#555555", "-"))
                curve = v["pr_curve"]
                ax.step([0.0, *curve["recall"]], [1.0, *curve["precision"]], where="pre",
                        color=color, linestyle=line,
                        label=f"{VARIANT_LABELS.get(name, name)} "
                              f"(AP {v['average_precision']:.2f})")
                at = v["at_threshold"]
                ax.plot(at["recall"], at["precision"], "o", color=color, markersize=6)
                if "test_at_dev_threshold" in v:
                    dev = v["test_at_dev_threshold"]
                    ax.plot(dev["recall"], dev["precision"], "x", color=color, markersize=7)
            for name, b in baselines.items():
                label, color, marker = BASELINE_STYLE.get(name, (name, "#333333", "s"))
                at = b["at_threshold"]
                ax.plot(at["recall"], at["precision"], marker, color=color, markersize=8,
                        markeredgecolor="black", label=f"{label} (F1 {at['f1']:.2f})")
            first = next(iter(variants.values()))["at_threshold"]
            ax.axhline(first["n_gold"] / max(first["n_tokens"], 1), color="grey",
                       linestyle="--", linewidth=0.8)
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.05)
            ax.set_xlabel("recall (personal tokens found)")
            ax.set_ylabel("precision")
            ax.set_title(f"{model}: PIR as a token classifier ({cls.get('n_answers', '?')} "
                         f"answers)\no PIR > {cls['threshold']:g}, x dev-chosen threshold "
                         "(test answers)", fontsize=9)
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
        figures._save(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pir", nargs="+", required=True,
                        help="results/pir/{model} folders; the first one feeds figures 2 and 5")
    parser.add_argument("--n-heatmap", type=int, default=8, help="answers in the heat-map")
    parser.add_argument("--out", required=True, help="figures folder")
    args = parser.parse_args()
    log = setup("pir_figures")
    out = Path(args.out)
    classification = {Path(d).name: read_json(Path(d) / "classification.json") for d in args.pir}
    figures.pir_classification_bars(classification, out / "figure4_pir_classification.png")
    pr_curves(classification, out / f"{PR_FIGURE}.png")
    main_dir = Path(args.pir[0])
    tokens = read_jsonl(main_dir / "scores.jsonl")
    threshold = classification[main_dir.name]["threshold"]
    figures.pir_histogram(tokens, threshold, out / "figure5_pir_histogram.png",
                          title=f"PIR of answer tokens ({main_dir.name})")
    answers = [list(group) for _, group in itertools.groupby(tokens, key=lambda t: t["id"])]
    shown = [a for a in answers if any(t["gold"] for t in a)][:args.n_heatmap]
    figures.pir_heatmap(shown, out / "figure2_pir_heatmap.png",
                        title=f"Per-token PIR on persona-QA answers ({main_dir.name})")
    log.info("wrote figures 2, 4 (bars and PR curves), 5 to %s", out)


if __name__ == "__main__":
    run(main)
