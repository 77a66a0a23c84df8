"""Showing and saving results in a notebook: output folder, display tables, figures, Excel.

Notebooks call these helpers so that they stay short: :func:`output_folder` gives the folder a
notebook writes to, :func:`show` rounds and labels a table for display, :func:`figure` and
:func:`save_figure` write a PNG, :func:`write_excel` a workbook, and :func:`bullets` turns
statements into a list. Nothing here overwrites an earlier file.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> out = output_folder(pathlib.Path(tempfile.mkdtemp()) / "calibration", "01_calibrate")
>>> out.is_dir()
True
>>> show(pd.DataFrame({"source": ["direct_report"], "icc1": [0.4012]})).data.columns.tolist()
['Source', 'ICC(1): one rater']
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.checks import check_integer
from workbench.errors import ConfigError
from workbench.escaping import escape_html
from workbench.presentation.labels import column_label, date_label, human_table
from workbench.writers import new_output_dir, new_workbook

__all__ = [
    "INTERACTIVE_FOLDER",
    "output_folder",
    "analyst_folder",
    "show",
    "number_text",
    "p_text",
    "count_text",
    "figure",
    "save_figure",
    "write_excel",
    "bullets",
    "new_file",
]

#: Where a notebook run by hand (``output_dir=""``) writes: ``reports/<this>/<notebook>-<time>``.
INTERACTIVE_FOLDER = "interactive"


def _reports_root(start: Path) -> Path:
    """The project's ``reports/`` folder: the nearest one at or above ``start``.

    Notebooks run from ``notebooks/``, so the project's folder is one level up; outside a
    project the folder is made in the working directory.
    """
    for folder in (start, *start.parents):
        if (folder / "reports").is_dir():
            return folder / "reports"
    return start / "reports"


def analyst_folder(out: str | Path) -> Path:
    """The ``analyst/`` folder inside a notebook's output folder, for rater-level tables.

    Files there name raters (leniency of each rater, Rasch rater measures); they are for the
    analyst and are never handed to a client (:mod:`workbench.reporting.disclosure` skips the
    folder, and the client report never reads it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> analyst_folder(pathlib.Path(tempfile.mkdtemp())).name
    'analyst'
    """
    folder = Path(out) / "analyst"
    folder.mkdir(exist_ok=True)
    return folder


def output_folder(output_dir: str | Path, name: str, *, reports: str | Path | None = None) -> Path:
    """The folder a notebook writes its files to.

    Parameters
    ----------
    output_dir : path or ""
        A new (or empty) folder, as ``workbench run`` passes it. ``""`` (a notebook opened by
        hand) makes ``reports/interactive/<name>-<date>-<time>/`` in the project and prints
        where it is, so the files are easy to find and earlier ones are never overwritten.
    name : str
        The notebook's name (first part of the folder made for ``""``).
    reports : path, optional
        The reports folder to use for ``""`` (default: the nearest ``reports/`` folder at or
        above the working directory).

    Returns
    -------
    Path
    """
    if output_dir not in ("", None):
        return new_output_dir(output_dir)
    root = Path(reports) if reports is not None else _reports_root(Path.cwd().resolve())
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / INTERACTIVE_FOLDER / f"{name}-{stamp}"
    folder, i = base, 1
    while folder.exists():  # two runs in the same second
        i += 1
        folder = base.with_name(f"{base.name}-{i}")
    folder = new_output_dir(folder)
    print(f"Files of this notebook are written to {folder}")
    return folder


def _format_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ``4 Jan 2027`` (a midnight time of day means nothing to a reader)."""
    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not dates:
        return frame
    frame = frame.copy()
    for column in dates:
        frame[column] = [date_label(v) for v in frame[column]]
    return frame


def number_text(value, digits: int = 2) -> str:
    """A number as a person reads it: ``digits`` decimals, never ``-0.00``, blank when missing.

    Examples
    --------
    >>> number_text(-0.001), number_text(1234.5, 1), number_text(float("nan"))
    ('0.00', '1,234.5', '')
    """
    if value is None or pd.isna(value):
        return ""
    text = f"{float(value):,.{digits}f}"
    return text[1:] if text.startswith("-") and not any(ch in "123456789" for ch in text) \
        else text


def p_text(value, digits: int = 3) -> str:
    """A p value as a person reads it: ``< 0.001`` below 0.001, else ``digits`` decimals.

    Examples
    --------
    >>> p_text(0.0000312), p_text(0.0412), p_text(1.0)
    ('< 0.001', '0.041', '1.000')
    """
    if value is None or pd.isna(value):
        return ""
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.{max(digits, 3)}f}"


def count_text(value) -> str:
    """A count of people or things as a whole number (rounded up: 24.7 people to train
    means 25)."""
    if value is None or pd.isna(value):
        return ""
    return f"{int(np.ceil(float(value) - 1e-9)):,}"


#: Columns (codes) holding p values and counts: shown as ``< 0.001`` and as whole numbers.
P_COLUMNS = ("p_value", "p_adjusted", "p", "p_raw", "incremental_p_value")


def _is_count(column: str) -> bool:
    return column == "n" or column.startswith("n_") or column.endswith("_n") or (
        column in ("ratees", "raters", "people"))


def _text_cell(value, digits: int = 2) -> str:
    """A cell of a text column as HTML: text escaped, missing values blank, a number in a
    mixed column formatted as in a numeric one, a yes/no as Yes and No."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                         and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "Yes" if value else "No"
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    if isinstance(value, numbers.Real):
        return number_text(value, digits)
    return escape_html(value)


def _nothing(sentence: str):
    from IPython.display import HTML

    return HTML(f"<p>{escape_html(sentence)}</p>")


def show(frame: pd.DataFrame, digits: int = 2, *, index: bool = False, labels: bool = True,
         empty: str = "Nothing applies here: the table would have no rows."):
    """A table rounded and labelled for display (the data are never changed, only the view).

    Parameters
    ----------
    frame : DataFrame
    digits : int
        Decimals shown for floating-point columns (columns holding only whole numbers, such as
        counts, are shown without decimals).
    index : bool
        Show an unnamed index (a named index, such as ``wave``, always becomes a column).
    labels : bool
        Human labels for the headers and for coded values (sources, model terms): see
        :mod:`workbench.presentation.labels`. Dates are shown without a time of day.
    empty : str
        The sentence shown instead of a table without rows (a reader never sees a header
        over nothing).

    Returns
    -------
    pandas Styler, or an HTML sentence when the table has no rows
        Text columns are left-aligned (headers too), numbers right-aligned, one header row.
        Numbers never read ``-0.00``; p values below 0.001 read ``< 0.001``; counts (``n``,
        ``n_...``) are whole numbers; yes/no columns read Yes and No. Text cells and headers
        are escaped (:func:`workbench.escaping.escape_html`): client text shows as text, never
        as markup.

    Examples
    --------
    >>> html = show(pd.DataFrame({"skill": ["<b>Coaching</b>"], "n": [3]})).to_html()
    >>> "&lt;b&gt;Coaching&lt;/b&gt;" in html and "<b>" not in html
    True
    """
    digits = check_integer("digits", digits, low=0)
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    if frame.empty and len(frame.index) == 0:
        return _nothing(empty)
    codes = [str(c) for c in frame.reset_index().columns] if any(
        n is not None for n in frame.index.names) else [str(c) for c in frame.columns]
    frame = _format_dates(human_table(frame) if labels else frame)
    label = column_label if labels else str
    styler = frame.style.format(partial(number_text, digits=digits), na_rep="")
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    whole = [
        c for c in numeric
        if pd.api.types.is_float_dtype(frame[c])
        and frame[c].dropna().size
        and bool((frame[c].dropna() % 1 == 0).all())
    ] + [c for c in numeric if pd.api.types.is_integer_dtype(frame[c])]
    counts = [label(c) for c in codes if _is_count(c) and label(c) in numeric]
    pvalues = [label(c) for c in codes if c in P_COLUMNS and label(c) in numeric]
    if whole:
        styler = styler.format("{:,.0f}", subset=whole, na_rep="")
    if counts:
        styler = styler.format(count_text, subset=counts)
    if pvalues:
        styler = styler.format(lambda v: escape_html(p_text(v, digits)), subset=pvalues)
    text = [c for c in frame.columns if c not in numeric]
    if text:
        styler = styler.format(partial(_text_cell, digits=digits), subset=text)
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
        positions = [i for i, c in enumerate(frame.columns) if c in text]
        styler = styler.set_table_styles(
            [{"selector": f"th.col_heading.col{i}", "props": "text-align: left"}
             for i in positions], overwrite=False)
    # client text is data: every text cell and header goes through the one escaping path
    styler = styler.format_index(escape_html, axis=1).format_index(escape_html, axis=0)
    if not index:
        styler = styler.hide(axis="index")
    return styler


def new_file(path: str | Path) -> Path:
    """``path``, checked not to exist (earlier results are never overwritten); parents made."""
    path = Path(path)
    if path.exists():
        raise ConfigError(f"{path}: already exists; earlier results are never overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, folder: str | Path, name: str, *, dpi: int = 120) -> Path:
    """Save a matplotlib figure (or seaborn grid) as ``<folder>/<name>.png``; never overwrite.

    Returns the path written.
    """
    fig = getattr(fig, "figure", fig)  # seaborn FacetGrid / Axes -> Figure
    fig = getattr(fig, "figure", fig)
    path = new_file(Path(folder) / f"{name}.png")
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def figure(fig, folder: str | Path, name: str, *, dpi: int = 120):
    """Save a figure as ``<folder>/<name>.png`` and return it as an image to display once.

    The figure is closed, so a notebook shows exactly this image, however the figure was made.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile
    >>> img = figure(plt.figure(), tempfile.mkdtemp(), "empty")
    >>> img.format
    'png'
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image

    path = save_figure(fig, folder, name, dpi=dpi)
    plt.close(getattr(getattr(fig, "figure", fig), "figure", fig))
    return Image(filename=str(path))


def write_excel(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write several tables to one Excel workbook (one sheet each); never overwrite.

    Sheet names are cut to Excel's 31 characters. The tables are written as they are (codes,
    full precision): a workbook is for further analysis, not for reading.
    """
    # column by column: half the time of DataFrame.to_excel (a million cells of calibrated
    # scores in about 5 s)
    path = new_file(path)
    book = new_workbook(path)
    try:
        for name, frame in sheets.items():
            sheet = book.add_worksheet(str(name)[:31])
            sheet.write_row(0, 0, [str(c) for c in frame.columns])
            for j, column in enumerate(frame.columns):
                values = frame[column].astype(object)
                sheet.write_column(1, j, values.where(values.notna(), None).tolist())
    finally:
        book.close()
    return path


def bullets(lines):
    """Plain-language statements as a bullet list for display in a notebook (HTML).

    Each statement is text (persona labels and notes carry skill names and titles from the
    client's files): it is escaped, never read as Markdown or HTML.

    Examples
    --------
    >>> bullets(["one", "<two>"]).data
    '<ul><li>one</li><li>&lt;two&gt;</li></ul>'
    """
    from IPython.display import HTML

    return HTML("<ul>" + "".join(f"<li>{escape_html(line)}</li>" for line in lines) + "</ul>")
