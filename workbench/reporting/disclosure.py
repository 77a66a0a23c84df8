"""Checks that client files of a run name no rater: the report, person pages, plans, tables.

In a 360 survey the raters are colleagues, so a rater id is usually also a person id. A file
for the client may name a person where it is *about* that person (a plan's owner, a mentor,
a manager), never as someone who rated somebody. :func:`rater_id_leaks` reads a run's client
files as a reader would get them and lists every place a rater id appears outside those roles:

* ``report.html``: no rater id at all, in the visible text or in the markup;
* a person's page (HTML or Markdown in a ``people`` folder): only the page's person and the
  people the plans name as their mentors (and, with ``people``, their manager);
* tables (CSV, XLSX) and ``plans.json``: ids only in columns or keys that name a person in
  such a role (:data:`PERSON_KEYS`); no column or key called ``rater``.

Rater-level results are written into an ``analyst/`` folder beside the client's files; that
folder, and files named in :data:`ANALYST_FILES` wherever they are, are the analyst's and are
skipped here: they must never be handed to a client.

Examples
--------
>>> import tempfile, pathlib, pandas as pd
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "report.html").write_text("<p>Peers rate P07 highly</p>")
>>> rater_id_leaks(folder, ["P07", "P08"])[["file", "value"]].to_dict("records")
[{'file': 'report.html', 'value': 'P07'}]
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

__all__ = ["PERSON_KEYS", "ANALYST_FILES", "CLIENT_SUFFIXES", "visible_text", "find_ids",
           "rater_id_leaks", "client_folder_problems"]

#: Columns and JSON keys that name a person in a role other than rater.
PERSON_KEYS = frozenset({"person", "ratee", "mentor", "mentee", "manager", "expert", "page"})
#: Output files for the analyst only (rater-level results: the linear model's rater effects,
#: the Rasch model's measures of every element, raters included, and its rater bias terms);
#: never for the client.
ANALYST_FILES = frozenset({"rater_effects.csv", "rasch_measures.csv",
                           "rasch_bias_rater_ratee.csv", "rasch_bias_rater_skill.csv"})
_TOKEN = re.compile(r"[\w-]+")
_COLUMNS = ["file", "location", "value"]


def visible_text(page: str) -> str:
    """The text a browser shows for an HTML page (no tags, styles, scripts or image data)."""
    page = re.sub(r"<(style|script)\b[^>]*>.*?</\1\s*>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def _markup(page: str) -> str:
    """An HTML page without embedded image data (base64 can spell anything)."""
    return re.sub(r"data:image/[^\"')]+", "", page)


def find_ids(text: str, ids: Iterable[str]) -> list[str]:
    """The ids that occur in ``text`` as whole words (``P1`` is not found in ``P10``).

    Examples
    --------
    >>> find_ids("P1 and P10-b but not xP2", ["P1", "P10", "P2"])
    ['P1']
    """
    return _IdFinder(ids)(text)


class _IdFinder:
    """:func:`find_ids` for one set of ids, prepared once for many texts: ids that are one
    token are looked up among the text's tokens; only the others (with spaces, dots...) are
    searched for one by one (a client folder has thousands of person pages and raters)."""

    def __init__(self, ids: Iterable[str]):
        ids = {str(i) for i in ids}
        self.tokens = frozenset(i for i in ids if _TOKEN.fullmatch(i))
        self.others = [(i, re.compile(rf"(?<![\w-]){re.escape(i)}(?![\w-])"))
                       for i in sorted(ids - self.tokens)]

    def __call__(self, text: str) -> list[str]:
        found = self.tokens & set(_TOKEN.findall(text))
        found |= {i for i, pattern in self.others if pattern.search(text)}
        return sorted(found)


def _table_leaks(frame: pd.DataFrame, raters: set, name: str, where: str = "") -> list:
    leaks = []
    for column in frame.columns:
        label = str(column)
        if "rater" in label.lower().split("_"):
            leaks.append((name, f"{where}column {label!r}", label))
            continue
        if label.lower() in PERSON_KEYS:
            continue
        values = set(frame[column].dropna().astype(str))
        # a file for people quotes formula-like text ('=X): the id is still there
        values |= {v[1:] for v in values if v.startswith("'")}
        for value in sorted(values & raters):
            leaks.append((name, f"{where}column {label!r}", value))
    return leaks


def _json_leaks(node, raters: set, name: str, path: str = "") -> list:
    leaks = []
    if isinstance(node, dict):
        for key, value in node.items():
            key = str(key)
            if "rater" in key.lower().split("_"):
                leaks.append((name, f"{path}/{key}", key))
            elif key.lower() not in PERSON_KEYS:
                leaks += _json_leaks(value, raters, name, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            leaks += _json_leaks(value, raters, name, f"{path}[{i}]")
    elif isinstance(node, str) and node in raters:
        leaks.append((name, path or "/", node))
    return leaks


def _roles_from_plans(folder) -> dict:
    """``{person: {person, their mentors}}`` from every ``plans.json`` under ``folder`` (or
    from the listed files)."""
    allowed = {}
    files = folder.rglob("plans.json") if isinstance(folder, Path) else folder
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for entry in data.get("people", []) if isinstance(data, dict) else []:
            person = str(entry.get("person"))
            mentors = {str(f.get("mentor")) for f in entry.get("focus", []) if f.get("mentor")}
            allowed.setdefault(person, {person}).update(mentors)
    return allowed


def _page_owner(text: str, people: _IdFinder) -> str | None:
    """The person a page is about: the id in its title (its first line for Markdown)."""
    match = re.search(r"<title>(.*?)</title>", text, flags=re.S | re.I)
    head = match.group(1) if match else text.strip().splitlines()[0] if text.strip() else ""
    found = people(html.unescape(head))
    return found[0] if len(found) == 1 else None


def rater_id_leaks(folder, raters, *, people: pd.DataFrame | None = None,
                   skip_analyst: bool = True, plans=None) -> pd.DataFrame:
    """Every place a client file of ``folder`` names a rater other than in a person's role.

    Parameters
    ----------
    folder : path
        A run folder (``report.html`` and the notebooks' outputs below it).
    raters : iterable
        The rater ids of the ratings (compared as text).
    people : DataFrame, optional
        The people table; its ``manager`` column lets a person's page name their manager.
    skip_analyst : bool
        Skip ``analyst/`` and ``notebooks/`` folders and :data:`ANALYST_FILES` (False: a
        client folder, where every file counts).
    plans : path or list of paths, optional
        The ``plans.json`` naming each person's mentors (default: every one under ``folder``;
        a client folder holds none, so the run passes the analyst's).

    Returns
    -------
    DataFrame
        file (relative to ``folder``), location, value: one row per leak; empty when none.
    """
    from workbench.plans.pages import unescape_markdown  # plans imports reporting's style

    folder = Path(folder)
    raters = {str(r) for r in raters}
    managers = {}
    if people is not None and "manager" in people.columns:
        managers = {str(p): str(m) for p, m in zip(people["person"], people["manager"],
                                                   strict=True) if pd.notna(m)}
    if plans is not None:
        plans = [Path(plans)] if isinstance(plans, (str, Path)) else [Path(p) for p in plans]
    allowed = _roles_from_plans(folder if plans is None else plans)
    find_raters, find_people = _IdFinder(raters), _IdFinder(raters | set(allowed))
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        parts = path.relative_to(folder).parts
        if skip_analyst and (path.name in ANALYST_FILES or "notebooks" in parts
                             or "analyst" in parts):
            continue
        suffix = path.suffix.lower()
        if suffix in (".html", ".md") and "people" in path.parent.parts:
            text = path.read_text(encoding="utf-8")
            if suffix == ".md":
                text = unescape_markdown(text)
            owner = _page_owner(text, find_people)
            ok = allowed.get(owner, {owner}) | ({managers[owner]} if owner in managers else set())
            shown = visible_text(text) if suffix == ".html" else text
            leaks += [(name, "page", v) for v in find_raters(shown) if v not in ok]
        elif suffix == ".html":
            text = path.read_text(encoding="utf-8")
            found = set(find_raters(visible_text(text))) | set(find_raters(_markup(text)))
            leaks += [(name, "page", v) for v in sorted(found)]
        elif suffix == ".csv":
            leaks += _table_leaks(pd.read_csv(path, dtype=str), raters, name)
        elif suffix == ".xlsx":
            for sheet, frame in pd.read_excel(path, sheet_name=None, dtype=str, engine="calamine").items():
                leaks += _table_leaks(frame, raters, name, f"sheet {sheet!r}, ")
        elif suffix == ".json" and path.name != "manifest.json":
            leaks += _json_leaks(json.loads(path.read_text(encoding="utf-8")), raters, name)
    return pd.DataFrame(leaks, columns=_COLUMNS)


#: The kinds of file a client folder may hold: pages, the plans workbook and figures.
CLIENT_SUFFIXES = frozenset({".html", ".xlsx", ".png", ".svg", ".pdf"})
_ABSOLUTE = re.compile(r"(?<![\w.:/])(/(?:home|root|tmp|work|srv|opt|Users|var|mnt|data)/[\w.-]+"
                       r"|[A-Za-z]:\\[\w.-]+)")


def client_folder_problems(folder, raters, *, people: pd.DataFrame | None = None,
                           plans=None) -> pd.DataFrame:
    """Everything in a run's ``client/`` folder that must not reach a client.

    Every file counts (nothing is skipped): a rater id outside a person's role
    (:func:`rater_id_leaks`), a file of a kind the client folder never holds (notebooks,
    parquet, JSON such as a manifest, CSV tables; see :data:`CLIENT_SUFFIXES`) and an absolute
    path in the visible text of a page. ``people`` and ``plans`` (the analyst's
    ``plans.json``) say whom a person's page may name: their manager and mentors.

    Returns
    -------
    DataFrame
        file (relative to ``folder``), location, value: one row per problem; empty when none.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "report.html").write_text("<p>Saved in /home/ana/run</p>")
    >>> _ = (folder / "manifest.json").write_text("{}")
    >>> found = client_folder_problems(folder, ["P07"])
    >>> list(zip(found["file"], found["location"]))
    [('manifest.json', 'file kind'), ('report.html', 'absolute path')]
    """
    folder = Path(folder)
    leaks = rater_id_leaks(folder, raters, people=people, skip_analyst=False, plans=plans)
    rows = [tuple(r) for r in leaks.itertuples(index=False)]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix.lower() == ".html":
            text = visible_text(path.read_text(encoding="utf-8"))
            rows += [(name, "absolute path", hit) for hit in sorted(set(_ABSOLUTE.findall(text)))]
        if path.suffix.lower() not in CLIENT_SUFFIXES:
            rows.append((name, "file kind", path.suffix or path.name))
    return pd.DataFrame(rows, columns=_COLUMNS)
