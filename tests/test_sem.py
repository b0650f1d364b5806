"""lavaan-syntax SEM with continuous indicators: the posterior agrees with maximum likelihood
(an independent scipy implementation here) and recovers the simulating parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import coprod_bayes as cb

LOAD = np.array([[0.8, 0.7, 0.6], [0.9, 0.5, 0.7], [0.6, 0.8, 0.75]])
PHI = np.array([[1.0, 0.4, 0.3], [0.4, 1.0, 0.5], [0.3, 0.5, 1.0]])
RESID_SD = np.array([0.6, 0.7, 0.8, 0.5, 0.9, 0.7, 0.8, 0.6, 0.65])


@pytest.fixture(scope="module")
def cfa_data():
    rng = np.random.default_rng(2024)
    n = 1500
    eta = rng.multivariate_normal(np.zeros(3), PHI, n)
    Lam = np.zeros((9, 3))
    for f in range(3):
        Lam[3 * f:3 * f + 3, f] = LOAD[f]
    y = eta @ Lam.T + RESID_SD * rng.standard_normal((n, 9)) + np.arange(9)
    return pd.DataFrame(y, columns=[f"x{i}" for i in range(1, 10)])


@pytest.fixture(scope="module")
def cfa_fit(cfa_data):
    model = """
        visual  =~ x1 + x2 + x3
        textual =~ x4 + x5 + x6
        speed   =~ x7 + x8 + x9
    """
    return cb.cfa(model, cfa_data, draws=1000, tune=1000, seed=3)


def _ml_cfa(y: np.ndarray) -> dict[str, np.ndarray]:
    """Maximum likelihood of the 3-factor CFA (std.lv: factor variances 1), by scipy on the
    ML discrepancy log|Sigma| + tr(S Sigma^-1); the independent check of the Bayesian fit."""
    S = np.cov(y, rowvar=False, ddof=0)

    def unpack(t):
        Lam = np.zeros((9, 3))
        for f in range(3):
            Lam[3 * f:3 * f + 3, f] = t[3 * f:3 * f + 3]
        r = np.tanh(t[9:12])
        Phi = np.array([[1, r[0], r[1]], [r[0], 1, r[2]], [r[1], r[2], 1]])
        return Lam, Phi, np.exp(t[12:21])

    def f(t):
        Lam, Phi, th = unpack(t)
        Sig = Lam @ Phi @ Lam.T + np.diag(th)
        sign, logdet = np.linalg.slogdet(Sig)
        return logdet + np.trace(np.linalg.solve(Sig, S)) if sign > 0 else 1e10

    t0 = np.r_[np.full(9, 0.7), np.zeros(3), np.log(np.full(9, 0.5))]
    res = optimize.minimize(f, t0, method="BFGS", options={"gtol": 1e-8, "maxiter": 5000})
    Lam, Phi, th = unpack(res.x)
    return {"load": Lam[Lam != 0], "corr": Phi[np.triu_indices(3, 1)], "resid_var": th}


def test_cfa_agrees_with_maximum_likelihood(cfa_data, cfa_fit):
    """Three correlated factors, three items each, n = 1,500. Posterior means differ from the
    ML estimates by O(1/n) while posterior SDs are O(1/sqrt(n)): each posterior mean within
    0.25 posterior SD of the MLE (plus Monte Carlo error), and within 3 SDs of the truth."""
    fit = cfa_fit
    assert fit.verdict.converged, fit.verdict.headline
    ml = _ml_cfa(cfa_data.to_numpy())
    s = fit.summary().set_index(["lhs", "op", "rhs"])
    load = s.xs("=~", level="op")
    truth_load = LOAD.ravel()
    for k, (f, x) in enumerate(load.index):
        row = load.loc[(f, x)]
        assert abs(row["mean"] - ml["load"][k]) < 0.25 * row["sd"] + 0.003, (f, x)
        assert abs(row["mean"] - truth_load[k]) < 3 * row["sd"], (f, x)
    pairs = [("visual", "textual"), ("visual", "speed"), ("textual", "speed")]
    for k, (a, b) in enumerate(pairs):
        row = s.loc[(a, "~~", b)]
        assert abs(row["mean"] - ml["corr"][k]) < 0.25 * row["sd"] + 0.003, (a, b)
        assert abs(row["mean"] - PHI[np.triu_indices(3, 1)][k]) < 3 * row["sd"]
    for k in range(9):
        row = s.loc[(f"x{k + 1}", "~~", f"x{k + 1}")]
        assert abs(row["mean"] - ml["resid_var"][k]) < 0.25 * row["sd"] + 0.003, k


def test_sem_mediation_defined_parameter_recovered():
    """X -> M -> Y between latent variables with labelled paths and ind := a*b: the indirect
    effect's posterior covers the simulating value a*b within 3 posterior SDs, and equals the
    product of the a and b draws."""
    rng = np.random.default_rng(7)
    n, a, b, c = 1200, 0.5, 0.4, 0.2
    X = rng.standard_normal(n)
    M = a * X + rng.standard_normal(n)
    Y = b * M + c * X + rng.standard_normal(n)
    cols = {}
    for name, eta in (("x", X), ("m", M), ("y", Y)):
        for k, lam in enumerate((0.8, 0.7, 0.6)):
            cols[f"{name}{k + 1}"] = lam * eta + 0.6 * rng.standard_normal(n)
    df = pd.DataFrame(cols)
    fit = cb.sem("""
        X =~ x1 + x2 + x3
        M =~ m1 + m2 + m3
        Y =~ y1 + y2 + y3
        M ~ a*X
        Y ~ b*M + c*X
        ind := a*b
    """, df, draws=1000, tune=1000, seed=5)
    assert fit.verdict.converged, fit.verdict.headline
    d = fit.draws()
    np.testing.assert_allclose(d["ind"], d["M~X"] * d["Y~M"])
    # std.lv: M and Y have residual variance 1, as simulated, so a, b and c are on the
    # simulating scale
    for name, truth in (("M~X", a), ("Y~M", b), ("Y~X", c), ("ind", a * b)):
        assert abs(d[name].mean() - truth) < 3 * d[name].std(), (name, d[name].mean())


def test_missing_indicator_values_are_named():
    df = pd.DataFrame({"x1": [1.0, np.nan, 2, 3], "x2": [1.0, 2, 3, 4], "x3": [2.0, 1, 0, 1]})
    # the closed form needs complete rows (engine="auto" fits the latent-score model instead)
    with pytest.raises(cb.SurveyDataError, match=r"x1: rows \[1\] \(1\)"):
        cb.cfa("f =~ x1 + x2 + x3", df, engine="closed_form")
    with pytest.raises(cb.SpecError, match=r"\['x4'\] are not columns"):
        cb.cfa("f =~ x1 + x2 + x4", df)
    with pytest.raises(cb.SpecError, match=r"ordered=\['x9'\]: not indicators of the model"):
        cb.cfa("f =~ x1 + x2 + x3", df, ordered=["x9"])
    df.loc[2, "x2"] = np.nan
    df.loc[2, "x3"] = np.nan
    df.loc[2, "x1"] = np.nan
    with pytest.raises(cb.SurveyDataError, match=r"rows \[2\] \(1 rows\) answered none"):
        cb.cfa("f =~ x1 + x2 + x3", df)


def test_standardized_solution_matches_ml_standardised_loadings(cfa_data, cfa_fit):
    """std.all of a CFA loading is lambda / sqrt(lambda^2 + theta) (factor variance 1): the
    posterior means within 0.25 posterior SD of the ML values (+ Monte Carlo error)."""
    fit = cfa_fit
    ml = _ml_cfa(cfa_data.to_numpy())
    ml_std = ml["load"] / np.sqrt(ml["load"] ** 2 + ml["resid_var"])
    st = fit.standardized_solution().set_index(["lhs", "op", "rhs"])
    load = st.xs("=~", level="op")
    assert len(load) == 9
    for k, idx in enumerate(load.index):
        row = load.loc[idx]
        assert abs(row["mean"] - ml_std[k]) < 0.25 * row["sd"] + 0.003, idx
    # residual variances are 1 - R^2: 1 minus the squared standardised loading, per draw
    d = fit.standardized_draws()
    np.testing.assert_allclose(d["x1~~x1"], 1 - d["visual=~x1"] ** 2, atol=1e-10)
    # factor correlations are already standardised
    np.testing.assert_allclose(d["visual~~speed"], fit.draws()["visual~~speed"])


def test_omega_matches_the_ml_plug_in(cfa_data, cfa_fit):
    """McDonald's omega per factor: (sum lambda)^2 / ((sum lambda)^2 + sum theta) with factor
    variance 1. Posterior mean within 0.25 posterior SD of the ML plug-in value (+ MC error)."""
    ml = _ml_cfa(cfa_data.to_numpy())
    rel = fit_rel = cfa_fit.reliability().set_index("factor")
    assert list(fit_rel.index) == ["visual", "textual", "speed"]
    for k, f in enumerate(rel.index):
        lam, th = ml["load"][3 * k:3 * k + 3], ml["resid_var"][3 * k:3 * k + 3]
        omega = lam.sum() ** 2 / (lam.sum() ** 2 + th.sum())
        assert abs(rel.loc[f, "mean"] - omega) < 0.25 * rel.loc[f, "sd"] + 0.003, f
        assert rel.loc[f, "lower"] < omega < rel.loc[f, "upper"]


def test_variance_statements_the_engine_would_ignore_are_refused(cfa_data):
    with pytest.raises(cb.SpecError, match=r"line 2: f ~~ f: latent variances are fixed to 1"):
        cb.cfa("f =~ x1 + x2 + x3\nf ~~ f", cfa_data)
    with pytest.raises(cb.SpecError, match=r"line 2: x1 ~~ 0.5\*x1: fixed residual variances"):
        cb.cfa("f =~ x1 + x2 + x3\nx1 ~~ 0.5*x1", cfa_data)


def test_a_saved_closed_form_fit_reads_back(cfa_fit, tmp_path):
    """The closed-form engine's data (the indicators' frame, mean and covariance) survive
    the round trip, so the chi-square PPP and the summaries are equal."""
    again = cb.load_fit(cfa_fit.save(tmp_path / "cfa.nc"))
    assert not again.latent_engine and again.model == cfa_fit.model
    np.testing.assert_array_equal(again.data.cov, cfa_fit.data.cov)
    pd.testing.assert_frame_equal(again.data.frame, cfa_fit.data.frame)
    pd.testing.assert_frame_equal(again.summary(), cfa_fit.summary())
    pd.testing.assert_frame_equal(again.reliability(), cfa_fit.reliability())
    a, b = again.ppp(draws=20, seed=1), cfa_fit.ppp(draws=20, seed=1)
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])


def test_a_file_without_sem_data_is_refused(cfa_fit, tmp_path):
    """A file whose posterior says "sem" but holds no data group (e.g. written by an older
    version) is refused by name, not half-read."""
    path = tmp_path / "old.nc"
    idata = cfa_fit.idata.copy()
    idata.posterior.attrs["coprod_kind"] = "sem"
    idata.to_netcdf(str(path))
    with pytest.raises(cb.SpecError, match="old.nc: not a SEM fit"):
        cb.load_fit(path)
