"""Client views of analysis results: the tables and sentences a notebook shows under a heading.

The analysis modules return complete tables for the analyst (every source, every diagnostic);
a client needs the rows that mean something and a sentence on what was left out and why.
Each function here takes a result and returns a DataFrame (for
:func:`workbench.reporting.display.show`) or a list of sentences (for
:func:`workbench.reporting.display.bullets`); none computes a statistic of its own.

Examples
--------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> table = pd.DataFrame({"source": ["self", "peer", "others"], "n_ratees": [0, 50, 60],
...                       "icc1": [None, 0.4, 0.45], "g_coefficient": [None, 0.8, 0.85]})
>>> reliability_view(SimpleNamespace(table=table))["source"].tolist()
['peer', 'others']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.calibration.bounds import bound_note
from workbench.presentation.labels import source_label
from workbench.tables.scores import as_scores

__all__ = ["RELIABILITY_COLUMNS", "reliability_view", "reliability_notes", "ceiling_note",
           "design_notes",
           "INSTRUMENT_COLUMNS", "instrument_view", "instrument_items_view",
           "instrument_d_study_view", "instrument_notes"]

#: The reliability columns a client reads, in order (others stay in the CSV for the analyst).
RELIABILITY_COLUMNS = ("source", "n_ratees", "raters_per_ratee", "icc1", "icc2", "rwg",
                       "g_coefficient", "n_for_0.7", "n_for_0.8")
_OTHERS = "others"


def _table(reliability) -> pd.DataFrame:
    return getattr(reliability, "table", reliability)


def _has_icc(table: pd.DataFrame) -> pd.Series:
    """Rows with an ICC: at least one person with two or more raters of the source."""
    n = pd.to_numeric(table.get("n_ratees", pd.Series(np.nan, index=table.index)),
                      errors="coerce")
    return n.fillna(0) > 0


def reliability_view(reliability) -> pd.DataFrame:
    """The reliability table a client reads: sources with an ICC, the useful columns.

    Parameters
    ----------
    reliability : ReliabilityReport or DataFrame
        :func:`workbench.calibration.reliability.generalizability.reliability_report` (or its ``table``).

    Returns
    -------
    DataFrame
        The rows whose source has at least one person with two or more raters of it (the ICC
        needs them; :func:`reliability_notes` says which sources were left out), the pooled
        ``others`` row last, and the columns of :data:`RELIABILITY_COLUMNS` that exist.
    """
    table = _table(reliability)
    kept = table[_has_icc(table)]
    order = (kept["source"] == _OTHERS).astype(int)
    kept = kept.assign(_last=order.to_numpy()).sort_values("_last", kind="stable")
    columns = [c for c in RELIABILITY_COLUMNS if c in kept.columns]
    return kept[columns].reset_index(drop=True)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def reliability_notes(reliability) -> list[str]:
    """Sentences that go with :func:`reliability_view`: what was left out, what ``others`` is.

    Returns
    -------
    list of str
        Empty when nothing needs explaining.
    """
    table = _table(reliability)
    notes = []
    left = table[~_has_icc(table)]
    if len(left):
        names = [source_label(s) for s in left["source"]]
        notes.append(
            f"{_join(names)} {'is' if len(names) == 1 else 'are'} not in the table: the ICC "
            "compares two or more raters of the same source rating the same person, and each "
            f"person has at most one rating from {'this source' if len(names) == 1 else 'these'}."
        )
        if "g_coefficient" in left.columns:
            for _, row in left.iterrows():
                if np.isfinite(pd.to_numeric(row["g_coefficient"], errors="coerce")):
                    notes.append(
                        f"{source_label(row['source'])} alone would give a calibrated score "
                        f"with a reliability of {float(row['g_coefficient']):.2f} (from the "
                        "model's variance components)."
                    )
    if (table["source"] == _OTHERS).any():
        pooled = [source_label(s) for s in table["source"] if s not in ("self", _OTHERS)]
        who = f" ({_join(pooled).lower()})" if pooled else ""
        notes.append(
            f"{source_label(_OTHERS)} pools everyone who rated the person except the person "
            f"themselves{who}: its reliability is that of the calibrated score, which uses all "
            "of them."
        )
    return notes


def ceiling_note(scores, scale=None, *, wave="latest") -> str:
    """A sentence on the top of the scale: what a raw average at the maximum is calibrated to.

    Parameters
    ----------
    scores : Calibration, scores DataFrame or file
        With ``raw_mean`` (read with :func:`workbench.tables.scores.as_scores`).
    scale : Scale or (min, max), optional
        The rating scale (default: the highest raw mean observed is taken as the top).
    wave : "latest", a wave value or None
        As in :func:`workbench.reporting.figures.plot_raw_vs_calibrated`.

    Returns
    -------
    str
    """
    full = as_scores(scores, wave=wave)
    frame = full[np.isfinite(full["raw_mean"]) & np.isfinite(full["score"])]
    if scale is None:
        top = float(frame["raw_mean"].max())
    else:
        top = float(scale.max if hasattr(scale, "max") else scale[1])
    at_top = frame[frame["raw_mean"] >= top - 1e-9]
    reason = (
        "A raw average at the top of the scale cannot show how far above it a person would "
        "go, and calibration draws scores that rest on few raters towards the average "
        "(shrinkage), so calibrated scores rarely reach the top: read a calibrated score "
        f"near the highest one here ({frame['score'].max():.1f}) as excellent."
    )
    low = float(frame["raw_mean"].min()) if scale is None else float(
        scale.min if hasattr(scale, "min") else scale[0])
    near = bound_note(full, (low, top))
    near = f" {near}" if near else ""
    if at_top.empty:
        return f"No raw average reaches the top of the scale ({top:g}). {reason}{near}"
    return (
        f"{len(at_top)} person-skill raw averages are at the top of the scale ({top:g}); their "
        f"calibrated scores range from {at_top['score'].min():.1f} to "
        f"{at_top['score'].max():.1f}. {reason}{near}"
    )


def design_notes(calibration) -> list:
    """What the survey design could not separate, in words: [] when it separates everything.

    The calibration's ``settings["design_note"]`` (anonymous raters, or raters nested in
    ratees: what is identified and what is not estimable) as one sentence to show the client.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> design_notes(SimpleNamespace(settings={"design": "crossed"}))
    []
    >>> design_notes(SimpleNamespace(settings={"design_note": "no rater ids"}))
    ['Survey design: no rater ids.']
    """
    note = getattr(calibration, "settings", {}).get("design_note")
    return [f"Survey design: {note}."] if note else []


#: The instrument columns a client reads (the rest stay in ``instrument/`` for the analyst).
INSTRUMENT_COLUMNS = ("skill", "source", "n_items", "n", "alpha", "ci_low", "ci_high", "omega",
                      "omega_ci_low", "omega_ci_high")
_ITEM_COLUMNS = ("skill", "item", "n", "mean", "sd", "floor_rate", "ceiling_rate",
                 "not_observed_rate", "item_rest_r", "alpha_if_dropped")
_D_STUDY_COLUMNS = ("skill", "source", "n_items", "raters_per_ratee", "g_relative",
                    "raters_for_0.8", "items_for_0.8")


def _pooled(frame: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of all non-self raters pooled when there are any, else every row."""
    if frame is None or frame.empty or "source" not in frame.columns:
        return pd.DataFrame() if frame is None else frame
    pooled = frame[frame["source"] == _OTHERS]
    return pooled if len(pooled) else frame


def instrument_view(instrument) -> pd.DataFrame:
    """Alpha and omega per competency, for all non-self raters pooled (when there are several
    relationships; else each relationship).

    Parameters
    ----------
    instrument : InstrumentReliability or None
        :func:`workbench.calibration.reliability.instrument.estimate_instrument_reliability`;
        None (ratings without items) gives an empty table.

    Examples
    --------
    >>> instrument_view(None).empty
    True
    """
    table = _pooled(getattr(instrument, "scales", None))
    return table[[c for c in INSTRUMENT_COLUMNS if c in table.columns]].reset_index(drop=True)


def instrument_items_view(instrument) -> pd.DataFrame:
    """Each item's statistics for all non-self raters pooled (empty without items)."""
    table = _pooled(getattr(instrument, "items", None))
    return table[[c for c in _ITEM_COLUMNS if c in table.columns]].reset_index(drop=True)


def instrument_d_study_view(instrument) -> pd.DataFrame:
    """Reliability at the instrument's items and today's raters, and the raters or items a
    reliability of 0.8 needs (empty without items or without a G-study)."""
    study = getattr(instrument, "g_study", None)
    table = _pooled(getattr(study, "observed", None))
    return table[[c for c in _D_STUDY_COLUMNS if c in table.columns]].reset_index(drop=True)


def instrument_notes(instrument) -> list[str]:
    """The instrument's flags in plain words, or a sentence saying there is nothing to flag or
    nothing to analyse (ratings without items).

    Examples
    --------
    >>> instrument_notes(None)[0][:40]
    'The ratings hold one score per skill (no'
    """
    if instrument is None:
        return ["The ratings hold one score per skill (no items), so the instrument's own "
                "psychometrics (alpha, omega, item statistics) are not computed."]
    flags = instrument.flags
    if flags.empty:
        return ["No competency's items fall below an alpha of 0.70, no item runs against the "
                "others, and no item was 'not observed' by half of its raters."]
    return list(flags["message"])
