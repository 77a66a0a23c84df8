"""What the survey reader understood of a file: :class:`SurveyReading` (``workbench validate``
prints it, ``save`` writes its tables) and :func:`summarise_reading`, which builds it from a
read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.results import Result

__all__ = ["SurveyReading"]


@dataclass(frozen=True)
class SurveyReading(Result):
    """What :func:`read_survey` understood of an export (``workbench validate`` prints it).

    Attributes
    ----------
    file, shape : str
        The export and the shape detected (or named).
    overview : DataFrame
        quantity, n: responses in the file, unfinished ones (and the policy), responses used,
        ratings, not-observed answers, items, competencies.
    items_per_skill : DataFrame
        skill, n_items, items, reversed.
    responses_per_source : DataFrame
        source, wave, n_responses, n_ratees.
    labels : DataFrame
        label, value, n: each distinct text answer and what it became (NaN: not observed).
    not_observed_by_item, not_observed_by_source : DataFrame
        item (skill) or source, n_responses, n_not_observed, rate.
    item_counts : DataFrame
        The counts behind them (:data:`ITEM_COUNT_COLUMNS`).
    instrument_items : DataFrame
        The instrument's rows for the items read (item, column, skill, reverse (bool), text):
        the item table as data, for the psychometrics (never rebuilt from the text above).
    dropped_columns : tuple of str
        Columns of the export not read (metadata and others).
    anonymous_raters : bool
    warnings : tuple of Problem
    """

    title = "Survey export"

    file: str
    shape: str
    overview: pd.DataFrame
    items_per_skill: pd.DataFrame
    responses_per_source: pd.DataFrame
    labels: pd.DataFrame
    not_observed_by_item: pd.DataFrame
    not_observed_by_source: pd.DataFrame
    item_counts: pd.DataFrame
    instrument_items: pd.DataFrame | None = None
    dropped_columns: tuple = ()
    anonymous_raters: bool = False
    warnings: tuple = ()
    settings: dict = field(default_factory=dict)

    def _sections(self) -> list:
        raters = ("none named: each response is its own rater (anonymous)"
                  if self.anonymous_raters else "named in the export")
        sections = [
            ("", f"{self.file}: read as a {self.shape} export; raters {raters}"),
            ("", self.overview),
            ("Items per competency", self.items_per_skill),
            ("Responses per relationship", self.responses_per_source),
            ("Answer labels mapped", self.labels),
            ("Not observed, per item", self.not_observed_by_item),
            ("Not observed, per relationship", self.not_observed_by_source),
        ]
        if self.dropped_columns:
            sections.append((f"{len(self.dropped_columns)} column(s) not read",
                             ", ".join(self.dropped_columns)))
        return sections

    def _files(self) -> dict:
        return {
            "survey_items_per_skill.csv": self.items_per_skill,
            "survey_responses_per_source.csv": self.responses_per_source,
            "survey_labels.csv": self.labels,
            "survey_not_observed_by_item.csv": self.not_observed_by_item,
            "survey_not_observed_by_source.csv": self.not_observed_by_source,
            "survey_instrument_items.csv": self.instrument_items,
        }


def _rate(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    out = frame.groupby(by, sort=False)[["n_responses", "n_not_observed"]].sum().reset_index()
    out["rate"] = out["n_not_observed"] / out["n_responses"].where(out["n_responses"] > 0)
    return out


def summarise_reading(file, shape, n_read, n_unfinished, finished_by, settings, typed, ratings,
             instrument, found, counts, label_table, dropped, anonymous, problems):
    items = instrument.items[instrument.items["item"].isin(list(found))]
    per_skill = (items.groupby("skill", sort=False)
                 .agg(n_items=("item", "size"), items=("item", ", ".join),
                      reversed=("reverse", lambda r: ", ".join(items.loc[r.index[r], "item"])))
                 .reset_index())
    per_source = (typed.groupby(["source", "wave"])
                  .agg(n_responses=("ratee", "size"), n_ratees=("ratee", "nunique"))
                  .reset_index())
    policy = (f"{settings.unfinished}ped" if settings.unfinished == "drop" else "kept")
    overview = pd.DataFrame([
        ("responses in the file", n_read),
        (f"unfinished responses ({policy}; from '{finished_by or 'none'}')", n_unfinished),
        ("responses used", len(typed)),
        ("ratings (answered items)", len(ratings)),
        ("not observed answers", int(counts["n_not_observed"].sum())),
        ("items", len(found)),
        ("competencies", items["skill"].nunique()),
        ("reversed items", int(items["reverse"].sum())),
    ], columns=["quantity", "n"])
    return SurveyReading(
        file=file, shape=shape, overview=overview, items_per_skill=per_skill,
        responses_per_source=per_source, labels=label_table,
        not_observed_by_item=_rate(counts, ["item", "skill"]),
        not_observed_by_source=_rate(counts, ["source", "wave"]),
        item_counts=counts, instrument_items=items.reset_index(drop=True),
        dropped_columns=tuple(map(str, dropped)),
        anonymous_raters=anonymous, warnings=tuple(p for p in problems if p.severity != "error"),
        settings={"format": settings.format, "unfinished": settings.unfinished,
                  "strict": settings.strict, "instrument": instrument.file},
    )
