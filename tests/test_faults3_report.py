"""Issue 31, item 10: what the report writes cannot run in a spreadsheet or a shell.

A label such as ``=HYPERLINK(...)`` or ``@SUM(...)`` was written verbatim into
``results/tables/*.csv``, where a spreadsheet runs it; such cells now start with ``'`` (OWASP's
advice), numbers untouched. ``index.md`` printed ``--configfile`` unquoted: a path with a space
or ``$(...)`` would split or run in the shell the command is pasted into.
"""

from __future__ import annotations

import csv
import io
import re
import shlex

from percontrast import config as pc
from percontrast.report import escape
from percontrast.report.index import build_index
from percontrast.report.paper_tables import table1
from percontrast.report.table_format import Table


def test_csv_cell_by_hand():
    for bad in ("=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1:A9)", "+cmd|' /C calc'!A0",
                "-2+3", "\tx", "\rx", "\uff1dSUM(A1)"):
        assert escape.csv_cell(bad) == "'" + bad
    for fine in ("PRW", "a=b", -0.5, 3, None, "-0.5", "+49.9%", "-1e-3", ""):
        assert escape.csv_cell(fine) == fine


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_formula_label_is_text_in_every_csv(repo, tmp_path):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["task_registry"]["review"]["label"] = "=HYPERLINK(\"http://evil\",\"PRW\")"
    cfg["model_registry"]["tiny-llama"]["label"] = "@SUM(1+1)"
    rows = _rows(table1(cfg, tmp_path).to_csv())
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(("=", "@", "+", "-")) and not re.fullmatch(
        r"[-+]?[0-9.e+-]+%?", c)]
    assert "'=HYPERLINK(\"http://evil\",\"PRW\")" in " ".join(cells)
    t = Table("x", "X", ["=A1", "b"], [["@B2", -0.25]])
    assert _rows(t.to_csv()) == [["'=A1", "b"], ["'@B2", "-0.25"]]


def test_index_quotes_the_config_path_for_the_shell(tmp_path):
    path = "my configs/$(touch pwned)`x`.yaml"
    text = build_index({}, [tmp_path / "results" / "tables" / "table1.csv"], [],
                       out_dir=tmp_path, configfile=path)
    quoted = shlex.quote(path)
    assert f"--configfile {quoted}" in text
    assert f"--configfile {path}" not in text
    # the code spans still hold the whole command (a backtick in the path does not end them)
    line = next(line for line in text.splitlines() if line.startswith("| [table1]"))
    span = line.split(" | ")[-1].removesuffix(" |")
    assert span.startswith("``s") and span.endswith("v``")
    assert shlex.split(span[2:-2])[:5] == ["snakemake", "--cores", "all", "--configfile", path]
