"""The instrument's psychometrics against psych::alpha and lavaan (tests/fixtures/psych), known
truth from simulated answers, and brute-force computations."""

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.calibration.reliability.figures import plot_item_correlations
from workbench.calibration.reliability.instrument import (
    InstrumentReliability,
    alpha_statistics,
    estimate_instrument_reliability,
    feldt_interval,
)
from workbench.calibration.reliability.item_facet import item_d_study, item_variance_components
from workbench.calibration.reliability.one_factor import (
    fit_one_factor,
    omega_total,
    pairwise_covariance,
)
from workbench.errors import ConfigError, InputError, WorkbenchError
from workbench.synth.generator import generate_organisation

matplotlib.use("Agg")

FIXTURES = Path(__file__).parents[1] / "fixtures" / "psych"
DATASETS = ["clean", "unreversed", "missing", "bfi_A", "bfi_C", "bfi_E", "bfi_N", "bfi_O"]


def _reference(name):
    answers = pd.read_csv(FIXTURES / f"{name}.csv")
    total = pd.read_csv(FIXTURES / f"{name}_alpha.csv").set_index("statistic")["value"]
    items = pd.read_csv(FIXTURES / f"{name}_items.csv")
    omega = pd.read_csv(FIXTURES / f"{name}_omega.csv").set_index("statistic")["value"]
    return answers, total, items, omega


def _as_long(answers, *, skill="skill", source="peer"):
    """A wide answers table as long ratings: each row one rater's answers about one ratee."""
    long = answers.reset_index(names="row").melt(id_vars="row", var_name="item",
                                                 value_name="score")
    return long.assign(ratee="p" + long["row"].astype(str), rater="r" + long["row"].astype(str),
                       source=source, skill=skill).drop(columns="row")


@pytest.mark.parametrize("name", DATASETS)
def test_alpha_statistics_equal_psych_alpha(name):
    answers, total, items, _ = _reference(name)
    got = alpha_statistics(answers.to_numpy(dtype=float))
    assert got["alpha"] == pytest.approx(total["raw_alpha"], abs=1e-10)
    assert got["std_alpha"] == pytest.approx(total["std_alpha"], abs=1e-10)
    np.testing.assert_allclose(got["item_rest"], items["r_drop"], atol=1e-10)
    np.testing.assert_allclose(got["alpha_if_dropped"], items["alpha_drop"], atol=1e-10)
    np.testing.assert_allclose(got["std_alpha_if_dropped"], items["std_alpha_drop"], atol=1e-10)
    low, high = feldt_interval(got["alpha"], n=len(answers), k=answers.shape[1])
    assert (low, high) == pytest.approx((total["feldt_low"], total["feldt_high"]), abs=1e-10)


@pytest.mark.parametrize("name", DATASETS)
def test_one_factor_fit_and_omega_equal_lavaan(name):
    answers, _, items, omega = _reference(name)
    cov, _ = pairwise_covariance(answers.to_numpy(dtype=float))
    fit = fit_one_factor(cov, n_obs=len(answers))
    assert fit.converged
    sign = np.sign(items["loading"].sum())  # lavaan's factor may point the other way
    np.testing.assert_allclose(fit.loadings, sign * items["loading"], atol=1e-6)
    np.testing.assert_allclose(fit.residuals, items["residual"], atol=1e-6)
    assert omega_total(fit.loadings, fit.residuals) == pytest.approx(omega["omega"], abs=1e-6)
    assert fit.fmin == pytest.approx(omega["fmin"], abs=1e-10)


def test_pairwise_covariance_equals_pandas_pairwise():
    answers = pd.read_csv(FIXTURES / "missing.csv").astype(float)
    cov, n_pairs = pairwise_covariance(answers.to_numpy())
    np.testing.assert_allclose(cov, answers.cov().to_numpy(), atol=1e-12)
    present = answers.notna().astype(int)
    np.testing.assert_array_equal(n_pairs, (present.T @ present).to_numpy())


@pytest.mark.parametrize("name", ["clean", "missing", "bfi_C"])
def test_the_verb_reports_psych_and_lavaan_numbers_per_item(name):
    answers, total, items, omega = _reference(name)
    res = estimate_instrument_reliability(_as_long(answers), n_boot=0, g_study=False)
    row = res.scales.iloc[0]
    assert row["n"] == total["n"] and row["n_items"] == total["k"]
    assert row["alpha"] == pytest.approx(total["raw_alpha"], abs=1e-10)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (total["feldt_low"], total["feldt_high"]), abs=1e-10)
    assert row["omega"] == pytest.approx(omega["omega"], abs=1e-6)
    got = res.items.set_index("item").loc[items["item"]]
    np.testing.assert_allclose(got["item_rest_r"], items["r_drop"], atol=1e-10)
    np.testing.assert_allclose(got["alpha_if_dropped"], items["alpha_drop"], atol=1e-10)
    np.testing.assert_allclose(got["mean"], items["mean"], atol=1e-10)
    np.testing.assert_allclose(got["sd"], items["sd"], atol=1e-10)
    # floor, ceiling and "not observed" rates counted here
    for item, r in got.iterrows():
        seen = answers[item].dropna()
        assert r["floor_rate"] == pytest.approx((seen == 1).mean())
        assert r["ceiling_rate"] == pytest.approx((seen == answers.max().max()).mean())
        assert r["not_observed_rate"] == pytest.approx(answers[item].isna().mean())


def test_an_unreversed_item_is_flagged_with_its_usual_cause():
    answers = pd.read_csv(FIXTURES / "unreversed.csv")
    res = estimate_instrument_reliability(_as_long(answers), n_boot=0, g_study=False)
    flags = res.flags[res.flags["flag"] == "negative_item_rest"]
    assert list(flags["item"]) == ["u3"]
    assert "reverse-keyed item not marked as such" in flags["message"].iloc[0]
    table = pd.DataFrame({"item": answers.columns, "skill": "skill",
                          "reversed": [c == "u3" for c in answers.columns]})
    marked = estimate_instrument_reliability(_as_long(answers), items=table, n_boot=0,
                                             g_study=False)
    message = marked.flags.loc[marked.flags["item"] == "u3", "message"].iloc[0]
    assert "marked reverse-keyed: check that its answers were reversed" in message
    # reversing the item (6 - x on the 1-5 scale) removes the flag and raises alpha
    fixed = answers.assign(u3=6 - answers["u3"])
    good = estimate_instrument_reliability(_as_long(fixed), n_boot=0, g_study=False)
    assert "negative_item_rest" not in set(good.flags["flag"])
    assert good.scales["alpha"].iloc[0] > res.scales["alpha"].iloc[0] + 0.2


def test_low_alpha_and_unobservable_items_are_flagged_in_plain_words():
    bfi_a = pd.read_csv(FIXTURES / "bfi_A.csv")  # A1 unreversed: alpha 0.43
    res = estimate_instrument_reliability(_as_long(bfi_a, skill="agreeableness"), n_boot=0,
                                          g_study=False)
    low = res.flags[res.flags["flag"] == "low_alpha"]
    assert len(low) == 1 and "alpha 0.43, below 0.70" in low["message"].iloc[0]
    missing = pd.read_csv(FIXTURES / "missing.csv")  # m6 not observed by 61 %
    res = estimate_instrument_reliability(_as_long(missing), n_boot=0, g_study=False)
    unseen = res.flags[res.flags["flag"] == "not_observed"]
    assert list(unseen["item"]) == ["m6"]
    assert unseen["message"].iloc[0].startswith("61% of the peers could not rate item 'm6'")


def test_not_observed_answers_without_rows_are_counted_from_the_item_counts():
    # the survey reader's contract: "not observed" answers have no row, they are counted
    answers = pd.read_csv(FIXTURES / "missing.csv")
    long = _as_long(answers)
    rows = long.dropna(subset=["score"]).reset_index(drop=True)
    counts = pd.DataFrame({"item": answers.columns, "skill": "skill", "source": "peer",
                           "wave": 1, "n_responses": len(answers),
                           "n_not_observed": answers.isna().sum().to_numpy()})
    rows.attrs["item_counts"] = counts
    _, total, items, _ = _reference("missing")
    res = estimate_instrument_reliability(rows, n_boot=0, g_study=False)
    got = res.items.set_index("item").loc[items["item"]]
    np.testing.assert_allclose(got["item_rest_r"], items["r_drop"], atol=1e-10)
    assert res.scales["alpha"].iloc[0] == pytest.approx(total["raw_alpha"], abs=1e-10)
    np.testing.assert_allclose(got["not_observed_rate"], answers.isna().mean(), atol=1e-12)
    # a respondent who could rate none of the items is only in the counts
    counts["n_responses"] += 10
    counts["n_not_observed"] += 10
    res = estimate_instrument_reliability(rows, item_counts=counts, n_boot=0, g_study=False)
    expected = (answers.isna().sum() + 10) / (len(answers) + 10)
    np.testing.assert_allclose(res.items.set_index("item").loc[answers.columns,
                                                                "not_observed_rate"],
                               expected, atol=1e-12)


def test_synthetic_instrument_known_truth():
    org = generate_organisation(150, seed=7, n_waves=1, items_per_skill=4)
    truth = org.truth["items"]
    res = estimate_instrument_reliability(org.ratings, items=org.instrument, n_boot=0,
                                          g_study=False)
    # stored in the skill's direction: no item runs against its scale
    assert "negative_item_rest" not in set(res.flags["flag"])
    assert set(res.items.loc[res.items["reversed"], "item"]) == set(
        truth.loc[truth["reverse"], "item"])
    # answers left out at random at missing_rate = 0.05: per item and source, within 4 SDs
    peer = res.items[res.items["source"] == "others"]
    n = peer["n"] / (1 - peer["not_observed_rate"])
    assert np.all(np.abs(peer["not_observed_rate"] - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n))
    # an export read without its reverse keying: exactly the reverse-keyed items are flagged
    raw = org.ratings.copy()
    flip = raw["item"].isin(truth.loc[truth["reverse"], "item"])
    raw.loc[flip, "score"] = 1 + 5 - raw.loc[flip, "score"]
    bad = estimate_instrument_reliability(raw, items=org.instrument, n_boot=0, g_study=False)
    flagged = bad.flags[(bad.flags["flag"] == "negative_item_rest")
                        & (bad.flags["source"] == "others")]
    assert set(flagged["item"]) == set(truth.loc[truth["reverse"], "item"])
    assert flagged["message"].str.contains("marked reverse-keyed").all()


def test_g_study_item_variance_tracks_the_item_difficulties():
    org = generate_organisation(300, seed=8, n_waves=1, items_per_skill=5)
    truth = org.truth["items"]
    d = item_d_study(org.ratings, sources=["peer"])
    items = d.components[d.components["component"] == "item"].set_index("skill")["variance"]
    spread = truth.groupby("skill")["difficulty"].var()  # the realised difficulties
    assert np.corrcoef(items[spread.index], spread)[0, 1] > 0.9
    assert np.all(np.abs(items[spread.index] - spread) < 0.5 * spread + 0.01)


def _congeneric(rng, n, loadings, residual_sd):
    factor = rng.normal(size=n)
    return np.outer(factor, loadings) + rng.normal(size=(n, len(loadings))) * residual_sd


def test_feldt_interval_covers_the_true_alpha_at_its_level():
    # essentially tau-equivalent items: alpha's population value is k l^2 / (k l^2 + s^2) * ...
    k, lam, sd = 5, 0.7, 0.8
    sigma = np.full((k, k), lam**2) + np.diag(np.full(k, sd**2))
    truth = k / (k - 1) * (1 - np.trace(sigma) / sigma.sum())
    rng = np.random.default_rng(5)
    reps, hits = 400, 0
    for _ in range(reps):
        x = _congeneric(rng, 60, np.full(k, lam), sd)
        low, high = feldt_interval(alpha_statistics(x)["alpha"], n=60, k=k)
        hits += low <= truth <= high
    margin = 3 * np.sqrt(0.95 * 0.05 / reps)
    assert abs(hits / reps - 0.95) < margin


def test_omega_bootstrap_interval_covers_the_true_omega():
    loadings = np.array([0.4, 0.6, 0.8, 0.7, 0.5])
    sd = np.array([0.8, 0.7, 0.6, 0.7, 0.9])
    truth = omega_total(loadings, sd**2)
    hits, reps = 0, 30
    for seed in range(reps):
        rng = np.random.default_rng(100 + seed)
        x = pd.DataFrame(_congeneric(rng, 150, loadings, sd), columns=list("abcde"))
        res = estimate_instrument_reliability(_as_long(x), n_boot=150, g_study=False,
                                              random_state=seed)
        row = res.scales.iloc[0]
        hits += row["omega_ci_low"] <= truth <= row["omega_ci_high"]
    # a percentile bootstrap at n = 150: 95 % nominal, allow 3 binomial SDs below
    assert hits / reps > 0.95 - 3 * np.sqrt(0.95 * 0.05 / reps)


def _clustered(seed, loadings, n_people=80, n_raters=5):
    """Each ratee's raters share the ratee's factor and item profile: respondents cluster."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=n_people)
    profile = rng.normal(scale=0.6, size=(n_people, len(loadings)))
    seen = factor[:, None] + 0.3 * rng.normal(size=(n_people, n_raters))
    x = (loadings[None, None, :] * seen[:, :, None] + profile[:, None, :]
         + rng.normal(scale=0.5, size=(n_people, n_raters, len(loadings))))
    p, r, i = np.meshgrid(range(n_people), range(n_raters), range(len(loadings)),
                          indexing="ij")
    return pd.DataFrame({"ratee": p.ravel().astype(str), "rater": (p * 10 + r).ravel().astype(str),
                         "source": "peer", "skill": "s", "item": i.ravel().astype(str),
                         "score": x.ravel()})


def test_ratee_bootstrap_covers_omega_when_raters_of_a_person_agree():
    loadings = np.array([0.5, 0.7, 0.6, 0.8])
    # a respondent's items: loadings * sqrt(1.09) on one factor, residual 0.36 + 0.25
    common = loadings.sum() ** 2 * 1.09
    truth = common / (common + len(loadings) * (0.36 + 0.25))
    reps = 30
    hits = {"ratees": 0, "respondents": 0}
    for seed in range(reps):
        data = _clustered(1000 + seed, loadings)
        for resample in hits:
            row = estimate_instrument_reliability(data, n_boot=200, resample=resample,
                                                  g_study=False, random_state=seed).scales
            hits[resample] += row["omega_ci_low"].iloc[0] <= truth <= row["omega_ci_high"].iloc[0]
    sd = np.sqrt(0.95 * 0.05 / reps)
    assert hits["ratees"] / reps > 0.95 - 3 * sd
    assert hits["respondents"] / reps < 0.95 - 2 * sd  # why ratees is the default


def test_ratee_and_respondent_bootstraps_agree_with_one_respondent_per_ratee():
    answers = pd.read_csv(FIXTURES / "clean.csv")
    rows = [estimate_instrument_reliability(_as_long(answers), n_boot=100, resample=r,
                                            g_study=False, random_state=3).scales.iloc[0]
            for r in ("ratees", "respondents")]
    assert rows[0]["omega_ci_low"] == rows[1]["omega_ci_low"]
    assert rows[0]["omega_ci_high"] == rows[1]["omega_ci_high"]


def _facets(seed, *, n_people=150, n_raters=4, n_items=5, sd=None, missing=0.0):
    """(r:p) x i answers with known variance components."""
    sd = sd or {"person": 0.7, "item": 0.3, "rater:person": 0.5, "person:item": 0.3,
                "residual": 0.6}
    rng = np.random.default_rng(seed)
    person = rng.normal(0, sd["person"], n_people)
    item = rng.normal(0, sd["item"], n_items)
    rater = rng.normal(0, sd["rater:person"], (n_people, n_raters))
    person_item = rng.normal(0, sd["person:item"], (n_people, n_items))
    p, r, i = np.meshgrid(range(n_people), range(n_raters), range(n_items), indexing="ij")
    p, r, i = p.ravel(), r.ravel(), i.ravel()
    score = (3 + person[p] + item[i] + rater[p, r] + person_item[p, i]
             + rng.normal(0, sd["residual"], p.size))
    score[rng.random(p.size) < missing] = np.nan
    return pd.DataFrame({"ratee": [f"p{k}" for k in p], "rater": [f"p{a}r{b}" for a, b in
                                                                   zip(p, r, strict=True)],
                         "source": "peer", "skill": "s", "item": [f"q{k}" for k in i],
                         "score": score})


def test_g_study_equals_anova_estimates_on_a_balanced_design():
    data = _facets(3, n_people=60, n_raters=3, n_items=4)
    comp = item_variance_components(data, skill="s", source="peer").set_index("component")
    y = data["score"].to_numpy().reshape(60, 3, 4)  # person, rater, item
    n_p, n_r, n_i = y.shape
    grand = y.mean()
    m_p, m_i = y.mean(axis=(1, 2)), y.mean(axis=(0, 1))
    m_pr, m_pi = y.mean(axis=2), y.mean(axis=1)
    ms_p = n_r * n_i * np.sum((m_p - grand) ** 2) / (n_p - 1)
    ms_i = n_p * n_r * np.sum((m_i - grand) ** 2) / (n_i - 1)
    ms_rp = n_i * np.sum((m_pr - m_p[:, None]) ** 2) / (n_p * (n_r - 1))
    ms_pi = n_r * np.sum((m_pi - m_p[:, None] - m_i[None, :] + grand) ** 2) / (
        (n_p - 1) * (n_i - 1))
    resid = y - m_pr[:, :, None] - m_pi[:, None, :] + m_p[:, None, None]
    ms_e = np.sum(resid**2) / (n_p * (n_r - 1) * (n_i - 1))
    expected = {"residual": ms_e, "person:item": (ms_pi - ms_e) / n_r,
                "rater:person": (ms_rp - ms_e) / n_i,
                "item": (ms_i - ms_pi) / (n_p * n_r),
                "person": (ms_p - ms_rp - ms_pi + ms_e) / (n_r * n_i)}
    assert min(expected.values()) > 0  # REML = ANOVA only inside the parameter space
    for name, value in expected.items():
        assert comp.loc[name, "variance"] == pytest.approx(value, rel=1e-5), name


def test_g_study_recovers_known_components_and_d_study_follows_the_formula():
    sd = {"person": 0.7, "item": 0.3, "rater:person": 0.5, "person:item": 0.3,
          "residual": 0.6}
    estimates = []
    for seed in range(4):
        data = _facets(10 + seed, n_people=200, sd=sd, missing=0.1)
        comp = item_variance_components(data, skill="s", source="peer")
        estimates.append(comp.set_index("component")["variance"])
    mean = pd.concat(estimates, axis=1).mean(axis=1)
    for name in ("person", "rater:person", "person:item", "residual"):
        assert mean[name] == pytest.approx(sd[name] ** 2, rel=0.2), name
    d = item_d_study(data, sources=["peer"], n_items=[5], n_raters=[4], targets=[0.8])
    v = d.components.set_index("component")["variance"]
    rel = v["person:item"] / 5 + v["rater:person"] / 4 + v["residual"] / 20
    row = d.curve.iloc[0]
    assert row["g_relative"] == pytest.approx(v["person"] / (v["person"] + rel))
    assert row["g_absolute"] == pytest.approx(
        v["person"] / (v["person"] + rel + v["item"] / 5))
    obs = d.observed.iloc[0]
    need = obs["raters_for_0.8"]
    g = d.curve  # brute force: the smallest number of raters reaching 0.8 with 5 items
    full = item_d_study(data, sources=["peer"], n_items=[5], n_raters=range(1, 60))
    reached = full.curve.loc[full.curve["g_relative"] >= 0.8, "n_raters"]
    assert need == reached.min()
    assert len(g) == 1


def test_results_render_and_save_without_overwriting(tmp_path):
    data = _facets(4, n_people=40, n_raters=3, n_items=4)
    res = estimate_instrument_reliability(data, n_boot=20)
    assert isinstance(res, InstrumentReliability)
    text = res.summary()
    assert "Scales" in text and "G-study" in text
    assert "p1r0" not in text and "p1r0" not in res._repr_html_()  # no rater identities
    folder = res.save(tmp_path / "out")
    assert {"instrument_scales.csv", "instrument_items.csv", "instrument_flags.csv",
            "g_study_items_components.csv"} <= {p.name for p in folder.iterdir()}
    with pytest.raises(WorkbenchError, match="never overwritten"):
        res.save(folder)
    tidy = res.conf_int()
    omega = tidy[(tidy["statistic"] == "omega") & (tidy["source"] == "peer")].iloc[0]
    scale = res.scales[res.scales["source"] == "peer"].iloc[0]
    assert (omega["estimate"], omega["ci_low"], omega["ci_high"]) == (
        scale["omega"], scale["omega_ci_low"], scale["omega_ci_high"])
    fig = plot_item_correlations(res, skill="s", source="peer")
    assert fig.axes[0].get_title() == "s (peer): inter-item correlations"


def test_bad_input_lists_every_problem_and_leaves_the_input_alone():
    data = _facets(5, n_people=5, n_raters=2, n_items=3)
    data["score"] = data["score"].astype(object)
    data.loc[2, "score"] = "n/a?"
    data = pd.concat([data, data.iloc[[0]]], ignore_index=True)  # answered twice
    before = data.copy()
    with pytest.raises(InputError) as info:
        estimate_instrument_reliability(data)
    message = str(info.value)
    assert "row 4, column 'score': not a number (value: 'n/a?')" in message
    assert "row 2, column 'item'" in message and "more than once" in message
    pd.testing.assert_frame_equal(data, before)
    with pytest.raises(InputError, match="column 'item': required column missing"):
        estimate_instrument_reliability(data.drop(columns="item"))
    with pytest.raises(ConfigError, match="n_boot=-1"):
        estimate_instrument_reliability(before.iloc[:-1].assign(score=1.0), n_boot=-1)
    with pytest.raises(ConfigError, match="sources=\\['manager'\\]"):
        estimate_instrument_reliability(_facets(5), sources=["manager"])


def test_fisher_scoring_bootstrap_fit_equals_the_polished_fit():
    answers = pd.read_csv(FIXTURES / "bfi_E.csv").to_numpy(dtype=float)
    cov, _ = pairwise_covariance(answers)
    full = fit_one_factor(cov, n_obs=len(answers))
    rng = np.random.default_rng(0)
    sample = answers[rng.integers(0, len(answers), len(answers))]
    cov_b, _ = pairwise_covariance(sample)
    quick = fit_one_factor(cov_b, n_obs=len(answers), polish=False,
                           start=np.concatenate([full.loadings, full.residuals]))
    exact = fit_one_factor(cov_b, n_obs=len(answers))
    np.testing.assert_allclose(quick.loadings, exact.loadings, atol=1e-7)
    assert stats.pearsonr(quick.residuals, exact.residuals)[0] > 0.999999


def test_client_text_in_skill_and_item_names_stays_text(tmp_path):
    from tests.test_escaping import PAYLOADS, assert_inert

    answers = pd.read_csv(FIXTURES / "unreversed.csv")  # u3 flagged: its name is in a message
    names = {"u1": PAYLOADS[1], "u2": PAYLOADS[2], "u3": PAYLOADS[3], "u4": PAYLOADS[4],
             "u5": "=HYPERLINK(\"http://x\")"}
    long = _as_long(answers.rename(columns=names), skill=PAYLOADS[0])
    res = estimate_instrument_reliability(long, n_boot=0, g_study=False)
    assert_inert(res._repr_html_(), [PAYLOADS[0], PAYLOADS[3]])
    folder = res.save(tmp_path / "out")
    items = (folder / "instrument_items.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in items  # neutralised for spreadsheets


def test_two_item_scales_get_alpha_but_no_omega():
    answers = pd.read_csv(FIXTURES / "clean.csv")[["c4", "c5"]]
    row = estimate_instrument_reliability(_as_long(answers), n_boot=10,
                                          g_study=False).scales.iloc[0]
    r = answers.corr().iloc[0, 1]
    assert row["std_alpha"] == pytest.approx(2 * r / (1 + r))  # Spearman-Brown for k = 2
    assert np.isnan(row["omega"]) and "not identified" in row["note"]
