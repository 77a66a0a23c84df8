"""Cost-effectiveness (Fieller intervals for a known cost) and the budget allocation against
brute-force enumeration; missing or negative costs are refused with the row named."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.progression import activity_costs, allocate_budget, cost_effectiveness
from workbench.synth import generate_organisation


def test_fieller_interval_inverts_the_effect_interval():
    cat = pd.DataFrame({"activity": ["A", "B", "C"], "cost": [100.0, 0.0, 50.0],
                        "hours": [2.0, 10.0, 1.0]})
    eff = pd.DataFrame({"activity": ["A", "B", "C"], "skill": "S",
                        "estimate": [0.4, 0.1, -0.2], "se": 0.1,
                        "ci_low": [0.2, -0.1, -0.4], "ci_high": [0.6, 0.3, -0.01]})
    out = cost_effectiveness(cat, eff, hourly_cost=25).set_index("activity")
    assert out.at["A", "cost_per_person"] == 150
    assert out.at["A", "estimate"] == pytest.approx(375)
    assert (out.at["A", "ci_low"], out.at["A", "ci_high"]) == pytest.approx((250, 750))
    # the ratio's interval by brute force: cost / effect over the effect's interval
    grid = 150 / np.linspace(0.2, 0.6, 1001)
    assert (grid.min(), grid.max()) == pytest.approx((out.at["A", "ci_low"],
                                                      out.at["A", "ci_high"]))
    assert np.isinf(out.at["B", "ci_high"]) and "unbounded" in out.at["B", "note"]
    assert "no gain" in out.at["C", "note"]


def test_missing_or_negative_costs_are_listed():
    cat = pd.DataFrame({"activity": ["A", "B", "C"], "cost": [100.0, None, -5.0],
                        "hours": [2.0, 1.0, 1.0]})
    cat.attrs["file"] = "catalog.csv"
    with pytest.raises(InputError) as err:
        activity_costs(cat)
    text = str(err.value)
    assert "catalog.csv, row 3, column 'cost'" in text
    assert "catalog.csv, row 4, column 'cost'" in text


def test_budget_allocation_equals_enumeration():
    rng = np.random.default_rng(3)
    options = pd.DataFrame({"gain": rng.uniform(0, 0.5, 12),
                            "cost": rng.choice([0, 40, 300, 450, 600, 1500], 12).astype(float)})
    for budget in (0, 500, 1500, 3000):
        best = 0.0
        for pick in itertools.product([0, 1], repeat=12):
            pick = np.array(pick, bool)
            if options["cost"][pick].sum() <= budget:
                best = max(best, options["gain"][pick].sum())
        out = allocate_budget(options, budget=budget)
        assert out.attrs["total_gain"] == pytest.approx(best, abs=1e-9)
        assert out.attrs["total_cost"] <= budget + 1e-9


def test_generator_catalog_has_the_costs():
    org = generate_organisation(60, seed=1, n_waves=1)
    costs = activity_costs(org.catalog, hourly_cost=40)
    assert (costs["cost_per_person"] >= costs["cost"]).all()


def test_plans_command_allocates_a_budget(tmp_path, capsys):
    from workbench.cli import main
    from workbench.synth import truth_scores

    org = generate_organisation(60, seed=4, n_waves=1)
    files = {}
    for name, frame in (("scores", truth_scores(org, se=0.2, wave=1, random_state=0)),
                        ("people", org.people), ("framework", org.framework),
                        ("catalog", org.catalog)):
        files[name] = tmp_path / f"{name}.csv"
        frame.to_csv(files[name], index=False)
    argv = ["plans", "--scores", str(files["scores"]), "--people", str(files["people"]),
            "--framework", str(files["framework"]), "--catalog", str(files["catalog"]),
            "--start", "2026-03-02", "--budget", "5000", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    chosen = pd.read_csv(tmp_path / "out" / "budget_allocation.csv")
    assert chosen.loc[chosen["chosen"], "cost"].sum() <= 5000
    assert chosen["chosen"].any()
    assert main(argv[:-4] + ["--budget", "-1", "--out", str(tmp_path / "out2")]) == 2
    assert "--budget=-1" in capsys.readouterr().err
