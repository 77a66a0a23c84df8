"""``workbench check-design``: writes the design check's tables; bad options are exit 2 with
the option named, nothing written, inputs unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.cli.conftest import digest
from workbench.cli import main


def test_check_design_writes_tables(org_dir, tmp_path, capsys):
    before = digest(org_dir)
    out = tmp_path / "check"
    code = main(["check-design", str(org_dir), "--sims", "20", "--refits", "1", "--seed", "3",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "latest" in captured.err  # two waves: the latest wave's design is checked
    table = pd.read_csv(out / "design_check.csv").set_index("quantity")
    assert {"coverage", "coverage_refit", "bias", "gap_calls_right", "reliability"} <= set(
        table.index)
    assert table.loc["coverage", "n"] == 20 and table.loc["coverage_refit", "n"] == 1
    assert 0.85 < table.loc["coverage", "estimate"] <= 1
    assert digest(org_dir) == before
    # never overwrites
    assert main(["check-design", str(org_dir), "--sims", "20", "--out", str(out)]) == 2


@pytest.mark.parametrize("option, named", [
    (["--sims", "1"], "--sims"), (["--refits", "many"], "--refits"),
    (["--gap-probability", "0.3"], "--gap-probability"), (["--refits", "30"], "refits"),
])
def test_check_design_bad_options_are_exit_2(org_dir, tmp_path, capsys, option, named):
    before = digest(org_dir)
    out = tmp_path / "check"
    code = main(["check-design", str(org_dir), "--sims", "20", *option, "--out", str(out)]
                if option[0] != "--sims" else ["check-design", str(org_dir), *option, "--out",
                                               str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert named in err and "Traceback" not in err
    assert not out.exists()
    assert digest(org_dir) == before
