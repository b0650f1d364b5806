"""The papers' classical tables in one call, tidy and in the papers' layout."""

from __future__ import annotations

import pandas as pd

from ..published import published_figures
from ..survey.survey import Survey
from .indexes import index_scores
from .means import group_means, weighted_mean
from .ols import ols_table
from .reliability import alphas

__all__ = ["PAPER_TABLES", "paper_predictors", "tables", "paper_layout"]

#: The papers' regression tables: name -> outcome index.
PAPER_TABLES = {"table2_individual": "individual", "table3_collective": "collective"}


def paper_predictors() -> list[str]:
    """The nine predictors of Tables 2-3, in the papers' order.

    Returns
    -------
    list of str
        The predictors as listed in the bundled published figures of ``eu5_2008``.

    Examples
    --------
    >>> paper_predictors()  # doctest: +NORMALIZE_WHITESPACE
    ['age', 'female', 'educated', 'inactive', 'urban', 'efficacy', 'gov_performance',
     'gov_information', 'gov_consultation']
    """
    return list(published_figures("eu5_2008")["predictors"])


def tables(survey: Survey, weighted: bool = False,
           predictors: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """The papers' tables computed on ``survey``.

    Parameters
    ----------
    survey : Survey
        A survey whose codebook has the constructs ``individual`` and ``collective`` (the
        outcomes of :data:`PAPER_TABLES`) and a ``country`` grouping column.
    weighted : bool, default False
        Weighted least squares for the two OLS tables (:func:`ols_table`); the means are
        weighted either way.
    predictors : list of str, optional
        The OLS predictors; by default (also when empty) :func:`paper_predictors`.

    Returns
    -------
    dict of DataFrame
        ``table2_individual`` and ``table3_collective`` (tidy OLS, per country and pooled,
        :func:`ols_table`), ``alphas`` (:func:`alphas`, every construct and index),
        ``country_means`` (:func:`group_means` of ``individual``, ``collective`` and
        ``coproduction`` by country, weighted: Figures 3-4) and ``area_means`` (the same
        indexes' weighted means per policy area over all countries: ``area``, ``index``,
        ``mean``, ``se``, ``n``).

    Raises
    ------
    SurveyDataError
        If an OLS table cannot be computed (see :func:`ols_table`), e.g. a country has too
        few complete rows for the predictors.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> t = tables(cb.simulate(n_per_country=150, seed=0))
    >>> sorted(t)
    ['alphas', 'area_means', 'country_means', 'table2_individual', 'table3_collective']
    """
    predictors = predictors or paper_predictors()
    out = {name: ols_table(survey, outcome, predictors, weighted=weighted)
           for name, outcome in PAPER_TABLES.items()}
    out["alphas"] = alphas(survey)
    cb = survey.codebook
    names = [n for n in ("individual", "collective", "coproduction")
             if n in cb.constructs or n in cb.indexes]
    out["country_means"] = pd.concat([group_means(survey, n) for n in names], ignore_index=True)
    rows = []
    w = survey.weights().to_numpy()
    for area in cb.areas:
        for n in names:
            m, se, k = weighted_mean(index_scores(survey, n, area).to_numpy(), w)
            rows.append({"area": area, "index": n, "mean": m, "se": se, "n": k})
    out["area_means"] = pd.DataFrame(rows)
    return out


def paper_layout(table: pd.DataFrame, group: str = "country", digits: int = 3) -> pd.DataFrame:
    """A tidy OLS table in the papers' layout: predictors as rows, groups as columns,
    cells such as ``0.137***``, with ``n`` and ``R2`` rows at the bottom.

    Parameters
    ----------
    table : DataFrame
        A tidy OLS table of one outcome with one row per group level and predictor
        (:func:`ols_table`, or a table of :func:`tables`).
    group : str, default "country"
        The column holding the group levels; they become the columns, in order of first
        appearance.
    digits : int, default 3
        Decimals of the betas (rounded first, so ``-0.0004`` prints as ``0.000``). ``R2``
        always has three decimals.

    Returns
    -------
    DataFrame
        Strings: rows the predictors (in order of first appearance), then ``n`` and
        ``R2``; columns the group levels.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> t = paper_layout(cb.classical.ols_table(s, "collective", ["age", "efficacy"]))
    >>> list(t.columns), list(t.index)
    (['CZ', 'DK', 'DE', 'FR', 'GB', 'pooled'], ['age', 'efficacy', 'n', 'R2'])
    >>> t.loc["efficacy", "pooled"], t.loc["n", "pooled"]
    ('0.288***', '150')
    """
    t = table.copy()
    # round first so that -0.0004 prints as 0.000, as the papers do
    t["cell"] = t["beta"].map(lambda b: f"{round(b, digits) + 0.0:.{digits}f}") + t["stars"]
    order = list(dict.fromkeys(t[group]))
    wide = t.pivot(index="predictor", columns=group, values="cell")
    wide = wide.loc[list(dict.fromkeys(t["predictor"])), order]
    stats_rows = t.drop_duplicates(group).set_index(group)
    wide.loc["n"] = stats_rows["n"].astype(int).astype(str).reindex(order)
    wide.loc["R2"] = stats_rows["r2"].map(lambda v: f"{v:.3f}").reindex(order)
    wide.columns.name = None
    return wide
