"""Ordinal indicators (graded response, ordered logit): recovery of simulated parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    assert np.all(np.abs(z) < 3.5), dict(zip(truth, np.round(z, 2)))
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
