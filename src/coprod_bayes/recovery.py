"""Simulation-based checks of the regression engines: outcomes drawn from the model itself,
with known parameters, on a survey's own predictors, then fitted and compared with the truth.

The survey simulator's truth is a latent-variable model (whose index regressions are
attenuated by measurement error), so it cannot check that a regression engine recovers its
own parameters; these functions can. ``benchmarks/recovery.py`` runs them over many seeds;
the tests run one reduced case each.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .engines import areas, regression
from .fit import assess, sample
from .spec.spec import Spec
from .survey.survey import Survey

__all__ = ["regression_recovery", "area_recovery"]


def _coverage(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out["z"] = (out["post_mean"] - out["truth"]) / out["post_sd"]
    out["within_2sd"] = out["z"].abs() < 2
    return out


def regression_recovery(spec: Spec, survey: Survey, seed: int, mu: np.ndarray | None = None,
                        tau: float = 0.1, sigma: float = 0.9) -> tuple[pd.DataFrame, object]:
    """Draw an outcome from the hierarchical regression with known parameters on the spec's
    (z-scored) predictors, fit it, and compare.

    ``mu`` (slopes, without intercept; default: evenly spaced in [-0.3, 0.3]); country slopes
    are ``mu + tau * N(0, 1)``, intercepts ``N(0, tau)``, residual SD ``sigma``.

    Returns
    -------
    (DataFrame, Verdict)
        One row per population slope (``parameter = "mu"``) and country slope (``"beta"``):
        ``truth``, ``post_mean``, ``post_sd``, ``z``, ``within_2sd``; and the fit's verdict.
    """
    base = regression.prepare(spec, survey)
    G, p = len(base.groups), len(base.coefficients)
    rng = np.random.default_rng(seed)
    mu = np.linspace(-0.3, 0.3, p - 1) if mu is None else np.asarray(mu, float)
    mu_full = np.r_[0.0, mu]
    beta = mu_full + tau * rng.standard_normal((G, p))
    gi = base.group_index
    y = np.einsum("ip,ip->i", base.X, beta[gi]) + sigma * rng.standard_normal(len(gi))
    Xw = base.X * base.w[:, None]
    data = replace(
        base, y=y,
        Xty=np.stack([Xw[gi == k].T @ y[gi == k] for k in range(G)]),
        yty=np.array([np.sum(base.w[gi == k] * y[gi == k] ** 2) for k in range(G)]),
        y_loc=np.zeros(G), y_scale=np.ones(G))
    idata = sample(regression.build_model(spec, data), spec.sampler)
    verdict = assess(idata, [v for v in ("mu", "tau", "sigma") if v in idata.posterior])
    draws = regression.draw_group_coefficients(spec, data, idata.posterior, spec.sampler.seed)
    draws = draws.reshape(-1, G, p)
    rows = []
    if "mu" in idata.posterior:
        # the posterior SD of mu includes the realised countries' spread around it
        m = idata.posterior["mu"].values.reshape(-1, p)
        for j in range(1, p):
            rows.append({"parameter": "mu", "group": "", "coef": base.coefficients[j],
                         "truth": mu_full[j], "post_mean": m[:, j].mean(),
                         "post_sd": m[:, j].std()})
    for k, g in enumerate(base.groups):
        for j in range(1, p):
            rows.append({"parameter": "beta", "group": g, "coef": base.coefficients[j],
                         "truth": beta[k, j], "post_mean": draws[:, k, j].mean(), "post_sd": draws[:, k, j].std()})
    return _coverage(rows), verdict


def area_recovery(spec: Spec, survey: Survey, seed: int, tau_country: float = 0.08,
                  tau_context: float = 0.05, gamma_sd: float = 0.1, omega: float = 0.5,
                  sigma: float = 0.8) -> tuple[pd.DataFrame, object]:
    """Draw the area-level outcome from the policy-area model with known parameters on the
    spec's (z-scored) predictors, fit it, and compare every context's slope and the
    population slopes with the truth (as :func:`regression_recovery`)."""
    base = areas.prepare_areas(spec, survey)
    C, A, p = len(base.countries), len(base.areas), len(base.coefficients)
    rng = np.random.default_rng(seed)
    mu = np.r_[0.0, np.linspace(-0.3, 0.3, p - 1)]
    gamma = gamma_sd * rng.standard_normal((A, p))
    gamma -= gamma.mean(0)
    alpha = tau_country * rng.standard_normal((C, p))
    delta = tau_context * rng.standard_normal((C, A, p))
    beta = mu + gamma[None] + alpha[:, None] + delta  # (country, area, coef)
    d = base.long.copy()
    ci = d["country"].map({c: i for i, c in enumerate(base.countries)}).to_numpy()
    ai = d["area"].map({a: j for j, a in enumerate(base.areas)}).to_numpy()
    X = np.column_stack([np.ones(len(d)), d[list(spec.predictors)].to_numpy(float)])
    ids, inverse = np.unique(d["respondent_id"].to_numpy(), return_inverse=True)
    u = omega * rng.standard_normal(len(ids))
    d[spec.outcome] = (np.einsum("ip,ip->i", X, beta[ci, ai]) + u[inverse]
                       + sigma * rng.standard_normal(len(d)))
    data = replace(base, long=d,
                   classes=areas.area_statistics(d, spec, base.countries, base.areas))
    idata = sample(areas.build_area_model(spec, data), spec.sampler)
    verdict = assess(idata, ["mu", "gamma", "tau_country", "tau_context", "sigma", "omega"])
    draws = areas.draw_context_coefficients(data, idata.posterior, spec.sampler.seed)
    draws = draws.reshape(-1, C, A, p)
    m = idata.posterior["mu"].values.reshape(-1, p)
    rows = [{"parameter": "mu", "group": "", "coef": base.coefficients[j], "truth": mu[j],
             "post_mean": m[:, j].mean(), "post_sd": m[:, j].std()} for j in range(1, p)]
    for i, c in enumerate(base.countries):
        for a_, area in enumerate(base.areas):
            for j in range(1, p):
                rows.append({"parameter": "beta", "group": f"{c}:{area}",
                             "coef": base.coefficients[j], "truth": beta[i, a_, j],
                             "post_mean": draws[:, i, a_, j].mean(),
                             "post_sd": draws[:, i, a_, j].std()})
    return _coverage(rows), verdict
