"""The client's HTML report: executed notebooks merged into one styled page without code.

:func:`build_report` turns the executed notebooks of a run into ``report.html``: cells tagged
``analyst-only`` (and the ``parameters`` cells) stay in the executed notebooks for the analyst
and are left out, code is hidden, figures are embedded, so the file stands alone.
:func:`styled_page` wraps any HTML body in the same style (with a print layout), for pages
such as a person's plan.

Examples
--------
>>> page = styled_page("<p>Hello</p>", title="Plan of P001")
>>> "<title>Plan of P001</title>" in page and "@media print" in page
True
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from workbench.escaping import escape_html
from workbench.presentation.style import BASE_CSS
from workbench.reporting.display import new_file

__all__ = [
    "REPORT_EXCLUDED_TAGS",
    "REPORT_CSS",
    "client_notebook",
    "notebook_title",
    "notebook_fragment",
    "styled_page",
    "build_report",
    "embedded_images",
]

#: Cells with these tags are kept for the analyst but never reach the client report.
REPORT_EXCLUDED_TAGS = frozenset({"parameters", "injected-parameters", "analyst-only"})


_KEEP_MIME = ("text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown")


def client_notebook(nb):
    """A copy of an executed notebook fit for the client.

    Drops cells tagged as in :data:`REPORT_EXCLUDED_TAGS`, error and stderr outputs, widget
    views and the widgets' saved state, and plain-text results that have a richer form (or none at all: a bare repr such
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
    # the widgets' saved state (a person picker's options: every person's id) would be embedded
    # in the page although no widget view is left to show it
    nb.metadata.pop("widgets", None)
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


def notebook_title(nb, fallback: str) -> str:
    """The notebook's title: its first ``# heading`` (``fallback`` when it has none)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if match:
                return match.group(1).strip()
    return fallback


REPORT_CSS = BASE_CSS + """
header { padding: 2rem 3rem 1.5rem; }
header h1 { font-size: 1.9rem; }
header p { margin: .2rem 0; opacity: .9; }
main { max-width: 1100px; padding: 1rem 2rem 3rem; }
nav { background: white; border-radius: 6px; padding: 1rem 1.5rem; margin: 1.5rem 0;
      box-shadow: 0 1px 3px rgba(0,0,0,.08); }
nav ul { margin: .3rem 0 0 0; padding: 0; list-style: none; }
section.analysis { background: white; border-radius: 6px; padding: 1rem 2rem 1.5rem;
      margin: 1.5rem 0; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section.analysis h1 { font-size: 1.5rem; border-bottom: 2px solid #e4e7eb; padding-bottom: .3rem; }
.anchor-link { display: none; }
table { margin: .8rem 0; }
/* a wide table scrolls inside its section on screen instead of widening the page */
@media screen { section.analysis table { display: block; max-width: 100%; overflow-x: auto; } }
th, td { text-align: right; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
pre { background: #f5f7fa; padding: .6rem; overflow-x: auto; font-size: .85rem; }
@page { margin: 15mm; }
@media print {
  header { padding: 0 0 .5rem; border-bottom: 2px solid #1f3a5f; }
  nav { display: none; }
  section.analysis { box-shadow: none; border-radius: 0; padding: 0; margin: 1rem 0; }
  section.analysis + section.analysis { break-before: page; }
  img, figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def styled_page(
    body: str, *, title: str, subtitle: str = "", note: str = "", footer: str = ""
) -> str:
    """A complete HTML page in the report's style (screen and print) around ``body``.

    Parameters
    ----------
    body : str
        HTML placed in the page's ``<main>`` (trusted: made by the package).
    title, subtitle, note, footer : str
        Plain text, escaped here; empty ones are left out.

    Returns
    -------
    str
    """
    def para(text):
        return f"<p>{escape_html(text)}</p>" if text else ""

    foot = f"<footer>{escape_html(footer)}</footer>" if footer else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape_html(title)}</title>
<style>{REPORT_CSS}</style>
</head>
<body>
<header>
<h1>{escape_html(title)}</h1>
{para(subtitle)}
{para(note)}
</header>
<main>
{body}
</main>
{foot}
</body>
</html>
"""


def build_report(
    notebooks: Sequence[str | Path],
    path: str | Path,
    *,
    title: str = "Talent analytics report",
    client: str = "",
    run_id: str = "",
    note: str = "",
    skipped: Sequence[tuple[str, str, str]] = (),
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
    skipped : list of (title, reason, consequence)
        Analyses the engagement left out: a closing section says which, why and what that
        changes for the rest of the report.

    Returns
    -------
    Path
        The report written. Figures are embedded as PNG data URIs, so the file stands alone.

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Scores")])
    >>> nbformat.write(nb, str(folder / "01.ipynb"))
    >>> html = build_report([folder / "01.ipynb"], folder / "report.html", client="Acme & Co")
    >>> text = html.read_text()
    >>> "Acme &amp; Co" in text, "Acme & Co" in text, "Scores" in text
    (True, False, True)
    """
    import nbformat

    from workbench._version import __version__

    sections, contents = [], []
    for i, nb_path in enumerate(notebooks, start=1):
        nb = nbformat.read(str(nb_path), as_version=4)
        anchor = f"part-{i}"
        contents.append(
            f'<li><a href="#{anchor}">{escape_html(notebook_title(nb, Path(nb_path).stem))}</a></li>'
        )
        sections.append(
            f'<section class="analysis" id="{anchor}">{notebook_fragment(nb)}</section>'
        )
    if skipped:
        anchor = f"part-{len(sections) + 1}"
        contents.append(f'<li><a href="#{anchor}">Analyses not in this report</a></li>')
        items = "".join(
            f"<li><strong>{escape_html(name)}</strong>: left out because "
            f"{escape_html(reason.rstrip('.'))}. {escape_html(consequence)}</li>"
            for name, reason, consequence in skipped)
        sections.append(f'<section class="analysis" id="{anchor}"><h1>Analyses not in this '
                        f'report</h1><ul>{items}</ul></section>')
    today = datetime.now(UTC).strftime("%d %B %Y")
    run = f", run {run_id}" if run_id else ""
    page = styled_page(
        f'<nav><strong>Contents</strong><ul>{"".join(contents)}</ul></nav>{"".join(sections)}',
        title=title,
        subtitle=" · ".join(x for x in (client, today) if x),
        note=note,
        footer=f"Prepared with workbench {__version__}{run}. The inputs, settings and software "
        "versions of this run are recorded with the analyst.",
    )
    path = new_file(path)
    path.write_text(page, encoding="utf-8")
    return path


def embedded_images(report: str | Path) -> list[bytes]:
    """The images embedded in a report, decoded (used to check that every figure is there)."""
    text = Path(report).read_text(encoding="utf-8")
    found = re.findall(r'<img[^>]*src="data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=\s]+)"', text)
    return [base64.b64decode(data) for data in found]
