"""Figures of latent variable models: item characteristic curves; latent slopes beside OLS on
the indexes (the attenuation)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from ..errors import SpecError  # noqa: E402
from .figures import BAYES, OLS  # noqa: E402

__all__ = ["item_curves", "item_curve_values", "attenuation"]

INDEX = "#7f7f7f"


def item_curve_values(fit, item: str, group=None, grid=None,
                      hdi_prob: float = 0.9, max_draws: int = 400):
    """P(category k | latent value) of one ordinal item that loads on one factor, over
    ``grid``: posterior mean and central interval per category. Returns (grid, mean,
    lower, upper), each probability array (categories, grid)."""
    from scipy.special import expit, ndtr

    grid = np.linspace(-3, 3, 61) if grid is None else np.asarray(grid, float)
    if item not in fit.ordinal:
        raise SpecError(f"item_curves: {item!r} is not an ordinal indicator of the fit "
                        f"(ordinal: {fit.ordinal})")
    dat = fit.data
    factors = [f for f in fit.model.latent if item in fit.model.indicators(f)]
    if len(factors) != 1:
        raise SpecError(f"item_curves: {item!r} loads on {factors}; curves need one factor")
    groups = [str(x) for x in fit.groups]
    k = 0 if group is None else groups.index(str(group))
    j = dat.indicators.index(item)
    f = fit.model.latent.index(factors[0])
    lam = fit._flat("loadings")[:, k, j, f]
    names = list(fit.idata.posterior["thresholds"].coords["threshold"].values)
    cols = [i for i, n in enumerate(names) if n.startswith(f"{item}|t")]
    cut = fit._flat("thresholds")[:, k][:, cols]
    step = max(1, len(lam) // max_draws)
    lam, cut = lam[::step], cut[::step]
    cdf = expit if fit.link == "logit" else ndtr
    F = cdf(cut[:, :, None] - lam[:, None, None] * grid[None, None, :])  # (S, K-1, grid)
    ones = np.ones((len(lam), 1, len(grid)))
    P = np.diff(np.concatenate([0 * ones, F, ones], axis=1), axis=1)  # (S, K, grid)
    a = (1 - hdi_prob) / 2
    return grid, P.mean(0), np.quantile(P, a, axis=0), np.quantile(P, 1 - a, axis=0)


def item_curves(fit, items=None, group=None, ncols: int = 4, hdi_prob: float = 0.9):
    """Item characteristic curves: for each ordinal item (default all that load on one
    factor) the probability of each response category against the latent value (in the
    group's units; the reference group's by default), posterior mean with a
    ``hdi_prob`` band. Labels are the item's observed values.

    The curves are computed at 61 latent values from -3 to 3 on every ``max(1, S // 400)``-th
    of the fit's S posterior draws; the band is the central (equal-tailed) interval of
    those draws, not an HDI.

    Parameters
    ----------
    fit : SemFit
        A fit with ordinal indicators (:func:`coprod_bayes.sem` or :func:`coprod_bayes.cfa`
        with ``ordered``, or a Survey's items).
    items : list of str, optional
        Ordinal indicators to draw, each loading on exactly one factor; by default (also
        when empty) every such indicator.
    group : optional
        A group level of a grouped fit (compared as a string); by default the first
        (reference) group.
    ncols : int, default 4
        Panels per row at most.
    hdi_prob : float, default 0.9
        Probability of the band.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per item, one curve per response category; unused panels are hidden.

    Raises
    ------
    SpecError
        If an item is not an ordinal indicator of the fit, or does not load on exactly one
        factor.
    ValueError
        If ``group`` is not one of the fit's groups.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> model = "efficacy =~ efficacy_safety + efficacy_environment + efficacy_health"
    >>> fit = cb.cfa(model, s)                   # doctest: +SKIP
    >>> fig = cb.plot.item_curves(fit, ncols=3)  # doctest: +SKIP
    """
    items = items or [v for v in fit.ordinal
                      if sum(v in fit.model.indicators(f) for f in fit.model.latent) == 1]
    nrows = int(np.ceil(len(items) / ncols))
    fig, axes = plt.subplots(nrows, min(ncols, len(items)), squeeze=False,
                             figsize=(3.0 * min(ncols, len(items)), 2.4 * nrows), sharey=True)
    colours = plt.get_cmap("viridis")
    for ax, item in zip(axes.flat, items, strict=False):
        grid, mean, lo, hi = item_curve_values(fit, item, group, hdi_prob=hdi_prob)
        K = mean.shape[0]
        for c in range(K):
            col = colours(c / max(K - 1, 1))
            ax.plot(grid, mean[c], color=col, lw=1.5, label=str(fit.data.levels[item][c]))
            ax.fill_between(grid, lo[c], hi[c], color=col, alpha=0.2, lw=0)
        factor = next(f for f in fit.model.latent if item in fit.model.indicators(f))
        ax.set_title(item, fontsize=9)
        ax.set_xlabel(factor, fontsize=8)
        ax.legend(fontsize=6, frameon=False, loc="center left")
    for ax in list(axes.flat)[len(items):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("P(response)")
    fig.suptitle("Item characteristic curves" + (f", group {group}" if group is not None else ""),
                 fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def attenuation(table, hdi_prob: float = 0.9, ncols: int = 3, title: str = "",
                verdict: str = ""):
    """Small multiples of the attenuation: per predictor, each group's latent standardised
    slope (posterior mean and ``hdi_prob`` interval) beside the OLS beta on the sum-score
    indexes (normal interval at the same coverage) and, where the table has them, the
    index-based Bayesian betas (posterior mean +- the normal quantile x posterior SD).

    Parameters
    ----------
    table : DataFrame
        A latent fit's :meth:`~coprod_bayes.sem.SemFit.compare` frame
        (:func:`coprod_bayes.latent.attenuation`): ``group``, ``predictor``,
        ``latent_mean``, ``latent_lower``, ``latent_upper``, ``ols_beta``, ``ols_se`` and
        optionally ``index_mean``, ``index_sd``.
    hdi_prob : float, default 0.9
        The coverage of the intervals (the table's latent interval should be made with it).
    ncols : int, default 3
        Panels per row.
    title, verdict : str, optional
        The figure's title; the fit's verdict headline, written in red if it did not
        converge.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per predictor (in the table's order), one row per group: latent (circle),
        index-based Bayesian (diamond), OLS (open square), with the mean attenuation
        ``sign(latent) x (latent - OLS)`` in each panel's title.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> latent = cb.fit("latent_collective", s)                       # doctest: +SKIP
    >>> index = cb.fit("table3_collective", s)                        # doctest: +SKIP
    >>> cmp = latent.compare(cb.classical.tables(s), index_fit=index)  # doctest: +SKIP
    >>> fig = cb.plot.attenuation(cmp)                                # doctest: +SKIP
    """
    need = {"group", "predictor", "latent_mean", "latent_lower", "latent_upper", "ols_beta",
            "ols_se"}
    if missing := sorted(need - set(table.columns)):
        raise SpecError(f"attenuation(): the table lacks {missing}; pass a latent fit's "
                        "compare() frame")
    preds = list(dict.fromkeys(table["predictor"]))
    with_index = "index_mean" in table.columns and table["index_mean"].notna().any()
    nrows = int(np.ceil(len(preds) / ncols))
    n_groups = table["group"].nunique()
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharex=True,
                             figsize=(3.4 * ncols, (0.36 * n_groups + 0.9) * nrows))
    z = stats.norm.ppf(0.5 + hdi_prob / 2)
    off = 0.22 if with_index else 0.15
    for ax, pred in zip(axes.ravel(), preds, strict=False):
        t = table[table["predictor"] == pred]
        y = np.arange(len(t))[::-1]
        ax.errorbar(t["latent_mean"], y + off, fmt="o", ms=3, color=BAYES, capsize=2,
                    xerr=[t["latent_mean"] - t["latent_lower"],
                          t["latent_upper"] - t["latent_mean"]], label="latent")
        if with_index:
            ax.errorbar(t["index_mean"], y, xerr=z * t["index_sd"], fmt="D", ms=3,
                        color=INDEX, capsize=2, label="index, Bayesian")
        ax.errorbar(t["ols_beta"], y - off, xerr=z * t["ols_se"], fmt="s", ms=3, color=OLS,
                    mfc="white", capsize=2, label="index, OLS")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, t["group"].astype(str), fontsize=8)
        att = np.sign(t["latent_mean"]) * (t["latent_mean"] - t["ols_beta"])
        ax.set_title(f"{pred} (attenuation {att.mean():+.2f})", fontsize=9, loc="left")
    for ax in axes.ravel()[len(preds):]:
        ax.set_visible(False)
    axes[0, 0].legend(fontsize=6, loc="best")
    fig.suptitle(title or f"Latent slopes beside the indexes ({hdi_prob:.0%} intervals)",
                 fontsize=10, x=0.01, ha="left")
    if verdict and not verdict.startswith("Converged"):
        fig.text(0.01, 0.005, verdict, color="red", fontsize=8)
    fig.tight_layout()
    return fig
