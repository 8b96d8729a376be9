"""The artefact catalogue (percontrast.artefacts): one record per table and figure, everything
else derived from it; and the planning path (what workflow/rules/common.smk imports) stays free
of numpy and scipy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from percontrast import artefacts, pir_methods

REPO = Path(__file__).resolve().parents[1]
COMMON = REPO / "workflow" / "rules" / "common.smk"
#: the modules of this project that the planning path may import
PLANNING_MODULES = {"percontrast", "percontrast.config", "percontrast.plan", "percontrast.layout",
                    "percontrast.methods", "percontrast.artefacts"}


def common_smk_imports() -> set[str]:
    """The percontrast modules common.smk imports (its `import` / `from` lines)."""
    found = set()
    for line in COMMON.read_text().splitlines():
        m = re.match(r"\s*from\s+(percontrast[\w.]*)\s+import\s+(.+?)(\s+#.*)?$", line)
        if m:
            names = [n.strip().split(" as ")[0] for n in m.group(2).split(",")]
            found.add(m.group(1))
            found.update(f"{m.group(1)}.{n}" for n in names
                         if (REPO / "src" / m.group(1).replace(".", "/") / f"{n}.py").is_file())
        m = re.match(r"\s*import\s+(percontrast[\w.]*)", line)
        if m:
            found.add(m.group(1))
    return found


def test_common_smk_imports_only_the_light_modules():
    imports = common_smk_imports()
    assert imports, "common.smk's imports of percontrast were not found"
    assert imports <= PLANNING_MODULES, imports - PLANNING_MODULES


def test_planning_imports_neither_numpy_nor_scipy():
    """What Snakemake imports while it plans the DAG, in a fresh interpreter."""
    code = ("import sys\n"
            + "".join(f"import {m}\n" for m in sorted(common_smk_imports() | PLANNING_MODULES))
            + "from percontrast.config import *\nfrom percontrast.plan import *\n"
            "heavy = sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'torch') "
            "if m in sys.modules)\n"
            "print(heavy)\n"
            "assert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_catalogue_records_are_complete_and_unique():
    names = [a.name for a in artefacts.CATALOGUE]
    assert len(names) == len(set(names))
    for a in artefacts.CATALOGUE:
        assert a.kind in (artefacts.TABLE, artefacts.FIGURE), a
        assert a.rule in ({"tables"} if a.kind == artefacts.TABLE
                          else {"figures", "pir_figures"}), a
        assert a.description and "\n" not in a.description, a
        assert (REPO / "workflow" / "report" / a.caption).is_file(), a
        assert re.fullmatch(r"[a-z][a-z0-9_]*", a.name), a


def test_every_builder_imports_lazily_and_is_a_function():
    for a in artefacts.CATALOGUE:
        assert callable(a.load()), a.builder


def test_companions_pair_up():
    for a in artefacts.base_tables():
        if a.companion:
            twin = artefacts.get(a.companion)
            assert twin.companion_of == a.name and twin.name == a.name + "_vs_paper"
            assert twin.reads_data == a.reads_data
    assert [a.name for a in artefacts.companion_tables()] == artefacts.companions_of(
        artefacts.base_table_names())
    assert artefacts.companions_of(["table1", "table8", "table_markers"]) == ["table1_vs_paper"]


def test_registries_derive_from_the_catalogue():
    from percontrast.report import compare

    assert list(compare.COMPANIONS) == [a.name for a in artefacts.companion_tables()]
    for name, builder in compare.COMPANIONS.items():
        assert builder is artefacts.get(name).load()
    for a in artefacts.base_tables():  # every base table's builder exists where it says
        assert callable(a.load()) and a.load().__name__ == a.name


def test_index_describes_and_rebuilds_from_the_catalogue(tmp_path):
    from percontrast.report.index import build_index, describe

    for a in artefacts.CATALOGUE:
        assert describe(a.name) == a.description
    figures = [tmp_path / "figures" / f"{n}.png"
               for n in artefacts.figure_names("pir_figures") + artefacts.figure_names("figures")]
    text = build_index({}, [], figures, out_dir=tmp_path)
    for path in figures:
        rule = artefacts.get(path.stem).rule
        assert f"--forcerun {rule} {path}` |" in text
    with pytest.raises(KeyError, match="no artefact"):
        build_index({}, [], [tmp_path / "figure9_unknown.png"], out_dir=tmp_path)


def test_the_rules_take_their_lists_from_the_catalogue():
    """No rules file or script spells an artefact's name: they come from the catalogue."""
    sources = [*sorted((REPO / "workflow").rglob("*.smk")), REPO / "workflow" / "Snakefile",
               *sorted((REPO / "scripts").glob("*.py")),
               *sorted((REPO / "src" / "percontrast" / "commands").glob("*.py"))]
    for path in sources:
        text = path.read_text()
        for a in artefacts.CATALOGUE:
            assert f'"{a.name}"' not in text, (path, a.name)


def test_pir_methods_are_one_list():
    from percontrast.report import figure_style, pir_figures, score_figures, training_figures

    assert [m.name for m in pir_methods.PAPER_METHODS] == ["percontrast", "word_matching",
                                                          "llm_judge"]
    assert {m.name for m in pir_methods.BASELINES} <= set(pir_methods.BY_NAME)
    assert pir_methods.baseline_label("word_matching", with_lemmas=False) == "Word matching"
    for module in (figure_style, pir_figures, score_figures, training_figures):
        assert not hasattr(module, "METHOD_LABELS") and not hasattr(module, "LOSS_LABELS")


def test_results_and_tables_import_no_circle():
    """percontrast.report.results imports nothing of the report package."""
    tree = ast.parse((REPO / "src/percontrast/report/results.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(m and m.startswith("percontrast.report") for m in imported), imported


def test_pir_counterfactuals_are_the_prompts():
    from percontrast.prompts import COUNTERFACTUALS

    assert tuple(c.name for c in pir_methods.COUNTERFACTUALS) == COUNTERFACTUALS


def test_a_new_figure_is_one_entry_plus_its_builder(monkeypatch, tmp_path):
    """A catalogue entry and a builder ``(cfg, results, path)`` are all a figure needs: the
    renderer draws it and the index lists it with its description and rule."""
    import types

    from percontrast.report.index import build_index
    from percontrast.report.render import render_figures

    drawn = []
    module = types.ModuleType("extra_figures")
    module.my_figure = lambda cfg, results, path: (drawn.append(path),
                                                   path.write_bytes(b"png"))
    monkeypatch.setitem(sys.modules, "extra_figures", module)
    entry = artefacts.Artefact("my_figure", artefacts.FIGURE, "figures",
                               "extra_figures.my_figure", "what it shows", "workflow.rst")
    monkeypatch.setattr(artefacts, "CATALOGUE", (entry,))
    monkeypatch.setattr(artefacts, "_BY_NAME", {entry.name: entry})
    paths = render_figures({}, tmp_path / "results", tmp_path)
    assert paths == drawn == [tmp_path / "my_figure.png"]
    text = build_index({}, [], paths, out_dir=tmp_path)
    assert "| [my_figure](my_figure.png) | what it shows | " in text
    assert f"--forcerun figures {paths[0]}` |" in text
