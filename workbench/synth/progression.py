"""Career paths, target roles and business outcomes with known truth (``progression=True``).

Paths follow the organisation chart: Specialist -> Senior Specialist (18 months) -> Team Lead
(24) -> Manager (30), and Senior Specialist -> Manager (36). About a quarter of the people
carry a ``target_role`` two moves up (when there is one).

Outcomes (``person, date, period, metric, value, higher_is_better``) are driven by the true
skills. With ``c_t`` the person's composite for the metric (the mean of their true skills of
the metric's skill groups at time t, standardised with the organisation's wave-1 mean and SD;
``customer_score`` follows the Execution skills only, so activities for other skills have no
effect on it unless stated ``direct``), a stable person effect ``u`` and
noise ``e``:

    y[m, pre]  = mu_m + b_m c_1 + u + e            (period "2025-H2", before the first survey)
    y[m, post] = mu_m + drift_m + b_m c_2 + u + direct_m[a] completed + e    ("2026-H2")

so a completed activity changes the outcome through the skill gain (``b_m`` x its effect on the
composite: mediated) and, for some activities, directly (``direct``). Metrics:
``performance`` (1-5 rating, higher is better), ``customer_score`` (0-100, higher is better,
with direct effects for a third of the activities) and ``quality_errors`` (count per month,
lower is better: ``b_m < 0``). A one-wave organisation has the post period only with ``c_1``.

Leaving: time from the first survey to leaving is exponential with hazard
``h0 exp(beta c_1)`` (``beta = -0.5`` per SD of the composite), censored at 2027-06-30, the
data's end: a row ``metric="left", value=1`` dated the day of leaving.

The truth (``org.truth``): ``validity`` (metric, skill or "overall" (the mean of all skills),
estimate: the correlation in this organisation between the true wave-1 skill and the post
outcome), ``outcome_effects``
(activity, metric, effect = mediated + direct, mediated, direct: the change of the outcome per
completed activity), ``leaving`` (term, log_hazard_ratio, baseline hazard per day) and
``composite`` (person, composite_1[, composite_2]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PATHS", "METRICS", "DATA_END", "progression_tables"]

#: role, next_role, typical_months
PATHS = (("Specialist", "Senior Specialist", 18), ("Senior Specialist", "Team Lead", 24),
         ("Senior Specialist", "Manager", 36), ("Team Lead", "Manager", 30))
#: metric -> (mu, b per SD of the composite, person SD, noise SD, drift, higher_is_better,
#: skill groups of the composite: None for every skill)
METRICS = {
    "performance": (3.2, 0.35, 0.25, 0.30, 0.05, True, None),
    "customer_score": (72.0, 4.0, 4.0, 5.0, 0.5, True, ("Execution",)),
    "quality_errors": (6.0, -0.8, 0.8, 1.0, -0.1, False, ("Thinking", "Execution")),
}
DATA_END = pd.Timestamp("2027-06-30")
PERIODS = (("2025-H2", "2025-12-31"), ("2026-H2", "2026-12-31"))
LEAVE_BETA = -0.5
LEAVE_RATE = 0.15 / 365.0  # about 15% a year at the average composite


def _targets(people, rng):
    up_two = {"Specialist": "Team Lead", "Senior Specialist": "Manager"}
    target = people["role"].map(up_two)
    keep = rng.random(len(people)) < 0.25
    return target.where(keep & target.notna(), None)


def _composites(true, cols):
    mean1 = true[1][:, cols].mean(axis=1)
    return {w: (values[:, cols].mean(axis=1) - mean1.mean()) / mean1.std()
            for w, values in true.items()}


def progression_tables(people, true, skill_names, enrollments, catalog, effects, dates, rng, *,
                       skill_groups):
    """(people with target_role, paths, outcomes, truth) for a generated organisation.

    ``skill_groups`` maps each skill name to its group (the generator's ``SKILLS``).
    """
    n = len(people)
    ids = people["person"].to_numpy()
    people = people.assign(target_role=_targets(people, rng).to_numpy())
    paths = pd.DataFrame(PATHS, columns=["role", "next_role", "typical_months"])

    group = skill_groups
    comp = _composites(true, range(len(skill_names)))
    last = max(true)
    activities = sorted(effects["activity"].unique())
    completed = (enrollments[enrollments["completed"].astype(bool)]
                 if len(enrollments) else enrollments)
    rows, effect_rows, validity = [], [], []
    for m, (mu, b, sd_u, sd_e, drift, higher, groups) in METRICS.items():
        cols = [k for k, sk in enumerate(skill_names) if groups is None or group[sk] in groups]
        comp_m = _composites(true, cols)
        sd1 = true[1][:, cols].mean(axis=1).std()
        chosen = effects[effects["skill"].isin([skill_names[k] for k in cols])]
        per_activity = chosen.groupby("activity")["effect"].sum() / len(cols) / sd1
        direct = {a: (0.15 * sd_e * 4 if (m == "customer_score" and k % 3 == 0) else 0.0)
                  for k, a in enumerate(activities)}
        u = rng.normal(0, sd_u, n)
        extra = np.zeros(n)
        if len(completed):
            pos = pd.Series(np.arange(n), index=ids)
            for row in completed.itertuples(index=False):
                extra[pos[row.person]] += direct[row.activity]
        periods = [(0, PERIODS[0], comp_m[1], 0.0, 0.0)] if last == 2 else []
        periods.append((1, PERIODS[1], comp_m[last], drift, 1.0))
        for _, (period, date), c, shift, trained in periods:
            value = mu + shift + b * c + u + trained * extra + rng.normal(0, sd_e, n)
            if m == "performance":
                value = np.clip(value, 1.0, 5.0)
            if m == "quality_errors":
                value = np.maximum(value, 0.0)
            rows.append(pd.DataFrame({"person": ids, "date": date, "period": period,
                                      "metric": m, "value": value, "higher_is_better": higher}))
        post = rows[-1]["value"].to_numpy()
        for s, skill in enumerate(skill_names):
            validity.append((m, skill, float(np.corrcoef(true[1][:, s], post)[0, 1])))
        # "overall": the mean of all the person's skills (what the validity analysis uses)
        validity.append((m, "overall", float(np.corrcoef(comp[1], post)[0, 1])))
        for a in activities:
            mediated = b * float(per_activity.get(a, 0.0)) if last == 2 else 0.0
            effect_rows.append((a, m, mediated + direct[a], mediated, direct[a]))
    outcomes = pd.concat(rows, ignore_index=True)
    hazard = LEAVE_RATE * np.exp(LEAVE_BETA * comp[1])
    days = rng.exponential(1.0 / hazard)
    leave = dates[0] + pd.to_timedelta(np.floor(days), unit="D")
    left = leave <= DATA_END
    outcomes = pd.concat([outcomes, pd.DataFrame({
        "person": ids[left], "date": leave[left].strftime("%Y-%m-%d"), "period": None,
        "metric": "left", "value": 1.0, "higher_is_better": False})], ignore_index=True)
    composite = pd.DataFrame({"person": ids, **{f"composite_{w}": c for w, c in comp.items()}})
    truth = {
        "validity": pd.DataFrame(validity, columns=["metric", "skill", "estimate"]),
        "outcome_effects": pd.DataFrame(effect_rows, columns=["activity", "metric", "effect",
                                                              "mediated", "direct"]),
        "leaving": pd.DataFrame({"term": ["composite_1"], "log_hazard_ratio": [LEAVE_BETA],
                                 "baseline_hazard_per_day": [LEAVE_RATE]}),
        "composite": composite,
    }
    return people, paths, outcomes, truth
