"""The impact panel: which scores, which waves, which training counts, one row per person and skill.

Everything the estimators need is decided here, once, and stated in the panel's ``attrs``:

* **Scores** arrive through the scores contract (:func:`workbench.tables.scores.as_scores`).
  ``estimator == "blup"`` marks shrunken calibrated scores; they are un-shrunk (see
  :func:`undo_shrinkage`) so that shrinkage does not attenuate the effects. Any other estimator
  ("truth", "raw_mean", ...) is taken as unshrunk.
* **Waves** (:func:`choose_waves`): the pre and post waves are named in every result. With two
  waves they are the first and the second (numbers in numeric order, otherwise text order);
  with more, or when a wave holds very few rows compared with the largest (fewer than
  :data:`SPARSE_WAVE_SHARE` of its rows: usually a mistyped wave), the analyst must name the
  two waves (``waves=``; ``--waves`` in the CLI).
* **Dates** (:func:`assessment_dates`): training counts only if it falls between the pre and
  the post assessment. A person's assessments are dated by the ratings' ``date`` column (the
  last rating of the pre wave, the first of the post wave), or by one date per wave given by
  the analyst. An enrollment that ends before the pre assessment or starts after the post
  assessment is ignored; one that overlaps either is a partial dose (like an unfinished one).
  When no dates exist the panel says that dates could not be checked.
* **Trained** (:func:`training_records`): with a catalog, a person is trained on a skill when
  they completed, in the window, an activity that targets the skill (``training="targeted"``).
  Without a catalog per-skill effects are refused unless ``training="any"``: then completing
  any activity counts as training on every skill, and every table says so.
* **Error correlation**: a joint calibration writes, on each later-wave score, the
  correlation of its error with the previous wave's (``error_corr``; the same raters' lasting
  impressions enter both). The panel carries the post score's ``error_corr`` when the pre
  wave is the wave just before the post wave, for the regression calibration
  (:func:`workbench.impact.regression.calibrated_pre`); otherwise NaN, and ``attrs`` say why.
* **Untrained**: no counted enrollment on the skill. People whose enrollments on a skill were
  all unfinished or partly outside the window are left out of that skill's comparison
  (``noncompleters="exclude"``) or counted as untrained (``"untrained"``, intention-to-treat
  like, dilutes the effect).

Examples
--------
>>> from workbench.synth import generate_organisation, truth_scores
>>> org = generate_organisation(80, seed=4)
>>> scores = truth_scores(org, se=.2, random_state=1)
>>> panel = prepare_panel(scores, org.enrollments, catalog=org.catalog, dates=org.ratings)
>>> panel.attrs["pre_wave"], panel.attrs["post_wave"], panel.attrs["dates_checked"]
(1, 2, True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.checks import check_choice, check_date_near
from workbench.errors import ConfigError, InputError, ModelError, Problem
from workbench.tables.scores import as_scores, wave_order
from workbench.tables.validate import MIN_WAVE_SHARE

__all__ = ["NONCOMPLETERS", "SHRINKAGE", "TRAINING", "SPARSE_WAVE_SHARE", "choose_waves",
           "assessment_dates", "training_records", "undo_shrinkage", "prepare_panel"]

NONCOMPLETERS = ("exclude", "untrained")
SHRINKAGE = ("auto", "undo", "keep")
TRAINING = ("targeted", "any")
#: A wave with fewer rows than this share of the largest wave's rows is refused as "very few"
#: (a mistyped wave in a few rows), unless the analyst names the two waves to compare; the
#: same rule as the ratings reader's (:data:`workbench.tables.validate.MIN_WAVE_SHARE`).
SPARSE_WAVE_SHARE = MIN_WAVE_SHARE
#: How training is described in every table and note.
#: The smallest comparison: in some skill, this many trained and this many untrained people
#: with scores in both waves (fewer leave the ANCOVA no residual degree of freedom).
MIN_GROUP = 2
TRAINING_LABELS = {"targeted": "completed an activity targeting the skill",
                   "any": "completed any activity (no catalog: not specific to the skill)"}


def _problem(table, message, column=None, value=None):
    return Problem(table, None, column, message, None if value is None else str(value))


# --------------------------------------------------------------------------------------------
# Waves
# --------------------------------------------------------------------------------------------


def _parse_waves(waves):
    if isinstance(waves, str):
        waves = [w for w in re.split(r"[,\s]+", waves.strip()) if w]
    waves = list(waves)
    if len(waves) != 2 or str(waves[0]) == str(waves[1]):
        raise ConfigError(f"waves={waves!r}: name two different waves, the pre and the post "
                          "wave (e.g. '1,2')")
    return waves


def choose_waves(table: pd.DataFrame, waves=None, *, source: str = "scores") -> tuple:
    """The pre and the post wave to compare, checked against the waves present.

    Parameters
    ----------
    table : DataFrame
        Scores or ratings with a ``wave`` column (one row per score or rating).
    waves : None, str or pair
        ``(pre, post)`` or ``"pre,post"``; matched to the table's waves as text, so ``"2"``
        finds wave ``2``. None: the two waves present, in order.
    source : str
        How to name the table in messages.

    Returns
    -------
    (pre, post)
        The waves as they appear in ``table``.

    Raises
    ------
    InputError
        A wave holds very few rows compared with the largest (fewer than
        :data:`SPARSE_WAVE_SHARE`), and the waves were not named.
    ConfigError
        A named wave is absent, or more than two waves and none named.
    ModelError
        Fewer than two waves.

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"wave": [1] * 50 + [2] * 48 + ["x"]})
    >>> choose_waves(ratings, "1,2")
    (1, 2)
    >>> choose_waves(ratings)
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: 1 error(s):
      ERROR   scores, column 'wave': wave 'x' has 1 row(s) against 50 in wave 1: a mistyped wave? Correct those rows, or name the pre and post waves to compare (waves= / --waves) (value: 'x')
    """
    if "wave" not in table.columns:
        raise ModelError(f"the {source} have no 'wave' column: impact compares two waves "
                         "(calibrate both together with calibrate_ratings(ratings, "
                         "waves='joint'))")
    counts = table["wave"].dropna().value_counts()
    # plain Python values, so that messages say 3, not np.int64(3)
    counts.index = [w.item() if isinstance(w, np.generic) else w for w in counts.index]
    present = wave_order(counts.index)
    listing = ", ".join(f"{w} ({counts[w]} rows)" for w in present)
    if waves is not None:
        by_text = {str(w): w for w in present}
        named = _parse_waves(waves)
        unknown = [w for w in named if str(w) not in by_text]
        if unknown:
            raise ConfigError(f"waves: {', '.join(repr(str(w)) for w in unknown)} not among the "
                              f"waves of the {source}: {listing}")
        return by_text[str(named[0])], by_text[str(named[1])]
    if len(present) < 2:
        raise ModelError(f"impact needs scores in two waves; the {source} have "
                         f"{'no wave' if not present else 'only wave ' + listing}")
    largest = counts.idxmax()
    sparse = [w for w in present if counts[w] < SPARSE_WAVE_SHARE * counts[largest]]
    if sparse:
        raise InputError([_problem(
            source, f"wave {w!r} has {counts[w]} row(s) against {counts[largest]} in wave "
            f"{largest}: a mistyped wave? Correct those rows, or name the pre and post waves to "
            "compare (waves= / --waves)", "wave", w) for w in sparse])
    if len(present) > 2:
        raise ConfigError(f"the {source} have {len(present)} waves ({listing}): name the pre "
                          "and post waves to compare (waves= / --waves)")
    return present[0], present[1]


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def _wave_date_map(dates):
    if isinstance(dates, str):
        pairs = [p for p in re.split(r"[,;]\s*|\s+", dates.strip()) if p]
        out = {}
        for pair in pairs:
            if "=" not in pair and ":" not in pair:
                raise ConfigError(f"dates={dates!r}: write one 'wave=YYYY-MM-DD' (or "
                                  "'wave:YYYY-MM-DD') per wave, e.g. '1=2026-01-19, 2=2026-07-13'")
            wave, day = re.split("[=:]", pair, maxsplit=1)
            out[wave.strip()] = day.strip()
        dates = out
    parsed = {}
    for wave, day in dates.items():
        stamp = pd.to_datetime(day, errors="coerce")
        if pd.isna(stamp):
            raise ConfigError(f"dates: {day!r} (wave {wave}) is not a date")
        parsed[str(wave)] = stamp
    return parsed


def _check_wave_dates_near(windows, enrollments, pre_wave, post_wave) -> None:
    """Wave dates given by hand lie within two years of the enrollments' dates (issue 26)."""
    known = [pd.to_datetime(enrollments[c], errors="coerce") for c in ("start", "end")
             if c in enrollments]
    if not known:
        return
    span = pd.concat(known).dropna()
    for wave, column in ((pre_wave, "pre_date"), (post_wave, "post_date")):
        check_date_near(f"dates (wave {wave})", windows[column].iloc[0], span,
                        what="the enrollments")


def assessment_dates(dates, *, pre_wave, post_wave):
    """When each person's pre and post assessments took place.

    Parameters
    ----------
    dates : DataFrame, mapping, str or None
        The ratings (``ratee`` or ``person``, ``wave``, ``date``): per person, the last rating
        of the pre wave and the first of the post wave; or one date per wave, as a mapping
        ``{wave: date}`` or text ``"1=2026-01-19, 2=2026-07-13"`` (or ``"1:2026-01-19,
        2:2026-07-13"``); or None.
    pre_wave, post_wave
        The waves compared (from :func:`choose_waves`).

    Returns
    -------
    (DataFrame or None, str)
        ``person`` (absent for one date per wave), ``pre_date``, ``post_date``; None when
        there are no dates, with the reason in plain words.

    Examples
    --------
    >>> table, how = assessment_dates("1=2026-01-19, 2=2026-07-13", pre_wave=1, post_wave=2)
    >>> table["post_date"].iloc[0].date().isoformat(), how
    ('2026-07-13', 'the wave dates given')
    """
    if dates is None:
        return None, "no assessment dates were given"
    if isinstance(dates, pd.DataFrame):
        key = "person" if "person" in dates.columns else "ratee"
        if "date" not in dates.columns or key not in dates.columns or "wave" not in dates:
            return None, "the ratings have no date column"
        day = pd.to_datetime(dates["date"], errors="coerce")
        frame = pd.DataFrame({"person": dates[key].to_numpy(), "wave": dates["wave"].astype(str)
                              .to_numpy(), "date": day.to_numpy()}).dropna(subset=["date"])
        if frame.empty:
            return None, "the ratings' date column is empty"
        pre = frame[frame["wave"] == str(pre_wave)].groupby("person")["date"].max()
        post = frame[frame["wave"] == str(post_wave)].groupby("person")["date"].min()
        table = pd.concat([pre.rename("pre_date"), post.rename("post_date")], axis=1)
        return table.rename_axis("person").reset_index(), "the dates of each person's ratings"
    if isinstance(dates, str | Mapping):
        parsed = _wave_date_map(dates)
        missing = [w for w in (pre_wave, post_wave) if str(w) not in parsed]
        if missing:
            raise ConfigError(f"dates: no date for wave(s) {', '.join(map(str, missing))} "
                              f"(given: {', '.join(parsed)})")
        pre, post = parsed[str(pre_wave)], parsed[str(post_wave)]
        if not pre < post:
            raise ConfigError(f"dates: the pre wave ({pre.date()}) must come before the post "
                              f"wave ({post.date()})")
        return pd.DataFrame({"pre_date": [pre], "post_date": [post]}), "the wave dates given"
    raise ConfigError(f"dates: expected the ratings, {{wave: date}} or 'wave=date, ...', got "
                      f"{type(dates).__name__}")


# --------------------------------------------------------------------------------------------
# Enrollments
# --------------------------------------------------------------------------------------------


def _completed(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.astype(str).str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0", "yes", "no", "1.0", "0.0"])
    if not known.all():
        raise InputError([_problem("enrollments", "completed must be true or false",
                                   "completed", values[~known].iloc[0])])
    return text.isin(["true", "1", "yes", "1.0"])


def _timing(enr, windows):
    """"between", "before", "after", "overlaps" the assessment window, or "unchecked"."""
    timing = pd.Series("unchecked", index=enr.index, dtype=object)
    if windows is None or "start" not in enr or enr["start"].isna().all():
        return timing
    if "person" in windows.columns:
        win = enr[["person"]].merge(windows, on="person", how="left").set_index(enr.index)
    else:
        win = pd.DataFrame({"pre_date": windows["pre_date"].iloc[0],
                            "post_date": windows["post_date"].iloc[0]}, index=enr.index)
    start = enr["start"]
    end = enr["end"].fillna(start) if "end" in enr else start
    known = start.notna() & win["pre_date"].notna() & win["post_date"].notna()
    before = known & (end < win["pre_date"])
    after = known & (start >= win["post_date"])
    between = known & (start >= win["pre_date"]) & (end <= win["post_date"])
    timing[known] = "overlaps"
    timing[between] = "between"
    timing[before] = "before"
    timing[after] = "after"
    return timing


def training_records(enrollments: pd.DataFrame, *, catalog=None, skills=(), windows=None,
                     training: str = "targeted") -> pd.DataFrame:
    """One row per enrollment and targeted skill, with what counts as training.

    Parameters
    ----------
    enrollments : DataFrame
        person, activity, completed[, start, end].
    catalog : DataFrame, optional
        activity, skill: which skills each activity targets.
    skills : sequence
        Every skill (used with ``training="any"``).
    windows : DataFrame, optional
        From :func:`assessment_dates`.
    training : {"targeted", "any"}
        "any": every enrollment counts on every skill (no catalog needed).

    Returns
    -------
    DataFrame
        person, activity, skill, completed, timing ("between", "before", "after", "overlaps",
        "unchecked"), dose: "full" (completed and between the assessments, or unchecked),
        "partial" (unfinished, or overlapping an assessment), "none" (entirely before the pre
        or after the post assessment: ignored).
    """
    check_choice("training", training, TRAINING)
    if training == "any" and catalog is not None:
        raise ConfigError("training='any' counts any completed activity on every skill and "
                          "does not use the catalog; leave catalog= out, or use "
                          "training='targeted' for per-skill effects")
    if not isinstance(enrollments, pd.DataFrame):
        raise ConfigError(f"enrollments: expected a DataFrame, got "
                          f"{type(enrollments).__name__}")
    missing = [c for c in ("person", "activity", "completed") if c not in enrollments.columns]
    if missing:
        raise InputError([_problem("enrollments", f"missing column(s): {', '.join(missing)}",
                                   missing[0])])
    enr = enrollments[["person", "activity"]].copy()
    enr["completed"] = _completed(enrollments["completed"]).to_numpy()
    for column in ("start", "end"):
        if column in enrollments.columns:
            enr[column] = pd.to_datetime(enrollments[column], errors="coerce")
    enr["timing"] = _timing(enr, windows)
    enr["dose"] = np.where(enr["timing"].isin(["before", "after"]), "none",
                           np.where(enr["completed"] & enr["timing"].isin(["between",
                                                                           "unchecked"]),
                                    "full", "partial"))
    if training == "targeted":
        if catalog is None:
            raise ConfigError("per-skill effects need the catalog (which skills each activity "
                              "targets): give catalog= (--catalog FILE), or training='any' "
                              "(--any-training) to estimate the effect of completing any "
                              "activity on every skill")
        if not {"activity", "skill"} <= set(catalog.columns):
            raise InputError([_problem("catalog", "needs columns activity and skill",
                                       "activity")])
        targets = catalog[["activity", "skill"]].drop_duplicates()
        unknown = sorted(set(enr["activity"]) - set(targets["activity"]), key=str)
        if unknown:
            raise InputError([_problem("enrollments", "activity not in the catalog",
                                       "activity", a) for a in unknown[:25]])
        enr = enr.merge(targets, on="activity", how="inner")
    else:
        enr = enr.merge(pd.DataFrame({"skill": list(skills)}), how="cross")
    return enr[["person", "activity", "skill", "completed", "timing", "dose"]]


# --------------------------------------------------------------------------------------------
# Shrinkage
# --------------------------------------------------------------------------------------------


def undo_shrinkage(frame: pd.DataFrame) -> pd.DataFrame:
    """Approximately un-shrink BLUP-type scores so that score = true + independent error.

    For a normal-normal model per skill and wave, BLUP = mu + lam (x - mu) with
    lam = 1 - se^2 / v and posterior variance se^2 = lam s^2, where v (the prior variance) is
    estimated by var(BLUP) + mean(se^2). The unshrunk score is mu + (BLUP - mu) / lam with error
    variance se^2 / lam. Shrunken outcomes would otherwise attenuate the training effect.
    """
    out = []
    for _, g in frame.groupby(["skill", "wave"], sort=False):
        g = g.copy()
        mu = g["score"].mean()
        v = g["score"].var(ddof=1) + (g["se"] ** 2).mean()
        lam = np.clip(1 - g["se"] ** 2 / v, 0.05, 1.0)
        g["score"] = mu + (g["score"] - mu) / lam
        g["se"] = g["se"] / np.sqrt(lam)
        out.append(g)
    return pd.concat(out)


# --------------------------------------------------------------------------------------------
# The panel
# --------------------------------------------------------------------------------------------


def _error_correlation(panel, frame, waves_present, pre_wave, post_wave):
    """The ``error_corr`` of each pair: the post score's row of the scores contract holds the
    correlation of its error with the previous wave's (the calibration computes it); it
    applies when the pre wave is that previous wave. Returns the panel and how it was found.
    """
    if "error_corr" not in frame.columns or frame["error_corr"].isna().all():
        return panel.assign(error_corr=np.nan), "absent"
    position = {str(w): k for k, w in enumerate(waves_present)}
    if position[str(post_wave)] != position[str(pre_wave)] + 1:
        return panel.assign(error_corr=np.nan), "not consecutive"
    post = frame.loc[frame["wave"] == post_wave, ["person", "skill", "error_corr"]]
    return panel.merge(post, on=["person", "skill"], how="left"), "scores"



def _status_counts(panel, records):
    full = records[records["dose"] == "full"]
    counts = full.groupby(["person", "skill"]).agg(
        n_completed=("activity", "size"),
        completed_activities=("activity", lambda a: tuple(sorted(map(str, set(a))))))
    partial = records[records["dose"] == "partial"].groupby(["person", "skill"]).size()
    panel = panel.merge(counts.reset_index(), on=["person", "skill"], how="left")
    panel["n_completed"] = panel["n_completed"].fillna(0).astype(int)
    panel["completed_activities"] = panel["completed_activities"].apply(
        lambda a: a if isinstance(a, tuple) else ())
    n_partial = pd.Series(list(zip(panel["person"], panel["skill"], strict=True))).map(
        partial).fillna(0).to_numpy()
    panel["status"] = np.where(panel["n_completed"] > 0, "trained",
                               np.where(n_partial > 0, "not_completed", "untrained"))
    return panel


def _check_training_present(panel, records, n_enrollments):
    """Exit with what is missing when nobody can be compared."""
    known = set(panel["person"])
    enrollees = set(records["person"])
    if enrollees and not enrollees & known:
        example = sorted(map(str, enrollees))[0]
        raise InputError([_problem(
            "enrollments", f"none of the {len(enrollees)} people in the enrollments has scores "
            "in both waves: check that the person ids match the ratings' ratee ids", "person",
            example)])
    if not panel["status"].eq("trained").any():
        full = records["dose"].eq("full").sum()
        done = int(records.drop_duplicates(["person", "activity"])["completed"].sum())
        outside = int(records.drop_duplicates(["person", "activity"])["dose"].eq("none").sum())
        raise InputError([_problem(
            "enrollments", f"nobody completed training between the two waves among the scored "
            f"people ({n_enrollments} enrollment(s), {done} completed, {outside} outside the "
            f"pre-post window, {full} counted): no effect can be estimated", "completed")])


def _check_comparable(panel) -> None:
    """Refuse a panel nothing can be estimated from, naming what is too small (issue 26):
    no skill with MIN_GROUP trained and MIN_GROUP untrained people, or a skill whose pre
    scores are all the same (the ANCOVA cannot adjust for them; every such skill listed)."""
    rows = panel[panel["status"].isin(["trained", "untrained"])]
    counts = (rows.groupby(["skill", "status"])["person"].nunique().unstack(fill_value=0)
              .reindex(columns=["trained", "untrained"], fill_value=0))
    if counts.empty or not ((counts["trained"] >= MIN_GROUP)
                            & (counts["untrained"] >= MIN_GROUP)).any():
        best = counts.min(axis=1).idxmax() if not counts.empty else None
        shown = ("" if best is None else f"; the largest groups: {best!r} with "
                 f"{counts.loc[best, 'trained']} trained and {counts.loc[best, 'untrained']} "
                 "untrained")
        raise InputError([_problem(
            "scores", f"too few people to compare: impact needs, in at least one skill, "
            f"{MIN_GROUP} people who trained and {MIN_GROUP} who did not, each with scores in "
            f"both waves (people with both waves: {panel['person'].nunique()}{shown})",
            "person")])
    spread = rows.groupby("skill")["pre"].agg(lambda s: s.max() - s.min())
    flat = spread.index[~(spread > 0)]
    if len(flat):
        raise InputError([_problem(
            "scores", f"skill {skill!r}: every pre score is the same, so the comparison "
            "cannot adjust for where people started; drop the skill", "score",
            f"{rows.loc[rows['skill'] == skill, 'pre'].iloc[0]:g}") for skill in flat])


def prepare_panel(scores, enrollments, *, people=None, catalog=None, waves=None, dates=None,
                  training: str = "targeted", noncompleters: str = "exclude",
                  shrinkage: str = "auto") -> pd.DataFrame:
    """One row per person and skill with pre, post, their SEs and the training status.

    Parameters
    ----------
    scores : Calibration, scores DataFrame or file
        Anything :func:`workbench.tables.scores.as_scores` reads, with a ``wave`` column
        (calibrate both waves together: ``calibrate_ratings(ratings, waves="joint")``).
    enrollments : DataFrame
        person, activity, completed[, start, end].
    people : DataFrame, optional
        person, team, role, level: covariates and clusters.
    catalog : DataFrame, optional
        activity, skill (one row per targeted skill). Needed unless ``training="any"``.
    waves : None, str or pair
        The pre and post waves (:func:`choose_waves`).
    dates : DataFrame, mapping, str or None
        Assessment dates (:func:`assessment_dates`): the ratings, or one date per wave.
    training : {"targeted", "any"}
        What counts as training on a skill (see the module docstring).
    noncompleters : {"exclude", "untrained"}
        How people whose enrollments on a skill were all partial are treated.
    shrinkage : {"auto", "undo", "keep"}
        "auto" un-shrinks scores whose ``estimator`` is "blup" (needs ``se``).

    Returns
    -------
    DataFrame
        person, skill, pre, post, se_pre, se_post, error_corr (correlation of the pre and
        post scores' errors from the scores' ``error_corr``, NaN when they carry none or
        the waves are not consecutive), n_completed (counted activities on the
        skill), completed_activities (their ids), status ("trained", "untrained",
        "not_completed"), trained (bool), included (bool: part of the comparison), and team,
        role, level when people are given. ``attrs`` hold pre_wave, post_wave, training,
        dates_checked, dates_source, n_outside, n_unknown_enrollees, shrunken,
        error_corr_source ("scores", "absent" or "not consecutive").
    """
    check_choice("noncompleters", noncompleters, NONCOMPLETERS)
    check_choice("shrinkage", shrinkage, SHRINKAGE)
    check_choice("training", training, TRAINING)
    if isinstance(scores, pd.DataFrame) and "wave" not in scores.columns:
        # before as_scores, whose "more than one score per person and skill" would hide why
        choose_waves(scores)
    frame = as_scores(scores)
    pre_wave, post_wave = choose_waves(frame, waves)
    waves_present = wave_order(frame["wave"].dropna().unique())
    frame = frame.dropna(subset=["score"])
    shrunken = "estimator" in frame.columns and frame["estimator"].eq("blup").any()
    frame = frame[frame["wave"].isin([pre_wave, post_wave])]
    if shrinkage == "undo" or (shrinkage == "auto" and shrunken):
        if frame["se"].isna().any():
            raise ConfigError("undoing the shrinkage of calibrated scores needs their standard "
                              "errors (column se); give shrinkage='keep' to use them as they are")
        frame = undo_shrinkage(frame)
    cols = ["person", "skill", "score", "se"]
    pre = frame.loc[frame["wave"] == pre_wave, cols]
    post = frame.loc[frame["wave"] == post_wave, cols]
    panel = pre.merge(post, on=["person", "skill"], suffixes=("_pre", "_post"))
    panel = panel.rename(columns={"score_pre": "pre", "score_post": "post"})
    panel, corr_source = _error_correlation(panel, frame, waves_present, pre_wave, post_wave)
    if panel.empty:
        raise InputError([_problem("scores", f"no person has scores in both wave {pre_wave} "
                                   f"and wave {post_wave}", "person")])
    windows, dates_source = assessment_dates(dates, pre_wave=pre_wave, post_wave=post_wave)
    if isinstance(dates, str | Mapping):
        _check_wave_dates_near(windows, enrollments, pre_wave, post_wave)
    records = training_records(enrollments, catalog=catalog, skills=panel["skill"].unique(),
                               windows=windows, training=training)
    panel = _status_counts(panel, records)
    _check_training_present(panel, records, len(enrollments))
    _check_comparable(panel)
    panel["trained"] = panel["status"].eq("trained")
    panel["included"] = panel["status"].ne("not_completed") | (noncompleters == "untrained")
    if people is not None:
        keep = [c for c in ("person", "team", "role", "level") if c in people.columns]
        panel = panel.merge(people[keep].drop_duplicates("person"), on="person", how="left")
    per_enrollment = records.drop_duplicates(["person", "activity"])
    checked = per_enrollment["timing"].ne("unchecked")
    panel.attrs.update(
        pre_wave=pre_wave, post_wave=post_wave, training=training,
        noncompleters=noncompleters, shrunken=bool(shrunken),
        undone=bool(shrinkage == "undo" or (shrinkage == "auto" and shrunken)),
        dates_checked=bool(checked.any()), dates_source=dates_source,
        n_unchecked=int((~checked).sum()),
        n_outside=int(per_enrollment["dose"].eq("none").sum()),
        n_overlapping=int(per_enrollment["timing"].eq("overlaps").sum()),
        n_unknown_enrollees=len(set(per_enrollment["person"]) - set(panel["person"])),
        error_corr_source=corr_source)
    return panel.sort_values(["skill", "person"]).reset_index(drop=True)
