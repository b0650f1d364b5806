"""Ordinal indicators (graded response, ordered logit): recovery of simulated parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coprod_bayes as cb

LOAD = np.array([1.6, 1.2, 2.0, 1.0, 1.4, 1.8, 1.1, 0.9])  # logit scale; items 1-4 on f, 5-8 on g
CUTS = np.array([-2.0, -0.7, 0.5, 1.8])
RHO = 0.4


def _simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], n)
    cols = {}
    for j in range(8):
        lin = LOAD[j] * eta[:, j // 4]
        ystar = lin + rng.logistic(size=n)
        cols[f"q{j + 1}"] = 1 + np.searchsorted(CUTS + 0.1 * j, ystar).astype(float)
    df = pd.DataFrame(cols)
    miss = rng.random(df.shape) < 0.05  # item non-response: absent from the likelihood
    return df.mask(miss)


def test_graded_response_cfa_recovers_loadings_thresholds_and_correlation():
    """Two correlated factors, four 5-point items each, n = 600, 5% of responses missing at
    random (kept as missing, no row dropped). 8 loadings + 32 thresholds + 1 correlation:
    every posterior mean within 3.5 posterior SDs of the truth, and the mean |z| below 1.2
    (sqrt(2/pi) = 0.80 if calibrated). Not "90% within 2 SD": the thresholds of a factor's
    items all move with the sample's realised latent mean, so their z are strongly
    correlated and such a count swings widely (36 of 41 on this seed, all |z| < 2.3)."""
    df = _simulate(600, seed=101)
    assert df.isna().any(axis=1).sum() > 100  # many rows have a gap; all are used
    fit = cb.cfa("f =~ q1 + q2 + q3 + q4\ng =~ q5 + q6 + q7 + q8", df,
                 ordered=[f"q{j}" for j in range(1, 9)], draws=1000, tune=1000, seed=4)
    assert fit.n == 600
    d = fit.draws()
    truth = {f"{'f' if j < 4 else 'g'}=~q{j + 1}": LOAD[j] for j in range(8)}
    truth.update({f"q{j + 1}|t{t + 1}": CUTS[t] + 0.1 * j for j in range(8) for t in range(4)})
    truth["f~~g"] = RHO
    z = np.array([(d[k].mean() - v) / d[k].std() for k, v in truth.items()])
    assert np.all(np.abs(z) < 3.5), dict(zip(truth, np.round(z, 2), strict=True))
    assert np.mean(np.abs(z)) < 1.2
    # omega of the latent responses: (sum lambda)^2 / ((sum lambda)^2 + 4 pi^2/3), factor
    # variance 1; within 3 posterior SDs of the simulating value
    rel = fit.reliability().set_index("factor")
    for f, lam in (("f", LOAD[:4]), ("g", LOAD[4:])):
        omega = lam.sum() ** 2 / (lam.sum() ** 2 + 4 * np.pi**2 / 3)
        assert abs(rel.loc[f, "mean"] - omega) < 3 * rel.loc[f, "sd"], (f, rel.loc[f], omega)
    assert set(rel["scale"]) == {"latent response"}
    # std.all of an ordered-logit loading: lambda / sqrt(lambda^2 + pi^2 / 3)
    st = fit.standardized_draws()
    np.testing.assert_allclose(st["f=~q1"], d["f=~q1"] / np.sqrt(d["f=~q1"] ** 2 + np.pi**2 / 3))
    # item characteristic curves: probabilities sum to 1; at latent 0 the lowest category's
    # probability is the posterior mean of logistic(first threshold)
    from coprod_bayes.plot.latent import item_curve_values

    grid, mean, lo, hi = item_curve_values(fit, "q3", grid=np.array([-2.0, 0.0, 2.0]),
                                           max_draws=10**6)
    np.testing.assert_allclose(mean.sum(0), 1.0)
    np.testing.assert_allclose(mean[0, 1], (1 / (1 + np.exp(-d["q3|t1"]))).mean())
    assert np.all(lo <= mean) and np.all(mean <= hi)
    assert mean[-1, 2] > mean[-1, 0] and mean[0, 0] > mean[0, 2]  # higher latent, higher codes
    fig = cb.plot.item_curves(fit)
    assert sum(ax.get_visible() for ax in fig.axes) == 8


def _method_factor_data(n: int, seed: int) -> pd.DataFrame:
    """Factors f (q1-q4) and g (q5-q8), correlated RHO, and a method factor m, uncorrelated
    with both, shared by q1, q2, q5 and q6 (loading METHOD): the shared part that
    makes the one-factor-per-construct model overstate corr(f, g)."""
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], n)
    m = rng.standard_normal(n)
    cols = {}
    for j in range(8):
        lin = LOAD[j] * eta[:, j // 4] + (METHOD * m if j in (0, 1, 4, 5) else 0.0)
        cols[f"q{j + 1}"] = 1 + np.searchsorted(CUTS, lin + rng.logistic(size=n)).astype(float)
    return pd.DataFrame(cols)


METHOD = 1.2
MF_MODEL = ("f =~ q1 + q2 + q3 + q4\ng =~ q5 + q6 + q7 + q8\nm =~ q1 + q2 + q5 + q6\n"
            "m ~~ 0*f\nm ~~ 0*g")


def test_a_method_factor_fixed_uncorrelated_has_scores_of_its_own():
    """``m ~~ 0*f`` for every other f makes m a factor of its own (lavaan's orthogonal):
    at a random point its correlations are exactly 0 in every group, f and g stay
    correlated, and m's loadings are free parameters."""
    from coprod_bayes.engines.sem_latent import build_latent_model, prepare_latent
    from coprod_bayes.spec.syntax import parse_model

    df = _method_factor_data(100, seed=2).assign(grp=np.repeat([0, 1], 50))
    syntax = parse_model(MF_MODEL)
    data = prepare_latent(syntax, df, [f"q{j}" for j in range(1, 9)], "grp")
    model = build_latent_model(syntax, data)
    # free (the average anchor samples them in m's geometric-mean unit, "..._rel")
    free = {v.name.removesuffix("_rel") for v in model.free_RVs}
    assert {f"m=~q{j}" for j in (1, 2, 5, 6)} <= free
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(size=np.shape(v)) for k, v in model.initial_point().items()}
    chol = model.compile_fn(model["latent_chol"], inputs=model.value_vars,
                            on_unused_input="ignore")(point)
    R = chol @ np.swapaxes(chol, 1, 2)
    lat = model.coords["latent"]
    f, g, m = (lat.index(v) for v in ("f", "g", "m"))
    assert np.all(R[:, m, [f, g]] == 0.0) and np.all(R[:, m, m] == 1.0)
    assert np.all(np.abs(R[:, f, g]) > 1e-3)
    np.testing.assert_allclose(np.diagonal(R, axis1=1, axis2=2), 1.0)


@pytest.mark.slow  # 76 s (session 11)
def test_a_method_factor_is_recovered():
    """Loadings of the factors and of the method factor and corr(f, g) within 3.5
    posterior SDs of the truth (n = 1,000, one seed)."""
    df = _method_factor_data(1000, seed=33)
    fit = cb.cfa(MF_MODEL, df, ordered=list(df.columns), draws=2000, tune=1000, seed=6)
    d = fit.draws()
    truth = {f"{'f' if j < 4 else 'g'}=~q{j + 1}": LOAD[j] for j in range(8)}
    truth.update({f"m=~q{j}": METHOD for j in (1, 2, 5, 6)})
    truth["f~~g"] = RHO
    z = {key: (d[key].mean() - v) / d[key].std() for key, v in truth.items()}
    assert all(abs(v) < 3.5 for v in z.values()), z


@pytest.mark.parametrize("lines, message", [
    ("q1 ~~ q5", r"line 3: q1 ~~ q5: residual covariances of indicators are not fitted"),
    ("f ~~ 0.3*g", r"line 3: f ~~ g: a latent covariance fixed at 0.3"),
    # a zero pair among three correlated factors
    ("m =~ q1 + q2 + q5 + q6\nf ~~ 0*g",
     r"line 4: f ~~ 0\*g: this engine fixes a latent correlation at 0 only"),
    ("q1 ~~ q1", r"line 3: q1 ~~ q1: the residual variance of an ordinal item"),
    ("f ~~ q1", r"line 3: f ~~ q1: covariances are between two latent variables or two"),
])
def test_covariance_statements_the_latent_engine_would_ignore_are_refused(lines, message):
    """Each of these was once silently left out of the latent-score engine's model."""
    df = _method_factor_data(50, seed=1)
    model = "f =~ q1 + q2 + q3 + q4\ng =~ q5 + q6 + q7 + q8\n" + lines
    with pytest.raises(cb.SpecError, match=message):
        cb.cfa(model, df, ordered=list(df.columns), draws=10, tune=10)


def test_a_latent_outcome_residual_covariance_is_refused():
    df = _method_factor_data(50, seed=1)
    model = "f =~ q1 + q2 + q3 + q4\ng =~ q5 + q6 + q7 + q8\nh =~ q1 + q5\ng ~ f\nh ~ f\ng ~~ h"
    with pytest.raises(cb.SpecError, match=r"line 6: g ~~ h: g is regressed on latent"):
        cb.cfa(model, df, ordered=list(df.columns), draws=10, tune=10)


def test_a_labelled_latent_correlation_enters_a_definition():
    """``f ~~ r*g`` with ``d := 2*r``: d is twice the reference group's correlation (it
    raised a KeyError before)."""
    from coprod_bayes.engines.sem_latent import build_latent_model, prepare_latent
    from coprod_bayes.spec.syntax import parse_model

    df = _method_factor_data(60, seed=3)
    syntax = parse_model("f =~ q1 + q2 + q3 + q4\ng =~ q5 + q6 + q7 + q8\nf ~~ r*g\nd := 2*r")
    model = build_latent_model(syntax, prepare_latent(syntax, df, list(df.columns)))
    rng = np.random.default_rng(1)
    point = {k: v + rng.normal(size=np.shape(v)) for k, v in model.initial_point().items()}
    d, r = model.compile_fn([model["d"], model["f~~g"]], inputs=model.value_vars,
                            on_unused_input="ignore")(point)
    assert abs(r) > 1e-3 and d == pytest.approx(2 * r)
