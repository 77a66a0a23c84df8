"""Talent-analytics workbench: 360 ratings into calibrated scores, profiles, impact and plans.

The public names are re-exported here and imported lazily, so ``import workbench`` stays quick
(the analytic modules pull in statsmodels, scipy and matplotlib only when first used).

Examples
--------
>>> import workbench as wb
>>> org = wb.generate_organisation(60, seed=1)
>>> cal = wb.calibrate_ratings(org.ratings.query("wave == 1"))   # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "errors": ["WorkbenchError", "InputError", "ModelError", "ConfigError", "Problem"],
    "data": [
        "ColumnMapping",
        "Organisation",
        "Scale",
        "load_organisation",
        "load_table",
        "summarise_organisation",
    ],
    "synth": ["SyntheticOrganisation", "generate_organisation", "write_organisation"],
    "mixed": ["fit_mixed", "MixedResult"],
    "calibrate": ["calibrate_ratings", "Calibration", "calibrated_matrix", "rater_network"],
    "reliability": [
        "icc_by_source",
        "rwg_by_source",
        "source_variance_components",
        "d_study",
        "DStudy",
        "reliability_table",
        "reliability_report",
        "ReliabilityReport",
    ],
    "agreement": ["self_other_agreement", "raw_other_scores", "AgreementResult"],
    "profiles": ["find_profiles", "ProfileResult", "ProfileModel"],
    "impact": [
        "estimate_impact",
        "ImpactResult",
        "paired_change",
        "ancova_effects",
        "did_effects",
        "activity_effects",
        "reliable_change",
        "regression_to_mean",
        "power_analysis",
    ],
    "power": ["paired_effect_sizes", "minimum_detectable_effect", "required_sample_size"],
    "plans": [
        "build_plans",
        "write_plans",
        "PlanSet",
        "compute_gaps",
        "choose_focus_skills",
        "match_activities",
        "schedule_activities",
    ],
    "mentors": ["match_mentors", "MentorMatching"],
    "demand": ["gap_heatmap", "training_demand", "content_gaps", "find_experts"],
    "confidentiality": ["source_scores_for_display", "comments_for_display"],
    "engagement": ["load_engagement", "Engagement", "EngagementError", "open_organisation"],
    "report": ["build_report"],
    "explore": ["Explorer"],
    "pipeline": ["run_engagement", "run_batch", "RunResult"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"workbench.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
