"""The reliability report: ICC, r_wg and the G-study's coefficients of one set of 360 ratings
in one table per source, with the D-study (raters needed per source).

The coefficients are computed by :mod:`workbench.calibration.reliability.interrater` (ICC, r_wg) and
:mod:`workbench.calibration.reliability.generalizability` (variance components, G and D-study); this module
gathers them into the :class:`ReliabilityReport` the CLI and notebook 01 show and save.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from workbench.calibration.reliability.generalizability import (
    DStudy,
    check_components,
    d_study,
    overall_components,
    source_variance_components,
)
from workbench.calibration.reliability.interrater import (
    RwgResult,
    check_ratings,
    icc_by_source,
    is_calibration,
    mean_over_skills,
    rwg_by_source,
    select_sources,
)
from workbench.errors import ModelError
from workbench.results import Result

__all__ = ["reliability_table", "reliability_report", "ReliabilityReport", "ICC_NOTES"]


# --------------------------------------------------------------------------------------------
# The reliability table and report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityReport(Result):
    """Reliability diagnostics of one set of 360 ratings.

    Attributes
    ----------
    table : DataFrame
        One row per source (see :func:`reliability_table`).
    icc : DataFrame
        ICC(1) and ICC(2) per source and skill (:func:`icc_by_source`).
    rwg : RwgResult
        Within-group agreement (:func:`rwg_by_source`).
    d_study : DStudy
        G-coefficients and the raters needed per source (:func:`d_study`).
    settings : dict
        The options used.

    Examples
    --------
    >>> from workbench.calibration.reliability.summary import reliability_report
    >>> from workbench.synth.generator import generate_organisation
    >>> report = reliability_report(generate_organisation(60, seed=1, n_waves=1).ratings,
    ...                             scale=(1, 5))
    >>> isinstance(report, ReliabilityReport), "others" in set(report.table["source"])
    (True, True)
    """

    title = "Reliability of 360 ratings per source"

    table: pd.DataFrame
    icc: pd.DataFrame
    rwg: RwgResult
    d_study: DStudy
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-source reliability table."""
        return self.table.copy()

    def _sections(self) -> list:
        return [("", self.table), ("How to read it", READING), ("Notes", list(ICC_NOTES))]

    def _files(self) -> dict:
        return {"reliability.csv": self.table, "icc.csv": self.icc,
                **self.d_study._files()}


#: How the ICCs of the table were computed, with the formulas and references; the notes of
#: the report (``summary()``, ``settings.json``) and of the table (``table.attrs["notes"]``,
#: ``reliability_notes.txt`` beside ``reliability.csv`` in the CLI).
ICC_NOTES = (
    "ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW) from a one-way ANOVA per source and skill "
    "with the ratee as group, where n0 = (N - sum n_g^2 / N) / (G - 1) is the ANOVA's "
    "effective group size for unequal groups (Searle, Casella & McCulloch 1992, sec. 3.6; "
    "Bliese 2000). R's multilevel package (ICC1) uses the mean group size N / G instead; the "
    "two agree when every ratee has the same number of raters, otherwise n0 < N / G and "
    "multilevel's ICC(1) is a little lower (lq2002's 49 companies: n0 = 41.30 against "
    "N / G = 41.67).",
    "ICC(2) = k ICC(1) / (1 + (k - 1) ICC(1)) (Spearman-Brown; Shrout & Fleiss 1979, "
    "ICC(1,k)) with k the harmonic mean of raters per ratee, G / sum(1 / n_g) "
    "(raters_per_ratee_icc): the reliability of the mean of a typical ratee's raters. R's "
    "multilevel package (ICC2) gives (MSB - MSW) / MSB (Bliese 2000), which is this formula "
    "at k = n0 (icc_by_source(k='n0') reproduces it). With unequal numbers of raters the "
    "two differ: the harmonic mean weighs the small groups, n0 the large ones (lq2002: "
    "harmonic mean 25.3 raters against n0 = 41.3, ICC(2) of leadership 0.711 against "
    "multilevel's 0.801).",
)

READING = ("icc1: share of a single rating's variance due to the ratee; icc2: reliability of the "
           "mean of the observed raters; rwg: agreement against random responding; "
           "g_coefficient: reliability of the calibrated skill score at the observed number of "
           "raters; n_for_*: raters of that source needed for that reliability.")


def reliability_report(
    calibration,
    *,
    variance_components: pd.DataFrame | None = None,
    scale=None,
    targets: Iterable[float] = (0.7, 0.8),
    min_raters: int = 2,
) -> ReliabilityReport:
    """Compute every reliability diagnostic of a calibration (or of ratings) at once.

    Parameters
    ----------
    calibration : Calibration or DataFrame
        A fitted calibration (its ratings and variance components are used) or long ratings.
    variance_components : DataFrame, optional
        The overall model's components (component, variance) when ``calibration`` is a ratings
        frame; they supply the rater leniency variance and the components of sources with one
        rater per ratee. Without them, such sources get no G-coefficient.
    scale : Scale or (min, max), optional
        The rating scale for r_wg (default: the observed range).
    targets : iterable of float
        Reliability targets of the D-study.
    min_raters : int
        Minimum raters of a source per ratee for ICC and variance components.

    Returns
    -------
    ReliabilityReport

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=1, n_waves=1)
    >>> report = reliability_report(org.ratings, scale=(1, 5))
    >>> list(report.table["source"])
    ['self', 'manager', 'peer', 'direct_report', 'others']
    """
    targets = [float(t) for t in targets]
    ratings = check_ratings(calibration)
    if variance_components is not None:
        overall = overall_components(variance_components)

        fitted = SimpleNamespace(ratings=ratings,
                                 variance_components=check_components(variance_components))
    elif is_calibration(calibration):
        fitted, overall = calibration, overall_components(calibration.variance_components)
    else:
        fitted, overall = None, {}
    icc = icc_by_source(ratings, min_raters=min_raters)
    rwg = rwg_by_source(ratings, scale=scale, overall=True)
    present = [s for s in select_sources(ratings, None, True) if s != "self"]
    if fitted is not None:
        study = d_study(fitted, sources=present, targets=targets)
    else:
        per_source = source_variance_components(ratings, sources=present,
                                                min_raters=min_raters)
        if per_source.empty:
            raise ModelError("reliability: no source has a ratee with two raters, and no "
                             "variance components were given")
        study = d_study(per_source, targets=targets)
    table = mean_over_skills(icc)[["source", "n_ratees", "k", "icc1", "icc2"]]
    table = table.rename(columns={"k": "raters_per_ratee_icc"})
    rwg_cols = rwg.summary_frame.rename(columns={"rwg_mean": "rwg", "rwg_j_mean": "rwg_j"})
    table = table.merge(rwg_cols[["source", "rwg", "rwg_share_070", "rwg_j"]], on="source",
                        how="left")
    observed = study.observed.rename(columns={"g_relative": "g_coefficient",
                                              "g_absolute": "phi"})
    table = table.merge(observed, on="source", how="left")
    needed = study.required.pivot(index="source", columns="target", values="n_relative")
    needed.columns = [f"n_for_{t:g}" for t in needed.columns]
    table = table.merge(needed.reset_index(), on="source", how="left")
    origin = study.components.groupby("source")["origin"].first()
    table["components_from"] = table["source"].map(origin)
    table.attrs.update(rater_variance=overall.get("rater", np.nan), targets=targets,
                       notes=ICC_NOTES)
    return ReliabilityReport(table=table, icc=icc, rwg=rwg, d_study=study,
                             settings={"targets": list(targets), "min_raters": min_raters,
                                       "scale": rwg.settings["scale"],
                                       "notes": list(ICC_NOTES)})


def reliability_table(calibration, **options) -> pd.DataFrame:
    """One tidy row per source: ICC(1), ICC(2), r_wg, G-coefficient and raters needed.

    Parameters
    ----------
    calibration : Calibration or DataFrame
        A fitted calibration, or long ratings (then pass ``variance_components=`` for the
        rater variance; see :func:`reliability_report`).
    **options
        ``variance_components``, ``scale``, ``targets``, ``min_raters`` as in
        :func:`reliability_report`.

    Returns
    -------
    DataFrame
        source; n_ratees (ratee-waves with >= 2 raters of the source); raters_per_ratee_icc
        (the k of ICC(2), mean over skills); icc1, icc2 (means over skills); rwg (mean r_wg),
        rwg_share_070, rwg_j (mean r_wg(J)); raters_per_ratee (harmonic mean over ratees with
        at least one rater of the source); g_coefficient (relative G of the calibrated skill
        score at raters_per_ratee), phi (absolute G: raw average); n_for_0.7, n_for_0.8
        (raters needed for that relative G); components_from ("source": the source's own
        variance components, "overall": the calibration's). ``self`` has no G-study; the
        ``others`` row (all non-self raters pooled) gives the reliability of the calibrated
        score from everyone who rated the ratee.

    Notes
    -----
    See :func:`icc_by_source`, :func:`rwg_by_source` and :func:`d_study` for the formulas.
    ``table.attrs["notes"]`` (:data:`ICC_NOTES`) states the group sizes the ICCs use (n0 for
    ICC(1), the harmonic mean of raters per ratee for ICC(2)) against R's multilevel package
    (the mean group size), with the formulas and references.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=1, n_waves=1)
    >>> table = reliability_table(org.ratings, scale=(1, 5))
    >>> bool(table.set_index("source").loc["peer", "g_coefficient"] > 0.5)
    True
    """
    return reliability_report(calibration, **options).table
