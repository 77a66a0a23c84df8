"""One results base: every result lists its sections and files once, and gets the rest.

A results class (a frozen dataclass, in the manner of statsmodels' results) subclasses
:class:`Result` and defines

* ``title`` (class attribute): the heading of its summary;
* ``_sections()``: a list of ``(heading, content)`` pairs, content a string, a Series or a
  DataFrame, in the order a reader wants them;
* ``_files()``: ``{file name: DataFrame}``, the tables ``save(folder)`` writes;
* ``settings``: a dict of the options the result was computed with (the one name for them).

From these the base renders ``summary()`` (text), ``__str__``, ``_repr_html_`` (a notebook's
rich display) and ``save(folder)``, which writes the same files under the same names whether
the CLI or a notebook calls it, plus ``settings.json``. Numbers are never rounded in the
package; the renderers round for display only.

Examples
--------
>>> from dataclasses import dataclass, field
>>> import pandas as pd
>>> @dataclass(frozen=True)
... class Means(Result):
...     title = "Means"
...     table: pd.DataFrame
...     settings: dict = field(default_factory=dict)
...     def _sections(self):
...         return [("By group", self.table)]
...     def _files(self):
...         return {"means.csv": self.table}
>>> res = Means(pd.DataFrame({"group": ["a"], "estimate": [1.23456]}), {"alpha": 0.05})
>>> print(res.summary())
Means
<BLANKLINE>
By group
group  estimate
    a     1.235
<BLANKLINE>
Settings: alpha=0.05
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.escaping import escape_frame, escape_html

__all__ = ["Result", "json_text", "settings_text", "write_settings"]

DIGITS = 3


def _rounded(frame):
    return frame.round(DIGITS) if isinstance(frame, pd.DataFrame | pd.Series) else frame


def _text(content) -> str:
    if isinstance(content, pd.DataFrame):
        if content.empty:
            return "(none)"
        return _rounded(content).to_string(index=False)
    if isinstance(content, pd.Series):
        return _rounded(content).to_string()
    return str(content)


def _html(content) -> str:
    if isinstance(content, pd.DataFrame):
        if content.empty:
            return "<p>(none)</p>"
        return escape_frame(_rounded(content)).to_html(index=False, border=0, escape=False)
    if isinstance(content, pd.Series):
        return escape_frame(_rounded(content).to_frame()).to_html(border=0, escape=False)
    if isinstance(content, list | tuple):
        return "<ul>" + "".join(f"<li>{escape_html(str(c))}</li>" for c in content) + "</ul>"
    return "<p>" + escape_html(str(content)).replace("\n", "<br>") + "</p>"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _non_finite(value, where=""):
    """``["scale[0]=nan", ...]``: the paths of the NaNs and infinities inside ``value``."""
    if isinstance(value, dict):
        return [bad for k, v in value.items()
                for bad in _non_finite(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list | tuple):
        return [bad for i, v in enumerate(value) for bad in _non_finite(v, f"{where}[{i}]")]
    if isinstance(value, float) and not np.isfinite(value):
        return [f"{where or 'value'}={value!r}"]
    return []


def json_text(value, *, what: str = "settings.json", **options) -> str:
    """``value`` as strict JSON (``allow_nan=False``), or ConfigError naming every non-finite
    number in it.

    Python's json writes NaN and Infinity by default, which no JSON reader accepts; settings
    and manifests go through this one function so that a NaN is never written silently.
    ``options`` go to :func:`json.dumps` (``indent``, ``sort_keys``, ``default``).

    Examples
    --------
    >>> json_text({"alpha": 0.05, "scale": [1, 5]}, sort_keys=True)
    '{"alpha": 0.05, "scale": [1, 5]}'
    >>> json_text({"scale": [float("nan"), 5.0]})
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: settings.json: scale[0]=nan: not a finite number (JSON has no NaN or infinity); nothing was written
    """
    plain = _jsonable(value)
    bad = _non_finite(plain)
    if bad:
        raise ConfigError(f"{what}: {', '.join(bad)}: not a finite number (JSON has no NaN or "
                          "infinity); nothing was written")
    return json.dumps(plain, allow_nan=False, **options)


def settings_text(settings) -> str:
    """The text of a ``settings.json``: strict JSON, keys sorted, indented (:func:`json_text`)."""
    return json_text(dict(settings), indent=2, sort_keys=True)


def write_settings(settings, path) -> Path:
    """Write ``settings`` to the new file ``path`` as :meth:`Result.save` writes
    ``settings.json`` (one format wherever settings are written: the CLI, a notebook).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = write_settings({"waves": "joint", "n_jobs": 2},
    ...                       pathlib.Path(tempfile.mkdtemp()) / "settings.json")
    >>> print(path.read_text())
    {
      "n_jobs": 2,
      "waves": "joint"
    }
    """
    text = settings_text(settings)  # checked before the file is made
    path = Path(path)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
    return path


class Result:
    """Base of every results object: summary, rich display and ``save`` from one list.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> import pandas as pd
    >>> @dataclass(frozen=True)
    ... class Counts(Result):
    ...     table: pd.DataFrame
    ...     def _files(self):
    ...         return {"counts.csv": self.table}
    >>> import tempfile
    >>> folder = Counts(pd.DataFrame({"n": [3]})).save(tempfile.mkdtemp() + "/out")
    >>> sorted(p.name for p in folder.iterdir())
    ['counts.csv']
    """

    title: str = "Result"

    def _sections(self) -> list:
        """``[(heading, content), ...]``; content is a string, Series, DataFrame or list."""
        return []

    def _files(self) -> dict:
        """``{file name: DataFrame}`` written by :meth:`save`."""
        return {}

    def _settings_text(self) -> str:
        settings = getattr(self, "settings", None) or {}
        return ", ".join(f"{k}={v}" for k, v in settings.items())

    def summary(self) -> str:
        """The result as plain text: the title, each section, the settings used."""
        parts = [self.title]
        for heading, content in self._sections():
            if isinstance(content, list | tuple):
                content = "\n".join(f"- {c}" for c in content)
            parts += ["", heading, _text(content)] if heading else ["", _text(content)]
        settings = self._settings_text()
        if settings:
            parts += ["", f"Settings: {settings}"]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        out = [f"<h4>{escape_html(self.title)}</h4>"]
        for heading, content in self._sections():
            if heading:
                out.append(f"<p><b>{escape_html(heading)}</b></p>")
            out.append(_html(content))
        settings = self._settings_text()
        if settings:
            out.append(f"<p><small>Settings: {escape_html(settings)}</small></p>")
        return "\n".join(out)

    def save(self, folder: str | Path) -> Path:
        """Write the result's tables (CSV) and ``settings.json`` into ``folder``.

        ``folder`` must be new or empty: earlier results are never overwritten.

        Returns
        -------
        Path
            The folder.
        """
        from workbench.writers import new_output_dir, write_csv

        settings = getattr(self, "settings", None)
        # checked before the folder is made: a refused value leaves nothing behind
        text = None if settings is None else settings_text(settings)
        folder = new_output_dir(folder)
        for name, frame in self._files().items():
            if not isinstance(frame, pd.DataFrame):
                raise ConfigError(f"{name}: not a table")
            # "analyst/..." names: rater-level tables kept apart from what a client may see
            (folder / name).parent.mkdir(exist_ok=True)
            write_csv(frame, folder / name)
        if text is not None:
            with (folder / "settings.json").open("x", encoding="utf-8") as handle:
                handle.write(text)
        return folder
