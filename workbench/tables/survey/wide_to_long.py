"""Wide to long: the responses' id columns typed through the ratings contract
(:func:`type_responses`), then responses x items melted into one rating per answered item, with
the counts of answers not observed and the table of answer labels (:func:`melt_responses`).
The internal interface of :mod:`workbench.tables.survey.reading` and
:mod:`workbench.tables.survey.long_items`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import Problem
from workbench.tables.columns import CONTRACTS, ITEM_COUNT_COLUMNS
from workbench.tables.instrument import (
    ResponseScale,
    label_key,
)
from workbench.tables.mapping import ColumnMapping
from workbench.tables.survey.export_columns import (
    TIMESTAMPS,
)
from workbench.tables.validate import MAX_ROWS_PER_PROBLEM, check_frame

__all__: list[str] = []


#: SurveyMonkey writes 11/08/2026 10:41:22 AM and Google Forms 11/8/2026 10:41:22 (a form in
#: the default US locale): month first unless the mapping's date_format says otherwise.
_MONTH_FIRST = {"surveymonkey": "MM/DD/YYYY", "googleforms": "MM/DD/YYYY"}


def type_responses(responses, ids, response, mapping, scale, file, waves, shape):
    """Type the id columns once per response through the contract's one typing path."""
    frame = pd.DataFrame({column: responses[column] for column in ids.values()},
                         index=responses.index)
    if "rater" not in ids:
        source = responses[ids["source"]]
        is_self = source.map(lambda v: mapping.source_for(v) == "self" if v else False)
        frame["rater"] = responses[response].where(~is_self.astype(bool),
                                                   responses[ids["ratee"]])
    # one placeholder rating per response: its duplicates are repeated responses
    frame["skill"], frame["score"] = "<response>", repr(float(scale.min))
    stamp = "date" in ids and label_key(ids["date"]) in TIMESTAMPS
    date_format = dict(mapping.date_format)
    if stamp and mapping.date_order_for("ratings") is None and shape in _MONTH_FIRST:
        date_format["ratings"] = _MONTH_FIRST[shape]
    id_mapping = ColumnMapping(columns={"ratings": {c: t for t, c in ids.items()}},
                               source_labels=mapping.source_labels, date_format=date_format,
                               decimal_mark=dict(mapping.decimal_mark))
    typed, problems, rows = check_frame(frame, "ratings", id_mapping, scale, file=file,
                                        waves=waves)
    if stamp:  # a completion time: its day is the survey date
        typed["date"] = typed["date"].dt.normalize()
    problems = [_as_response_problem(p) for p in problems]
    return typed, problems, rows


def _as_response_problem(problem: Problem) -> Problem:
    if "duplicate rating" not in problem.message:
        return problem
    column = ", ".join(c for c in (problem.column or "").split(", ") if c != "skill")
    return Problem(problem.file, problem.row, column,
                   "duplicate response: the same ratee, rater and wave on an earlier row",
                   (problem.value or "").replace(" / <response>", ""), problem.severity)


def melt_responses(typed, rows, answers, instrument, found, rscale, scale, file):
    """Responses x items -> one rating per answered item; counts of not observed; labels."""
    items = instrument.items.set_index("item").loc[list(found)]
    n = len(typed)
    scores = np.empty((n, len(found)))
    absent = np.zeros((n, len(found)), bool)
    unknown_labels, off_scale, label_counts = {}, [], {}
    for k, item in enumerate(found):
        values = pd.Series(answers[item], dtype=object)
        score, missing, unknown = rscale.score(values)
        for position in np.flatnonzero(unknown):
            label = values.iat[position]
            count, where = unknown_labels.get(label, (0, (int(rows[position]), found[item])))
            unknown_labels[label] = (count + 1, where)
        bad = ~missing & ~unknown & ~scale.contains(np.nan_to_num(score, nan=scale.min))
        off_scale += [(int(rows[p]), found[item], values.iat[p]) for p in np.flatnonzero(bad)]
        text = ~missing & ~unknown & ~values.str.fullmatch(r"\s*[-+]?\d+([.,]\d+)?\s*").fillna(
            False).to_numpy()
        for label, count in values[text | missing].value_counts().items():
            label_counts[label] = label_counts.get(label, 0) + int(count)
        if items.at[item, "reverse"]:
            score = rscale.low + rscale.high - score
        scores[:, k], absent[:, k] = score, missing | unknown
    problems = [Problem(file, row, column, f"unknown response label ({count} answer(s)); map it "
                        "under survey: {labels: ...} or list it under survey: {not_observed: "
                        "[...]}", label)
                for label, (count, (row, column)) in unknown_labels.items()]
    problems += [Problem(file, row, column, f"the answer is off the rating scale ({scale.min:g} "
                         f"to {scale.max:g})", value)
                 for row, column, value in off_scale[:MAX_ROWS_PER_PROBLEM]]
    if len(off_scale) > MAX_ROWS_PER_PROBLEM:
        problems.append(Problem(file, None, None, f"... and {len(off_scale) - MAX_ROWS_PER_PROBLEM}"
                                " more answer(s) off the rating scale"))
    keep = ~absent.ravel()
    ratee_cols = [c.name for c in CONTRACTS["ratings"] if c.name in typed and c.name != "skill"
                  and c.name != "score"]
    long = {name: np.repeat(typed[name].to_numpy(), len(found))[keep] for name in ratee_cols}
    long["skill"] = np.tile(items["skill"].to_numpy(object), n)[keep]
    long["score"] = scores.ravel()[keep]
    long["item"] = np.tile(np.array(list(found), dtype=object), n)[keep]
    if "comment" in long:  # one comment per response, on its first answered item, not on all
        response = np.repeat(np.arange(n), len(found))[keep]
        first = np.zeros(len(response), bool)
        first[np.unique(response, return_index=True)[1]] = True
        long["comment"] = np.where(first, long["comment"], None)
    order = [c.name for c in CONTRACTS["ratings"] if c.name in long]
    ratings = pd.DataFrame({c: long[c] for c in order})
    counts = _item_counts(typed, absent, found, items)
    labels = _label_table(label_counts, rscale)
    return ratings, np.repeat(rows, len(found))[keep], counts, labels, problems


def _item_counts(typed, absent, found, items) -> pd.DataFrame:
    n = len(typed)
    frame = pd.DataFrame({
        "item": np.tile(np.array(list(found), dtype=object), n),
        "skill": np.tile(items["skill"].to_numpy(object), n),
        "source": np.repeat(typed["source"].to_numpy(object), len(found)),
        "wave": np.repeat(typed["wave"].to_numpy(), len(found)),
        "n_not_observed": absent.ravel().astype(int),
    })
    counts = (frame.groupby(["item", "skill", "source", "wave"], sort=False)
              .agg(n_responses=("n_not_observed", "size"), n_not_observed=("n_not_observed", "sum"))
              .reset_index())
    return counts[list(ITEM_COUNT_COLUMNS)]


def _label_table(label_counts: dict, rscale: ResponseScale) -> pd.DataFrame:
    labels = pd.DataFrame({"label": list(label_counts), "n": list(label_counts.values())})
    if labels.empty:
        return pd.DataFrame(columns=["label", "value", "n"])
    values, _, _ = rscale.score(labels["label"])
    labels.insert(1, "value", values)
    labels["label"] = labels["label"].where(labels["label"] != "", "(blank)")
    return labels.sort_values(["value", "label"], na_position="last").reset_index(drop=True)
