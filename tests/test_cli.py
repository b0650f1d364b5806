"""The command line: simulate -> validate -> tables, and errors with exit code 1."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import coprod_bayes as cb
from coprod_bayes.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def simulated_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "s.csv"
    res = runner.invoke(app, ["simulate", "--out", str(out), "--seed", "4",
                              "--n-per-country", "120"])
    assert res.exit_code == 0, res.output
    return out


def test_simulate_writes_raw_codes_that_read_back(simulated_csv):
    df = pd.read_csv(simulated_csv)
    assert len(df) == 600
    assert df["gov_consultation_health"].isin([0, 1, 2, 3, 8, 9]).all()
    again = cb.read_survey(simulated_csv)
    expected = cb.simulate(n_per_country=120, seed=4)
    pd.testing.assert_frame_equal(again.frame[expected.codebook.item_columns],
                                  expected.frame[expected.codebook.item_columns])


def test_validate_prints_summary(simulated_csv):
    res = runner.invoke(app, ["validate", str(simulated_csv)])
    assert res.exit_code == 0, res.output
    assert "valid" in res.output and "Respondents per country" in res.output
    assert "gov_consultation_safety" in res.output


def test_validate_reports_bad_file(simulated_csv, tmp_path):
    df = pd.read_csv(simulated_csv)
    df.loc[[3, 10], "efficacy_health"] = 6
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 1
    assert "efficacy_health" in res.output and "rows 3, 10" in res.output


def test_tables_prints_both_tables(simulated_csv, tmp_path):
    res = runner.invoke(app, ["tables", "--data", str(simulated_csv), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Table 2" in res.output and "Table 3" in res.output
    tidy = pd.read_csv(tmp_path / "table3_collective.csv")
    direct = cb.classical.tables(cb.read_survey(simulated_csv))["table3_collective"]
    pd.testing.assert_series_equal(tidy["beta"], direct["beta"], check_exact=False, rtol=1e-12)
