"""Sequential updating across waves (Spec.with_priors_from): wave 1's posterior as wave 2's
prior, against the joint fit of both waves (groups wave x country)."""

from __future__ import annotations

import dataclasses

import arviz as az
import numpy as np
import pandas as pd
import pytest

import coprod_bayes as cb
from coprod_bayes.engines import regression
from coprod_bayes.fit import sample
from coprod_bayes.spec import Sampler, Spec

PREDICTORS = ("age", "female", "efficacy", "gov_performance")


def _stack(a: regression.RegressionData, b: regression.RegressionData):
    """Both waves' data as one model's: the groups of wave 1, then those of wave 2."""
    kw = {}
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "groups":
            kw[f.name] = [f"{g}@1" for g in x] + [f"{g}@2" for g in y]
        elif f.name == "group_index":
            kw[f.name] = np.r_[x, y + len(a.groups)]
        elif f.name == "rows":
            kw[f.name] = pd.concat([x, y], ignore_index=True)
        elif isinstance(x, np.ndarray):
            kw[f.name] = np.concatenate([x, y])
        else:
            kw[f.name] = x
    return regression.RegressionData(**kw)


def _three_fits(spec, w1, w2):
    f1 = cb.fit(spec, w1)
    f2 = cb.fit(spec.with_priors_from(f1), w2)
    joint = _stack(regression.prepare(spec, w1), regression.prepare(spec, w2))
    idj = sample(regression.build_model(spec, joint), spec.sampler)
    return f1, f2, idj


def _gap(a, b, var):
    """Per element: difference of posterior means over its Monte Carlo SE, and over the
    posterior SD."""
    sa = az.summary(a, var_names=[var], round_to="none")
    sb = az.summary(b, var_names=[var], round_to="none")
    d = sa["mean"] - sb["mean"]
    return d / np.sqrt(sa["mcse_mean"] ** 2 + sb["mcse_mean"] ** 2), d / sa["sd"]


def test_with_priors_from_refuses_another_model():
    spec = cb.load_spec("table3_collective")

    class F:
        spec = cb.load_spec("table2_individual")

    with pytest.raises(cb.SpecError, match=r"differs from 'table3_collective' in \['outcome'"):
        spec.with_priors_from(F())


def test_sequential_equals_joint_within_monte_carlo_error():
    """Complete pooling (coefficients shared by the countries, residual SDs per country and
    wave): wave 1's posterior of the coefficients is Gaussian up to the residual SDs'
    (tiny) uncertainty, so fitting wave 2 with it as the prior must reproduce the joint fit
    within Monte Carlo error: every coefficient's posterior mean within 4 Monte Carlo SEs
    of the joint fit's, and its SD within 7% (an SD estimated from about 2,000 effective
    draws has a Monte Carlo error of about 1.6%, so of 2.3% for the ratio of two). The
    control, wave 1 alone, is many Monte Carlo SEs away from the joint fit (the check can fail)."""
    spec = Spec("seq", outcome="collective", predictors=PREDICTORS, pooling="complete",
                sampler=Sampler(draws=2000, seed=5))
    w1 = cb.simulate(n_per_country=300, seed=21)
    w2 = cb.simulate(n_per_country=200, seed=22)
    f1, f2, idj = _three_fits(spec, w1, w2)
    assert f1.verdict.converged and f2.verdict.converged
    z, _ = _gap(f2.idata, idj, "mu")
    z = z.drop("mu[Intercept]")  # 0 by standardisation in every fit
    assert (z.abs() < 4).all(), z
    sd_ratio = (az.summary(f2.idata, var_names=["mu"], round_to="none")["sd"]
                / az.summary(idj, var_names=["mu"], round_to="none")["sd"])
    sd_ratio = sd_ratio.drop("mu[Intercept]")
    assert sd_ratio.between(0.93, 1.07).all(), sd_ratio
    control, _ = _gap(f1.idata, idj, "mu")
    assert control.drop("mu[Intercept]").abs().max() > 10


@pytest.mark.slow
def test_sequential_approximates_joint_with_partial_pooling():
    """Partial pooling over five countries per wave: the posterior of the between-country
    SDs is skewed, so its normal summary (on the log scale) is an approximation. Measured
    with the full table3_collective (2008 sizes, then 300 per country): posterior means of
    mu and tau within 0.35 posterior SD of the joint fit's."""
    spec = cb.load_spec("table3_collective").with_sampler(draws=2000)
    w1 = cb.simulate(seed=11)
    w2 = cb.simulate(n_per_country=300, seed=12)
    f1, f2, idj = _three_fits(spec, w1, w2)
    for var in ("mu", "tau"):
        _, rel = _gap(f2.idata, idj, var)
        rel = rel.drop("mu[Intercept]", errors="ignore")
        assert (rel.abs() < 0.35).all(), (var, rel)
