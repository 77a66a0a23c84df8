"""A synthetic organisation with known truth: the demo data and the ground for recovery tests.

The generating model, on the rating scale (default 1 to 5):

    true[i, s, w]   = skill_mean[s] + profile_mean[p_i, s] + general[i] + specific[i, s]
                      (+ for w = 2: drift + sum of completed activities' effect on s + change noise)
    score[r, i, s, w] = true[i, s, w] + source_offset[source] + leniency[r] + halo[r, i] + residual

Self ratings carry ``source_offset["self"]`` (self-inflation). The non-self offsets average to
zero, so the "true score" is what the average non-self source would give with a neutral rater:
the calibrated score's reference. Scores are rounded (default: to whole points) and clipped to
the scale, as a survey export would be.

With ``items_per_skill=k`` each skill is measured by k behavioural items (the instrument is
``org.instrument``; ``truth["items"]`` holds each item's difficulty and reverse keying):

    answer[r, i, s, k, w] = score_latent[r, i, s, w] + difficulty[s, k] + item_residual

so the skill-level residual becomes what the items of one skill share within a rater and
ratee. Difficulties sum to zero within a skill: the mean over a skill's items keeps the
skill's true score. An item left unanswered (``missing_rate``) is a "not observed" answer in
a survey export (:mod:`workbench.synth.exports`). Reverse-keyed items are stored scored in the
skill's direction (the ratings contract); an export writes ``min + max - score`` for them. The
item draws come from their own random stream: without items every table is as it always was.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> org = generate_organisation(120, seed=1)
>>> sorted(org.ratings["source"].unique())
['direct_report', 'manager', 'peer', 'self']
>>> org.truth["rater_effects"].columns.tolist()
['rater', 'leniency']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError

__all__ = ["SyntheticOrganisation", "generate_organisation", "write_organisation", "SKILLS",
           "answers_as_given"]

SKILLS = (
    ("Strategic Thinking", "Thinking", "knowledge"),
    ("Planning", "Execution", "knowledge"),
    ("Communication", "People", "behaviour"),
    ("Feedback", "People", "behaviour"),
    ("Delegation", "Execution", "behaviour"),
    ("Coaching", "People", "behaviour"),
    ("Decision Making", "Thinking", "knowledge"),
    ("Collaboration", "People", "behaviour"),
    ("Customer Focus", "Execution", "knowledge"),
    ("Innovation", "Thinking", "knowledge"),
)

# Profile templates: deviations from the organisation's skill means, by skill name.
PROFILES = (
    ("Strategist", {"Strategic Thinking": 0.8, "Planning": 0.6, "Decision Making": 0.6,
                    "Innovation": 0.5, "Feedback": -0.7, "Delegation": -0.7, "Coaching": -0.5}),
    ("People champion", {"Coaching": 0.8, "Feedback": 0.7, "Collaboration": 0.7,
                         "Communication": 0.5, "Planning": -0.7, "Decision Making": -0.6,
                         "Strategic Thinking": -0.5, "Customer Focus": -0.3}),
    ("Newcomer", {"Strategic Thinking": -0.6, "Planning": -0.6, "Communication": -0.5,
                  "Feedback": -0.6, "Delegation": -0.6, "Coaching": -0.6, "Decision Making": -0.6,
                  "Collaboration": -0.4, "Customer Focus": -0.5, "Innovation": -0.4}),
    ("Executor", {"Planning": 0.7, "Decision Making": 0.5, "Delegation": 0.7,
                  "Customer Focus": 0.6, "Strategic Thinking": -0.6, "Coaching": -0.6,
                  "Innovation": -0.6, "Collaboration": -0.3}),
    ("All-rounder", {s[0]: 0.55 for s in SKILLS}),
)

ROLES = ("Specialist", "Senior Specialist", "Team Lead", "Manager")
ROLE_BASE_LEVEL = {"Specialist": 3.0, "Senior Specialist": 3.5, "Team Lead": 3.5, "Manager": 4.0}
PEOPLE_SKILLS = {"Feedback", "Delegation", "Coaching"}

# Item ids: a code per skill and the item's number (COM1, COM2, ...).
SKILL_CODES = {"Strategic Thinking": "STR", "Planning": "PLA", "Communication": "COM",
               "Feedback": "FBK", "Delegation": "DEL", "Coaching": "COA",
               "Decision Making": "DEC", "Collaboration": "COL", "Customer Focus": "CUS",
               "Innovation": "INN"}
# Item wordings: "<stem> <skill in lower case>"; the reverse-keyed stem says the opposite.
ITEM_STEMS = ("Shows strong", "Is consistent in", "Adapts to the situation in",
              "Explains the reasons behind", "Asks for input on", "Follows through on")
REVERSE_STEM = "Avoids or neglects"
# Which items are reverse-keyed: the last item of these skills (two items in all).
REVERSED_SKILLS = ("Communication", "Delegation")

SOURCE_OFFSETS = {"self": 0.45, "manager": -0.10, "peer": 0.0, "direct_report": 0.10}

# Mean true effect of one completed activity on the skill it targets, by kind.
KIND_EFFECT = {"course": 0.25, "reading": 0.10, "case_study": 0.25, "role_play": 0.30,
               "coaching": 0.40, "stretch_assignment": 0.35, "observation": 0.15,
               "mentoring": 0.30}
KIND_SHAPE = {  # level_from, level_to, hours, weeks, cost, modality
    "course": (1, 3, 8, 4, 600, "virtual classroom"),
    "reading": (1, 3, 3, 2, 40, "self-paced"),
    "case_study": (2, 4, 6, 3, 300, "workshop"),
    "role_play": (2, 4, 4, 2, 450, "workshop"),
    "coaching": (2, 5, 6, 8, 1500, "one-to-one"),
    "stretch_assignment": (3, 5, 20, 10, 0, "on the job"),
    "observation": (2, 4, 3, 3, 0, "on the job"),
    "mentoring": (2, 5, 6, 12, 0, "one-to-one"),
}
KNOWLEDGE_KINDS = ("course", "reading", "case_study")
BEHAVIOUR_KINDS = ("role_play", "coaching", "stretch_assignment", "observation")


@dataclass
class SyntheticOrganisation:
    """Tables of a generated organisation and the truth behind them.

    Attributes
    ----------
    ratings, people, framework, catalog, enrollments, scale : DataFrame
        The tables, in the workbench's contracts.
    instrument : DataFrame or None
        With items: item, column, skill, reverse, text (the survey's instrument).
    paths, outcomes : DataFrame or None
        With ``progression=True``: career paths and business outcomes
        (:mod:`workbench.synth.progression`); ``people`` then has ``target_role``.
    truth : dict of DataFrame
        ``true_scores`` (person, skill, wave, true_score), ``rater_effects`` (rater, leniency),
        ``halo`` (rater, ratee, halo), ``source_effects`` (source, offset), ``profiles``
        (person, profile, profile_name), ``profile_means`` (profile, profile_name, skill, mean),
        ``training_effects`` (activity, skill, effect), ``variance_components`` (component, sd);
        with items also ``items`` (item, skill, difficulty, reverse); with progression also
        ``validity``, ``outcome_effects``, ``leaving`` and ``composite``.
    params : dict
        The generator's arguments and seed.
    """

    ratings: pd.DataFrame
    people: pd.DataFrame
    framework: pd.DataFrame
    catalog: pd.DataFrame
    enrollments: pd.DataFrame
    scale: pd.DataFrame
    truth: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    instrument: pd.DataFrame | None = None
    paths: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None

    def to_organisation(self):
        """The tables as a :class:`workbench.tables.data.Organisation` (no files involved)."""
        from workbench.tables.data import Organisation, Scale

        anchors = dict(zip(self.scale["value"].astype(float), self.scale["label"], strict=True))
        return Organisation(
            ratings=self.ratings.copy(),
            people=self.people.copy(),
            framework=self.framework.copy(),
            catalog=self.catalog.copy(),
            enrollments=self.enrollments.copy(),
            scale=Scale(min(anchors), max(anchors), anchors),
            files={"ratings": "<synthetic>"},
            paths=None if self.paths is None else self.paths.copy(),
            outcomes=None if self.outcomes is None else self.outcomes.copy(),
        )

    def write(self, out: str | Path, *, fmt: str = "csv") -> Path:
        """Write the tables to ``out`` and the truth to ``out/truth``; see write_organisation."""
        return write_organisation(self, out, fmt=fmt)


def _org_chart(n_people: int, rng: np.random.Generator) -> pd.DataFrame:
    """Managers over team leads over specialists; teams of about nine."""
    n_teams = max(2, int(round(n_people / 9.5)))
    n_managers = max(1, int(np.ceil(n_teams / 5)))
    n_members = n_people - n_managers - n_teams
    if n_members < 2 * n_teams:
        raise ConfigError(f"n_people={n_people} is too small for an organisation (need >= 30)")
    sizes = np.full(n_teams, n_members // n_teams)
    sizes[: n_members % n_teams] += 1
    rows = []
    width = len(str(n_people))
    pid = iter(f"P{k:0{width}d}" for k in range(1, n_people + 1))
    managers = []
    for m in range(n_managers):
        person = next(pid)
        managers.append(person)
        rows.append((person, "Manager", f"Leadership {m + 1}", None, "senior"))
    for t in range(n_teams):
        team = f"Team {t + 1:02d}"
        lead = next(pid)
        lead_level = rng.choice(["new", "experienced", "senior"], p=[0.3, 0.5, 0.2])
        rows.append((lead, "Team Lead", team, managers[t % n_managers], lead_level))
        for _ in range(sizes[t]):
            senior = rng.random() < 0.35
            role = "Senior Specialist" if senior else "Specialist"
            level = rng.choice(["experienced", "senior"]) if senior else rng.choice(
                ["new", "experienced"], p=[0.45, 0.55]
            )
            rows.append((next(pid), role, team, lead, level))
    people = pd.DataFrame(rows, columns=["person", "role", "team", "manager", "level"])
    base = people["level"].map({"new": 0.5, "experienced": 4.0, "senior": 9.0})
    people["tenure"] = np.round(base + rng.gamma(2.0, 1.0, len(people)), 1)
    people["location"] = rng.choice(["Lyon", "München", "Malmö", "São Paulo"], len(people),
                                     p=[0.4, 0.3, 0.2, 0.1])
    return people


def _framework(skills: list[tuple], rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for role in ROLES:
        for name, group, gap_type in skills:
            level = ROLE_BASE_LEVEL[role]
            if role in ("Team Lead", "Manager") and name in PEOPLE_SKILLS:
                level += 0.5
            if role in ("Specialist", "Senior Specialist") and name in PEOPLE_SKILLS:
                level -= 0.5
            weight = 3 if (role in ("Team Lead", "Manager")) == (name in PEOPLE_SKILLS) else 2
            weight = weight if rng.random() > 0.2 else 1
            rows.append((role, name, min(level, 5.0), float(weight), group, gap_type))
    return pd.DataFrame(
        rows, columns=["role", "skill", "required_level", "weight", "skill_group", "gap_type"]
    )


def _catalog(skills: list[tuple], rng: np.random.Generator):
    rows, effects = [], []
    k = 0
    for name, _group, gap_type in skills:
        own = KNOWLEDGE_KINDS if gap_type == "knowledge" else BEHAVIOUR_KINDS
        kinds = list(rng.choice(own, size=2, replace=False)) + ["mentoring"]
        for kind in kinds:
            k += 1
            lo, hi, hours, weeks, cost, modality = KIND_SHAPE[kind]
            activity = f"A{k:02d}"
            title = f"{name}: {kind.replace('_', ' ')}"
            rows.append((activity, title, name, kind, gap_type, lo, hi, hours, weeks, cost,
                         modality))
            effect = max(0.0, rng.normal(KIND_EFFECT[kind], 0.08))
            effects.append((activity, name, effect))
    # One programme that targets several people skills at once.
    people_skills = [s for s in skills if s[0] in PEOPLE_SKILLS]
    if people_skills:
        k += 1
        for name, _group, gap_type in people_skills:
            rows.append((f"A{k:02d}", "Leading People programme", name, "course", gap_type, 2, 4,
                         12, 6, 1200, "blended"))
            effects.append((f"A{k:02d}", name, max(0.0, rng.normal(0.2, 0.05))))
    catalog = pd.DataFrame(rows, columns=["activity", "title", "skill", "kind", "gap_type",
                                          "level_from", "level_to", "hours", "weeks", "cost",
                                          "modality"])
    return catalog, pd.DataFrame(effects, columns=["activity", "skill", "effect"])


def _rater_pairs(people: pd.DataFrame, n_peers: int, rng, *, cross_team: float = 0.25):
    """(ratee, rater, source) for one wave: self, manager, peers, direct reports.

    Peers share the ratee's manager (teammates; for leads, the other leads); a quarter of the
    peer invitations go to someone elsewhere, which keeps the rater network connected.
    """
    ids = people["person"].to_numpy()
    manager = people["manager"].to_numpy()
    has_manager = pd.notna(manager)
    boss = np.where(has_manager, manager, "<top>")
    siblings = {b: np.flatnonzero(boss == b) for b in np.unique(boss)}
    reports = {}
    for i, m in enumerate(manager):
        if has_manager[i]:
            reports.setdefault(m, []).append(ids[i])
    pairs = []
    n = len(ids)
    for i in range(n):
        pairs.append((ids[i], ids[i], "self"))
        if has_manager[i]:
            pairs.append((ids[i], manager[i], "manager"))
        own_reports = reports.get(ids[i], [])
        mates = siblings[boss[i]]
        mates = mates[mates != i]
        excluded = {ids[i], manager[i], *own_reports}
        n_cross = int(rng.binomial(n_peers, cross_team))
        n_mates = min(n_peers - n_cross, len(mates))
        chosen = set(rng.choice(mates, size=n_mates, replace=False).tolist()) if n_mates else set()
        for j in rng.integers(n, size=n_peers - n_mates):
            if ids[j] not in excluded:
                chosen.add(int(j))
        pairs += [(ids[i], ids[j], "peer") for j in sorted(chosen)]
        pairs += [(ids[i], r, "direct_report") for r in own_reports[:8]]
    return pd.DataFrame(pairs, columns=["ratee", "rater", "source"])


def generate_organisation(
    n_people: int = 300,
    *,
    seed: int | None = 0,
    n_skills: int = 8,
    n_profiles: int = 4,
    n_peers: int = 4,
    n_waves: int = 2,
    sd_general: float = 0.25,
    sd_specific: float = 0.25,
    sd_rater: float = 0.35,
    sd_halo: float = 0.25,
    sd_residual: float = 0.45,
    profile_scale: float = 1.0,
    missing_rate: float = 0.05,
    training_rate: float = 0.5,
    rounding: str | None = "integer",
    items_per_skill: int | None = None,
    progression: bool = False,
    sd_item: float = 0.35,
    clip: bool = True,
) -> SyntheticOrganisation:
    """Generate a realistic organisation whose truth is known.

    Parameters
    ----------
    n_people : int
        Head count (at least 30).
    seed : int or None
        Seed of the only random generator used.
    n_skills : int
        6 to 10 skills from a leadership framework.
    n_profiles : int
        3 to 5 latent skill profiles.
    n_peers : int
        Peer raters asked per ratee (some decline, a quarter come from other teams).
    n_waves : int
        1 or 2 rating waves; between them people take activities with known effects.
    sd_general, sd_specific, sd_rater, sd_halo, sd_residual : float
        Standard deviations of the ratee's general level, their skill-specific standing, rater
        leniency, halo (rater by ratee, shared across skills) and the residual.
    profile_scale : float
        Multiplies the profile templates' deviations (0 removes the profiles).
    missing_rate : float
        Share of single ratings left blank.
    training_rate : float
        Share of people who take at least one activity between the waves.
    rounding : {"integer", "half", None}
        How the survey records scores.
    items_per_skill : int or None
        2 to 6 behavioural items per skill (ratings gain an ``item`` column, one row per
        answered item); None (default): one score per skill, as before.
    progression : bool
        Add career paths, target roles and outcomes driven by the true skills, from their own
        random stream (:mod:`workbench.synth.progression`; every other table unchanged).
    sd_item : float
        Standard deviation of the item residual (with items only).
    clip : bool
        Clip the ratings to the scale's ends 1-5 (default). ``False`` keeps ratings beyond
        them (with ``rounding=None``: the linear model's own continuous data; shifting them
        and then rounding and clipping makes a lenient organisation with a true ceiling).

    Returns
    -------
    SyntheticOrganisation

    Examples
    --------
    >>> org = generate_organisation(60, seed=3, n_skills=6)
    >>> org.ratings["skill"].nunique()
    6
    """
    if n_people < 30:
        raise ConfigError(f"n_people={n_people} is too small for an organisation (need >= 30)")
    if not 6 <= n_skills <= len(SKILLS):
        raise ConfigError(f"n_skills={n_skills}: must be between 6 and {len(SKILLS)}")
    if not 3 <= n_profiles <= len(PROFILES):
        raise ConfigError(f"n_profiles={n_profiles}: must be between 3 and {len(PROFILES)}")
    if n_waves not in (1, 2):
        raise ConfigError(f"n_waves={n_waves}: must be 1 or 2")
    if rounding not in ("integer", "half", None):
        raise ConfigError(f"rounding={rounding!r}: must be 'integer', 'half' or None")
    if items_per_skill is not None and not (isinstance(items_per_skill, int)
                                            and 2 <= items_per_skill <= len(ITEM_STEMS)):
        raise ConfigError(f"items_per_skill={items_per_skill!r}: must be None or 2 to "
                          f"{len(ITEM_STEMS)}")
    params = {k: v for k, v in locals().items() if k != "params"}
    if items_per_skill is None:  # the parameters an organisation without items always had
        del params["items_per_skill"], params["sd_item"]
    if not progression:
        del params["progression"]
    rng = np.random.default_rng(seed)
    skills = list(SKILLS[:n_skills])
    skill_names = [s[0] for s in skills]
    people = _org_chart(n_people, rng)
    n = len(people)
    framework = _framework(skills, rng)
    catalog, effects = _catalog(skills, rng)

    # Latent profiles, more newcomers among new people, more strategists among leaders.
    templates = PROFILES[:n_profiles]
    means = np.array([[t[1].get(s, 0.0) for s in skill_names] for t in templates]) * profile_scale
    weights = np.ones((n, n_profiles))
    if n_profiles >= 3:
        weights[people["level"].eq("new").to_numpy(), 2] *= 2.5
    weights[people["role"].isin(["Team Lead", "Manager"]).to_numpy(), 0] *= 1.8
    weights /= weights.sum(axis=1, keepdims=True)
    profile = (rng.random(n)[:, None] > np.cumsum(weights, axis=1)).sum(axis=1)
    skill_mean = 3.0 + rng.normal(0, 0.15, n_skills)
    general = rng.normal(0, sd_general, n)
    specific = rng.normal(0, sd_specific, (n, n_skills))
    true1 = skill_mean + means[profile] + general[:, None] + specific

    leniency = rng.normal(0, sd_rater, n)
    index = pd.Series(np.arange(n), index=people["person"].to_numpy())
    pairs1 = _rater_pairs(people, n_peers, rng)
    pairs1 = pairs1[(pairs1["source"] == "self") | (rng.random(len(pairs1)) > 0.03)]
    halo_pairs = {}

    dates = [pd.Timestamp("2026-01-19"), pd.Timestamp("2026-07-13")]
    true = {1: true1}
    enrollments = pd.DataFrame(columns=["person", "activity", "start", "end", "completed"])
    pairs = {1: pairs1}
    if n_waves == 2:
        enrollments, gain = _train(people, framework, catalog, effects, true1, skill_names,
                                   training_rate, dates, rng)
        true[2] = true1 + 0.05 + gain + rng.normal(0, 0.10, (n, n_skills))
        # 85% of peers rate again (they anchor the scale across waves); new ones replace the rest.
        is_peer = (pairs1["source"] == "peer").to_numpy()
        keep = ~is_peer | (rng.random(len(pairs1)) > 0.15)
        fresh = _rater_pairs(people, n_peers, rng)
        fresh = fresh[(fresh["source"] == "peer").to_numpy() & (rng.random(len(fresh)) < 0.15)]
        pairs2 = pd.concat([pairs1[keep], fresh])
        pairs2 = pairs2.drop_duplicates(["ratee", "rater"], keep="first")
        pairs[2] = pairs2

    frames = []
    for wave, wave_pairs in pairs.items():
        wave_pairs = wave_pairs.reset_index(drop=True)
        ri = index[wave_pairs["ratee"]].to_numpy()
        rj = index[wave_pairs["rater"]].to_numpy()
        halo = np.empty(len(wave_pairs))
        for k, key in enumerate(zip(ri, rj, strict=True)):
            if key not in halo_pairs:
                halo_pairs[key] = rng.normal(0, sd_halo)
            halo[k] = halo_pairs[key]
        offset = wave_pairs["source"].map(SOURCE_OFFSETS).to_numpy()
        shift = offset + leniency[rj] + halo
        latent = true[wave][ri] + shift[:, None] + rng.normal(0, sd_residual, (len(ri), n_skills))
        frame = pd.DataFrame({
            "ratee": np.repeat(wave_pairs["ratee"].to_numpy(), n_skills),
            "rater": np.repeat(wave_pairs["rater"].to_numpy(), n_skills),
            "source": np.repeat(wave_pairs["source"].to_numpy(), n_skills),
            "skill": np.tile(skill_names, len(ri)),
            "latent": latent.ravel(),
            "wave": wave,
        })
        days = rng.integers(0, 21, len(ri))
        frame["date"] = np.repeat(dates[wave - 1] + pd.to_timedelta(days, unit="D"), n_skills)
        frames.append(frame)
    ratings = pd.concat(frames, ignore_index=True)
    instrument = items = None
    if items_per_skill is None:
        ratings = ratings[rng.random(len(ratings)) > missing_rate]
    else:
        # its own stream: the draws above (and so everything but the ratings) are unchanged
        item_rng = np.random.default_rng([0 if seed is None else seed, 22])
        instrument, items = _instrument(skill_names, items_per_skill, item_rng)
        ratings = _answer_items(ratings, items, sd_item, missing_rate, item_rng)
    score = ratings["latent"].to_numpy()
    if rounding == "integer":
        score = np.round(score)
    elif rounding == "half":
        score = np.round(score * 2) / 2
    ratings["score"] = np.clip(score, 1.0, 5.0) if clip else score
    ratings["date"] = ratings["date"].dt.strftime("%Y-%m-%d")
    columns = ["ratee", "rater", "source", "skill", "score", "wave", "date"]
    ratings = ratings[columns + (["item"] if items is not None else [])]
    ratings = ratings.reset_index(drop=True)

    truth = _truth(people, skill_names, true, profile, templates, means, leniency, halo_pairs,
                   effects, sd_general, sd_specific, sd_rater, sd_halo, sd_residual)
    if items is not None:
        truth["items"] = items
    paths = outcomes = None
    if progression:
        # its own stream: every other table is the same as without progression
        from workbench.synth.progression import progression_tables

        people, paths, outcomes, more = progression_tables(
            people, true, skill_names, enrollments, catalog, effects, dates,
            np.random.default_rng([0 if seed is None else seed, 23]),
            skill_groups={name: group for name, group, _ in SKILLS})
        truth.update(more)
    scale = pd.DataFrame({"value": [1, 2, 3, 4, 5],
                          "label": ["Needs significant development", "Developing",
                                    "Proficient", "Advanced", "Expert"]})
    return SyntheticOrganisation(ratings, people, framework, catalog, enrollments, scale, truth,
                                 params, instrument, paths, outcomes)


def _instrument(skill_names, per_skill, rng):
    """The instrument (item, column, skill, reverse, text) and the items' truth."""
    rows, truth = [], []
    difficulty = rng.normal(0, 0.3, (len(skill_names), per_skill))
    difficulty -= difficulty.mean(axis=1, keepdims=True)
    for s, skill in enumerate(skill_names):
        for k in range(per_skill):
            item = f"{SKILL_CODES[skill]}{k + 1}"
            reverse = skill in REVERSED_SKILLS and k == per_skill - 1
            stem = REVERSE_STEM if reverse else ITEM_STEMS[k]
            rows.append((item, item, skill, "yes" if reverse else "no",
                         f"{stem} {skill.lower()}"))
            truth.append((item, skill, float(difficulty[s, k]), reverse))
    instrument = pd.DataFrame(rows, columns=["item", "column", "skill", "reverse", "text"])
    items = pd.DataFrame(truth, columns=["item", "skill", "difficulty", "reverse"])
    return instrument, items


def _answer_items(ratings, items, sd_item, missing_rate, rng):
    """One row per rating and item of its skill: the latent answer, some left unanswered."""
    expanded = ratings.merge(items[["item", "skill", "difficulty"]], on="skill", how="left",
                             sort=False)
    expanded["latent"] = (expanded["latent"] + expanded["difficulty"]
                          + rng.normal(0, sd_item, len(expanded)))
    return expanded[rng.random(len(expanded)) > missing_rate].drop(columns="difficulty")


def _train(people, framework, catalog, effects, true1, skill_names, rate, dates, rng):
    """Enrol people between the waves, the lower-rated more often; return the true gains."""
    n, n_skills = true1.shape
    required = (
        people[["role"]]
        .merge(framework, on="role", how="left")
        .pivot_table(index="role", columns="skill", values="required_level")
    )
    req = required.loc[people["role"], skill_names].to_numpy()
    # Selection on a noisy view of the pre score: people look weak, then get sent.
    seen = true1 + rng.normal(0, 0.3, true1.shape)
    gain = np.zeros_like(true1)
    effect = effects.set_index(["activity", "skill"])["effect"]
    by_skill = {s: catalog.loc[catalog["skill"] == s, "activity"].unique() for s in skill_names}
    rows = []
    col = {s: k for k, s in enumerate(skill_names)}
    for i in range(n):
        gap = req[i] - seen[i]
        if rng.random() > rate * (1.0 + np.tanh(gap.max())) / 1.6:
            continue
        p = np.exp(2.5 * gap)
        p /= p.sum()
        n_take = 1 if rng.random() < 0.6 else 2
        taken = set()
        for s in rng.choice(n_skills, size=min(n_take, n_skills), replace=False, p=p):
            options = by_skill[skill_names[s]]
            if len(options) == 0:
                continue
            activity = rng.choice(options)
            weeks = int(catalog.loc[catalog["activity"] == activity, "weeks"].iloc[0])
            start = dates[0] + pd.Timedelta(days=int(rng.integers(28, 70)))
            end = start + pd.Timedelta(weeks=weeks)
            completed = bool(rng.random() < 0.85)
            if activity in taken:
                # an activity that targets both drawn skills (the programme) is taken once:
                # its effect is the truth's effect of one completion (the draws above keep the
                # random stream of everything else unchanged)
                continue
            taken.add(activity)
            rows.append((people["person"].iat[i], activity, start.date().isoformat(),
                         end.date().isoformat(), completed))
            if completed:
                targets = catalog.loc[catalog["activity"] == activity, "skill"]
                for skill in targets:
                    gain[i, col[skill]] += effect[(activity, skill)]
    enrollments = pd.DataFrame(rows, columns=["person", "activity", "start", "end", "completed"])
    return enrollments, gain


def _truth(people, skill_names, true, profile, templates, means, leniency, halo_pairs, effects,
           sd_general, sd_specific, sd_rater, sd_halo, sd_residual):
    ids = people["person"].to_numpy()
    frames = []
    for wave, values in true.items():
        frames.append(pd.DataFrame({
            "person": np.repeat(ids, len(skill_names)),
            "skill": np.tile(skill_names, len(ids)),
            "wave": wave,
            "true_score": values.ravel(),
        }))
    halo = pd.DataFrame(
        [(ids[j], ids[i], h) for (i, j), h in halo_pairs.items()],
        columns=["rater", "ratee", "halo"],
    )
    profile_means = pd.DataFrame([
        (k + 1, templates[k][0], s, means[k, c])
        for k in range(len(templates)) for c, s in enumerate(skill_names)
    ], columns=["profile", "profile_name", "skill", "mean"])
    return {
        "true_scores": pd.concat(frames, ignore_index=True),
        "rater_effects": pd.DataFrame({"rater": ids, "leniency": leniency}),
        "halo": halo,
        "source_effects": pd.DataFrame(
            {"source": list(SOURCE_OFFSETS), "offset": list(SOURCE_OFFSETS.values())}
        ),
        "profiles": pd.DataFrame({
            "person": ids,
            "profile": profile + 1,
            "profile_name": [templates[k][0] for k in profile],
        }),
        "profile_means": profile_means,
        "training_effects": effects,
        "variance_components": pd.DataFrame({
            "component": ["ratee", "ratee:skill", "rater", "rater:ratee", "residual"],
            "sd": [sd_general, sd_specific, sd_rater, sd_halo, sd_residual],
        }),
    }


def answers_as_given(ratings: pd.DataFrame, instrument: pd.DataFrame | None, *, low: float = 1,
                     high: float = 5) -> pd.DataFrame:
    """The ratings with reverse-keyed items' scores as the rater answered them (``low + high -
    score``): what a survey records, and what a long file read with its instrument holds.

    Examples
    --------
    >>> r = pd.DataFrame({"item": ["C1", "C2"], "score": [4.0, 4.0]})
    >>> inst = pd.DataFrame({"item": ["C1", "C2"], "reverse": ["no", "yes"]})
    >>> answers_as_given(r, inst)["score"].tolist()
    [4.0, 2.0]
    """
    if instrument is None or "item" not in ratings:
        return ratings
    reverse = set(instrument.loc[instrument["reverse"].eq("yes"), "item"])
    flip = ratings["item"].isin(reverse)
    return ratings.assign(score=ratings["score"].where(~flip, low + high - ratings["score"]))


def write_organisation(org: SyntheticOrganisation, out: str | Path, *, fmt: str = "csv") -> Path:
    """Write the tables to ``out/`` and the truth to ``out/truth/``; never overwrite files.

    Parameters
    ----------
    org : SyntheticOrganisation
    out : path
        Target folder; created if needed. Existing files are never replaced.
    fmt : {"csv", "xlsx", "parquet"}
        Format of the tables (the truth is always CSV).

    Returns
    -------
    Path
        The folder written.
    """
    if fmt not in ("csv", "xlsx", "parquet"):
        raise ConfigError(f"fmt={fmt!r}: must be 'csv', 'xlsx' or 'parquet'")
    out = Path(out)
    # beside its instrument the long file holds the answers as given (reading reverse-scores)
    tables = {
        "ratings": answers_as_given(org.ratings, org.instrument), "people": org.people, "framework": org.framework,
        "catalog": org.catalog, "enrollments": org.enrollments, "scale": org.scale,
    }
    # A one-wave organisation has no enrollments: no file rather than a header-only file.
    if org.instrument is not None:
        tables["instrument"] = org.instrument
    for name in ("paths", "outcomes"):
        if getattr(org, name, None) is not None:
            tables[name] = getattr(org, name)
    tables = {name: frame for name, frame in tables.items() if len(frame)}
    targets = [out / f"{name}.{fmt}" for name in tables]
    targets += [out / "truth" / f"{name}.csv" for name in org.truth]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise ConfigError(
            f"{out}: refusing to overwrite existing files ({', '.join(existing[:3])}"
            f"{', ...' if len(existing) > 3 else ''}); choose a new folder"
        )
    (out / "truth").mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False)
        elif fmt == "xlsx":
            frame.to_excel(path, index=False, engine="xlsxwriter")
        else:
            frame.to_parquet(path, index=False)
    for name, frame in org.truth.items():
        frame.to_csv(out / "truth" / f"{name}.csv", index=False)
    (out / "truth" / "parameters.json").write_text(json.dumps(org.params, indent=2, default=str))
    return out
