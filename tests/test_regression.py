"""The closed-form hierarchical regression: its algebra, the built-in specs, recovery, OLS."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import coprod_bayes as cb
from coprod_bayes.classical import ols_table
from coprod_bayes.engines.regression import (
    RegressionData,
    bayes_r2,
    build_model,
    draw_group_coefficients,
    prepare,
)
from coprod_bayes.spec import Spec, builtin_specs, load_spec

PRED = ("age", "female", "efficacy")


@pytest.fixture(scope="module")
def small_survey():
    return cb.simulate(n_per_country=150, seed=31)


def _toy_data(rng, groups=2, n=25, p=3) -> RegressionData:
    X = np.column_stack([np.ones(groups * n), rng.standard_normal((groups * n, p - 1))])
    y = rng.standard_normal(groups * n)
    gi = np.repeat(np.arange(groups), n)
    XtX = np.stack([X[gi == k].T @ X[gi == k] for k in range(groups)])
    Xty = np.stack([X[gi == k].T @ y[gi == k] for k in range(groups)])
    yty = np.array([y[gi == k] @ y[gi == k] for k in range(groups)])
    return RegressionData([f"g{k}" for k in range(groups)], ["Intercept", "a", "b"][:p], XtX, Xty,
                          yty, np.full(groups, float(n)), X, y, np.ones(groups * n), gi,
                          np.arange(groups * n), pd.DataFrame())


def test_marginal_likelihood_equals_the_multivariate_normal():
    """log p(y | mu, tau, sigma) from the sufficient statistics equals the density of
    y_g ~ N(X mu, sigma^2 I + X diag(tau^2) X') computed on the full n x n covariance."""
    rng = np.random.default_rng(1)
    data = _toy_data(rng)
    spec = Spec(name="toy", outcome="collective", predictors=("a", "b"))
    model = build_model(spec, data)
    point = {"mu": np.array([0.1, -0.3, 0.2]), "tau": np.array([0.2, 0.05, 0.4]),
             "sigma": np.array([0.9, 1.3])}
    import pytensor

    # the random variables themselves as inputs: the graph is cut there
    fn = pytensor.function([model["mu"], model["tau"], model["sigma"]], model.potentials[0])
    got = float(fn(point["mu"], point["tau"], point["sigma"]))
    expected = 0.0
    for k in range(2):
        X, y = data.X[data.group_index == k], data.y[data.group_index == k]
        cov = point["sigma"][k] ** 2 * np.eye(len(y)) + X @ np.diag(point["tau"] ** 2) @ X.T
        expected += stats.multivariate_normal(X @ point["mu"], cov).logpdf(y)
    assert got == pytest.approx(expected, abs=1e-8)


def test_group_coefficient_draws_follow_the_conditional_posterior():
    """Given (mu, tau, sigma), beta_g ~ N(V (b/s2 + D^-1 mu), V), V = (A/s2 + D^-1)^-1.
    40,000 draws: means and covariances within 4 Monte Carlo SEs (a sample covariance's SE
    is sqrt((V_ii V_jj + V_ij^2) / S) for normal draws)."""
    import xarray as xr

    rng = np.random.default_rng(2)
    data = _toy_data(rng, groups=1)
    spec = Spec(name="toy", outcome="collective", predictors=("a", "b"))
    mu, tau, sigma = np.array([0.1, -0.3, 0.2]), np.array([0.3, 0.2, 0.5]), 0.8
    S = 40000
    posterior = xr.Dataset({
        "mu": (("chain", "draw", "coef"), np.broadcast_to(mu, (1, S, 3))),
        "tau": (("chain", "draw", "varying"), np.broadcast_to(tau, (1, S, 3))),
        "sigma": (("chain", "draw", "group"), np.full((1, S, 1), sigma)),
    })
    beta = draw_group_coefficients(spec, data, posterior, seed=3)[0, :, 0, :]
    A, b = data.XtX[0], data.Xty[0]
    Dinv = np.diag(1 / tau**2)
    V = np.linalg.inv(A / sigma**2 + Dinv)
    m = V @ (b / sigma**2 + Dinv @ mu)
    se = np.sqrt(np.diag(V) / S)
    assert np.all(np.abs(beta.mean(0) - m) < 4 * se)
    cov_se = np.sqrt((np.outer(np.diag(V), np.diag(V)) + V**2) / S)
    assert np.all(np.abs(np.cov(beta, rowvar=False) - V) < 4 * cov_se)


def test_bayes_r2_matches_direct_computation():
    rng = np.random.default_rng(4)
    data = _toy_data(rng)
    beta = rng.normal(size=(1, 3, 2, 3))
    sigma = rng.uniform(0.5, 1.5, size=(1, 3, 2))
    got = bayes_r2(data, beta, sigma)
    for k in range(2):
        X = data.X[data.group_index == k]
        for d in range(3):
            fitted = X @ beta[0, d, k]
            v = fitted.var()
            assert got[0, d, k] == pytest.approx(v / (v + sigma[0, d, k] ** 2), rel=1e-10)


@pytest.mark.parametrize("name", [n for n in builtin_specs() if load_spec(n).level == "respondent"
                                  and getattr(load_spec(n), "kind", None) is None])
def test_builtin_spec_builds_with_finite_logp(name, small_survey):
    spec = load_spec(name)
    data = prepare(spec, small_survey)
    model = build_model(spec, data)
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    assert list(model.coords["group"]) == small_survey.levels("country")
    assert list(model.coords["coef"]) == ["Intercept", *spec.predictors]
    assert data.rows["used"].sum() + data.rows["not_used"].sum() == small_survey.n_respondents


def test_prepare_records_unused_respondents(small_survey):
    spec = load_spec("table3_collective")
    data = prepare(spec, small_survey)
    complete = ols_table(small_survey, "collective", list(spec.predictors), pooled=False)
    n_ols = complete.drop_duplicates("country").set_index("country")["n"]
    assert data.rows.set_index("group")["used"].to_dict() == n_ols.to_dict()
    assert int(data.n.sum()) == int(n_ols.sum())
    assert (data.rows["not_used"] > 0).any()  # the simulator plants incomplete cases
    assert data.rows.loc[data.rows["not_used"] > 0, "missing_by_variable"].str.len().min() > 0


def _regression_survey(seed: int, n: int, truth: dict[str, np.ndarray]):
    """A survey whose collective index follows a known per-country linear model, so that
    recovery is checked on the regression model itself (the simulator's latent truth is
    for the latent engines)."""
    s = cb.simulate(n_per_country=n, seed=seed, nonresponse=False)
    # not the simulator's seed: its first draws generate age, and would come back as "noise"
    rng = np.random.default_rng(seed + 10_000)
    frame = s.frame.copy()
    out = np.empty(len(frame))
    for c, beta in truth.items():
        sel = (frame["country"] == c).to_numpy()
        X = frame.loc[sel, ["age", "female"]].to_numpy(float)
        X = (X - X.mean(0)) / X.std(0)
        out[sel] = X @ beta + rng.normal(0, np.sqrt(1 - beta @ beta), sel.sum())
    # a continuous outcome column; the test swaps it in for the index (_data_with_outcome)
    frame["score"] = out
    return cb.Survey(frame, s.codebook, s.missing_reasons, None, "test")


def test_recovers_known_slopes():
    """Five countries with known slopes on age and female (population means 0.3 and -0.2,
    country deviations of about 0.1), 600 respondents each. Each population slope's posterior
    mean lies within 2 posterior SDs of the population value (95% nominal each), each
    country slope within 3 (99.7%)."""
    truth = {"CZ": np.array([0.20, -0.10]), "DK": np.array([0.35, -0.25]),
             "DE": np.array([0.25, -0.30]), "FR": np.array([0.40, -0.15]),
             "GB": np.array([0.30, -0.20])}
    s = _regression_survey(41, 600, truth)
    spec = Spec(name="recovery", outcome="collective", predictors=("age", "female"))
    data = _data_with_outcome(spec, s, "score")
    fit = _fit_data(spec, data)
    beta = fit["beta"]
    mu = fit["mu"]
    pop = np.mean(np.stack(list(truth.values())), axis=0)
    for j, name in enumerate(("age", "female")):
        m, sd = mu[:, j + 1].mean(), mu[:, j + 1].std()
        assert abs(m - pop[j]) < 2 * sd, (name, m, sd, pop[j])
        for k, c in enumerate(data.groups):
            m, sd = beta[:, k, j + 1].mean(), beta[:, k, j + 1].std()
            assert abs(m - truth[c][j]) < 3 * sd, (c, name, m, sd, truth[c][j])


def _data_with_outcome(spec: Spec, survey, column: str) -> RegressionData:
    """prepare() with a numeric column in place of the outcome index."""
    patched = survey.frame.copy()
    base = prepare(spec, cb.Survey(patched, survey.codebook, survey.missing_reasons))
    X = base.X
    gi = base.group_index
    y = np.empty(len(gi))
    score = patched[column].to_numpy()
    for k in range(len(base.groups)):
        sel = gi == k
        v = score[patched["country"].to_numpy() == base.groups[k]]
        y[sel] = (v - v.mean()) / v.std()
    XtX = np.stack([X[gi == k].T @ X[gi == k] for k in range(len(base.groups))])
    Xty = np.stack([X[gi == k].T @ y[gi == k] for k in range(len(base.groups))])
    yty = np.array([y[gi == k] @ y[gi == k] for k in range(len(base.groups))])
    return RegressionData(base.groups, base.coefficients, XtX, Xty, yty, base.n, X, y, base.w,
                          gi, base.respondent_id, base.rows)


def _fit_data(spec: Spec, data: RegressionData) -> dict[str, np.ndarray]:
    from coprod_bayes.fit import assess, sample

    model = build_model(spec, data)
    idata = sample(model, spec.sampler.__class__(draws=1000, tune=1000, seed=5, target_accept=0.95))
    assert assess(idata, [v for v in ("mu", "tau", "sigma") if v in idata.posterior]).converged
    beta = draw_group_coefficients(spec, data, idata.posterior, seed=5)
    S = beta.shape[0] * beta.shape[1]
    out = {"beta": beta.reshape(S, *beta.shape[2:])}
    if "mu" in idata.posterior:
        out["mu"] = idata.posterior["mu"].values.reshape(S, -1)
    return out


def test_flat_priors_single_group_match_ols(small_survey):
    """One group and flat-ish priors (Normal(0, 10), no pooling): the posterior means equal
    the OLS standardised betas to within 0.01 (the remaining gap is Monte Carlo error,
    SD/sqrt(ESS) of about 0.003, and the prior's pull, below 1e-4)."""
    spec = Spec(name="flat", outcome="collective", predictors=("age", "female", "efficacy"),
                group=None, pooling="none", priors=FLAT)
    fit = cb.fit(spec, small_survey, draws=800, tune=800, seed=7)
    post = fit.summary("beta").set_index("coef")["mean"]
    ols = ols_table(small_survey, "collective", list(spec.predictors)).query("country == 'pooled'")
    for _, row in ols.iterrows():
        assert post[row.predictor] == pytest.approx(row.beta, abs=0.01)


FLAT = {"coefficient": 10.0, "intercept": 10.0, "residual_sd": 5.0}


def test_weighted_pseudo_likelihood_matches_weighted_least_squares(small_survey):
    """weights = true: with flat-ish priors and one group the posterior means equal the
    weighted least-squares betas (statsmodels WLS on the weighted z-scores) to within 0.01,
    and they differ from the unweighted ones (else the test could not tell): FR respondents
    weigh ten times the others, and FR's slopes differ from the rest."""
    import statsmodels.api as sm

    frame = small_survey.frame.copy()
    frame["weight"] = np.where(frame["country"] == "FR", 5.0, 0.5) * frame["weight"]
    small_survey = cb.Survey(frame, small_survey.codebook, small_survey.missing_reasons, None,
                             "reweighted")
    pred = ["age", "female", "efficacy"]
    spec = Spec(name="weighted", outcome="collective", predictors=tuple(pred), group=None,
                pooling="none", weights=True, priors=FLAT)
    fit = cb.fit(spec, small_survey, draws=800, tune=800, seed=8)
    post = fit.summary("beta").set_index("coef")["mean"]
    df = cb.classical.analysis_frame(small_survey, "collective", pred).dropna(
        subset=["collective", *pred])
    w = df["weight"].to_numpy(float)
    Z = df[["collective", *pred]].to_numpy(float)
    m = np.average(Z, axis=0, weights=w)
    Z = (Z - m) / np.sqrt(np.average((Z - m) ** 2, axis=0, weights=w))
    wls = sm.WLS(Z[:, 0], sm.add_constant(Z[:, 1:]), weights=w).fit().params[1:]
    ols = ols_table(small_survey, "collective", pred).query("country == 'pooled'")["beta"]
    assert np.max(np.abs(wls - ols.to_numpy())) > 0.05
    np.testing.assert_allclose(post[pred].to_numpy(), wls, atol=0.01)
    assert int(fit.rows["used"].sum()) == len(df)


def test_unconverged_fit_warns_and_says_so(small_survey):
    spec = Spec(name="short", outcome="collective", predictors=PRED)
    # PyMC's NUTS here: it exercises the fallback backend, and 15 draws compile faster in C
    with pytest.warns(cb.ConvergenceWarning, match="NOT CONVERGED"):
        fit = cb.fit(spec, small_survey, draws=15, tune=15, seed=1, backend="pymc")
    assert not fit.verdict.converged
    table = fit.compare(cb.classical.tables(small_survey))
    assert table.attrs["verdict"].startswith("NOT CONVERGED")


def test_fit_save_load_and_compare(small_survey, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)  # small survey, short chains
        fit = cb.fit("table3_collective", small_survey, draws=300, tune=300, seed=2)
    path = fit.save(tmp_path / "fit.nc")
    again = cb.load_fit(path)
    assert again.spec == fit.spec
    assert again.fingerprint == fit.fingerprint
    assert again.verdict == fit.verdict
    pd.testing.assert_frame_equal(again.summary(), fit.summary())
    pd.testing.assert_frame_equal(again.rows, fit.rows)
    cmp = fit.compare(cb.classical.tables(small_survey))
    assert len(cmp) == 5 * 9 + 5
    ols = ols_table(small_survey, "collective", list(fit.spec.predictors), pooled=False)
    merged = cmp.merge(ols, left_on=["group", "predictor"], right_on=["country", "predictor"])
    np.testing.assert_allclose(merged["ols_beta"], merged["beta"])
    assert set(cmp["flag"].dropna()) <= {"", "sign", "credible only", "significant only"}
    with pytest.raises(cb.SpecError, match="not a coprod_bayes fit"):
        import arviz as az

        az.from_dict(posterior={"x": np.zeros((1, 5))}).to_netcdf(str(tmp_path / "other.nc"))
        cb.load_fit(tmp_path / "other.nc")
