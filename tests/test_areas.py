"""The policy-area engine: its closed-form likelihood and conditional draws, by dense algebra."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import coprod_bayes as cb
from coprod_bayes.classical import ols_by_area
from coprod_bayes.engines.areas import build_area_model, draw_context_coefficients, prepare_areas
from coprod_bayes.spec import Spec, load_spec

P, A = 3, 3


@pytest.fixture(scope="module")
def tiny():
    s = cb.simulate(n_per_country=15, seed=3)
    spec = Spec(name="t", outcome="coproduction", predictors=("age", "efficacy"), level="area")
    return s, spec, prepare_areas(spec, s)


def _point(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 0.2, (A, P))
    return {"mu": rng.normal(0, 0.3, P), "gamma": gamma - gamma.mean(0),
            "tau_country": rng.uniform(0.05, 0.4, P), "tau_context": rng.uniform(0.05, 0.4, P),
            "sigma": rng.uniform(0.5, 1.2, 5), "omega": 0.6}


def _dense(data, country: str, pt: dict):
    dc = data.long[data.long["country"] == country]
    a_idx = dc["area"].map({a: j for j, a in enumerate(data.areas)}).to_numpy()
    X = np.zeros((len(dc), A * P))
    Xp = np.column_stack([np.ones(len(dc)), dc[["age", "efficacy"]].to_numpy(float)])
    for j in range(A):
        X[a_idx == j, j * P:(j + 1) * P] = Xp[a_idx == j]
    y = dc["coproduction"].to_numpy(float)
    m = (pt["mu"][None, :] + pt["gamma"]).ravel()
    S = (np.kron(np.ones((A, A)), np.diag(pt["tau_country"] ** 2))
         + np.kron(np.eye(A), np.diag(pt["tau_context"] ** 2)))
    ids = dc["respondent_id"].to_numpy()
    Z = (ids[:, None] == ids[None, :]).astype(float)
    ci = data.countries.index(country)
    R = pt["sigma"][ci] ** 2 * np.eye(len(y)) + pt["omega"] ** 2 * Z
    return X, y, m, S, R


def test_area_likelihood_equals_dense_multivariate_normal(tiny):
    """Respondent intercepts and context deviations integrated out in closed form equal the
    normal density with the full covariance sigma^2 I + omega^2 Z Z' + X S X' (to 1e-8)."""
    import pytensor

    _, spec, data = tiny
    model = build_area_model(spec, data)
    pt = _point(0)
    names = list(pt)
    # FAST_COMPILE: the C backend needs over a minute to compile this graph
    fn = pytensor.function([model[n] for n in names], model.potentials[0], mode="FAST_COMPILE")
    # the model holds gamma as (coef, area): its zero sum runs over the last axis, the areas
    got = float(fn(*[pt[n].T if n == "gamma" else pt[n] for n in names]))
    expected = 0.0
    for c in data.countries:
        X, y, m, S, R = _dense(data, c, pt)
        expected += stats.multivariate_normal(X @ m, R + X @ S @ X.T).logpdf(y)
    assert got == pytest.approx(expected, abs=1e-8)


def test_context_draws_follow_the_dense_conditional_posterior(tiny):
    """Given all hyperparameters, a country's context coefficients are
    N(V (S^-1 m + X' R^-1 y), V), V = (S^-1 + X' R^-1 X)^-1. 20,000 draws: means within
    4 Monte Carlo SEs, variances within 4 SEs (SE of a normal variance: V_jj sqrt(2/S))."""
    _, _, data = tiny
    pt = _point(1)
    n = 20000
    post = xr.Dataset({
        "mu": (("chain", "draw", "coef"), np.broadcast_to(pt["mu"], (1, n, P))),
        "gamma": (("chain", "draw", "area", "coef"), np.broadcast_to(pt["gamma"], (1, n, A, P))),
        "tau_country": (("chain", "draw", "coef"), np.broadcast_to(pt["tau_country"], (1, n, P))),
        "tau_context": (("chain", "draw", "coef"), np.broadcast_to(pt["tau_context"], (1, n, P))),
        "sigma": (("chain", "draw", "country"), np.broadcast_to(pt["sigma"], (1, n, 5))),
        "omega": (("chain", "draw"), np.full((1, n), pt["omega"])),
    })
    draws = draw_context_coefficients(data, post, seed=2)[0]
    for ci, c in enumerate(data.countries[:2]):
        X, y, m, S, R = _dense(data, c, pt)
        Rinv = np.linalg.inv(R)
        V = np.linalg.inv(np.linalg.inv(S) + X.T @ Rinv @ X)
        mean = V @ (np.linalg.solve(S, m) + X.T @ Rinv @ y)
        got = draws[:, ci].reshape(n, -1)
        sd = np.sqrt(np.diag(V))
        assert np.all(np.abs(got.mean(0) - mean) < 4 * sd / np.sqrt(n))
        assert np.all(np.abs(got.var(0) - np.diag(V)) < 4 * np.diag(V) * np.sqrt(2 / n))


@pytest.mark.slow  # compiling the full 9-predictor area model takes minutes
def test_policy_areas_spec_builds_on_the_full_codebook():
    s = cb.simulate(n_per_country=60, seed=4)
    spec = load_spec("policy_areas")
    data = prepare_areas(spec, s)
    model = build_area_model(spec, data)
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    assert len(data.rows) == 15
    assert int(data.rows["rows"].sum()) == 3 * s.n_respondents
    assert int(data.rows["used"].sum()) == len(data.long)
    ols = ols_by_area(s, spec.outcome, list(spec.predictors))
    assert len(ols) == 15 * 9
    used = data.rows.set_index(["country", "area"])["used"]
    n_ols = ols.drop_duplicates(["country", "area"]).set_index(["country", "area"])["n"]
    assert used.to_dict() == n_ols.to_dict()


@pytest.mark.slow  # compiling the area model takes 50-180 s here; benchmarks/recovery.py runs more
def test_area_model_recovers_known_context_slopes():
    """Outcomes drawn from the policy-area model itself (known population, area, country and
    context slopes, respondent intercepts) on the survey's age and efficacy: 2 population and
    30 context slopes. Each posterior mean within 3.5 posterior SDs of the truth, and at
    least 80% within 2 (95% nominal; under independence fewer than 80% has probability
    0.3%)."""
    from coprod_bayes.recovery import area_recovery

    s = cb.simulate(n_per_country=200, seed=8)
    spec = Spec(name="t", outcome="coproduction", predictors=("age", "efficacy"), level="area")
    spec = spec.with_sampler(draws=1000, tune=1000, seed=3, mass_matrix="low_rank",
                             target_accept=0.95)
    table, verdict = area_recovery(spec, s, seed=11)
    assert verdict.converged, verdict.headline
    assert len(table) == 2 + 15 * 2
    assert (table["z"].abs() < 3.5).all(), table.loc[table["z"].abs().idxmax()]
    assert table["within_2sd"].mean() >= 0.8
