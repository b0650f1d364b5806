"""Weighted and unweighted group means of the indexes with 95% intervals (Figures 3-4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..survey.survey import Survey
from .indexes import index_scores

__all__ = ["weighted_mean", "group_means"]


def weighted_mean(x: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float, int]:
    """Mean, standard error and n of the finite values of ``x``.

    With weights the mean is the ratio estimator ``sum(w x) / sum(w)`` and its standard error
    the linearisation (sandwich) one, ``sqrt(n/(n-1) * sum(w^2 (x - m)^2)) / sum(w)``, which
    equals the usual ``sd / sqrt(n)`` when all weights are equal.
    """
    x = np.asarray(x, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    ok = np.isfinite(x) & np.isfinite(w)
    x, w = x[ok], w[ok]
    n = len(x)
    if n < 2:
        return float("nan"), float("nan"), n
    m = float(np.sum(w * x) / np.sum(w))
    se = float(np.sqrt(n / (n - 1) * np.sum(w**2 * (x - m) ** 2)) / np.sum(w))
    return m, se, n


def group_means(
    survey: Survey, name: str, group: str = "country", weighted: bool = True,
    area: str | None = None, level: float = 0.95,
) -> pd.DataFrame:
    """Mean index score per group level with a normal-theory interval.

    Returns a tidy frame: ``group``, ``index``, ``mean``, ``se``, ``lower``, ``upper``, ``n``,
    ``weighted``; group levels in codebook order.
    """
    score = index_scores(survey, name, area).to_numpy()
    w = survey.weights().to_numpy() if weighted else None
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    g = survey.frame[group].to_numpy()
    for lv in survey.levels(group):
        sel = g == lv
        m, se, n = weighted_mean(score[sel], None if w is None else w[sel])
        rows.append({group: lv, "index": score_name(name, area), "mean": m, "se": se,
                     "lower": m - z * se, "upper": m + z * se, "n": n, "weighted": weighted})
    return pd.DataFrame(rows)


def score_name(name: str, area: str | None) -> str:
    """Column name of an index, with its area if any."""
    return name if area is None else f"{name}_{area}"
