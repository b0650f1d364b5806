"""Cronbach's alpha of the papers' indexes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..survey.survey import Survey
from .indexes import index_items

__all__ = ["cronbach_alpha", "alphas"]


def cronbach_alpha(items: pd.DataFrame | np.ndarray) -> float:
    """Cronbach's alpha on the respondents who answered every item (listwise, as SPSS does).

    ``alpha = k / (k - 1) * (1 - sum(item variances) / variance(sum))``, variances with
    ``ddof=1``.

    Parameters
    ----------
    items : DataFrame or ndarray, shape (n, k)
        One row per respondent, one column per item; a row with any non-finite value is
        dropped.

    Returns
    -------
    float
        Cronbach's alpha; NaN with fewer than two items or fewer than two complete rows.

    Examples
    --------
    >>> round(cronbach_alpha(np.array([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5]])), 4)
    0.9643
    """
    x = np.asarray(items, dtype=float)
    x = x[np.isfinite(x).all(axis=1)]
    k = x.shape[1]
    if k < 2 or x.shape[0] < 2:
        return float("nan")
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1.0 - item_var / total_var))


def alphas(survey: Survey, names: list[str] | None = None) -> pd.DataFrame:
    """Alpha of each index (rescaled items, so scales of different length weigh alike).

    Each item is scored (reverse-keyed items reversed, :meth:`Survey.scored_items`) and
    rescaled to 0-1 by its scale's range before :func:`cronbach_alpha`.

    Parameters
    ----------
    survey : Survey
        The survey.
    names : list of str, optional
        Constructs or composite indexes; by default (also when empty) every construct, then
        every composite index, of the codebook.

    Returns
    -------
    DataFrame
        One row per name: ``index``, ``items`` (number of items), ``n`` (listwise
        complete), ``alpha``.

    Raises
    ------
    SurveyDataError
        If a name is neither a construct nor a composite index of the codebook.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> a = alphas(s, ["individual", "collective"])
    >>> list(a.columns), a["items"].tolist()
    (['index', 'items', 'n', 'alpha'], [12, 6])
    """
    names = names or [*survey.codebook.constructs, *survey.codebook.indexes]
    scored = survey.scored_items()
    rows = []
    for name in names:
        items = index_items(survey, name)
        x = np.column_stack([
            (scored[it.column].to_numpy() - it.scale.min) / (it.scale.max - it.scale.min)
            for it in items
        ])
        rows.append({
            "index": name, "items": len(items),
            "n": int(np.isfinite(x).all(axis=1).sum()), "alpha": cronbach_alpha(x),
        })
    return pd.DataFrame(rows)
