"""Text that goes into a rendered format, made safe for that format.

Labels, titles and descriptions come from the user's config. A ``|`` or a newline in a task label
would shift a Markdown table's columns, ``<script>`` would be live HTML in a rendered
``index.md``, and a blank line ends a LaTeX ``tabular`` early. Every renderer escapes what it
puts into a cell, a heading or a line with these functions, once, at the point of writing.
"""

from __future__ import annotations

import re

_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")
_MARKDOWN = {"\\": "\\\\", "|": "\\|", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#",
          "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}"}


def one_line(text: str) -> str:
    """``text`` with every line break (any Unicode one) turned into a single space."""
    return _LINE_BREAKS.sub(" ", str(text))


def markdown(text: str) -> str:
    """A Markdown table cell, heading or inline text: one line, no column break (``|``), no
    live HTML (``<``, ``>``, ``&`` as entities), backslashes kept literal."""
    return "".join(_MARKDOWN.get(ch, ch) for ch in one_line(text))


def latex(text: str) -> str:
    """LaTeX text mode: one line (a blank line would end the tabular), the special characters
    escaped."""
    return "".join(_LATEX.get(ch, ch) for ch in one_line(text))


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection"),
#: with their full-width forms, which some spreadsheets treat alike.
_FORMULA_START = tuple("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def csv_cell(value):
    """A CSV cell a spreadsheet will not run: text starting with ``=``, ``+``, ``-``, ``@``, a
    tab or a line break (``=HYPERLINK(...)``, ``@SUM(...)`` in a label from the config) gets a
    leading ``'``, as OWASP recommends, so that it shows as the text it is. Numbers, and text
    that is a plain number (``-0.5``, ``+49.9%``), are kept as they are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value.removesuffix("%"))
    except ValueError:
        return "'" + value
    return value


def code_span(text: str, *, in_table: bool = False) -> str:
    """``text`` as a Markdown code span (one line): fenced with more backticks than it holds
    in a row, so a backtick in a path cannot end it; in a table cell, ``|`` escaped so that it
    does not end the cell."""
    text = one_line(text)
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
