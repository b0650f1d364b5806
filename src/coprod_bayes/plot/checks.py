"""Model-check figures: prior predictive, posterior predictive by group, LOO comparison."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .figures import BAYES, OLS  # noqa: E402

__all__ = ["prior_predictive", "posterior_predictive", "model_comparison"]


def prior_predictive(frame: pd.DataFrame, title: str = "", observed_r2=None):
    """Histograms of the R-squared and of the largest standardised slope that the priors
    imply (the frame of :func:`coprod_bayes.prior_predictive`); ``observed_r2`` (e.g. the
    OLS R-squared per country) is marked for orientation.

    Parameters
    ----------
    frame : DataFrame
        :func:`coprod_bayes.prior_predictive`'s frame (columns ``r2`` and
        ``max_abs_beta``).
    title : str, default ""
        Put before "prior predictive" in the figure's title, which also gives the 10%, 50%
        and 90% quantiles of the implied R-squared.
    observed_r2 : float or array_like, optional
        R-squared values to mark with a vertical red line each in the R-squared panel.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: the implied R-squared per group (0-1) and the largest absolute
        standardised slope per group.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> pp = cb.prior_predictive("table3_collective", s, draws=200)
    >>> ols = cb.classical.ols_table(s, "collective", cb.classical.paper_predictors(),
    ...                              pooled=False)
    >>> r2 = ols.drop_duplicates("country")["r2"]
    >>> fig = prior_predictive(pp, "table3_collective", observed_r2=r2)
    >>> len(fig.axes), len(fig.axes[0].lines)
    (2, 5)
    """
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.0))
    axes[0].hist(frame["r2"], bins=np.linspace(0, 1, 41), color=BAYES, alpha=0.8)
    axes[0].set_xlabel("prior-implied R-squared per group")
    for v in np.atleast_1d(observed_r2 if observed_r2 is not None else []):
        axes[0].axvline(v, color=OLS, lw=1)
    axes[1].hist(frame["max_abs_beta"], bins=40, color=BAYES, alpha=0.8)
    axes[1].set_xlabel("largest |standardised slope| per group")
    for ax in axes:
        ax.set_ylabel("prior draws")
    q = frame["r2"].quantile([0.1, 0.5, 0.9]).to_numpy()
    fig.suptitle(f"{title} prior predictive: R-squared 10/50/90% = "
                 f"{q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}"
                 + ("; red: observed OLS R-squared" if observed_r2 is not None else ""),
                 fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def posterior_predictive(frame: pd.DataFrame, title: str = "", n_lines: int = 40,
                         bins: int = 25, ncols: int = 3):
    """Per group: the observed index's histogram (red) over the histograms of replicated data
    sets (blue lines), from the frame of :func:`coprod_bayes.posterior_predictive`.

    Values outside the index's 0-100 range are shaded grey.

    Parameters
    ----------
    frame : DataFrame
        :func:`coprod_bayes.posterior_predictive`'s frame: ``group``, ``observed`` and
        ``replicate_0``, ``replicate_1``, ...
    title : str, default ""
        Put before "posterior predictive" in the figure's title.
    n_lines : int, default 40
        At most this many replicates are drawn (the first ones).
    bins : int, default 25
        Equal-width bins over the observed and drawn replicates' range; an index with at
        most ``3 * bins`` distinct observed values gets one bin per value instead.
    ncols : int, default 3
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per group, in order of first appearance; unused panels are hidden.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fit = cb.fit("table3_collective", s)                       # doctest: +SKIP
    >>> ppc = cb.posterior_predictive(fit, s, n_draws=100)         # doctest: +SKIP
    >>> fig = cb.plot.posterior_predictive(ppc, "table3_collective")  # doctest: +SKIP
    """
    reps = [c for c in frame.columns if c.startswith("replicate_")][:n_lines]
    groups = list(dict.fromkeys(frame["group"]))
    nrows = int(np.ceil(len(groups) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.5 * nrows), squeeze=False)
    lo = min(frame["observed"].min(), frame[reps].min().min())
    hi = max(frame["observed"].max(), frame[reps].max().max())
    edges = _edges(frame["observed"].to_numpy(), lo, hi, bins)
    for ax, g in zip(axes.ravel(), groups, strict=False):
        t = frame[frame["group"] == g]
        for r in reps:
            ax.hist(t[r], bins=edges, histtype="step", color=BAYES, alpha=0.15, density=True)
        ax.hist(t["observed"], bins=edges, histtype="step", color=OLS, lw=1.8, density=True)
        ax.axvspan(lo, 0, color="grey", alpha=0.1)
        ax.axvspan(100, hi, color="grey", alpha=0.1)
        ax.set_title(f"{g} (n={len(t)})", fontsize=9, loc="left")
        ax.set_yticks([])
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(f"{title} posterior predictive: observed index (red) and {len(reps)} replicated "
                 "data sets (blue); grey: outside the 0-100 range", fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def _edges(observed: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Histogram edges. An index takes few distinct values (multiples of 100 / its number of
    response steps); equal-width bins then hold one or two of them by chance, which draws
    spikes that are not in the data. With at most ``3 * bins`` distinct values each gets its
    own bin (edges at midpoints), extended at the same spacing to the replicates' range."""
    u = np.unique(observed[np.isfinite(observed)])
    if len(u) < 2 or len(u) > 3 * bins:
        return np.linspace(lo, hi, bins + 1)
    gap = float(np.median(np.diff(u)))
    inner = (u[:-1] + u[1:]) / 2
    below = np.arange(u[0] - gap / 2, lo - gap, -gap)[::-1]
    above = np.arange(u[-1] + gap / 2, hi + gap, gap)
    return np.unique(np.concatenate([below, inner, above]))


def model_comparison(table: pd.DataFrame, title: str = ""):
    """ELPD-LOO of each model with its SE, and the difference from the best with its SE
    (the table of :func:`coprod_bayes.compare_models`).

    Parameters
    ----------
    table : DataFrame
        The comparison table, the first of the two frames :func:`coprod_bayes.compare_models`
        returns (``az.compare``'s): indexed by model, with columns ``elpd_loo``, ``se``,
        ``elpd_diff`` and ``dse``.
    title : str, default ""
        Put before "model comparison (PSIS-LOO)" in the axes' title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one row per model, the best (highest ELPD) at the top.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"elpd_loo": [-100.0, -110.0], "se": [5.0, 5.5],
    ...                       "elpd_diff": [0.0, 10.0], "dse": [0.0, 3.0]},
    ...                      index=["partial pooling", "complete pooling"])
    >>> fig = model_comparison(table, "collective")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['complete pooling', 'partial pooling']
    """
    t = table.sort_values("elpd_loo")
    fig, ax = plt.subplots(figsize=(6.4, 0.6 * len(t) + 1.4))
    y = np.arange(len(t))
    ax.errorbar(t["elpd_loo"], y, xerr=t["se"], fmt="o", color=BAYES, capsize=3,
                label="ELPD-LOO +- SE")
    best = t["elpd_loo"].max()
    ax.errorbar(best - t["elpd_diff"], y - 0.2, xerr=t["dse"], fmt="^", color=OLS, capsize=3,
                mfc="white", label="best - difference +- SE of difference")
    ax.set_yticks(y, t.index)
    ax.set_xlabel("expected log predictive density (higher is better)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    ax.set_title(f"{title} model comparison (PSIS-LOO)", loc="left", fontsize=11)
    fig.tight_layout()
    return fig
