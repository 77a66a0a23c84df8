"""A long ratings file with an ``item`` column, read through its instrument as its export
would be (:func:`read_long_items`): answers as given, reverse-keyed items reverse-scored,
not-observed answers counted. The internal interface of :mod:`workbench.tables.survey.reading`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from workbench.errors import Problem
from workbench.tables.mapping import normalise_header
from workbench.tables.survey.export_columns import (
    reverse_problems,
)
from workbench.tables.survey.report import summarise_reading
from workbench.tables.survey.settings import (
    find_instrument,
    response_scale,
)
from workbench.tables.survey.wide_to_long import melt_responses
from workbench.tables.validate import MAX_ROWS_PER_PROBLEM, check_frame

__all__: list[str] = []


def read_long_items(frame, path, mapping, settings, scale, scale_declared, waves, folder):
    """A long file with an ``item`` column read through the instrument, as its export would be.

    Its scores are the answers as given (numbers, or the response scale's labels): reverse-keyed
    items are reverse-scored here, and a "not observed" answer (its label, a blank score, or no
    row at all for an item of the instrument) is counted, not scored. Each response (ratee,
    rater, source, wave) is one row of the wide export; the rest is :func:`melt_responses`'s, so the
    two read the same. None when there is no item column or no instrument (read as scored).
    """
    rename = mapping.rename_for("ratings")
    named = {rename.get(c, normalise_header(c)): c for c in frame.columns}
    if not {"item", "score"} <= set(named):
        return None
    instrument = find_instrument(settings, path, folder)
    if instrument is None:
        return None
    file, score_col, item_col = str(path), named["score"], named["item"]
    rscale = response_scale(settings, scale, scale_declared)
    if not rscale.declared:  # its scores are checked on the scale in use: that is the range
        rscale = replace(rscale, low=float(scale.min), high=float(scale.max))
    text = frame[score_col].fillna("").astype(str)
    value, missing, unknown = rscale.score(text)
    problems = _unknown_label_problems(frame, text, unknown, file, score_col)
    # typed and checked (ids, duplicates, waves, the scale) through the one typing path; a
    # label by its value, a not-observed or unknown answer by a placeholder on the scale
    given = np.where(missing | unknown, float(scale.min), value)
    typed, found_problems, rows = check_frame(frame.assign(**{score_col: given.astype(str)}),
                                              "ratings", mapping, scale, file=file,
                                              waves=waves)
    problems += found_problems
    items = instrument.items.set_index("item")
    problems += _long_item_problems(typed, rows, items, instrument, file, named,
                                    settings.strict)
    present = set(typed["item"].dropna())
    found = {item: str(item_col) for item in instrument.items["item"] if item in present}
    problems += reverse_problems(instrument, found, rscale)
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    keys = [c for c in ("ratee", "rater", "source", "wave") if c in typed]
    response = typed.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(response, return_index=True)[1]
    responses = typed.iloc[first].drop(columns=["skill", "score", "item"]).reset_index(
        drop=True)
    column = {item: k for k, item in enumerate(found)}
    at = typed["item"].map(column).to_numpy()
    by_row = pd.Series(text.to_numpy(), index=frame.index)
    cells = np.full((len(responses), len(found)), "", dtype=object)
    cells[response, at] = by_row.loc[rows].to_numpy(object)
    where = np.zeros(cells.shape, dtype=np.int64)
    where[response, at] = rows
    answers = {item: cells[:, k] for item, k in column.items()}
    ratings, _, counts, label_table, _ = melt_responses(responses, np.asarray(rows)[first], answers,
                                               instrument, found, rscale, scale, file)
    answered = ~pd.Series(missing, index=frame.index).loc[rows].to_numpy()
    seen = np.zeros(cells.shape, bool)
    seen[response[answered], at[answered]] = True
    anonymous = bool(typed.attrs.get("anonymous_raters", False))
    ratings.attrs.update(file=file, anonymous_raters=anonymous)
    reading = summarise_reading(file, "long", len(responses), 0, "", settings, responses, ratings,
                       instrument, found, counts, label_table, [], anonymous, problems)
    return ratings, problems, where[seen], reading


def _unknown_label_problems(frame, text, unknown, file, column):
    """Each unknown answer label once, with its count and first row."""
    rows = frame.index.to_numpy()
    labels = pd.Series(rows[unknown]).groupby(text[unknown].to_numpy(), sort=False)
    return [Problem(file, int(at.iat[0]), column, f"unknown response label ({len(at)} "
                    "answer(s)); map it under survey: {labels: ...} or list it under survey: "
                    "{not_observed: [...]}", label)
            for label, at in labels]


def _long_item_problems(typed, rows, items, instrument, file, named, strict):
    """Items not in the instrument, a skill that is not the instrument's, items never rated."""
    problems = []
    rows = np.asarray(rows)
    known = typed["item"].isin(items.index).to_numpy()
    for item, at in pd.Series(rows[~known]).groupby(typed["item"].to_numpy()[~known],
                                                    sort=False, dropna=False):
        problems.append(Problem(file, int(at.iat[0]), named["item"],
                                f"item not in the instrument ({instrument.file}; "
                                f"{len(at)} row(s))", item))
    skill = typed["item"].map(items["skill"]).to_numpy()
    other = known & (typed["skill"].to_numpy() != skill)
    for r, item, given, expected in list(zip(rows[other], typed["item"].to_numpy()[other],
                                             typed["skill"].to_numpy()[other], skill[other],
                                             strict=True))[:MAX_ROWS_PER_PROBLEM]:
        problems.append(Problem(file, int(r), named["skill"], f"item {item!r} measures "
                                f"{expected!r} in the instrument ({instrument.file})", given))
    missing = [i for i in items.index if i not in set(typed["item"])]
    if missing:
        problems.append(Problem(file, None, named["item"], f"{len(missing)} item(s) of the "
                                f"instrument are not in the file: {', '.join(missing)}", None,
                                "error" if strict else "warning"))
    return problems
