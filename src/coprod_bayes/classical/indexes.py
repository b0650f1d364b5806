"""Sum-score indexes as the papers built them: items rescaled 0-100 and averaged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SurveyDataError
from ..survey.survey import Survey

__all__ = ["index_items", "index_scores", "indexes"]


def index_items(survey: Survey, name: str, area: str | None = None) -> list:
    """The items an index averages: a construct's items, or a composite index's constructs'.

    Parameters
    ----------
    survey : Survey
        The survey whose codebook names the items.
    name : str
        A construct (``"individual"``) or a composite index of the codebook
        (``"coproduction"``, the items of its constructs in turn).
    area : str, optional
        Only the items of one policy area (``"safety"``); by default every area's.

    Returns
    -------
    list of Item
        The codebook's items, construct by construct in codebook order.

    Raises
    ------
    SurveyDataError
        If ``name`` is neither a construct nor a composite index of the codebook, or the
        index has no item in ``area``.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> [it.column for it in index_items(s, "collective", area="health")]
    ['collective_health_1', 'collective_health_2']
    >>> len(index_items(s, "coproduction"))
    18
    """
    cb = survey.codebook
    if name in cb.indexes:
        members = cb.indexes[name]
    elif name in cb.constructs:
        members = (name,)
    else:
        raise SurveyDataError(
            f"no construct or index {name!r} in codebook {cb.name!r}; constructs: "
            f"{sorted(cb.constructs)}, composite indexes: {sorted(cb.indexes)}"
        )
    items = [it for m in members for it in cb.items_of(m, area)]
    if not items:
        raise SurveyDataError(f"index {name!r} has no items in area {area!r}")
    return items


def index_scores(
    survey: Survey, name: str, area: str | None = None, min_answered: float = 0.5
) -> pd.Series:
    """Each respondent's index score, 0-100.

    Each item is rescaled by its scale's range to 0-1 (reverse-keyed items reversed), the
    answered items are averaged and multiplied by 100. A respondent who answered fewer than
    ``min_answered`` of the items gets a missing score.

    Parameters
    ----------
    survey : Survey
        The survey to score; items are taken from :meth:`Survey.scored_items`.
    name : str
        A construct (``"individual"``) or a composite index of the codebook (``"coproduction"``).
    area : str, optional
        Only the items of one policy area.
    min_answered : float, default 0.5
        Share of the index's items that must be answered. A respondent who answered none of
        the items has a missing score whatever ``min_answered`` is.

    Returns
    -------
    Series
        Named ``name`` (or ``name_area``), index aligned with ``survey.frame``.

    Raises
    ------
    SurveyDataError
        If ``name`` is neither a construct nor a composite index, or has no item in ``area``
        (from :func:`index_items`).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=100, seed=0)
    >>> x = index_scores(s, "individual")
    >>> bool(x.between(0, 100).all())
    True
    """
    items = index_items(survey, name, area)
    scored = survey.scored_items()
    cols = []
    for it in items:
        lo, hi = it.scale.min, it.scale.max
        cols.append(((scored[it.column] - lo) / (hi - lo)).to_numpy())
    x = np.column_stack(cols)
    answered = np.isfinite(x).sum(axis=1)
    with np.errstate(invalid="ignore"):
        score = 100.0 * np.nanmean(np.where(answered[:, None] > 0, x, 0.0), axis=1)
    # a respondent who answered none of the items has no score, whatever min_answered says
    score[(answered == 0) | (answered < min_answered * len(items))] = np.nan
    return pd.Series(score, index=survey.frame.index,
                     name=name if area is None else f"{name}_{area}")


def indexes(survey: Survey, by_area: bool = False) -> pd.DataFrame:
    """Every construct's and composite index's score, one column each.

    With ``by_area=True`` also one column per index and policy area (``individual_safety``).

    Parameters
    ----------
    survey : Survey
        The survey to score.
    by_area : bool, default False
        Also score each index over each policy area's items, in a column after the index's
        own; an index without items in an area gets no column for it.

    Returns
    -------
    DataFrame
        One column per construct, then per composite index (in codebook order), each as
        :func:`index_scores` with its defaults (0-100, at least half the items answered);
        index aligned with ``survey.frame``.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> list(indexes(s).columns)  # doctest: +NORMALIZE_WHITESPACE
    ['individual', 'collective', 'efficacy', 'conditions', 'gov_performance',
     'gov_information', 'gov_consultation', 'coproduction']
    >>> list(indexes(s, by_area=True).columns[:4])
    ['individual', 'individual_safety', 'individual_environment', 'individual_health']
    """
    cb = survey.codebook
    cols = {}
    for name in [*cb.constructs, *cb.indexes]:
        cols[name] = index_scores(survey, name)
        if by_area:
            for area in cb.areas:
                try:
                    s = index_scores(survey, name, area)
                except SurveyDataError:
                    continue
                cols[s.name] = s
    return pd.DataFrame(cols)
