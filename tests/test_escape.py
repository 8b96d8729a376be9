"""Labels, titles and descriptions from the config cannot break a rendered table or page."""

from __future__ import annotations

from percontrast import config as pc
from percontrast.report import escape
from percontrast.report.claims import build_claims, render_markdown
from percontrast.report.index import build_index
from percontrast.report.paper_tables import table1
from percontrast.report.table_format import Table

HOSTILE = "P|R\nW <script>alert(1)</script> & 50%_x~^\r\n\nend"


def _columns(line: str) -> int:
    """Columns of a Markdown table row: the pipes that are not escaped."""
    cells, k, escaped = 1, 0, False
    for ch in line.strip()[1:-1]:
        if ch == "|" and not escaped:
            cells += 1
        escaped = ch == "\\" and not escaped
        k += 1
    return cells


def test_markdown_and_latex_escaping_by_hand():
    assert escape.markdown("a|b\nc<d>&") == "a\\|b c&lt;d&gt;&amp;"
    assert escape.latex("50%_x~^\n\ny") == r"50\%\_x\textasciitilde{}\textasciicircum{} y"
    assert escape.one_line("a\u2028b\r\nc") == "a b c"


def test_a_hostile_label_keeps_every_table_row_intact(repo, tmp_path):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["task_registry"]["review"]["label"] = HOSTILE
    cfg["model_registry"]["tiny-llama"]["label"] = HOSTILE
    t = table1(cfg, tmp_path)
    md = t.to_markdown()
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert rows and all(_columns(line) == len(t.header) for line in rows)
    assert "<script>" not in md and "&lt;script&gt;" in md
    tex = t.to_latex()
    body = tex.split(r"\begin{tabular}")[1]
    assert "\n\n" not in body and "<script>" in tex  # LaTeX shows it as text
    assert all(line.endswith("\\\\") or not line.strip() or line.startswith(("\\", "%"))
               for line in tex.splitlines()[1:])


def test_a_table_title_with_a_newline_stays_one_line():
    t = Table("x", "Title\n| broken", ["a", "b"], [["1|2", "3\n4"]])
    md = t.to_markdown().splitlines()
    assert md[0] == "### Title \\| broken"
    assert md[4] == "| 1\\|2 | 3 4 |"
    assert t.to_latex().splitlines()[0] == "% Title | broken"


def test_title_and_description_are_escaped_in_the_index_and_claims(repo, tmp_path):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["report"]["title"] = HOSTILE
    cfg["description"] = HOSTILE
    cfg["task_registry"]["review"]["label"] = HOSTILE
    index = build_index(cfg, [], [], out_dir=tmp_path, configfile="configs/tiny.yaml")
    assert "<script>" not in index and index.splitlines()[0].startswith("# P\\|R W &lt;script")
    md = render_markdown(cfg, build_claims(cfg, tmp_path))
    assert "<script>" not in md
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert all(_columns(line) == _columns(rows[0]) for line in rows)
