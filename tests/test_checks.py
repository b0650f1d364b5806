"""Model checks: prior predictive, posterior predictive and LOO comparison of pooling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import coprod_bayes as cb
from coprod_bayes.spec import Spec


def test_prior_predictive_r2_has_the_closed_form_distribution():
    """One standardised predictor, no pooling: R2 = b^2 / (b^2 + s^2) with b ~ N(0, c^2) and
    s ~ HalfNormal(r^2), so P(R2 < 1/2) = P(|b| < s) = (2/pi) arctan(r / c). 4,000 draws x 5
    independent groups: within 4 binomial SEs."""
    s = cb.simulate(n_per_country=80, seed=12)
    c, r = 0.25, 1.0
    spec = Spec(name="one", outcome="collective", predictors=("efficacy",), pooling="none",
                priors={"coefficient": c, "residual_sd": r})
    pp = cb.prior_predictive(spec, s, draws=4000, seed=3)
    assert len(pp) == 4000 * 5
    expected = 2 / np.pi * np.arctan(r / c)
    got = (pp["r2"] < 0.5).mean()
    assert abs(got - expected) < 4 * np.sqrt(expected * (1 - expected) / len(pp))
    assert pp["max_abs_beta"].std() == pytest.approx(c * np.sqrt(1 - 2 / np.pi), rel=0.05)


@pytest.fixture(scope="module")
def flipped():
    """A survey whose collective items are reverse-coded in CZ only: every CZ slope on the
    collective index changes sign, so one slope for all countries (complete pooling) must
    predict worse than country slopes."""
    s = cb.simulate(n_per_country=300, seed=77)
    frame = s.frame.copy()
    cz = (frame["country"] == "CZ").to_numpy()
    for it in s.codebook.items_of("collective"):
        frame.loc[cz, it.column] = it.scale.min + it.scale.max - frame.loc[cz, it.column]
    return cb.Survey(frame, s.codebook, s.missing_reasons, None, "flipped CZ")


def test_compare_models_prefers_country_slopes_when_they_differ(flipped):
    base = Spec(name="t", outcome="collective", predictors=("age", "female", "efficacy"))
    variants = cb.pooling_variants(base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)  # judged by the LOO below
        fits = {k: cb.fit(variants[k], flipped, draws=500, tune=500, seed=4)
                for k in ("complete pooling", "partial pooling")}
    table, ks = cb.compare_models(fits, flipped)
    assert table.index[0] == "partial pooling"
    worse = table.loc["complete pooling"]
    assert worse["elpd_diff"] > 4 * worse["dse"]
    n = int(fits["partial pooling"].rows["used"].sum())
    assert (ks[["k <= 0.7", "0.7 < k <= 1", "k > 1"]].sum(axis=1) == n).all()
    assert (ks["max k"] < 0.7).all()
    fig = cb.plot.model_comparison(table)
    assert len(fig.axes[0].get_yticklabels()) == 2

    # posterior predictive: each country's observed mean and SD sit inside the replicates'
    ppc = cb.posterior_predictive(fits["partial pooling"], flipped, n_draws=200, seed=2)
    assert len(ppc) == n
    reps = ppc.filter(like="replicate_")
    for g, t in ppc.groupby("group"):
        r = reps.loc[t.index]
        for stat in (np.mean, np.std):
            rep = stat(r.to_numpy(), axis=0)
            assert abs(stat(t["observed"].to_numpy()) - rep.mean()) < 4 * rep.std(), (g, stat)
    with pytest.raises(cb.SpecError, match="made on other data"):
        cb.posterior_predictive(fits["partial pooling"], cb.simulate(n_per_country=50, seed=1))
