"""Hierarchical Gaussian regression of an index on predictors, by group, in closed form.

The model, for group g (a country) with z-scored outcome y_g and design X_g (intercept
first):

    y_g ~ Normal(X_g beta_g, sigma_g^2 I)
    beta_g ~ Normal(mu, diag(tau)^2)          (partial pooling; tau = 0 shares a coefficient,
                                               mu = 0 and tau = prior scale: no pooling)
    mu ~ Normal(0, s_mu),  tau ~ HalfNormal(s_tau),  sigma_g ~ HalfNormal(s_sigma)

Because y_g is Gaussian given beta_g and beta_g is Gaussian given (mu, tau), beta_g is
integrated out exactly:

    y_g ~ Normal(X_g mu, sigma_g^2 I + X_g diag(tau^2) X_g')

whose log density needs only the group's sufficient statistics A = X'X, b = X'y, s = y'y
(weighted when survey weights are used) and the Cholesky factor of the p x p matrix
M = I + diag(tau) A diag(tau) / sigma^2 (Woodbury identity). The sampler then sees only
mu, tau and sigma: no funnel between tau and the group coefficients (the cause of
divergences in the usual non-centred model with five groups), and each gradient costs
O(p^3) per group whatever the number of respondents. The group coefficients are drawn
afterwards, exactly, from their Gaussian conditional posterior given each draw of
(mu, tau, sigma) (:func:`draw_group_coefficients`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.slinalg import cholesky, solve_triangular

from ..classical.ols import analysis_frame
from ..errors import SpecError
from ..spec.spec import Spec
from ..survey.survey import Survey

__all__ = [
    "RegressionData", "prepare", "build_model", "draw_group_coefficients", "bayes_r2",
    "pointwise_loglik", "predict", "prior_draws", "prior_scales",
]


@dataclass
class RegressionData:
    """The analysis data of a regression spec, reduced to what the model needs.

    ``XtX``, ``Xty``, ``yty`` and ``n`` are per group (weighted sums when the spec uses
    weights, with weights normalised to sum to each group's n); ``X``, ``y``, ``w`` and
    ``group_index`` keep the rows for predictive checks and LOO. ``rows`` records, per group,
    how many respondents there were, how many were used and why the others were not.
    """

    groups: list[str]
    coefficients: list[str]
    XtX: np.ndarray
    Xty: np.ndarray
    yty: np.ndarray
    n: np.ndarray
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    group_index: np.ndarray
    respondent_id: np.ndarray
    rows: pd.DataFrame
    y_loc: np.ndarray | None = None
    y_scale: np.ndarray | None = None


def _z(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    m = np.average(x, axis=0, weights=w)
    sd = np.sqrt(np.average((x - m) ** 2, axis=0, weights=w))
    return (x - m) / sd


def prepare(spec: Spec, survey: Survey) -> RegressionData:
    """Complete cases of the spec's variables, z-scored, reduced to sufficient statistics.

    Respondents with a missing outcome or predictor are not used; how many per group and
    for which variable is recorded in ``rows`` (and in the fit), never silent.

    Raises
    ------
    SpecError
        If the spec does not fit the survey's codebook, or a group has too few complete
        respondents to estimate its coefficients.
    """
    spec.validate_against(survey.codebook)
    cols = [spec.outcome, *spec.predictors]
    df = analysis_frame(survey, spec.outcome, list(spec.predictors))
    df["respondent_id"] = survey.frame[survey.codebook.id].to_numpy()
    group_col = spec.group
    if group_col is None:
        df["_group"] = "all"
        groups = ["all"]
    else:
        df["_group"] = df[group_col]
        groups = survey.levels(group_col)
    complete = df[cols].notna().all(axis=1)
    rows = []
    for g in groups:
        sel = df["_group"] == g
        missing = {c: int(df.loc[sel, c].isna().sum()) for c in cols}
        rows.append({"group": g, "respondents": int(sel.sum()),
                     "used": int((sel & complete).sum()),
                     "not_used": int((sel & ~complete).sum()),
                     "missing_by_variable": ", ".join(f"{k}: {v}" for k, v in missing.items()
                                                      if v)})
    rows = pd.DataFrame(rows)
    small = rows[rows["used"] <= len(cols) + 1]
    if len(small):
        raise SpecError(f"spec {spec.name!r}: group(s) {small['group'].tolist()} have only "
                        f"{small['used'].tolist()} complete respondents for {len(cols)} variables")
    d = df[complete].reset_index(drop=True)
    w = d["weight"].to_numpy(float, copy=True) if spec.weights else np.ones(len(d))
    gi = np.array([groups.index(g) for g in d["_group"]])
    for k in range(len(groups)):  # weights sum to n within each group
        sel = gi == k
        w[sel] = w[sel] * sel.sum() / w[sel].sum()
    Y = d[cols].to_numpy(float)
    y_loc, y_scale = np.empty(len(groups)), np.empty(len(groups))
    if spec.standardize == "group":
        Z = np.empty_like(Y)
        for k in range(len(groups)):
            sel = gi == k
            Z[sel] = _z(Y[sel], w[sel])
            y_loc[k] = np.average(Y[sel, 0], weights=w[sel])
            y_scale[k] = np.sqrt(np.average((Y[sel, 0] - y_loc[k]) ** 2, weights=w[sel]))
    else:
        Z = _z(Y, w)
        y_loc[:] = np.average(Y[:, 0], weights=w)
        y_scale[:] = np.sqrt(np.average((Y[:, 0] - y_loc[0]) ** 2, weights=w))
    y = Z[:, 0]
    X = np.column_stack([np.ones(len(d)), Z[:, 1:]])
    G, p = len(groups), X.shape[1]
    XtX, Xty, yty, n = np.zeros((G, p, p)), np.zeros((G, p)), np.zeros(G), np.zeros(G)
    for k in range(G):
        sel = gi == k
        Xw = X[sel] * w[sel, None]
        XtX[k] = Xw.T @ X[sel]
        Xty[k] = Xw.T @ y[sel]
        yty[k] = float(np.sum(w[sel] * y[sel] ** 2))
        n[k] = w[sel].sum()
    return RegressionData(groups, list(spec.coefficients), XtX, Xty, yty, n, X, y, w, gi,
                          d["respondent_id"].to_numpy(), rows, y_loc, y_scale)


def prior_scales(spec: Spec, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Per coefficient (intercept first): the SD of its population prior and the scale of
    the HalfNormal prior on its between-group SD."""
    pr = spec.priors
    loc = np.r_[pr.intercept, np.full(p - 1, pr.coefficient)]
    between = np.r_[pr.intercept_sd, np.full(p - 1, pr.coefficient_sd)]
    return loc, between


def build_model(spec: Spec, data: RegressionData, shared: bool = False) -> pm.Model:
    """The PyMC model of a regression spec, with the group coefficients integrated out.

    Free variables: ``mu`` (dims ``coef``), ``tau`` (dims ``varying``: the coefficients that
    vary by group) and ``sigma`` (dims ``group``), per the spec's pooling. With ``shared``
    the sufficient statistics are ``pm.Data`` (``XtX``, ``Xty``, ``yty``, ``n``), so that a
    compiled model can be given another data set of the same shape (nutpie's
    ``with_data``), as the simulations of :mod:`coprod_bayes.design` do.
    """
    p = len(data.coefficients)
    varies = _varying_mask(spec, p)
    coords = {"group": data.groups, "coef": data.coefficients,
              "varying": [c for c, v in zip(data.coefficients, varies, strict=True) if v]}
    pr = spec.priors
    loc, between = prior_scales(spec, p)
    v_idx = np.flatnonzero(varies)
    with pm.Model(coords=coords) as model:
        post = getattr(pr, "posterior", None)
        if spec.pooling == "none":
            mu, tau_v = pt.zeros(p), pt.as_tensor(loc)
            v_idx = np.arange(p)
        elif post is not None:
            # an earlier wave's posterior as the prior: (mu, log tau) multivariate normal,
            # sampled non-centred (Spec.with_priors_from)
            names = [c for c, v in zip(data.coefficients, varies, strict=True) if v]
            if (list(post["coefficients"]) != list(data.coefficients)
                    or list(post["varying"]) != names):
                raise SpecError(f"spec {spec.name!r}: priors.posterior is for coefficients "
                                f"{post['coefficients']} varying {post['varying']}, the model "
                                f"has {list(data.coefficients)} varying {names}")
            chol = np.linalg.cholesky(np.asarray(post["cov"], float))
            zu = pm.Normal("prior_z", 0.0, 1.0, shape=len(post["mean"]))
            u = np.asarray(post["mean"], float) + pt.dot(chol, zu)
            mu = pm.Deterministic("mu", u[:p], dims="coef")
            tau_v = (pm.Deterministic("tau", pt.exp(u[p:]), dims="varying") if len(v_idx)
                     else None)
        else:
            mu = pm.Normal("mu", 0.0, loc, dims="coef")
            tau_v = (pm.HalfNormal("tau", between[v_idx], dims="varying") if len(v_idx)
                     else None)
        sigma = pm.HalfNormal("sigma", pr.residual_sd, dims="group")
        total = 0.0
        eye = np.eye(len(v_idx))
        XtX, Xty, yty, nn = data.XtX, data.Xty, data.yty, data.n
        if shared:
            XtX, Xty = pm.Data("XtX", data.XtX), pm.Data("Xty", data.Xty)
            yty, nn = pm.Data("yty", data.yty), pm.Data("n", data.n)
        for k in range(len(data.groups)):
            A, b, s, n = XtX[k], Xty[k], yty[k], nn[k]
            s2 = sigma[k] ** 2
            rr = s - 2 * pt.dot(mu, b) + pt.dot(mu, pt.dot(A, mu))
            quad, logdet = rr / s2, n * pt.log(s2)
            if len(v_idx):
                # Woodbury over the varying coefficients only (tau is zero elsewhere); a
                # Cholesky of a constant matrix would also stall PyTensor's gradient rewrites
                A_vv = A[v_idx][:, v_idx]
                L = cholesky(eye + pt.outer(tau_v, tau_v) * A_vv / s2)
                q_v = (b - pt.dot(A, mu))[v_idx]
                z = solve_triangular(L, tau_v * q_v / s2, lower=True)
                quad = quad - pt.dot(z, z)
                logdet = logdet + 2 * pt.sum(pt.log(pt.diag(L)))
            total = total - 0.5 * (n * np.log(2 * np.pi) + logdet + quad)
        pm.Potential("marginal_loglik", total)
    return model


def _varying_mask(spec: Spec, p: int) -> np.ndarray:
    if spec.pooling == "none":
        return np.zeros(p, bool)
    varies = np.ones(p, bool) if spec.varying == "all" else np.arange(p) == 0
    if spec.pooling == "complete" and spec.varying == "all":
        varies[:] = False
    return varies


def _posterior_arrays(spec: Spec, posterior, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mu (S, p), tau (S, p), sigma (S, G) as flat draws."""
    sig = posterior["sigma"].values
    S = sig.shape[0] * sig.shape[1]
    sigma = sig.reshape(S, -1)
    if spec.pooling == "none":
        return np.zeros((S, p)), np.tile(prior_scales(spec, p)[0], (S, 1)), sigma
    mu = posterior["mu"].values.reshape(S, p)
    tau = np.zeros((S, p))
    varies = _varying_mask(spec, p)
    if varies.any():
        tau[:, varies] = posterior["tau"].values.reshape(S, -1)
    return mu, tau, sigma


def draw_group_coefficients(spec: Spec, data: RegressionData, posterior, seed: int) -> np.ndarray:
    """Exact draws of every group's coefficients from their conditional posterior.

    Given (mu, tau, sigma_g), beta_g = mu + tau * w with
    w ~ Normal(M^-1 v, M^-1), M = I + diag(tau) A diag(tau) / sigma^2,
    v = tau * (b - A mu) / sigma^2. Returns an array (chain, draw, group, coef).
    """
    chains, draws = posterior["sigma"].shape[:2]
    p, G = len(data.coefficients), len(data.groups)
    mu, tau, sigma = _posterior_arrays(spec, posterior, p)
    S = mu.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty((S, G, p))
    eye = np.eye(p)
    for k in range(G):
        A, b = data.XtX[k], data.Xty[k]
        s2 = sigma[:, k] ** 2
        M = eye + tau[:, :, None] * tau[:, None, :] * A / s2[:, None, None]
        L = np.linalg.cholesky(M)
        v = tau * (b - mu @ A.T) / s2[:, None]
        mean = np.linalg.solve(M, v[..., None])[..., 0]
        eps = rng.standard_normal((S, p))
        # L L' = M, so solving L' x = eps gives x ~ Normal(0, M^-1)
        noise = np.linalg.solve(np.swapaxes(L, 1, 2), eps[..., None])[..., 0]
        out[:, k, :] = mu + tau * (mean + noise)
    return out.reshape(chains, draws, G, p)


def bayes_r2(data: RegressionData, beta: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Bayesian R-squared per draw and group (Gelman, Goodrich, Gabry and Vehtari 2019):
    var(fitted) / (var(fitted) + sigma^2), from the sufficient statistics.

    ``beta`` is (chain, draw, group, coef), ``sigma`` (chain, draw, group).
    """
    xbar = data.XtX[:, 0, :] / data.n[:, None]  # weighted column means (intercept first)
    mean_fit = np.einsum("cdgp,gp->cdg", beta, xbar)
    second = np.einsum("cdgp,gpq,cdgq->cdg", beta, data.XtX, beta) / data.n
    var_fit = second - mean_fit**2
    return var_fit / (var_fit + sigma**2)


def pointwise_loglik(data: RegressionData, beta: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """log Normal(y_i | x_i' beta_g, sigma_g) per draw and respondent: (chain, draw, obs).

    Conditional on the group coefficients (drawn exactly), so PSIS-LOO on it leaves out one
    respondent at a time.
    """
    gi = data.group_index
    mean = np.einsum("ip,cdip->cdi", data.X, beta[:, :, gi, :])
    sd = sigma[:, :, gi]
    return -0.5 * np.log(2 * np.pi) - np.log(sd) - 0.5 * ((data.y - mean) / sd) ** 2


def predict(data: RegressionData, beta: np.ndarray, sigma: np.ndarray, seed: int,
            n_draws: int = 100) -> np.ndarray:
    """Replicated outcomes on the index's own scale (0-100): (n_draws, obs)."""
    rng = np.random.default_rng(seed)
    flat_b = beta.reshape(-1, *beta.shape[2:])
    flat_s = sigma.reshape(-1, sigma.shape[-1])
    pick = rng.choice(len(flat_b), size=min(n_draws, len(flat_b)), replace=False)
    gi = data.group_index
    mean = np.einsum("ip,sip->si", data.X, flat_b[pick][:, gi, :])
    z = mean + flat_s[pick][:, gi] * rng.standard_normal(mean.shape)
    return data.y_loc[gi] + data.y_scale[gi] * z


def prior_draws(spec: Spec, n_groups: int, p: int, n_draws: int,
                seed: int) -> dict[str, np.ndarray]:
    """Draws of (mu, tau, beta, sigma) from the spec's prior: beta is (draw, group, coef)."""
    rng = np.random.default_rng(seed)
    pr = spec.priors
    varies = _varying_mask(spec, p)
    loc, between = prior_scales(spec, p)
    if spec.pooling == "none":
        mu = np.zeros((n_draws, p))
        tau = np.tile(loc, (n_draws, 1))
    else:
        mu = rng.normal(0, loc, (n_draws, p))
        tau = np.abs(rng.normal(0, between, (n_draws, p))) * varies
    beta = mu[:, None, :] + tau[:, None, :] * rng.standard_normal((n_draws, n_groups, p))
    sigma = np.abs(rng.normal(0, pr.residual_sd, (n_draws, n_groups)))
    return {"mu": mu, "tau": tau, "beta": beta, "sigma": sigma}
