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

    Returns a tidy frame: ``index``, ``items``, ``n`` (listwise complete), ``alpha``.
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
