"""Human labels for what a person reads: rating sources, variance components and column names.

This is the one place that turns the package's codes (``direct_report``, ``n_ratees``,
``ratee:skill``) into words a client reads. Tables shown with
:func:`workbench.reporting.display.show`, the plot helpers of
:mod:`workbench.reporting.figures`, the explorer and the HTML report all go through it, so a
label is changed here once. The data keep their codes: labels are for display only.

A column without an entry in :data:`COLUMN_LABELS` is shown with its underscores replaced by
spaces and a capital first letter, so no snake_case name reaches a reader.

Examples
--------
>>> source_label("direct_report")
'Direct reports'
>>> column_label("n_ratees"), column_label("focus_type")
('People with 2+ raters', 'Focus type')
>>> import re

import pandas as pd
>>> human_table(pd.DataFrame({"source": ["self", "peer"], "icc1": [0.1, 0.4]})).columns.tolist()
['Source', 'ICC(1): one rater']
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = [
    "SOURCE_LABELS",
    "COMPONENT_LABELS",
    "FACET_LABELS",
    "METHOD_LABELS",
    "AGREEMENT_LABELS",
    "GAIN_SOURCE_LABELS",
    "CORRECTION_LABELS",
    "MIXTURE_LABELS",
    "SE_TYPE_LABELS",
    "COLUMN_LABELS",
    "VALUE_LABELS",
    "WAVE_COLUMNS",
    "source_label",
    "column_label",
    "value_label",
    "human_values",
    "human_table",
    "date_label",
    "wave_label",
]

#: Rating sources (the ratings contract's codes, plus the pooled ``others`` of reliability).
SOURCE_LABELS = {
    "self": "Self",
    "manager": "Manager",
    "peer": "Peers",
    "direct_report": "Direct reports",
    "other": "Other raters",
    "others": "All non-self raters",
    "all_others": "Colleagues together (shown sources, without self and manager)",
}

#: Terms of the calibration model (rows of a variance-components table).
COMPONENT_LABELS = {
    "ratee": "Person (overall level)",
    "ratee:skill": "Person in a skill",
    "rater": "Rater leniency",
    "rater:ratee": "Rater halo",
    "rater:skill": "Rater leniency in a skill",
    "rater+rater:ratee": "Rater leniency and halo",
    "rater:ratee:skill": "Rater's view of the person in a skill",
    "residual": "Noise",
}

#: Columns whose values are codes, and the labels of those codes (codes not listed, such as
#: every activity kind, are shown as phrases: ``stretch_assignment`` -> ``Stretch assignment``).
#: The Rasch model's facets (rows of its separation table).
FACET_LABELS = {"ratee": "People", "rater": "Raters", "skill": "Skills", "source": "Sources",
                "item": "Items", "wave": "Survey rounds"}

#: How the learning impact was estimated (the impact tables' ``method``).
METHOD_LABELS = {
    "ancova": "Compared after adjusting for the earlier score",
    "did": "Change compared with untrained colleagues",
    "change": "Change of the trained",
}

#: Covariance structures of the profiles' Gaussian mixtures (mclust's codes): the shape,
#: size and orientation of the profiles' clouds.
MIXTURE_LABELS = {
    "EII": "Round profiles, all the same size",
    "VII": "Round profiles of different sizes",
    "EEI": "Same spread per skill in every profile",
    "VEI": "Same spread pattern, different sizes",
    "EVI": "Different spread per skill, same size",
    "VVI": "Different spread per skill and size",
    "EEE": "Same shape and linked skills in every profile",
    "VVV": "Each profile its own shape and linked skills",
    "EEV": "Same size and shape, own orientation",
    "VEV": "Same shape, own size and orientation",
}

#: Corrections of p values for many tests at once (the impact's ``correction``).
CORRECTION_LABELS = {"holm": "Holm's method", "fdr_bh": "Benjamini-Hochberg's method"}

#: Kinds of standard error.
SE_TYPE_LABELS = {"model": "From the model", "real": "Allowing for misfit"}

#: Where a plan's expected gain comes from (the plans' ``gain_source``).
GAIN_SOURCE_LABELS = {"measured": "measured here", "catalog": "catalog figure",
                      "default": "default"}

VALUE_LABELS = {
    "source": SOURCE_LABELS, "component": COMPONENT_LABELS, "kind": {}, "facet": FACET_LABELS,
    "method": METHOD_LABELS, "model": MIXTURE_LABELS, "se_type": SE_TYPE_LABELS,
    "measure": {"ready_now": "Ready now", "ready_by_horizon": "Ready by the end of the plan"},
    "correction": CORRECTION_LABELS,
    # the design check's quantities (any other code is shown as a phrase)
    "quantity": {"coverage": "Intervals that hold the true level",
                 "coverage_refit": "Intervals that hold the true level (model refitted)",
                 "bias": "Bias", "rmse": "Typical error", "gap_calls_right": "Gap calls right",
                 "gaps_called": "Gaps called", "reliability": "Reliability",
                 # the organisation overview's counts
                 "ratees": "People rated", "waves": "Survey rounds",
                 # the plans' predicted gain
                 "gain_per_focus_skill": "Expected 12-week gain per focus skill (scale points)"},
    "gain_source": GAIN_SOURCE_LABELS,
    "group4": {}, "group6": {},
}

#: Self-other agreement groups (Atwater & Yammarino): how a self rating stands to the others'
#: score; "good"/"poor" say whether the others' score is at or above the good cut.
AGREEMENT_LABELS = {
    "over-estimator": "Rate themselves higher than others do",
    "under-estimator": "Rate themselves lower than others do",
    "in agreement/good": "In agreement, on a strength",
    "in agreement/poor": "In agreement, on a weakness",
    "over-estimator/good": "Higher than others, on a strength",
    "over-estimator/poor": "Higher than others, on a weakness",
    "under-estimator/good": "Lower than others, on a strength",
    "under-estimator/poor": "Lower than others, on a weakness",
}
VALUE_LABELS["group4"] = VALUE_LABELS["group6"] = AGREEMENT_LABELS

#: Columns holding a survey wave or a period (shown as people write them, ``Q1 2027``).
WAVE_COLUMNS = ("wave", "period", "pre_wave", "post_wave", "from_wave", "to_wave")

#: Column headers. Anything not listed falls back to "Words with spaces".
COLUMN_LABELS = {
    **AGREEMENT_LABELS,
    "person": "Person",
    "seats": "Activity seats",
    "ratee": "Person",
    "skill": "Skill",
    "source": "Source",
    "component": "Component",
    "wave": "Wave",
    "score": "Score",
    "se": "SE",
    "ci_low": "CI low",
    "ci_high": "CI high",
    "estimate": "Estimate",
    "p_value": "p",
    "n": "n",
    "raw_mean": "Raw mean",
    "n_ratings": "Ratings",
    "n_raters": "Raters",
    "n_ratees": "People with 2+ raters",
    "raters_per_ratee": "Raters per person",
    "raters_per_ratee_icc": "Raters per person",
    "icc1": "ICC(1): one rater",
    "icc2": "ICC(2): mean of the raters",
    "rwg": "Agreement rWG",
    "rwg_j": "Agreement rWG(J)",
    "g_coefficient": "Reliability of the score (G)",
    "phi": "Absolute reliability (Phi)",
    "n_for_0.7": "Raters for 0.7",
    "n_for_0.8": "Raters for 0.8",
    "variance": "Variance",
    "sd": "SD",
    "share": "Share",
    "required_level": "Required level",
    "target_level": "12-week target",
    "focus_rank": "Focus",
    "focus_type": "Focus type",
    "stretch_assignment": "Stretch assignment",
    "kind": "Kind",
    "title": "Activity",
    "activity": "Activity code",
    "start": "Start",
    "end": "End",
    "hours": "Hours",
    "mentor": "Mentor",
    "goal": "Goal",
    "role": "Role",
    "team": "Team",
    # profiles: model selection and profile summary
    "k": "Profiles",
    "bic": "BIC",
    "icl": "ICL",
    "entropy": "Entropy (certainty of membership)",
    "smallest_n": "People in the smallest profile",
    "selected": "Chosen",
    "stability": "Stability (share of resamples that find the profile again)",
    # impact: effect sizes, multiplicity and power
    "d_z": "Effect size d (SD of change)",
    "d_av": "Effect size d (average SD)",
    "g_av": "Effect size g (average SD, small-sample corrected)",
    "p_adjusted": "p (adjusted for several skills)",
    "n_trained": "People trained",
    "n_untrained": "People not trained",
    "mde": "Smallest effect this data can detect",
    "target_effect": "Effect planned for",
    "n_trained_needed": "People to train for that effect",
    # the instrument's psychometrics
    "n_items": "Items",
    "alpha": "Alpha (Cronbach)",
    "omega": "Omega (total)",
    "omega_ci_low": "Omega CI low",
    "omega_ci_high": "Omega CI high",
    "item": "Item",
    "mean": "Mean",
    "floor_rate": "Share at the lowest point",
    "ceiling_rate": "Share at the highest point",
    "not_observed_rate": "Share not observed",
    "item_rest_r": "Item-rest correlation",
    "alpha_if_dropped": "Alpha without the item",
    "g_relative": "Reliability of the score (G)",
    "raters_for_0.8": "Raters for 0.8 (these items)",
    "items_for_0.8": "Items for 0.8 (these raters)",
    # the Rasch model's separation and categories
    "facet": "Measured",
    "se_type": "SEs",
    "rmse": "Typical error",
    "true_sd": "True spread",
    "separation": "Separation",
    "strata": "Distinct levels",
    "reliability": "Reliability",
    "chi_square": "Chi-square",
    "df": "DF",
    "category": "Rating",
    "count": "Ratings given",
    "percent": "Share of ratings (%)",
    "average_measure": "Average measure",
    "expected_measure": "Expected measure",
    "outfit": "Outfit (misfit)",
    "threshold": "Threshold",
    "threshold_se": "Threshold SE",
    "disordered_threshold": "Threshold out of order",
    "disordered_measure": "Average out of order",
    # impact and profiles
    "method": "Method",
    "model": "Profile shape",
    "n_levels": "Levels",
    "ratees": "People",
    "raters": "Raters",
    "size": "People",
    "label": "Profile",
    "profile": "Profile number",
    "persona": "Description",
    "small": "Small profile",
    "roles": "Roles",
    "levels": "Career stages",
    "resid_sd": "Unexplained spread (SD)",
    "n_untrained_needed": "Untrained comparisons needed",
    "power": "Power",
    "recommended": "Recommended",
    "assumption": "Assumes",
    "training": "Training",
    # progression: bench strength and the 360's validity against outcomes
    "measure": "Measure",
    "metric": "Metric",
    "disattenuated": "Corrected r",
    "disattenuated_ci_low": "Corrected CI low",
    "disattenuated_ci_high": "Corrected CI high",
    "incremental_r2": "Added R²",
    "incremental_p_value": "Added p",
}


def source_label(source) -> str:
    """The label of a rating source (an unknown source is shown as a phrase)."""
    return SOURCE_LABELS.get(str(source), _phrase(str(source)))


def value_label(column: str, value) -> object:
    """The label of a coded ``value`` in ``column`` (values of other columns are unchanged)."""
    labels = VALUE_LABELS.get(column)
    if labels is None or not isinstance(value, str):
        return value
    return labels.get(value, _phrase(value))


def column_label(column) -> str:
    """The header a reader sees for ``column``."""
    if not isinstance(column, str):
        return str(column)
    return COLUMN_LABELS.get(column, _phrase(column))


def _phrase(code: str) -> str:
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else code


def date_label(value) -> str:
    """A date as a reader writes it, ``4 Jan 2027`` (``""`` when missing).

    Examples
    --------
    >>> date_label("2027-01-04")
    '4 Jan 2027'
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    stamp = pd.Timestamp(value)
    return "" if pd.isna(stamp) else f"{stamp.day} {stamp:%b %Y}"


def wave_label(value) -> object:
    """A survey wave or period as people write it: ``2027Q1`` -> ``Q1 2027``, ``2027-03``
    -> ``Mar 2027``, ``2026H2`` -> ``H2 2026``; anything else is returned unchanged.

    Examples
    --------
    >>> wave_label("2027Q1"), wave_label("2027-03"), wave_label("2026H2"), wave_label("spring")
    ('Q1 2027', 'Mar 2027', 'H2 2026', 'spring')
    """
    text = str(value).strip() if isinstance(value, str) else value
    if not isinstance(text, str):
        return value
    half = re.fullmatch(r"(\d{4})[-\s]?([QqHh])([1-4])", text)
    if half and (half.group(2).upper() == "Q" or half.group(3) in "12"):
        return f"{half.group(2).upper()}{half.group(3)} {half.group(1)}"
    month = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if month and 1 <= int(month.group(2)) <= 12:
        return f"{pd.Timestamp(int(month.group(1)), int(month.group(2)), 1):%b %Y}"
    return value


def human_values(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose coded columns (source, component) hold their labels.

    Headers are kept, so plot helpers can still address the columns by name.
    """
    out = frame.copy()
    for column in VALUE_LABELS:
        if column in out.columns:
            out[column] = [value_label(column, v) for v in out[column]]
    for column in WAVE_COLUMNS:
        if column in out.columns:
            out[column] = [wave_label(v) for v in out[column]]
    return out


def human_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for reading: coded values and every header labelled.

    A named index or a named column axis (the "stray header level" of a pivot) is turned
    into ordinary columns, so a table shows one header row.
    """
    out = frame.copy()
    if any(name is not None for name in out.index.names):
        out = out.reset_index()
    out.columns = [
        " ".join(str(p) for p in c if str(p)) if isinstance(c, tuple) else c for c in out.columns
    ]
    out.columns.name = None
    out = human_values(out)
    return out.rename(columns=column_label)
