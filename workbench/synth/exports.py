"""A generated organisation's ratings written as a survey platform would export them.

Each shape follows the platform's public description of its CSV export; with the mapping
returned, :func:`workbench.tables.survey.read_survey` must give back the organisation's ratings
exactly (the fixtures in ``tests/fixtures/exports/`` and the demo's ``survey_export.csv``).

``wide``
    One header row: Ratee, Rater, Relationship, Wave, Date, then one column per item id,
    answers as numbers, "N/A" when not observed.
``qualtrics``
    Three header rows (column ids ``Q<skill>_<item>``, question texts ``Competency - item
    text``, ``{"ImportId":"QID<skill>_<item>"}``), Qualtrics' metadata columns, embedded data
    Ratee, Rater, Relationship, Wave, Date; agreement labels; "Not observed"; unfinished
    responses (Finished False) appended.
``surveymonkey``
    Two header rows (question text over the first column of a grid, then the sub-question
    row with "Response" under single answers), SurveyMonkey's metadata; agreement labels,
    "Unable to rate".
``grid``
    LimeSurvey's full-text export: ``Question [item text]`` headers, Response ID, Date
    submitted (blank for an unfinished response), Last page, ...; "1 - Never" to
    "5 - Always" labels, "No answer".
``googleforms``
    Google Forms: Timestamp, the questions, grids as ``Question [item text]``; agreement
    labels; blank when not observed.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> org = generate_organisation(40, seed=2, n_waves=1, items_per_skill=3)
>>> frame, mapping = export_frame(org, "wide")
>>> frame.columns[:6].tolist(), frame.shape[1]
(['Ratee', 'Rater', 'Relationship', 'Wave', 'Date', 'STR1'], 29)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.synth.generator import answers_as_given

__all__ = ["EXPORT_SHAPES", "export_frame", "write_export", "AGREEMENT", "FREQUENCY"]

EXPORT_SHAPES = ("wide", "qualtrics", "surveymonkey", "grid", "googleforms")
AGREEMENT = {"Strongly disagree": 1, "Disagree": 2, "Neither agree nor disagree": 3,
             "Agree": 4, "Strongly agree": 5}
FREQUENCY = {"1 - Never": 1, "2 - Rarely": 2, "3 - Sometimes": 3, "4 - Often": 4,
             "5 - Always": 5}
RELATIONSHIPS = {"self": "Self", "manager": "Line Manager", "peer": "Peer",
                 "direct_report": "Direct Report"}
_ID_MAPPING = {"Ratee": "ratee", "Rater": "rater", "Relationship": "source", "Wave": "wave",
               "Date": "date"}
_UNFINISHED_SHARE = 0.03


def _responses(org, anonymous: bool):
    """One row per (ratee, rater, wave): ids and answers in the respondent's direction."""
    ratings, instrument = org.ratings, org.instrument
    if instrument is None:
        raise ConfigError("the organisation has no items (generate it with items_per_skill)")
    keys = ["ratee", "rater", "source", "wave", "date"]
    wide = answers_as_given(ratings, instrument).pivot_table(index=keys, columns="item", values="score", aggfunc="first",
                               sort=False)
    wide = wide.reindex(columns=instrument["item"].tolist()).reset_index()
    wide = wide.sort_values(["wave", "ratee", "rater"], kind="stable").reset_index(drop=True)
    answers = wide[instrument["item"].tolist()].to_numpy(float, copy=True)
    ids = wide[keys].copy()
    ids["response"] = [f"R_{i + 1:06d}" for i in range(len(ids))]
    if anonymous:
        ids["rater"] = ""
    return ids, answers


def _labels(answers: np.ndarray, labels: dict, not_observed: str) -> np.ndarray:
    by_value = {float(v): k for k, v in labels.items()}
    text = np.full(answers.shape, not_observed, dtype=object)
    seen = np.isfinite(answers)
    text[seen] = [by_value[v] for v in answers[seen]]
    return text


def _numbers(answers: np.ndarray, not_observed: str) -> np.ndarray:
    text = np.full(answers.shape, not_observed, dtype=object)
    seen = np.isfinite(answers)
    text[seen] = answers[seen].astype(int).astype(str)
    return text


def _unfinished(ids: pd.DataFrame, answers: np.ndarray, rng) -> tuple:
    """Copies of some responses broken off part-way (readers drop them: results unchanged)."""
    pick = rng.choice(len(ids), size=max(1, int(_UNFINISHED_SHARE * len(ids))), replace=False)
    extra = ids.iloc[pick].copy()
    extra["response"] = [f"R_U{i + 1:05d}" for i in range(len(extra))]
    partial = answers[pick].copy()
    partial[:, answers.shape[1] // 3:] = np.nan
    return extra, partial


def export_frame(org, shape: str, *, anonymous: bool = False, seed: int = 0,
                 survey_date: bool = True):
    """The export as a table of text (header rows below the column names) and its mapping.

    Parameters
    ----------
    org : SyntheticOrganisation
        Generated with ``items_per_skill``.
    shape : {"wide", "qualtrics", "surveymonkey", "grid", "googleforms"}
    anonymous : bool
        Leave the rater out (each response is its own rater); qualtrics, surveymonkey and
        grid only.
    seed : int
        Which responses are duplicated as unfinished ones.
    survey_date : bool
        Write the survey's own Date column; False leaves it out, so the platform's completion
        time (RecordedDate, End Date, Timestamp, Date submitted) gives the date.

    Returns
    -------
    (DataFrame, dict)
        The cells (its first rows are the extra header rows of the shape) and the mapping
        (``columns``, ``source_labels``, ``survey``) that reads it.
    """
    if shape not in EXPORT_SHAPES:
        raise ConfigError(f"shape={shape!r}: must be one of {', '.join(EXPORT_SHAPES)}")
    rng = np.random.default_rng(seed)
    ids, answers = _responses(org, anonymous)
    inst = org.instrument.reset_index(drop=True)
    skills = list(dict.fromkeys(inst["skill"]))
    labels = {v: k for k, v in RELATIONSHIPS.items()}
    source = ids["source"].map(RELATIONSHIPS)
    instrument = inst.copy()
    mapping = {"columns": {"ratings": dict(_ID_MAPPING)},
               "source_labels": labels, "survey": {}}
    if anonymous:
        del mapping["columns"]["ratings"]["Rater"]
    builder = {"wide": _wide, "qualtrics": _qualtrics, "surveymonkey": _surveymonkey,
               "grid": _limesurvey, "googleforms": _googleforms}[shape]
    frame, instrument, survey = builder(ids, source, answers, inst, skills, rng)
    if anonymous:
        rater = "Your employee id" if shape == "surveymonkey" else "Rater"
        frame = frame.drop(columns=rater)
    if not survey_date and "Date" in frame.columns:
        frame = frame.drop(columns="Date")
        del mapping["columns"]["ratings"]["Date"]
    mapping["survey"] = {**survey, "instrument": instrument.to_dict("records")}
    return frame, mapping


def _ids_block(ids, source, *, date=True):
    block = pd.DataFrame({"Ratee": ids["ratee"].to_numpy(), "Rater": ids["rater"].to_numpy(),
                          "Relationship": source.to_numpy(),
                          "Wave": ids["wave"].astype(str).to_numpy()})
    if date:
        block["Date"] = ids["date"].to_numpy()
    return block


def _wide(ids, source, answers, inst, skills, rng):
    frame = _ids_block(ids, source)
    items = pd.DataFrame(_numbers(answers, "N/A"), columns=inst["item"].tolist())
    instrument = inst.assign(column=inst["item"])
    return (pd.concat([frame, items], axis=1), instrument,
            {"format": "auto", "scale": {"min": 1, "max": 5}})


def _qualtrics(ids, source, answers, inst, skills, rng):
    extra, partial = _unfinished(ids, answers, rng)
    ids = pd.concat([ids, extra], ignore_index=True)
    answers = np.vstack([answers, partial])
    n, done = len(ids), np.r_[np.ones(len(ids) - len(extra), bool), np.zeros(len(extra), bool)]
    start = pd.to_datetime(ids["date"]) + pd.to_timedelta(rng.integers(8 * 60, 17 * 60, n),
                                                           unit="min")
    duration = rng.integers(240, 1500, n)
    meta = pd.DataFrame({
        "StartDate": start.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "EndDate": (start + pd.to_timedelta(duration, unit="s")).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "Status": "IP Address",
        "IPAddress": [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(n)],
        "Progress": np.where(done, "100", "38"),
        "Duration (in seconds)": duration.astype(str),
        "Finished": np.where(done, "True", "False"),
        "RecordedDate": (start + pd.to_timedelta(duration, unit="s")).dt.strftime(
            "%Y-%m-%d %H:%M:%S"),
        "ResponseId": ids["response"].to_numpy(),
        "RecipientLastName": "", "RecipientFirstName": "", "RecipientEmail": "",
        "ExternalReference": "", "LocationLatitude": "", "LocationLongitude": "",
        "DistributionChannel": "email", "UserLanguage": "EN",
    })
    source = ids["source"].map(RELATIONSHIPS)
    block = _ids_block(ids, source)
    columns, texts = [], []
    for item, skill, text in zip(inst["item"], inst["skill"], inst["text"], strict=True):
        s, k = skills.index(skill) + 1, int(item[-1])
        columns.append(f"Q{s}_{k}")
        texts.append(f"{skill} - {text}")
    items = pd.DataFrame(_labels(answers, AGREEMENT, "Not observed"), columns=columns)
    body = pd.concat([meta, block, items], axis=1)
    head = [list(meta.columns) + list(block.columns) + texts,
            [json.dumps({"ImportId": c if c in meta.columns else c.lower()})
             for c in list(meta.columns) + list(block.columns)]
            + [json.dumps({"ImportId": f"QID{c[1:]}"}) for c in columns]]
    frame = pd.concat([pd.DataFrame(head, columns=body.columns), body], ignore_index=True)
    return frame, inst.assign(column=columns), {"labels": dict(AGREEMENT)}


def _surveymonkey(ids, source, answers, inst, skills, rng):
    n = len(ids)
    # SurveyMonkey's times: 01/22/2026 02:34:00 PM (month first, 12-hour clock)
    start = pd.to_datetime(ids["date"]) + pd.to_timedelta(rng.integers(8 * 60, 17 * 60, n),
                                                           unit="min")
    end = start + pd.to_timedelta(rng.integers(240, 1500, n), unit="s")
    meta = pd.DataFrame({
        "Respondent ID": [str(11400000000 + 7 * i) for i in range(n)],
        "Collector ID": "431279023", "Start Date": start.dt.strftime("%m/%d/%Y %I:%M:%S %p"),
        "End Date": end.dt.strftime("%m/%d/%Y %I:%M:%S %p"), "IP Address": "",
        "Email Address": "", "First Name": "", "Last Name": "", "Custom Data 1": "",
    })
    block = _ids_block(ids, source, date=False)
    block.columns = ["Who are you giving feedback to? (employee id)", "Your employee id",
                     "Your relationship to this person", "Survey wave"]
    texts = _labels(answers, AGREEMENT, "Unable to rate")
    header, sub, cells = list(meta.columns) + list(block.columns), [""] * len(meta.columns) + [
        "Response"] * len(block.columns), []
    for skill in skills:
        at = np.flatnonzero(inst["skill"].to_numpy() == skill)
        header += [f"How does this person do in {skill.lower()}?"] + [""] * (len(at) - 1)
        sub += inst["text"].iloc[at].tolist()
        cells.append(texts[:, at])
    body = pd.DataFrame(np.hstack([meta.to_numpy(object), block.to_numpy(object), *cells]))
    frame = pd.concat([pd.DataFrame([sub]), body], ignore_index=True)
    frame.columns = [h if h else f"__blank{i}" for i, h in enumerate(header)]
    names = dict(zip(["Ratee", "Rater", "Relationship", "Wave"], block.columns, strict=True))
    return frame, inst.assign(column=inst["text"]), {"labels": dict(AGREEMENT), "_ids": names}


def _limesurvey(ids, source, answers, inst, skills, rng):
    extra, partial = _unfinished(ids, answers, rng)
    ids = pd.concat([ids, extra], ignore_index=True)
    answers = np.vstack([answers, partial])
    n, done = len(ids), np.r_[np.ones(len(ids) - len(extra), bool), np.zeros(len(extra), bool)]
    stamp = (pd.to_datetime(ids["date"]) + pd.Timedelta(hours=10)).dt.strftime(
        "%Y-%m-%d %H:%M:%S")
    meta = pd.DataFrame({
        "Response ID": [str(i + 1) for i in range(n)],
        "Date submitted": np.where(done, stamp, ""),
        "Last page": np.where(done, "3", "1"), "Start language": "en",
        "Seed": rng.integers(10**8, 10**9, n).astype(str), "Date started": stamp,
        "Date last action": stamp,
    })
    source = ids["source"].map(RELATIONSHIPS)
    block = _ids_block(ids, source)
    columns = [f"How often does this person show {skill.lower()}? [{text}]"
               for skill, text in zip(inst["skill"], inst["text"], strict=True)]
    items = pd.DataFrame(_labels(answers, FREQUENCY, "No answer"), columns=columns)
    frame = pd.concat([meta, block, items], axis=1)
    return frame, inst.assign(column=inst["text"]), {"not_observed": ["No answer"],
                                                     "scale": {"min": 1, "max": 5}}


def _googleforms(ids, source, answers, inst, skills, rng):
    stamp = (pd.to_datetime(ids["date"]) + pd.Timedelta(hours=9)).dt.strftime(
        "%-m/%-d/%Y %H:%M:%S")
    block = _ids_block(ids, source)
    frame = pd.concat([pd.DataFrame({"Timestamp": stamp.to_numpy()}), block], axis=1)
    columns = [f"{skill} [{text}]" for skill, text in zip(inst["skill"], inst["text"],
                                                         strict=True)]
    items = pd.DataFrame(_labels(answers, AGREEMENT, ""), columns=columns)
    return pd.concat([frame, items], axis=1), inst.assign(column=inst["text"]), {
        "labels": dict(AGREEMENT)}


def write_export(org, path: str | Path, shape: str, *, anonymous: bool = False,
                 seed: int = 0, survey_date: bool = True) -> dict:
    """Write the export (CSV, UTF-8) to ``path`` and return the mapping that reads it.

    Never overwrites: an existing ``path`` is a ConfigError.
    """
    path = Path(path)
    if path.exists():
        raise ConfigError(f"{path}: exists; refusing to overwrite it")
    frame, mapping = export_frame(org, shape, anonymous=anonymous, seed=seed,
                                  survey_date=survey_date)
    names = mapping["survey"].pop("_ids", None)
    if names is not None:  # SurveyMonkey: the id questions under their own wording
        mapping["columns"]["ratings"] = {
            names[k]: v for k, v in mapping["columns"]["ratings"].items() if k in names}
    header = ["" if str(c).startswith("__blank") else c for c in frame.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(frame.astype(str).to_numpy().tolist())
    return mapping
