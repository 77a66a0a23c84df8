"""Talent-analytics workbench: 360 ratings into calibrated scores, profiles, impact and plans.

The folder tree reads as the data flow (see ``docs/architecture.md``)::

    tables -> calibration -> profiles, impact -> progression -> plans -> reporting
    (synth makes organisations with known truth; runs executes the notebooks; cli is the
    command line)

The top level offers the names a notebook user needs (:data:`API`, listed in ``docs/api.md``),
imported lazily, so ``import workbench`` stays quick. Everything else is reached through its
stage: ``from workbench.calibration import fit_mixed``.

Examples
--------
>>> import workbench as wb
>>> org = wb.generate_organisation(60, seed=1, n_waves=1)
>>> len(org.people)
60
>>> wb.fit_mixed
Traceback (most recent call last):
...
AttributeError: module 'workbench' has no attribute 'fit_mixed'
"""

from __future__ import annotations

from workbench._lazy import lazy_names
from workbench._version import __version__  # noqa: F401

#: The curated public names, by the module that defines each.
API = {
    # data in
    "load_organisation": "workbench.tables.organisation",
    "load_table": "workbench.tables.validate",
    "summarise_organisation": "workbench.tables.summary",
    "Organisation": "workbench.tables.organisation",
    "Scale": "workbench.tables.columns",
    "as_scores": "workbench.tables.scores",
    "generate_organisation": "workbench.synth.generator",
    # calibration
    "calibrate_ratings": "workbench.calibration.calibrate",
    "Calibration": "workbench.calibration.result",
    "calibrate_rasch": "workbench.calibration.rasch.calibrate",
    "RaschCalibration": "workbench.calibration.rasch.calibrate",
    "compare_calibrations": "workbench.calibration.compare",
    "CalibrationComparison": "workbench.calibration.compare",
    "calibrated_scores": "workbench.calibration.handover",
    "reliability_report": "workbench.calibration.reliability.summary",
    "ReliabilityReport": "workbench.calibration.reliability.summary",
    "self_other_agreement": "workbench.calibration.reliability.agreement",
    "AgreementResult": "workbench.calibration.reliability.agreement",
    # profiles, impact, progression
    "find_profiles": "workbench.profiles.select",
    "ProfileResult": "workbench.profiles.result",
    "estimate_impact": "workbench.impact.result",
    "ImpactResult": "workbench.impact.result",
    "assess_readiness": "workbench.progression.result",
    "Readiness": "workbench.progression.result",
    # plans and reports
    "build_plans": "workbench.plans.build",
    "PlanSet": "workbench.plans.result",
    "write_plans": "workbench.plans.write",
    "build_report": "workbench.reporting.html_report",
    "Explorer": "workbench.reporting.explorer",
    # runs
    "load_engagement": "workbench.runs.engagement",
    "run_engagement": "workbench.runs.pipeline",
    "run_batch": "workbench.runs.batch",
    "open_organisation": "workbench.runs.engagement",
    "RunResult": "workbench.runs.pipeline",
    # shared
    "Result": "workbench.results",
    "WorkbenchError": "workbench.errors",
    "ConfigError": "workbench.errors",
    "InputError": "workbench.errors",
    "ModelError": "workbench.errors",
}

#: The stages, reachable as attributes (``wb.calibration.fit_mixed``).
SUBPACKAGES = ("errors", "checks", "results", "writers", "escaping", "presentation", "tables",
               "synth", "calibration", "simulation", "profiles", "impact", "progression", "plans",
               "reporting", "runs")

__getattr__, __dir__ = lazy_names(globals(), API, SUBPACKAGES)
