"""Group means of an index (0-100) with partial pooling, in closed form.

    y_gi ~ Normal(m_g, sigma_g^2),  m_g ~ Normal(mu, tau^2)
    mu ~ Normal(50, 25),  tau ~ HalfNormal(10),  sigma_g ~ HalfNormal(30)   (index points)

m_g is integrated out: the group's likelihood needs only its (weighted) n, mean and sum of
squares, ybar_g ~ Normal(mu, tau^2 + sigma_g^2 / n_g) times the within-group part. The means
are drawn afterwards from their exact conditional posterior. With weights (normalised to sum
to each group's n) this is a weighted pseudo-likelihood: the point estimates are the
weighted means, the uncertainty is that of n unweighted respondents (it ignores the design
effect of the weights; the classical interval beside it does not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ..classical.indexes import index_scores
from ..survey.survey import Survey

__all__ = ["MeansData", "prepare_means", "build_means_model", "draw_group_means"]

#: Prior scales on the 0-100 index scale.
PRIOR_MEAN, PRIOR_MEAN_SD, PRIOR_TAU, PRIOR_SIGMA = 50.0, 25.0, 10.0, 30.0


@dataclass
class MeansData:
    """Per group: (weighted) n, mean and within-group sum of squares of an index."""

    index: str
    groups: list[str]
    n: np.ndarray
    mean: np.ndarray
    ss: np.ndarray
    not_used: np.ndarray


def prepare_means(survey: Survey, index: str, group: str = "country", weighted: bool = True,
                  area: str | None = None) -> MeansData:
    """Sufficient statistics of ``index`` per level of ``group`` (missing scores not used,
    and counted in ``not_used``)."""
    score = index_scores(survey, index, area).to_numpy()
    w_all = survey.weights().to_numpy() if weighted else np.ones(len(score))
    levels = survey.levels(group)
    g = survey.frame[group].to_numpy()
    n, mean, ss, not_used = [], [], [], []
    for lv in levels:
        sel = (g == lv) & np.isfinite(score)
        x, w = score[sel], w_all[sel]
        w = w * len(x) / w.sum()
        m = float(np.sum(w * x) / len(x))
        n.append(float(len(x)))
        mean.append(m)
        ss.append(float(np.sum(w * (x - m) ** 2)))
        not_used.append(int(((g == lv) & ~np.isfinite(score)).sum()))
    name = index if area is None else f"{index}_{area}"
    return MeansData(name, levels, np.array(n), np.array(mean), np.array(ss), np.array(not_used))


def build_means_model(data: MeansData) -> pm.Model:
    """The PyMC model with the group means integrated out (free: mu, tau, sigma)."""
    with pm.Model(coords={"group": data.groups}) as model:
        mu = pm.Normal("mu", PRIOR_MEAN, PRIOR_MEAN_SD)
        tau = pm.HalfNormal("tau", PRIOR_TAU)
        sigma = pm.HalfNormal("sigma", PRIOR_SIGMA, dims="group")
        n, ybar, ss = data.n, data.mean, data.ss
        within = -(n - 1) * pt.log(sigma) - ss / (2 * sigma**2) - 0.5 * pt.log(n)
        var_mean = tau**2 + sigma**2 / n
        between = -0.5 * pt.log(2 * np.pi * var_mean) - (ybar - mu) ** 2 / (2 * var_mean)
        pm.Potential("marginal_loglik", pt.sum(within + between - (n - 1) / 2 * np.log(2 * np.pi)))
    return model


def draw_group_means(data: MeansData, posterior, seed: int) -> np.ndarray:
    """Exact draws of each group's mean given (mu, tau, sigma): (chain, draw, group)."""
    mu = posterior["mu"].values[..., None]
    tau = posterior["tau"].values[..., None]
    sigma = posterior["sigma"].values
    precision = 1 / tau**2 + data.n / sigma**2
    mean = (mu / tau**2 + data.n * data.mean / sigma**2) / precision
    rng = np.random.default_rng(seed)
    return mean + rng.standard_normal(mean.shape) / np.sqrt(precision)


def rank_probabilities(draws: np.ndarray, groups: list[str]) -> pd.DataFrame:
    """P(group ranks r-th), rank 1 the highest, from draws (..., group): tidy frame."""
    flat = draws.reshape(-1, draws.shape[-1])
    ranks = (-flat).argsort(axis=1).argsort(axis=1) + 1
    rows = [{"group": g, "rank": r, "probability": float((ranks[:, k] == r).mean())}
            for k, g in enumerate(groups) for r in range(1, len(groups) + 1)]
    return pd.DataFrame(rows)
