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

    Parameters
    ----------
    x : array_like
        The values; missing (non-finite) values are dropped.
    w : array_like, optional
        Weights, one per value; a value whose weight is not finite is dropped too. By
        default all weights are 1.

    Returns
    -------
    mean : float
        The (weighted) mean; NaN with fewer than two values.
    se : float
        Its standard error; NaN with fewer than two values.
    n : int
        The number of values used.

    Examples
    --------
    >>> m, se, n = weighted_mean(np.array([1.0, 2.0, np.nan, 4.0]))
    >>> round(m, 4), round(se, 4), n
    (2.3333, 0.8819, 3)
    >>> m, se, n = weighted_mean(np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 2.0]))
    >>> round(m, 4), round(se, 4), n
    (2.75, 0.9622, 3)
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

    Each level's mean and standard error are those of :func:`weighted_mean` over the
    respondents with a score; the interval is ``mean +- z * se`` with ``z`` the normal
    quantile for ``level``.

    Parameters
    ----------
    survey : Survey
        The survey to score.
    name : str
        A construct or composite index (``"collective"``, ``"coproduction"``).
    group : str, default "country"
        A grouping column of the codebook.
    weighted : bool, default True
        Weight by the survey weights (:meth:`Survey.weights`), as the papers' Figures 3-4;
        otherwise the plain mean.
    area : str, optional
        Score the index over one policy area's items only.
    level : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    DataFrame
        One row per group level, in codebook order: the group column (named ``group``'s
        value, e.g. ``country``), ``index`` (``name``, or ``name_area``), ``mean``, ``se``,
        ``lower``, ``upper``, ``n``, ``weighted``. A level with fewer than two scores has NaN
        mean and interval.

    Raises
    ------
    SurveyDataError
        If ``name`` is not a construct or composite index (or has no item in ``area``), or
        ``group`` is not a grouping column of the codebook.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> m = group_means(s, "collective")
    >>> list(m.columns)
    ['country', 'index', 'mean', 'se', 'lower', 'upper', 'n', 'weighted']
    >>> m["country"].tolist(), m["n"].tolist()
    (['CZ', 'DK', 'DE', 'FR', 'GB'], [30, 30, 30, 30, 30])
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
