"""Policy areas: respondent x area regressions with slopes varying by country, area and
country x area (the 15 contexts), and a respondent intercept, in closed form where possible.

For respondent i of country c and area a (outcome and predictors z-scored within context):

    y_ia = x_ia' beta_ca + u_i + e_ia,   u_i ~ N(0, omega^2),  e_ia ~ N(0, sigma_c^2)
    beta_ca = mu + gamma_a + alpha_c + delta_ca
    gamma ~ ZeroSumNormal(2 s_tau) over areas,  alpha_c ~ N(0, tau_country^2),
    delta_ca ~ N(0, tau_context^2)

(every term per coefficient). Two exact reductions keep the sampler on
p + (areas - 1) p + 2p + C + 1 well-behaved parameters, whatever the number of respondents:

1. The respondent intercept is integrated out by splitting each respondent's k observed
   areas into their mean, with variance sigma^2 + k omega^2, and k - 1 orthonormal
   deviations, with variance sigma^2 (a Helmert transform). The likelihood then needs only
   per-country sufficient statistics for each variance class.
2. Given mu and gamma, a country's 3p context coefficients are Gaussian with covariance
   J (x) diag(tau_country^2) + I (x) diag(tau_context^2); they are integrated out with the
   Woodbury identity (a (C... ) 4p-dimensional Cholesky per country), and drawn afterwards
   from their exact conditional posterior.

mu and the area deviations gamma are sampled. With three areas a between-area SD is not
estimable (it made a funnel), so gamma has a fixed prior scale, twice the between-group SD
prior's, and sums to zero over areas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.slinalg import cholesky, solve_triangular

from ..classical.indexes import index_scores
from ..errors import SpecError
from ..spec.spec import Spec
from ..survey.survey import Survey
from .regression import prior_scales

__all__ = ["AreaData", "area_frame", "prepare_areas", "area_statistics", "build_area_model",
           "draw_context_coefficients"]


@dataclass
class AreaData:
    """Per country and variance class: sufficient statistics in the country's context space.

    ``classes[c]`` is a list of (k, A, b, s, n) where k = 0 marks the within-respondent
    deviations (variance sigma^2) and k >= 1 the means of respondents with k observed areas
    (variance sigma^2 + k omega^2); A is (areas * p) square.
    """

    countries: list[str]
    areas: list[str]
    coefficients: list[str]
    classes: dict[str, list[tuple[int, np.ndarray, np.ndarray, float, float]]]
    rows: pd.DataFrame
    long: pd.DataFrame


def area_frame(survey: Survey, group: str, variables: list[str]) -> pd.DataFrame:
    """Long frame, one row per respondent and policy area: ``respondent_id``, ``country``
    (the ``group`` column's values), ``area``, ``weight`` and each of ``variables``: the
    area's index of a construct, a demographic as coded."""
    cb = survey.codebook
    parts = []
    for area in cb.areas:
        part = pd.DataFrame({"respondent_id": survey.frame[cb.id].to_numpy(),
                             "country": survey.frame[group].to_numpy(), "area": area,
                             "weight": survey.weights().to_numpy()})
        for v in variables:
            if v in cb.demographic_columns:
                part[v] = survey.frame[v].to_numpy(float)
            else:
                part[v] = index_scores(survey, v, area).to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def prepare_areas(spec: Spec, survey: Survey) -> AreaData:
    """Area-level outcome and predictors, z-scored within country x area, reduced to
    sufficient statistics per country and variance class.

    Respondent x area rows with a missing outcome or predictor are not used (recorded in
    ``rows`` per country and area); a respondent keeps the areas that are complete.

    Raises
    ------
    SpecError
        If the codebook has no areas, a predictor has no item in some area, or a context has
        too few complete rows.
    """
    spec.validate_against(survey.codebook)
    cb = survey.codebook
    if not cb.areas or spec.group is None:
        raise SpecError(f"spec {spec.name!r}: policy-area models need areas in the codebook and "
                        "a grouping column")
    try:
        long = area_frame(survey, spec.group, [spec.outcome, *spec.predictors])
    except Exception as e:  # an index without items in an area
        raise SpecError(f"spec {spec.name!r}: {e}") from None
    cols = [spec.outcome, *spec.predictors]
    complete = long[cols].notna().all(axis=1)
    countries, areas = survey.levels(spec.group), list(cb.areas)
    rows = (long.assign(used=complete).groupby(["country", "area"], sort=False)["used"]
            .agg(rows="size", used="sum").reset_index())
    rows["not_used"] = rows["rows"] - rows["used"]
    small = rows[rows["used"] <= len(cols) + 1]
    if len(small):
        where = list(zip(small.country, small.area, strict=True))
        raise SpecError(f"spec {spec.name!r}: context(s) {where} have too few complete rows")
    d = long[complete].copy()
    for idx in d.groupby(["country", "area"]).groups.values():
        w = d.loc[idx, "weight"].to_numpy() if spec.weights else np.ones(len(idx))
        for col in cols:
            x = d.loc[idx, col].to_numpy(float)
            m = np.average(x, weights=w)
            d.loc[idx, col] = (x - m) / np.sqrt(np.average((x - m) ** 2, weights=w))
    classes = area_statistics(d, spec, countries, areas)
    return AreaData(countries, areas, ["Intercept", *spec.predictors], classes, rows, d)


def area_statistics(d: pd.DataFrame, spec: Spec, countries: list[str], areas: list[str]) -> dict:
    """Per country, the sufficient statistics of each variance class (see :class:`AreaData`)
    from a long frame of complete rows: ``respondent_id``, ``country``, ``area``, ``weight``,
    the outcome and the predictors (as they enter the model)."""
    cols = [spec.outcome, *spec.predictors]
    p = len(cols)  # intercept + predictors
    n_areas = len(areas)
    classes = {}
    for c in countries:
        dc = d[d["country"] == c]
        a_idx = dc["area"].map({a: j for j, a in enumerate(areas)}).to_numpy()
        X = np.zeros((len(dc), n_areas * p))
        Xp = np.column_stack([np.ones(len(dc)), dc[list(spec.predictors)].to_numpy(float)])
        for j in range(n_areas):
            sel = a_idx == j
            X[sel, j * p:(j + 1) * p] = Xp[sel]
        y = dc[spec.outcome].to_numpy(float)
        w = dc["weight"].to_numpy(float) if spec.weights else np.ones(len(dc))
        if spec.weights:
            w = w * len(dc) / w.sum()
        resp = dc["respondent_id"].to_numpy()
        codes, inverse = np.unique(resp, return_inverse=True)
        k = np.bincount(inverse)
        wi = np.bincount(inverse, weights=w) / k  # a respondent's weight (same in every area)
        xs = np.zeros((len(codes), X.shape[1]))
        np.add.at(xs, inverse, X)
        ys = np.bincount(inverse, weights=y)
        # deviations: sum over rows of x x' minus sum over respondents of (sum x)(sum x)' / k
        wr = wi[inverse]
        A_dev = (X * wr[:, None]).T @ X - (xs * (wi / k)[:, None]).T @ xs
        b_dev = (X * wr[:, None]).T @ y - (xs * (wi / k)[:, None]).T @ ys
        s_dev = float(np.sum(wr * y**2) - np.sum(wi * ys**2 / k))
        n_dev = float(np.sum(wi * (k - 1)))
        cls = [(0, A_dev, b_dev, s_dev, n_dev)]
        for kk in range(1, n_areas + 1):
            sel = k == kk
            if not sel.any():
                continue
            # mean component sqrt(k) * mean = sum / sqrt(k)
            xm, ym, ww = xs[sel] / np.sqrt(kk), ys[sel] / np.sqrt(kk), wi[sel]
            cls.append((kk, (xm * ww[:, None]).T @ xm, (xm * ww[:, None]).T @ ym,
                        float(np.sum(ww * ym**2)), float(ww.sum())))
        classes[c] = cls
    return classes


def _prior_factor(n_areas: int, p: int, tau_country, tau_context):
    """L with L L' = J (x) diag(tau_country^2) + I (x) diag(tau_context^2):
    (areas p, (1 + areas) p)."""
    ones = np.ones((n_areas, 1))
    country_part = pt.as_tensor(np.kron(ones, np.eye(p))) * tau_country[None, :]
    context_part = pt.as_tensor(np.eye(n_areas * p)) * pt.tile(tau_context, n_areas)[None, :]
    return pt.concatenate([country_part, context_part], axis=1)


def _stacked(data: AreaData, d: int):
    """The variance classes' statistics as arrays (country, class, ...): A, b, s, n and the
    class's k (0 for the deviations, 1..areas for the means of respondents with k areas)."""
    ks = list(range(len(data.areas) + 1))
    C, K = len(data.countries), len(ks)
    A, b = np.zeros((C, K, d, d)), np.zeros((C, K, d))
    s, n = np.zeros((C, K)), np.zeros((C, K))
    for ci, c in enumerate(data.countries):
        for k, A_, b_, s_, n_ in data.classes[c]:
            A[ci, k], b[ci, k], s[ci, k], n[ci, k] = A_, b_, s_, n_
    return A, b, s, n, np.array(ks, float)


def build_area_model(spec: Spec, data: AreaData) -> pm.Model:
    """PyMC model with the respondent intercepts and context deviations integrated out."""
    p, n_areas = len(data.coefficients), len(data.areas)
    pr = spec.priors
    coords = {"coef": data.coefficients, "area": data.areas, "country": data.countries}
    with pm.Model(coords=coords) as model:
        loc, between = prior_scales(spec, p)
        mu = pm.Normal("mu", 0.0, loc, dims="coef")
        # Three areas cannot inform a between-area SD: with one (centred or not) the sampler
        # met a funnel (78 and 3 divergences on the default survey). The area deviations get
        # a fixed weakly informative prior instead, summing to zero so that mu stays the
        # mean over areas.
        # n_zerosum_axes counts from the last axis, so area goes last for a sum over areas
        gamma_t = pm.ZeroSumNormal("gamma", sigma=2 * between[:, None], dims=("coef", "area"),
                                   n_zerosum_axes=1)
        gamma = gamma_t.T
        tau_country = pm.HalfNormal("tau_country", between, dims="coef")
        tau_context = pm.HalfNormal("tau_context", between, dims="coef")
        sigma = pm.HalfNormal("sigma", pr.residual_sd, dims="country")
        omega = pm.HalfNormal("omega", pr.residual_sd)
        m = (mu[None, :] + gamma).reshape((n_areas * p,))
        L = _prior_factor(n_areas, p, tau_country, tau_context)
        # every country's statistics stacked by variance class (absent classes are zeros),
        # so that the graph is one batched computation: unrolled per country and class it
        # took minutes to compile
        A, bb, ss, nn, kk = _stacked(data, n_areas * p)
        var = sigma[:, None] ** 2 + kk[None, :] * omega**2                  # (C, K)
        P = pt.sum(A / var[:, :, None, None], axis=1)                        # (C, d, d)
        Am = pt.dot(A, m)                                                    # (C, K, d)
        q = pt.sum((bb - Am) / var[:, :, None], axis=1)                      # (C, d)
        rr = pt.sum((ss - 2 * pt.dot(bb, m) + pt.sum(Am * m, axis=-1)) / var, axis=1)
        logdet = pt.sum(nn * pt.log(var), axis=1)
        M = np.eye((1 + n_areas) * p) + pt.matmul(pt.matmul(L.T[None], P), L[None])
        chol = cholesky(M)
        z = solve_triangular(chol, pt.dot(q, L)[:, :, None], lower=True)[:, :, 0]
        quad = rr - pt.sum(z**2, axis=1)
        total = -0.5 * pt.sum(nn.sum(1) * np.log(2 * np.pi) + logdet
                              + 2 * pt.sum(pt.log(pt.diagonal(chol, axis1=1, axis2=2)), axis=1)
                              + quad)
        pm.Potential("marginal_loglik", total)
    return model


def draw_context_coefficients(data: AreaData, posterior, seed: int) -> np.ndarray:
    """Exact draws of every context's coefficients: (chain, draw, country, area, coef)."""
    chains, draws = posterior["sigma"].shape[:2]
    S = chains * draws
    p, n_areas = len(data.coefficients), len(data.areas)
    mu = posterior["mu"].values.reshape(S, p)
    gamma = posterior["gamma"].transpose("chain", "draw", "area", "coef").values
    gamma = gamma.reshape(S, n_areas, p)
    tc = posterior["tau_country"].values.reshape(S, p)
    tx = posterior["tau_context"].values.reshape(S, p)
    sigma = posterior["sigma"].values.reshape(S, -1)
    omega = posterior["omega"].values.reshape(S)
    rng = np.random.default_rng(seed)
    m = (mu[:, None, :] + gamma).reshape(S, n_areas * p)
    J = np.kron(np.ones((n_areas, 1)), np.eye(p))
    out = np.empty((S, len(data.countries), n_areas, p))
    r = (1 + n_areas) * p
    for s_ in range(S):
        L = np.concatenate([J * tc[s_][None, :],
                            np.eye(n_areas * p) * np.tile(tx[s_], n_areas)[None, :]], axis=1)
        for ci, c in enumerate(data.countries):
            s2 = sigma[s_, ci] ** 2
            P = np.zeros((n_areas * p, n_areas * p))
            q = np.zeros(n_areas * p)
            for k, A, b, _, _ in data.classes[c]:
                var = s2 if k == 0 else s2 + k * omega[s_] ** 2
                P += A / var
                q += (b - A @ m[s_]) / var
            M = np.eye(r) + L.T @ P @ L
            chol = np.linalg.cholesky(M)
            mean = np.linalg.solve(M, L.T @ q)
            w = mean + np.linalg.solve(chol.T, rng.standard_normal(r))
            out[s_, ci] = (m[s_] + L @ w).reshape(n_areas, p)
    return out.reshape(chains, draws, len(data.countries), n_areas, p)
