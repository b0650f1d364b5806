"""OLS with standardised coefficients (beta weights), per group and pooled: Tables 2-3."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SurveyDataError
from ..survey.survey import Survey
from .indexes import index_scores

__all__ = ["stars", "standardized_ols", "analysis_frame", "ols_table", "ols_by_area"]


def stars(p: float) -> str:
    """The papers' significance stars: * p < 0.10, ** p < 0.05, *** p < 0.01.

    Parameters
    ----------
    p : float
        A p-value.

    Returns
    -------
    str
        ``"***"``, ``"**"``, ``"*"`` or ``""`` (also for a missing, non-finite ``p``).

    Examples
    --------
    >>> stars(0.001), stars(0.03), stars(0.07), stars(0.2), stars(float("nan"))
    ('***', '**', '*', '', '')
    """
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def _zscore(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    m = np.average(x, axis=0, weights=w)
    sd = np.sqrt(np.average((x - m) ** 2, axis=0, weights=w))
    return (x - m) / sd


def standardized_ols(
    y: np.ndarray, X: np.ndarray, names: list[str], weights: np.ndarray | None = None
) -> tuple[pd.DataFrame, dict]:
    """Standardised OLS (or WLS) of ``y`` on the columns of ``X``, with an intercept.

    Outcome and predictors are z-scored on the rows given (weighted moments when weights
    are given), so the slopes are beta weights. Standard errors are the classical ones,
    ``s^2 (X'WX)^{-1}``, on ``n - k - 1`` degrees of freedom; p-values are two-sided from the
    t distribution.

    Parameters
    ----------
    y : array_like, shape (n,)
        The outcome. Rows are not filtered: pass complete cases only (a NaN makes every
        estimate NaN).
    X : array_like, shape (n, k)
        The predictors, one column each, without an intercept column.
    names : list of str
        The predictors' names, one per column of ``X``.
    weights : array_like, shape (n,), optional
        Weights of weighted least squares (also used for the z-scoring and R-squared); by
        default ordinary least squares.

    Returns
    -------
    coefficients : DataFrame
        One row per predictor: ``predictor``, ``beta``, ``se``, ``t``, ``p``, ``stars``
        (:func:`stars`); the intercept (0 after z-scoring) is not reported.
    fit : dict
        ``n``, ``r2``, ``adj_r2``, ``df_resid``.

    Raises
    ------
    SurveyDataError
        If there are fewer than ``k + 2`` rows, or a predictor is constant in the data (its
        beta is undefined).

    Examples
    --------
    >>> X = np.column_stack([np.arange(8.0), [0, 1, 0, 1, 1, 0, 1, 0]])
    >>> y = np.array([1.0, 1.5, 2.5, 4.5, 4.0, 5.5, 7.5, 7.0])
    >>> coefs, fit = standardized_ols(y, X, ["x1", "x2"])
    >>> coefs["beta"].round(3).tolist(), coefs["stars"].tolist()
    ([0.97, 0.083], ['***', ''])
    >>> fit["n"], fit["df_resid"], round(fit["r2"], 3)
    (8, 5, 0.948)
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    n, k = X.shape
    if n < k + 2:
        raise SurveyDataError(
            f"{n} complete rows for {k} predictors {names}: OLS needs at least {k + 2}"
        )
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    sd = np.sqrt(np.cov(X, rowvar=False, aweights=w).diagonal()) if k > 1 else np.array([X.std()])
    const = [names[j] for j in range(k) if not sd[j] > 0]
    if const:
        raise SurveyDataError(f"predictor(s) {const} are constant in the {n} complete rows")
    yz = _zscore(y, w)
    Xz = _zscore(X, w)
    A = np.column_stack([np.ones(n), Xz])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(A * sw[:, None], yz * sw, rcond=None)
    resid = yz - A @ coef
    df_resid = n - k - 1
    s2 = np.sum(w * resid**2) / df_resid
    cov = s2 * np.linalg.inv((A * w[:, None]).T @ A)
    se = np.sqrt(np.diag(cov))[1:]
    beta = coef[1:]
    t = beta / se
    p = 2 * stats.t.sf(np.abs(t), df_resid)
    ybar = np.sum(w * yz) / np.sum(w)
    r2 = 1 - np.sum(w * resid**2) / np.sum(w * (yz - ybar) ** 2)
    table = pd.DataFrame({"predictor": names, "beta": beta, "se": se, "t": t, "p": p})
    table["stars"] = [stars(v) for v in p]
    return table, {"n": n, "r2": float(r2), "adj_r2": float(1 - (1 - r2) * (n - 1) / df_resid),
                   "df_resid": df_resid}


def analysis_frame(survey: Survey, outcome: str, predictors: list[str]) -> pd.DataFrame:
    """Outcome index, predictors (demographics as coded, constructs as indexes), groups, weight.

    Rows are all respondents; incomplete rows stay (with NaN) so the caller sees them.

    Parameters
    ----------
    survey : Survey
        The survey to score.
    outcome : str
        A construct or composite index, scored with :func:`index_scores` (0-100).
    predictors : list of str
        Each a demographic column (as coded, as float), a construct or composite index
        (its 0-100 score), or any other numeric column of ``survey.frame``.

    Returns
    -------
    DataFrame
        Columns ``outcome``, the predictors, every grouping column of the codebook and
        ``weight`` (:meth:`Survey.weights`); index aligned with ``survey.frame``.

    Raises
    ------
    SurveyDataError
        If a predictor is neither a demographic, a construct or index, nor a column of the
        survey, or ``outcome`` is not a construct or composite index.
    ValueError
        If a predictor that is another column of the survey is not numeric.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> list(analysis_frame(s, "collective", ["age", "efficacy"]).columns)
    ['collective', 'age', 'efficacy', 'country', 'weight']
    """
    cb = survey.codebook
    cols = {outcome: index_scores(survey, outcome)}
    for p in predictors:
        if p in cb.demographic_columns:
            cols[p] = survey.frame[p].astype(float)
        elif p in cb.constructs or p in cb.indexes:
            cols[p] = index_scores(survey, p)
        elif p in survey.frame.columns:
            cols[p] = pd.to_numeric(survey.frame[p], errors="raise").astype(float)
        else:
            raise SurveyDataError(
                f"predictor {p!r} is neither a demographic, a construct nor a column of the "
                f"survey; demographics: {cb.demographic_columns}, constructs: {list(cb.constructs)}"
            )
    df = pd.DataFrame(cols)
    for g in cb.group_columns:
        df[g] = survey.frame[g].to_numpy()
    df["weight"] = survey.weights().to_numpy()
    return df


def ols_table(
    survey: Survey, outcome: str, predictors: list[str], group: str = "country",
    weighted: bool = False, pooled: bool = True,
) -> pd.DataFrame:
    """Standardised OLS per group level and pooled, complete cases.

    Each group level's rows complete for the outcome and every predictor are fitted with
    :func:`standardized_ols`, z-scored within the level. The pooled fit has no group
    effects, as the papers' Figures 5-6.

    Parameters
    ----------
    survey : Survey
        The survey to analyse.
    outcome : str
        A construct or composite index (its 0-100 score, :func:`index_scores`).
    predictors : list of str
        Demographics, constructs or indexes, or other numeric columns (see
        :func:`analysis_frame`).
    group : str, default "country"
        A grouping column of the codebook; one fit per level, in codebook order.
    weighted : bool, default False
        Weighted least squares with the survey weights; the papers' tables are unweighted.
    pooled : bool, default True
        Add the fit on all groups' complete rows together.

    Returns
    -------
    DataFrame
        Tidy: ``country`` (or the group's name; ``"pooled"`` for all together),
        ``outcome``, ``predictor``, ``beta``, ``se``, ``t``, ``p``, ``stars``, ``n``, ``r2``.

    Raises
    ------
    SurveyDataError
        If a group level (or the pooled data) has fewer than ``len(predictors) + 2``
        complete rows, a predictor is constant in a level's complete rows, or an outcome or
        predictor is unknown (see :func:`analysis_frame`).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=200, seed=0)
    >>> t = ols_table(s, "collective", ["age", "efficacy"])
    >>> sorted(t.country.unique())
    ['CZ', 'DE', 'DK', 'FR', 'GB', 'pooled']
    """
    df = analysis_frame(survey, outcome, predictors)
    complete = df[[outcome, *predictors]].notna().all(axis=1)
    parts = [(lv, (df[group] == lv) & complete) for lv in survey.levels(group)]
    if pooled:
        parts.append(("pooled", complete))
    out = []
    for lv, sel in parts:
        sub = df[sel]
        out.append(_labelled_ols(sub, outcome, predictors, {group: lv, "outcome": outcome},
                                 sub["weight"].to_numpy() if weighted else None))
    return pd.concat(out, ignore_index=True)


def _labelled_ols(sub: pd.DataFrame, outcome: str, predictors: list[str], labels: dict,
                  weights: np.ndarray | None = None) -> pd.DataFrame:
    """standardized_ols on one subset, with its labels as leading columns and n, r2 after."""
    where = ", ".join(f"{k} {v!r}" for k, v in labels.items() if k != "outcome")
    if len(sub) < len(predictors) + 2:
        raise SurveyDataError(
            f"{where}: {len(sub)} complete rows for outcome {outcome!r} and "
            f"{len(predictors)} predictors; OLS needs at least {len(predictors) + 2}"
        )
    coefs, fit = standardized_ols(sub[outcome].to_numpy(), sub[predictors].to_numpy(),
                                  predictors, weights)
    for i, (k, v) in enumerate(labels.items()):
        coefs.insert(i, k, v)
    coefs["n"] = fit["n"]
    coefs["r2"] = fit["r2"]
    return coefs


def ols_by_area(survey: Survey, outcome: str, predictors: list[str],
                group: str = "country") -> pd.DataFrame:
    """Standardised OLS per group x policy area on the area's index and items.

    The outcome is ``outcome``'s index over the area's items; a construct predictor is its
    index over the area's items (one item: that item), demographics as coded. Complete cases
    per context, unweighted, fitted with :func:`standardized_ols`.

    Parameters
    ----------
    survey : Survey
        The survey to analyse.
    outcome : str
        A construct or composite index with items in every policy area.
    predictors : list of str
        Demographic columns, or constructs or composite indexes with items in every policy
        area.
    group : str, default "country"
        A grouping column of the codebook.

    Returns
    -------
    DataFrame
        Tidy, areas in codebook order and group levels within each: ``country`` (or the
        group's name), ``area``, ``predictor``, ``beta``, ``se``, ``t``, ``p``, ``stars``,
        ``n``, ``r2``. There is no pooled fit.

    Raises
    ------
    SurveyDataError
        If a context has fewer than ``len(predictors) + 2`` complete rows or a constant
        predictor, or the outcome or a non-demographic predictor is not a construct or index
        with items in every area.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> t = ols_by_area(s, "collective", ["age", "efficacy"])
    >>> len(t), list(t["area"].unique())
    (30, ['safety', 'environment', 'health'])
    """
    cb = survey.codebook
    out = []
    for area in cb.areas:
        cols = {outcome: index_scores(survey, outcome, area)}
        for p in predictors:
            cols[p] = (survey.frame[p].astype(float) if p in cb.demographic_columns
                       else index_scores(survey, p, area))
        df = pd.DataFrame(cols)
        df[group] = survey.frame[group].to_numpy()
        complete = df[[outcome, *predictors]].notna().all(axis=1)
        for lv in survey.levels(group):
            sub = df[(df[group] == lv) & complete]
            out.append(_labelled_ols(sub, outcome, predictors, {group: lv, "area": area}))
    return pd.concat(out, ignore_index=True)
