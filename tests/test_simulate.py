"""The calibrated simulator: sizes, reproducibility, the truth it reports, its calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coprod_bayes as cb
from coprod_bayes.classical import ols_table, paper_predictors
from coprod_bayes.published import published_figures
from coprod_bayes.survey.report import calibration_report
from coprod_bayes.survey.simulate import DEMOGRAPHICS, GOV, load_design


@pytest.fixture(scope="session")
def published_size():
    return cb.simulate(seed=0)


@pytest.fixture(scope="session")
def large():
    return cb.simulate(n_per_country=5000, seed=11)


def test_published_sizes_and_complete_cases(published_size):
    pub = published_figures("eu5_2008")
    assert published_size.n_respondents == pub["survey"]["n_total"] == 4951
    t = ols_table(published_size, "individual", paper_predictors(), pooled=False)
    n = t.drop_duplicates("country").set_index("country")["n"].to_dict()
    assert n == pub["table2_individual"]["n"]
    t3 = ols_table(published_size, "collective", paper_predictors(), pooled=False)
    n = t3.drop_duplicates("country").set_index("country")["n"].to_dict()
    assert n == pub["table3_collective"]["n"]


def test_same_seed_same_data_other_seed_other_data():
    a = cb.simulate(n_per_country=60, seed=5)
    b = cb.simulate(n_per_country=60, seed=5)
    c = cb.simulate(n_per_country=60, seed=6)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert not a.frame["individual_safety_2"].equals(c.frame["individual_safety_2"])


def test_n_per_country_forms():
    sizes = {"CZ": 10, "DK": 20, "DE": 30, "FR": 40, "GB": 50}
    s = cb.simulate(n_per_country=sizes, seed=1, nonresponse=False)
    assert s.frame["country"].value_counts().to_dict() == sizes
    assert s.frame[s.codebook.item_columns].notna().all().all()
    assert cb.simulate(n_per_country=7, seed=1).n_respondents == 35
    with pytest.raises(cb.SurveyDataError, match="XX"):
        cb.simulate(n_per_country={"XX": 10})
    with pytest.raises(cb.SurveyDataError, match=r"\['CZ', 'DE', 'FR'\]"):
        cb.simulate(n_per_country={"GB": 30, "DK": 20})


def test_nonresponse_is_coded_and_reasoned(published_size):
    raw = published_size.to_raw()
    reasons = published_size.missing_reasons
    col = "gov_consultation_safety"
    n_missing = int(published_size.frame[col].isna().sum())
    assert n_missing > 0
    assert int(raw[col].isin([8, 9]).sum()) == n_missing
    assert int(reasons[col].notna().sum()) == n_missing
    assert set(reasons[col].dropna()) <= {"dont_know", "refused"}
    # codes outside the missing codes are valid scale codes
    assert set(raw[col].unique()) <= {0, 1, 2, 3, 8, 9}


def test_truth_paths_follow_the_published_pattern(published_size):
    paths = published_size.truth["paths"]
    a = paths.drop_duplicates(["country", "area"])["a"]
    assert len(a) == 15
    assert (a >= 0).all()
    assert int((a >= 0.1).sum()) == 10  # "significant in ten out of fifteen contexts"
    assert (paths["direct"] < 0).all()  # good conditions lower co-production directly
    np.testing.assert_allclose(paths["indirect"], paths["a"] * paths["b"])
    np.testing.assert_allclose(paths["total"], paths["direct"] + paths["indirect"])


def test_truth_describes_the_generated_latent_data():
    """OLS on the latent values recovers the reported paths: the truth is what was generated.

    With 6,000 respondents per country the OLS SE of a latent slope is about 0.013-0.02, so
    0.06 is more than 3 SE."""
    s = cb.simulate(n_per_country=6000, seed=21, nonresponse=False)
    lat = s.truth["latent"]
    design = load_design()
    frame = s.frame.set_index("respondent_id")
    paths = s.truth["paths"].set_index(["outcome", "country", "area"])
    for (country, area), g in lat.groupby(["country", "area"]):
        z = frame.loc[g["respondent_id"], DEMOGRAPHICS].to_numpy(float)
        X = np.column_stack([np.ones(len(g)), g["conditions"], z])
        a_hat = np.linalg.lstsq(X, g["efficacy"].to_numpy(), rcond=None)[0][1]
        assert abs(a_hat - design["latent"]["a_path"][country][area]) < 0.06, (country, area)
        X = np.column_stack([np.ones(len(g)), g["efficacy"], g[GOV], g["conditions"], z])
        for outcome in ("individual", "collective"):
            coef = np.linalg.lstsq(X, g[outcome].to_numpy(), rcond=None)[0]
            truth = paths.loc[(outcome, country, area)]
            assert abs(coef[1] - truth["b"]) < 0.06, (outcome, country, area, "b")
            assert abs(coef[5] - truth["direct"]) < 0.06, (outcome, country, area, "direct")
            slopes = s.truth["slopes"][outcome][country]
            for k, gname in enumerate(GOV):
                assert abs(coef[2 + k] - slopes[gname]) < 0.06, (outcome, country, gname)


def test_calibration_holds_out_of_sample(large):
    """A fresh sample of 5,000 per country (not the calibration's) meets the published
    figures: index means, SDs, alphas, orderings, area and country scores within the issue's
    tolerances; betas within sampling error. At n = 5,000 a beta's SE is at most about 0.02,
    so the mean |gap| over 90 betas should be near 0.014 (limit 0.02) and the largest of 90
    near 3 SE (limit 0.075, 3.75 SE); R-squared within 0.04."""
    r = calibration_report(large, complete_n=False)
    exact = r[r["kind"].isin(["index", "alpha", "ordering", "score", "item"])]
    assert len(exact) == 32
    missed = exact[~exact["met"]]
    assert missed.empty, missed[["target", "group", "published", "simulated"]].to_string()
    betas = r[(r["kind"] == "beta") & ~r["target"].str.contains("gap")]
    assert len(betas) == 90
    gaps = (betas["simulated"].astype(float) - betas["published"].astype(float)).abs()
    assert gaps.mean() <= 0.02
    assert gaps.max() <= 0.075
    r2 = r[r["kind"] == "r2"]
    assert len(r2) == 10
    assert (r2["simulated"].astype(float) - r2["published"].astype(float)).abs().max() <= 0.04


def test_calibration_routine_converges_on_its_sample():
    """The routine itself: on a small calibration sample it drives every simulated beta to
    its published value (on that same sample) to within 0.01."""
    from coprod_bayes.survey.calibrate import calibrate

    params = calibrate(n_per_country=1500, seed=3, newton_steps=4)
    assert params["calibration"]["max_abs_beta_gap"] < 0.01
    assert set(params["slopes"]) == {"individual", "collective"}
    assert all(0.05 < v <= 1 for o in params["residual_variance"].values() for v in o.values())
