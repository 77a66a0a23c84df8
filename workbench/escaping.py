"""The one escaping path from data to HTML: client text is data, never markup.

Every value that comes from a client's files (skill names, activity titles, teams, roles,
names, persona labels built from them, comments) and reaches an HTML page goes through
:func:`escape_html`: the result tables of :mod:`workbench.results`, the display tables of
:func:`workbench.reporting.display.show` (the report's and the explorer's tables), the bullet
lists, the report's header and contents, the person pages and the failed-run page. It sits in
the lowest layer because results and plans, below reporting, produce HTML too.

``&``, ``<``, ``>``, ``"`` and ``'`` become character references, so a value can stand in an
element's text and in a quoted attribute; what the reader sees is the text as it was.

Examples
--------
>>> escape_html('<img src=x onerror=alert(1)>')
'&lt;img src=x onerror=alert(1)&gt;'
>>> escape_html(None), escape_html(3)
('', '3')
>>> import pandas as pd
>>> escape_frame(pd.DataFrame({"<b>": ["a&b", 1.5]})).to_dict("list")
{'&lt;b&gt;': ['a&amp;b', 1.5]}
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["map_text", "escape_html", "escape_frame"]


def escape_html(value) -> str:
    """``value`` as text safe in HTML element content and quoted attributes.

    Parameters
    ----------
    value : object
        ``None`` gives ``""``; anything else is shown as ``str(value)``.

    Returns
    -------
    str
    """
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def _escape_label(label):
    if isinstance(label, tuple):
        return tuple(_escape_label(part) for part in label)
    return escape_html(label) if isinstance(label, str) else label


def map_text(frame: pd.DataFrame, column_text, label_text) -> pd.DataFrame:
    """A copy of ``frame`` with ``column_text`` applied to each text column (a Series in, a
    Series out) and ``label_text`` to every column and index label; numbers, dates and missing
    values are left alone. The one walk over a frame's client text, for HTML and for CSV.

    Examples
    --------
    >>> frame = pd.DataFrame({"skill": ["a", "b"], "score": [1.0, 2.0]})
    >>> map_text(frame, lambda c: c.str.upper(), lambda v: str(v).title()).to_dict("list")
    {'Skill': ['A', 'B'], 'Score': [1.0, 2.0]}
    """
    out = frame.copy()
    for j in range(out.shape[1]):
        column = out.iloc[:, j]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            out.isetitem(j, column_text(column))
    out.columns = out.columns.map(label_text)
    out.index = out.index.map(label_text)
    return out


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column labels and index labels are escaped.

    Numbers, dates and missing values are left as they are, so a renderer can still format
    them; render the copy without escaping again (``to_html(escape=False)``).

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    DataFrame
    """
    out = map_text(frame, lambda column: column.map(
        lambda v: escape_html(v) if isinstance(v, str) else v), _escape_label)
    out.columns.names = [_escape_label(n) for n in out.columns.names]
    out.index.names = [_escape_label(n) for n in out.index.names]
    return out
