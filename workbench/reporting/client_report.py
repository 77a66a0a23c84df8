"""Client-facing output: display tables, figures, Excel files and the HTML report of a run.

Notebooks call these helpers so that they stay short: :func:`output_folder` gives the folder
a notebook may write to, :func:`show` rounds a table for display, :func:`save_figure` and
:func:`write_excel` write files that never overwrite earlier ones, and :func:`build_report`
merges executed notebooks into one self-contained ``report.html`` without code.

Cells tagged ``analyst-only`` (and the ``parameters`` cells) stay in the executed notebooks for
the analyst and are left out of the client report.

Examples
--------
>>> from workbench.reporting.client_report import output_folder, show
>>> out = output_folder("", "example")
>>> out.is_dir()
True
"""

from __future__ import annotations

import base64
import copy
import html
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from workbench.errors import ConfigError
from workbench.tables.writers import new_output_dir

__all__ = [
    "REPORT_EXCLUDED_TAGS",
    "output_folder",
    "show",
    "figure",
    "save_figure",
    "write_excel",
    "client_notebook",
    "notebook_fragment",
    "build_report",
    "embedded_images",
    "plot_estimates",
    "plot_raw_vs_calibrated",
    "plot_distribution",
    "plot_lines",
    "plot_bars",
    "bullets",
]

#: Cells with these tags are kept for the analyst but never reach the client report.
REPORT_EXCLUDED_TAGS = frozenset({"parameters", "injected-parameters", "analyst-only"})


def output_folder(output_dir: str | Path, name: str) -> Path:
    """The folder a notebook writes its files to.

    Parameters
    ----------
    output_dir : path or ""
        A new (or empty) folder; ``""`` makes a fresh temporary folder, so that runs with the
        defaults never collide with earlier ones.
    name : str
        The notebook's name (prefix of the temporary folder).

    Returns
    -------
    Path
    """
    if output_dir in ("", None):
        return Path(tempfile.mkdtemp(prefix=f"workbench-{name}-"))
    return new_output_dir(output_dir)


def show(frame: pd.DataFrame, digits: int = 2, *, index: bool = False):
    """A table rounded for display (the data are never rounded, only the view).

    Parameters
    ----------
    frame : DataFrame
    digits : int
        Decimals shown for floating-point columns (columns holding only whole numbers, such as
        counts, are shown without decimals).
    index : bool
        Show the index (default: hidden, tables carry their keys as columns).

    Returns
    -------
    pandas Styler
        Text columns are left-aligned, numbers right-aligned.
    """
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    styler = frame.style.format(precision=digits, thousands=",", na_rep="")
    whole = [
        c for c in frame.columns
        if pd.api.types.is_float_dtype(frame[c])
        and frame[c].dropna().size
        and bool((frame[c].dropna() % 1 == 0).all())
    ]
    if whole:
        styler = styler.format("{:,.0f}", subset=whole, na_rep="")
    text = [
        c for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    if not index:
        styler = styler.hide(axis="index")
    return styler


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


def _new_file(path: Path) -> Path:
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
    path = _new_file(Path(folder) / f"{name}.png")
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def write_excel(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write several tables to one Excel workbook (one sheet each); never overwrite.

    Sheet names are cut to Excel's 31 characters.
    """
    path = _new_file(Path(path))
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=str(name)[:31], index=False)
    return path


# --------------------------------------------------------------------------------------------
# Figures (seaborn style; each returns its Figure and draws nothing else)
# --------------------------------------------------------------------------------------------


def _axes(ax, size):
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def _finish(fig, ax, *, xlabel: str, ylabel: str, title: str = ""):
    """Axis labels, an optional title and a tight layout: the last step of every plot here."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_estimates(
    frame: pd.DataFrame,
    *,
    label: str = "skill",
    hue: str | None = None,
    title: str = "",
    xlabel: str = "estimate",
    reference: float | None = 0.0,
    ax=None,
):
    """Forest plot: one row per ``label``, the estimate with its ``ci_low``-``ci_high`` interval.

    Parameters
    ----------
    frame : DataFrame
        Columns ``label``, estimate, ci_low, ci_high (and ``hue`` when given).
    hue : str, optional
        A column whose values are drawn side by side in colours (e.g. method).
    reference : float or None
        Draw a dashed line here (no effect); None for none.

    Returns
    -------
    Figure
    """
    import seaborn as sns

    missing = {label, "estimate", "ci_low", "ci_high"} - set(frame.columns)
    if missing:
        raise ConfigError(f"plot_estimates: missing column(s) {sorted(missing)}")
    labels = list(dict.fromkeys(frame[label].tolist()))
    groups = list(dict.fromkeys(frame[hue].tolist())) if hue else [None]
    fig, ax = _axes(ax, (7, 0.42 * len(labels) * max(1, len(groups) * 0.6) + 1.4))
    palette = sns.color_palette(n_colors=max(len(groups), 1))
    step = 0.7 / max(len(groups), 1)
    for g, group in enumerate(groups):
        part = frame if group is None else frame[frame[hue] == group]
        pos = [labels.index(v) for v in part[label]]
        offset = (g - (len(groups) - 1) / 2) * step
        ax.errorbar(
            part["estimate"], [p + offset for p in pos],
            xerr=[part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]],
            fmt="o", capsize=3, color=palette[g], label=None if group is None else str(group),
        )
    if reference is not None:
        ax.axvline(reference, color="0.4", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(labels)), [str(v) for v in labels])
    ax.invert_yaxis()
    if hue:
        ax.legend(title=hue, fontsize="small")
    return _finish(fig, ax, xlabel=xlabel, ylabel="", title=title)


def plot_raw_vs_calibrated(
    scores: pd.DataFrame, *, raw: str = "raw_mean", calibrated: str = "score", ax=None
):
    """Scatter of raw means against calibrated scores, one point per person and skill.

    Points off the diagonal are people whose raw average was pushed up or down by who rated them.
    """
    import seaborn as sns

    fig, ax = _axes(ax, (6, 5.5))
    sns.scatterplot(data=scores, x=raw, y=calibrated, s=12, alpha=0.35, linewidth=0, ax=ax)
    low = float(min(scores[raw].min(), scores[calibrated].min()))
    high = float(max(scores[raw].max(), scores[calibrated].max()))
    ax.plot([low, high], [low, high], color="0.4", linestyle="--", linewidth=1)
    return _finish(fig, ax, xlabel="raw mean of all ratings", ylabel="calibrated score")


def plot_distribution(values, *, xlabel: str, title: str = "", ax=None):
    """Histogram with a density curve of one quantity (e.g. rater leniency; no labels shown)."""
    import seaborn as sns

    fig, ax = _axes(ax, (6, 3.8))
    sns.histplot(x=pd.Series(values).dropna().to_numpy(), kde=True, ax=ax)
    return _finish(fig, ax, xlabel=xlabel, ylabel="count", title=title)


def plot_lines(
    frame: pd.DataFrame, *, x: str, y: str, hue: str | None = None, xlabel: str = "",
    ylabel: str = "", title: str = "", hlines=(), ax=None,
):
    """Lines of ``y`` against ``x`` (one per ``hue``), with optional dashed reference levels."""
    import seaborn as sns

    fig, ax = _axes(ax, (7, 4.2))
    sns.lineplot(data=frame, x=x, y=y, hue=hue, marker="o", ax=ax)
    for level in hlines:
        ax.axhline(level, color="0.5", linestyle="--", linewidth=1)
    return _finish(fig, ax, xlabel=xlabel or x, ylabel=ylabel or y, title=title)


def plot_bars(
    frame: pd.DataFrame, *, x: str, y: str, hue: str | None = None, xlabel: str = "",
    ylabel: str = "", title: str = "", horizontal: bool = False, ax=None,
):
    """Bar chart of ``y`` by ``x`` (grouped by ``hue``) from a tidy table."""
    import seaborn as sns

    fig, ax = _axes(ax, (7, 4.2))
    if horizontal:
        sns.barplot(data=frame, y=x, x=y, hue=hue, orient="h", ax=ax)
        return _finish(fig, ax, xlabel=ylabel or y, ylabel=xlabel or "", title=title)
    sns.barplot(data=frame, x=x, y=y, hue=hue, ax=ax)
    return _finish(fig, ax, xlabel=xlabel or x, ylabel=ylabel or y, title=title)


def bullets(lines) -> object:
    """Plain-language statements as a Markdown bullet list for display in a notebook."""
    from IPython.display import Markdown

    return Markdown("\n".join(f"- {line}" for line in lines))


# --------------------------------------------------------------------------------------------
# The client report
# --------------------------------------------------------------------------------------------

_KEEP_MIME = ("text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown")


def client_notebook(nb):
    """A copy of an executed notebook fit for the client.

    Drops cells tagged as in :data:`REPORT_EXCLUDED_TAGS`, error and stderr outputs, widget
    views, and plain-text results that have a richer form (or none at all: a bare repr such
    as ``<Figure ...>`` or a path means nothing to a client). Code itself is hidden later by
    the exporter.
    """
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REPORT_EXCLUDED_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = []
            for out in cell.get("outputs", []):
                kind = out.get("output_type")
                if kind in ("error",) or (kind == "stream" and out.get("name") != "stdout"):
                    continue
                if kind in ("display_data", "execute_result"):
                    data = {k: v for k, v in out.get("data", {}).items() if k in _KEEP_MIME}
                    if not data:
                        continue
                    out["data"] = data
                outputs.append(out)
            cell["outputs"] = outputs
            if not outputs:
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


def notebook_fragment(nb) -> str:
    """HTML body (no code, no prompts) of an executed notebook, images embedded."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(client_notebook(nb))
    return body.replace("No description has been provided for this image", "Figure")


def _title_of(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if match:
                return match.group(1).strip()
    return fallback


_CSS = """
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2933; margin: 0;
       background: #f5f7fa; line-height: 1.5; }
header { background: #1f3a5f; color: white; padding: 2rem 3rem 1.5rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.9rem; color: white; }
header p { margin: .2rem 0; opacity: .9; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 2rem 3rem; }
nav { background: white; border-radius: 6px; padding: 1rem 1.5rem; margin: 1.5rem 0;
      box-shadow: 0 1px 3px rgba(0,0,0,.08); }
nav ul { margin: .3rem 0 0 0; padding: 0; list-style: none; }
section.analysis { background: white; border-radius: 6px; padding: 1rem 2rem 1.5rem;
      margin: 1.5rem 0; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h1, h2, h3 { color: #1f3a5f; }
section.analysis h1 { font-size: 1.5rem; border-bottom: 2px solid #e4e7eb; padding-bottom: .3rem; }
.anchor-link { display: none; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: none; border-bottom: 1px solid #e4e7eb; padding: .3rem .7rem; text-align: right; }
th { background: #f0f4f8; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
pre { background: #f5f7fa; padding: .6rem; overflow-x: auto; font-size: .85rem; }
footer { color: #616e7c; font-size: .8rem; text-align: center; padding: 1rem; }
"""


def build_report(
    notebooks: Sequence[str | Path],
    path: str | Path,
    *,
    title: str = "Talent analytics report",
    client: str = "",
    run_id: str = "",
    note: str = "",
) -> Path:
    """Merge executed notebooks into one self-contained HTML report without code.

    Parameters
    ----------
    notebooks : list of paths
        Executed notebooks, in report order.
    path : path
        The HTML file to write (must not exist).
    title, client, run_id, note : str
        Shown in the header and footer.

    Returns
    -------
    Path
        The report written. Figures are embedded as PNG data URIs, so the file stands alone.
    """
    import nbformat

    from workbench import __version__

    sections, contents = [], []
    for i, nb_path in enumerate(notebooks, start=1):
        nb = nbformat.read(str(nb_path), as_version=4)
        anchor = f"part-{i}"
        contents.append(
            f'<li><a href="#{anchor}">{html.escape(_title_of(nb, Path(nb_path).stem))}</a></li>'
        )
        sections.append(
            f'<section class="analysis" id="{anchor}">{notebook_fragment(nb)}</section>'
        )
    today = datetime.now(UTC).strftime("%d %B %Y")
    subtitle = " · ".join(x for x in (html.escape(client), today) if x)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}{" - " + html.escape(client) if client else ""}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<p>{subtitle}</p>
{f"<p>{html.escape(note)}</p>" if note else ""}
</header>
<main>
<nav><strong>Contents</strong><ul>{"".join(contents)}</ul></nav>
{"".join(sections)}
</main>
<footer>Prepared with workbench {html.escape(__version__)}{", run " + html.escape(run_id)
        if run_id else ""}. Inputs, parameters and versions are listed in manifest.json.</footer>
</body>
</html>
"""
    path = _new_file(Path(path))
    path.write_text(page, encoding="utf-8")
    return path


def embedded_images(report: str | Path) -> list[bytes]:
    """The images embedded in a report, decoded (used to check that every figure is there)."""
    text = Path(report).read_text(encoding="utf-8")
    found = re.findall(r'<img[^>]*src="data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=\s]+)"', text)
    return [base64.b64decode(data) for data in found]
