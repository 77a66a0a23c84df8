"""Before the calibration fits anything: its options checked, the ratings prepared, the
refusals no choice of terms can avoid, and the rater-ratee network.

:func:`check_options` checks the terms and options of
:func:`~workbench.calibration.calibrate.calibrate_ratings` (the random terms it may fit are
:data:`TERMS`; with ``waves="joint"`` they are nested in the wave, :data:`WAVE_TERMS`);
:func:`prepare_ratings` checks and types the ratings (also for the Rasch model);
:func:`check_identifiable` refuses designs nothing can be calibrated on; :func:`rater_network`
labels the connected subsets of the rater-ratee network, :func:`connectivity_frame` counts
them. The names without an underscore outside ``__all__`` are the calibration's internal
interface (the front door, the subset fit and the Rasch model use them).

Examples
--------
>>> r = pd.DataFrame({"ratee": ["a", "b", "c"], "rater": ["x", "x", "y"]})
>>> connectivity_frame(r.assign(subset=rater_network(r)))[["subset", "n_ratees"]].to_dict("list")
{'subset': [1, 2], 'n_ratees': [2, 1]}
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from workbench.calibration.result import CalibrationWarning
from workbench.checks import check_alpha, check_choice, check_choices, check_integer
from workbench.errors import ConfigError, InputError, ModelError, Problem

__all__ = ["rater_network"]

TERMS = ("ratee", "ratee:skill", "rater", "rater:ratee", "rater:skill", "rater:ratee:skill")
WAVE_TERMS = {"ratee": "ratee:wave", "ratee:skill": "ratee:skill:wave",
              "rater:ratee": "rater:ratee:wave", "rater": "rater", "rater:skill": "rater:skill",
              "rater:ratee:skill": "rater:ratee:skill:wave"}
#: The term that item-level ratings add: a rater's view of a ratee's competency, shared by the
#: competency's items (without it the items of one answer would count as independent ratings).
ITEM_TERM = "rater:ratee:skill"
#: Prefix of the fixed item columns (sum-to-zero contrasts within a competency).
ITEM_PREFIX = "item"
REQUIRED = ("ratee", "rater", "source", "skill", "score")
WAVES = ("pooled", "joint")
CONNECTIVITY = ("largest", "separate", "error")
TERMS_POLICY = ("identifiable", "exact")
THIN_SKILL = 5  # ratings per skill below which the skill means are barely supported


def check_options(terms, reference, waves, connectivity, min_ratings, alpha, terms_policy):
    terms = check_choices("terms", terms, TERMS)
    if len(set(terms)) != len(terms):
        raise ConfigError(f"terms repeat: {terms}")
    if not {"ratee", "ratee:skill"} & set(terms):
        raise ConfigError("terms must include 'ratee' or 'ratee:skill': the calibrated score "
                          "is built from them")
    check_choice("waves", waves, WAVES)
    check_choice("connectivity", connectivity, CONNECTIVITY)
    check_choice("terms_policy", terms_policy, TERMS_POLICY)
    if not isinstance(reference, str) or not reference:
        raise ConfigError(f"reference={reference!r}: 'others' or a source name")
    check_integer("min_ratings", min_ratings, low=1)
    check_alpha(alpha)
    return terms


def check_reference(data: pd.DataFrame, reference: str) -> None:
    """``reference`` against the sources present, before anything is fitted."""
    sources = sorted(data["source"].unique().tolist())
    reference_weights(sources, reference)


def prepare_ratings(ratings: pd.DataFrame, waves: str) -> pd.DataFrame:
    if not isinstance(ratings, pd.DataFrame):
        raise ConfigError(f"ratings must be a DataFrame, not {type(ratings).__name__}")
    missing = [c for c in REQUIRED if c not in ratings]
    if missing:
        raise InputError([Problem("ratings", None, missing[0],
                                  f"ratings lack column(s) {', '.join(missing)}; expected "
                                  f"{', '.join(REQUIRED)}")])
    data = ratings.copy()
    if "wave" not in data:
        data["wave"] = 1
    data["score"] = pd.to_numeric(data["score"], errors="coerce")
    for col in ("ratee", "rater", "source", "skill"):
        if data[col].isna().any():
            row = int(np.flatnonzero(data[col].isna().to_numpy())[0])
            raise InputError([Problem("ratings", row + 2, col, f"column {col!r} is missing "
                                      f"in row {row + 2}")])
        data[col] = data[col].astype(str)
    empty = data.groupby("skill")["score"].count()
    if (empty == 0).any():
        raise InputError([Problem("ratings", None, "skill",
                                  f"skill(s) {', '.join(empty.index[empty == 0])} have no "
                                  "ratings")])
    data = data[data["score"].notna()].reset_index(drop=True)
    if not np.isfinite(data["score"].to_numpy(dtype=float)).all():
        raise InputError([Problem("ratings", None, "score", "column 'score' holds infinite "
                                  "values")])
    if data["wave"].isna().any():
        raise InputError([Problem("ratings", None, "wave", "column 'wave' has missing "
                                  "values")])
    data = _prepare_items(data)
    wave_list = sorted(data["wave"].unique().tolist())
    if waves == "pooled" and len(wave_list) > 1:
        raise ConfigError(
            f"the ratings hold {len(wave_list)} waves ({', '.join(map(str, wave_list))}); "
            "choose waves='joint' to calibrate them together on one scale, or use one wave "
            f"(in an engagement file: data.waves: [{wave_list[-1]}])"
        )
    return data


def _prepare_items(data: pd.DataFrame) -> pd.DataFrame:
    """The ``item`` column as text, checked: present on every row and in one skill only.

    A column with no item at all is dropped (ratings at the competency level).
    """
    if "item" not in data:
        return data
    if data["item"].isna().all():
        return data.drop(columns="item")
    problems = [Problem("ratings", int(row) + 2, "item", "no item on this row while other "
                        "rows name one")
                for row in np.flatnonzero(data["item"].isna().to_numpy())[:20]]
    data["item"] = data["item"].astype(str)
    skills = data.groupby("item")["skill"].unique()
    for item, in_skills in skills[skills.map(len) > 1].items():
        problems.append(Problem("ratings", None, "item", f"item {item!r} is in more than one "
                                f"skill ({', '.join(sorted(in_skills))}); an item belongs "
                                "to one competency"))
    if problems:
        raise InputError(problems)
    return data


def itemised(data: pd.DataFrame) -> bool:
    """Whether some competency is measured by two or more items in these ratings."""
    return "item" in data and bool((data.groupby("skill")["item"].nunique() > 1).any())


def check_identifiable(data: pd.DataFrame, terms: tuple = ()):
    """Refusals no choice of terms can avoid; ``terms`` naming ``rater`` also needs raters.

    (The calibration passes no terms: :func:`identifiable_terms` drops a rater term the
    design cannot carry. The Rasch model's rater facet cannot be dropped.)
    """
    if len(data) == 0:
        raise ModelError("no ratings with a score to calibrate")
    if data["score"].nunique() == 1:
        raise ModelError(f"every score is {data['score'].iloc[0]}: constant scores carry no "
                         "information about raters or ratees")
    if "rater" in terms and data["rater"].nunique() < 2:
        raise ModelError("only one rater: rater leniency cannot be separated from the ratees' "
                         "levels; drop 'rater' from terms or add raters")
    if data["ratee"].nunique() < 2:
        raise ModelError("only one ratee: nothing to calibrate against")
    per_ratee = data.groupby(["ratee", "wave"]).size()
    if (per_ratee <= 1).all():
        raise ModelError("each ratee has only one rating: ratee levels cannot be separated "
                         "from the rating noise")


def rater_network(ratings: pd.DataFrame, *, waves: str = "pooled") -> pd.Series:
    """Connected subsets of the bipartite rater-ratee network, one label per rating.

    Ratees (per wave when ``waves="joint"``) and raters are the nodes; each rating is an
    edge. Subsets are numbered 1, 2, ... from the largest (most ratings) down.

    Examples
    --------
    >>> r = pd.DataFrame({"ratee": ["a", "b", "c"], "rater": ["x", "x", "y"]})
    >>> rater_network(r).tolist()
    [1, 1, 2]
    """
    if waves == "joint" and "wave" in ratings:
        ratee_key = ratings["ratee"].astype(str) + "\x1f" + ratings["wave"].astype(str)
    else:
        ratee_key = ratings["ratee"].astype(str)
    ei, _ = pd.factorize(ratee_key)
    ri, _ = pd.factorize(ratings["rater"].astype(str))
    ne, nr = ei.max() + 1, ri.max() + 1
    graph = sp.coo_matrix((np.ones(len(ei)), (ei, ne + ri)), shape=(ne + nr, ne + nr))
    _, labels = connected_components(graph, directed=False)
    comp = labels[ei]
    sizes = np.bincount(comp)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return pd.Series(rank[comp] + 1, index=ratings.index, name="subset")


def subsets_listing(conn: pd.DataFrame) -> str:
    """One line naming each connected subset's size (for warnings and errors)."""
    return "; ".join(f"subset {r.subset}: {r.n_ratees} ratees, {r.n_raters} raters, "
                     f"{r.n_ratings} ratings" for r in conn.itertuples())


def connectivity_frame(data: pd.DataFrame) -> pd.DataFrame:
    grouped = data.groupby("subset")
    return pd.DataFrame({
        "subset": grouped.size().index,
        "n_ratees": grouped["ratee"].nunique().to_numpy(),
        "n_raters": grouped["rater"].nunique().to_numpy(),
        "n_ratings": grouped.size().to_numpy(),
    })


def reference_weights(sources: list, reference: str) -> dict:
    if reference == "others":
        others = [s for s in sources if s != "self"]
        if not others:
            raise ConfigError("reference='others' needs ratings from at least one non-self "
                              "source")
        return {s: 1.0 / len(others) for s in others}
    if reference not in sources:
        raise ConfigError(f"reference={reference!r}: not a source in the ratings (present: "
                         f"{', '.join(sources)})")
    return {reference: 1.0}



def check_anonymous(ratings, anonymous_raters) -> bool:
    """``anonymous_raters`` checked; None takes the survey reader's flag on ``ratings``."""
    if anonymous_raters is None:
        attrs = getattr(ratings, "attrs", {}) or {}
        return bool(attrs.get("anonymous_raters", False))
    if not isinstance(anonymous_raters, bool | np.bool_):
        raise ConfigError(f"anonymous_raters={anonymous_raters!r}: True, False or None")
    return bool(anonymous_raters)


def warn_thin_design(data: pd.DataFrame) -> None:
    """Warn when the fixed skill effects have too few ratings behind them (issue #14)."""
    per_skill = data.groupby("skill").size()
    thin = per_skill[per_skill < THIN_SKILL]
    if len(thin) and len(thin) >= 0.5 * len(per_skill):
        warnings.warn(
            f"{len(thin)} of {len(per_skill)} skills have fewer than {THIN_SKILL} ratings "
            f"(median {int(per_skill.median())}): skill means and the person-by-skill term are "
            "barely supported; expect wide intervals (check wide_interval) or calibrate fewer "
            "skills", CalibrationWarning, stacklevel=3)

