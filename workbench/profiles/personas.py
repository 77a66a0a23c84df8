"""Profiles in words: personas, short labels, composition by role and level, the summary table.

A profile's persona compares its mean in each skill with the organisation:
``z = (mean - org mean) / org SD``; ``|z| >= 0.5`` is "above/below", ``|z| >= 1`` "well
above/below". Its label names at most two skills each way ("High Feedback, low Strategy").

Examples
--------
>>> import pandas as pd
>>> describe_persona(pd.Series({"Feedback": 1.2, "Strategy": -0.6, "Planning": 0.1}))
'Well above the organisation in Feedback; below in Strategy.'
>>> profile_label(pd.Series({"Feedback": 1.2, "Strategy": -0.6, "Planning": 0.1}))
'High Feedback, low Strategy'
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from workbench.errors import InputError

__all__ = ["describe_persona", "profile_label", "profile_composition", "profile_summary", "means_frame",
           "SMALL_SHARE", "ABOVE", "WELL_ABOVE"]

#: A profile holding less than this share of people is flagged ``small``.
SMALL_SHARE = 0.05
ABOVE, WELL_ABOVE = 0.5, 1.0


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def describe_persona(z: pd.Series) -> str:
    order = z.sort_values(ascending=False)
    well_up = [s for s, v in order.items() if v >= WELL_ABOVE]
    up = [s for s, v in order.items() if ABOVE <= v < WELL_ABOVE]
    low = z.sort_values()
    well_down = [s for s, v in low.items() if v <= -WELL_ABOVE]
    down = [s for s, v in low.items() if -WELL_ABOVE < v <= -ABOVE]
    parts = []
    if well_up:
        parts.append(f"well above the organisation in {_join(well_up)}")
    if up:
        parts.append(f"{'also ' if well_up else ''}above the organisation in {_join(up)}"
                     if not well_up else f"above in {_join(up)}")
    if well_down:
        parts.append(f"well below in {_join(well_down)}" if parts
                     else f"well below the organisation in {_join(well_down)}")
    if down:
        parts.append(f"below in {_join(down)}" if parts
                     else f"below the organisation in {_join(down)}")
    if not parts:
        return "Close to the organisation's average in every skill."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def profile_label(z: pd.Series) -> str:
    hi = z[z >= ABOVE].sort_values(ascending=False).index[:2].tolist()
    lo = z[z <= -ABOVE].sort_values().index[:2].tolist()
    if not hi and not lo:
        return "Average"
    if len(hi) >= 1 and len(lo) == 0 and (z >= ABOVE).mean() > 0.6:
        return "High all-round"
    if len(lo) >= 1 and len(hi) == 0 and (z <= -ABOVE).mean() > 0.6:
        return "Low all-round"
    text = []
    if hi:
        text.append("High " + " & ".join(hi))
    if lo:
        text.append("low " + " & ".join(lo) if hi else "Low " + " & ".join(lo))
    return ", ".join(text)


def profile_composition(assign: pd.DataFrame, people: pd.DataFrame | None):
    if people is None:
        return None
    if not isinstance(people, pd.DataFrame):
        raise InputError(f"people: expected a DataFrame, got {type(people).__name__}")
    key = "person" if "person" in people.columns else "ratee" if "ratee" in people.columns \
        else None
    if key is None:
        raise InputError("people: needs a 'person' column to join the profiles with")
    cols = [c for c in ("role", "level") if c in people.columns]
    if not cols:
        raise InputError("people: needs a 'role' or 'level' column to describe the profiles")
    info = people[[key, *cols]].drop_duplicates(key).copy()
    info[key] = info[key].astype(str)
    joined = assign.merge(info.rename(columns={key: "person"}), on="person", how="left")
    rows = []
    for col in cols:
        values = joined[col].astype("object").where(joined[col].notna(), "unknown")
        counts = joined.assign(value=values).groupby(["profile", "value"]).size()
        for (profile, value), n_ in counts.items():
            rows.append({"profile": profile, "variable": col, "value": value, "n": int(n_)})
    comp = pd.DataFrame(rows)
    comp["share"] = comp["n"] / comp.groupby(["profile", "variable"])["n"].transform("sum")
    return comp.sort_values(["profile", "variable", "n", "value"],
                            ascending=[True, True, False, True]).reset_index(drop=True)


def _composition_text(comp: pd.DataFrame, profile: int, variable: str) -> str:
    part = comp[(comp["profile"] == profile) & (comp["variable"] == variable)]
    return ", ".join(f"{v} {s:.0%}" for v, s in zip(part["value"], part["share"], strict=True))


def profile_summary(sol, means, labels, skills, n, stability, comp):
    sizes = np.bincount(labels, minlength=sol.k)
    z = means.pivot(index="profile", columns="skill", values="z")[skills]
    est = means.pivot(index="profile", columns="skill", values="estimate")[skills]
    rows = []
    for j in range(sol.k):
        p = j + 1
        row = {"profile": p, "label": profile_label(z.loc[p]), "size": int(sizes[j]),
               "share": sizes[j] / n, "persona": describe_persona(z.loc[p]),
               "small": bool(sizes[j] / n < SMALL_SHARE),
               "stability": np.nan if stability is None else
               float(stability.loc[stability["profile"] == p, "jaccard"].iloc[0])}
        if comp is not None:
            for var, name in (("role", "roles"), ("level", "levels")):
                if var in set(comp["variable"]):
                    row[name] = _composition_text(comp, p, var)
        row |= {skill: float(est.loc[p, skill]) for skill in skills}
        rows.append(row)
    return pd.DataFrame(rows)



def means_frame(sol, x, skills, labels, alpha):
    q = NormalDist().inv_cdf(1 - alpha / 2)
    centre, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    nk = sol.proba.sum(axis=0)
    rows = []
    for j in range(sol.k):
        var = np.diag(sol.covariances[j])
        if sol.method != "lpa":
            var = x[labels == j].var(axis=0, ddof=1) if np.sum(labels == j) > 1 else \
                np.full(len(skills), np.nan)
        se = np.sqrt(var / max(nk[j], 1e-12))
        for s, skill in enumerate(skills):
            est = sol.means[j, s]
            rows.append({"profile": j + 1, "skill": skill, "estimate": est, "se": se[s],
                         "ci_low": est - q * se[s], "ci_high": est + q * se[s],
                         "z": (est - centre[s]) / sd[s]})
    return pd.DataFrame(rows)
