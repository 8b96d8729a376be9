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
