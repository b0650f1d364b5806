"""Posterior slopes by country beside OLS, country means with intervals, ranking probabilities.

Each function reads a fit (never a PyMC model) and returns a :class:`matplotlib.figure.Figure`
for the caller to show or save.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

__all__ = ["slopes", "slopes_grid", "area_slopes", "country_means", "rankings"]

BAYES, OLS = "#1f5f8b", "#c0504d"


def _verdict_title(ax, title: str, verdict: str) -> None:
    ax.set_title(title, loc="left", fontsize=11)
    if verdict and not verdict.startswith("Converged"):
        ax.text(0, 1.08, verdict, transform=ax.transAxes, color="red", fontsize=8, va="bottom")


def slopes(fit, predictor: str, classical: pd.DataFrame | dict, hdi_prob: float = 0.9):
    """Forest plot: the posterior standardised slope of ``predictor`` per group (mean and
    ``hdi_prob`` interval) with the OLS beta and its matching interval just below it.

    The OLS interval is the normal one, ``beta +- z * se`` at the same ``hdi_prob``. Where
    the posterior has population means (``mu``) a dotted line marks the predictor's.

    Parameters
    ----------
    fit : Fit
        A regression fit (:func:`coprod_bayes.fit`).
    predictor : str
        One of the fit's predictors.
    classical : DataFrame or dict
        The OLS table for the fit's outcome (or :func:`coprod_bayes.classical.tables`), as
        :meth:`Fit.compare` takes it.
    hdi_prob : float, default 0.9
        Probability of the posterior HDI and coverage of the OLS interval.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one row per group.

    Raises
    ------
    ValueError
        If ``predictor`` has no row in the fit's comparison with OLS (not one of the fit's
        predictors).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fit = cb.fit("table3_collective", s)                         # doctest: +SKIP
    >>> fig = cb.plot.slopes(fit, "efficacy", cb.classical.tables(s))  # doctest: +SKIP
    >>> fig.savefig("efficacy.png")                                  # doctest: +SKIP
    """
    table = fit.compare(classical, hdi_prob=hdi_prob)
    t = table[table["predictor"] == predictor]
    if t.empty:
        raise ValueError(f"predictor {predictor!r} is not in fit {fit.spec.name!r}")
    z = stats.norm.ppf(0.5 + hdi_prob / 2)
    fig, ax = plt.subplots(figsize=(6.4, 0.55 * len(t) + 1.6))
    y = np.arange(len(t))[::-1]
    ax.errorbar(t["post_mean"], y + 0.12,
                xerr=[t["post_mean"] - t["lower"], t["upper"] - t["post_mean"]],
                fmt="o", color=BAYES, capsize=3, label=f"posterior mean, {hdi_prob:.0%} HDI")
    ax.errorbar(t["ols_beta"], y - 0.12, xerr=z * t["ols_se"], fmt="s", color=OLS, capsize=3,
                mfc="white", label=f"OLS beta, {hdi_prob:.0%} CI")
    if "mu" in fit.idata.posterior and predictor in fit.idata.posterior["coef"].values:
        mu = float(fit.idata.posterior["mu"].sel(coef=predictor).mean())
        ax.axvline(mu, color=BAYES, ls=":", lw=1, label="pooled mean")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, t["group"])
    ax.set_xlabel(f"standardised coefficient of {predictor}")
    ax.legend(fontsize=8, loc="best")
    _verdict_title(ax, f"{fit.spec.outcome}: {predictor} by {fit.spec.group or 'group'}",
                   fit.verdict.headline)
    fig.tight_layout()
    return fig


def slopes_grid(fit, classical: pd.DataFrame | dict, hdi_prob: float = 0.9, ncols: int = 3,
                table: pd.DataFrame | None = None, separators: list[int] | None = None):
    """Small multiples: every predictor's posterior slopes by group beside OLS (as
    :func:`slopes`), one panel per predictor, on a shared x axis.

    ``table`` (a :meth:`Fit.compare` frame, in the row order wanted) and ``separators`` (row
    positions after which to draw a line) let :func:`area_slopes` reuse this layout.

    Parameters
    ----------
    fit : Fit
        A regression fit (:func:`coprod_bayes.fit`).
    classical : DataFrame or dict
        The OLS table for the fit's outcome (or :func:`coprod_bayes.classical.tables`), as
        :meth:`Fit.compare` takes it; not used when ``table`` is given.
    hdi_prob : float, default 0.9
        Probability of the posterior HDI and coverage of the OLS normal interval (when
        ``table`` is given, it should be the one the table was made with).
    ncols : int, default 3
        Panels per row.
    table : DataFrame, optional
        A :meth:`Fit.compare` frame to draw instead of computing one; its ``R2`` rows are
        left out.
    separators : list of int, optional
        Row positions (counted from the top of a panel) after which a light line is drawn.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per predictor, in the table's order; the verdict's headline in red at
        the bottom if the fit did not converge.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fit = cb.fit("table3_collective", s)                          # doctest: +SKIP
    >>> fig = cb.plot.slopes_grid(fit, cb.classical.tables(s), ncols=3)  # doctest: +SKIP
    """
    if table is None:
        table = fit.compare(classical, hdi_prob=hdi_prob)
    table = table[table["predictor"] != "R2"]
    preds = list(dict.fromkeys(table["predictor"]))
    nrows = int(np.ceil(len(preds) / ncols))
    n_groups = table["group"].nunique()
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, (0.32 * n_groups + 0.9) * nrows),
                             sharex=True, squeeze=False)
    z = stats.norm.ppf(0.5 + hdi_prob / 2)
    for ax, pred in zip(axes.ravel(), preds, strict=False):
        t = table[table["predictor"] == pred]
        y = np.arange(len(t))[::-1]
        for pos in separators or []:
            ax.axhline(len(t) - pos - 0.5, color="lightgrey", lw=0.8)
        ax.errorbar(t["post_mean"], y + 0.15,
                    xerr=[t["post_mean"] - t["lower"], t["upper"] - t["post_mean"]],
                    fmt="o", ms=3, color=BAYES, capsize=2)
        ax.errorbar(t["ols_beta"], y - 0.15, xerr=z * t["ols_se"], fmt="s", ms=3, color=OLS,
                    mfc="white", capsize=2)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, t["group"], fontsize=8)
        ax.set_title(pred, fontsize=9, loc="left")
    for ax in axes.ravel()[len(preds):]:
        ax.set_visible(False)
    fig.suptitle(f"{fit.spec.name}: posterior (blue, {hdi_prob:.0%} HDI) and OLS (red, "
                 f"{hdi_prob:.0%} CI)", fontsize=10, x=0.01, ha="left")
    if not fit.verdict.converged:
        fig.text(0.01, 0.005, fit.verdict.headline, color="red", fontsize=8)
    fig.tight_layout()
    return fig


def area_slopes(fit, classical: pd.DataFrame, hdi_prob: float = 0.9, ncols: int = 3):
    """For a policy-area fit: every predictor's posterior slope in each country x area
    context beside the per-context OLS beta (:func:`coprod_bayes.classical.ols_by_area`),
    contexts grouped by area (lines between areas), one panel per predictor.

    Parameters
    ----------
    fit : Fit
        A fit of a spec by policy area (``level = "area"``, e.g. ``"policy_areas"``).
    classical : DataFrame
        :func:`coprod_bayes.classical.ols_by_area` for the fit's outcome and predictors.
    hdi_prob : float, default 0.9
        Probability of the posterior HDI and coverage of the OLS normal interval.
    ncols : int, default 3
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        As :func:`slopes_grid`, contexts sorted by area (in the table's order), then by
        group name.

    Raises
    ------
    ValueError
        If the fit's spec is not by policy area.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fit = cb.fit("policy_areas", s)                                     # doctest: +SKIP
    >>> ols = cb.classical.ols_by_area(s, "coproduction", cb.classical.paper_predictors())
    >>> fig = cb.plot.area_slopes(fit, ols)                                 # doctest: +SKIP
    """
    if fit.spec.level != "area":
        raise ValueError(f"fit {fit.spec.name!r} is not by policy area; use slopes_grid")
    table = fit.compare(classical, hdi_prob=hdi_prob)
    g = fit.spec.group
    areas = list(dict.fromkeys(table["area"]))
    table = table.assign(_a=table["area"].map({a: i for i, a in enumerate(areas)}))
    table = table.sort_values(["_a", g], kind="stable").drop(columns="_a")
    n_country = table[g].nunique()
    seps = [n_country * (i + 1) for i in range(len(areas) - 1)]
    return slopes_grid(fit, classical, hdi_prob, ncols, table=table, separators=seps)


def country_means(means_fit, hdi_prob: float = 0.95):
    """Posterior group means of an index with ``hdi_prob`` intervals, the classical means
    (weighted unless the fit was not) and 95% intervals beside them (Figures 3-4).

    Parameters
    ----------
    means_fit : MeansFit
        The result of :func:`coprod_bayes.country_means`.
    hdi_prob : float, default 0.95
        Probability of the posterior HDI. The classical intervals are the fit's own
        (:func:`coprod_bayes.classical.group_means`, 95%).

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one row per group.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> m = cb.country_means(cb.simulate(seed=0), "collective")  # doctest: +SKIP
    >>> fig = cb.plot.country_means(m)                           # doctest: +SKIP
    """
    s = means_fit.summary(hdi_prob)
    g = means_fit.group
    fig, ax = plt.subplots(figsize=(6.4, 0.55 * len(s) + 1.6))
    y = np.arange(len(s))[::-1]
    ax.errorbar(s["mean"], y + 0.12, xerr=[s["mean"] - s["lower"], s["upper"] - s["mean"]],
                fmt="o", color=BAYES, capsize=3, label=f"posterior, {hdi_prob:.0%} HDI")
    ax.errorbar(s["classical_mean"], y - 0.12,
                xerr=[s["classical_mean"] - s["classical_lower"],
                      s["classical_upper"] - s["classical_mean"]],
                fmt="s", color=OLS, mfc="white", capsize=3,
                label=f"{'weighted mean' if getattr(means_fit, 'weighted', True) else 'mean'}"
                      ", 95% CI")
    ax.set_yticks(y, s[g])
    ax.set_xlabel(f"{means_fit.index} index (0-100)")
    ax.legend(fontsize=8, loc="best")
    _verdict_title(ax, f"{means_fit.index} by {g}", means_fit.verdict.headline)
    fig.tight_layout()
    return fig


def rankings(means_fit):
    """Heat map of P(group ranks r-th), rank 1 the highest.

    Rows are the groups, by posterior mean from the highest; columns the ranks; each cell
    shows its probability.

    Parameters
    ----------
    means_fit : MeansFit
        The result of :func:`coprod_bayes.country_means` (its :meth:`MeansFit.rankings`).

    Returns
    -------
    matplotlib.figure.Figure
        The heat map with a colour bar.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> m = cb.country_means(cb.simulate(seed=0), "collective")  # doctest: +SKIP
    >>> fig = cb.plot.rankings(m)                                # doctest: +SKIP
    """
    r = means_fit.rankings()
    g = means_fit.group
    wide = r.pivot(index=g, columns="rank", values="probability")
    order = means_fit.summary()[[g, "mean"]].sort_values("mean", ascending=False)[g]
    wide = wide.loc[list(order)]
    fig, ax = plt.subplots(figsize=(1.0 * wide.shape[1] + 2.2, 0.5 * len(wide) + 1.6))
    im = ax.imshow(wide.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(wide.shape[0]):
        for j in range(wide.shape[1]):
            v = wide.iat[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if v > 0.6 else "black")
    ax.set_xticks(range(wide.shape[1]), [f"{c}" for c in wide.columns])
    ax.set_yticks(range(wide.shape[0]), wide.index)
    ax.set_xlabel("rank (1 = highest)")
    fig.colorbar(im, ax=ax, label="probability", shrink=0.8)
    _verdict_title(ax, f"Ranking of {g} on {means_fit.index}", means_fit.verdict.headline)
    fig.tight_layout()
    return fig
