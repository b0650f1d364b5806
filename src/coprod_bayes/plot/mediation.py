"""Figures of a mediation fit (:mod:`coprod_bayes.mediation`): the path diagram, the indirect
effects by context, and the shrinkage of the context estimates."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyBboxPatch

from .figures import BAYES, OLS, _verdict_title

__all__ = ["mediation_paths", "mediation_forest", "mediation_shrinkage"]


def _fmt(row) -> str:
    return f"{row['mean']:+.3f}\n[{row['lo']:+.3f}, {row['hi']:+.3f}]"


def mediation_paths(fit, hdi_prob: float = 0.9):
    """Path diagram per outcome: treatment -> mediator (a), mediator -> outcome (b),
    treatment -> outcome (c'), each labelled with its posterior mean and ``hdi_prob``
    interval averaged over the contexts; the indirect and total effects below.

    The averages are :meth:`MediationFit.pooled` (draw by draw over the contexts); the
    intervals are central (equal-tailed), not HDIs.

    Parameters
    ----------
    fit : MediationFit
        The result of :func:`coprod_bayes.fit_mediation`.
    hdi_prob : float, default 0.9
        Probability of the intervals.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per outcome.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> fit = cb.fit_mediation("mediation", cb.simulate(seed=0))  # doctest: +SKIP
    >>> fig = cb.plot.mediation_paths(fit)                        # doctest: +SKIP
    """
    pooled = fit.pooled(hdi_prob)
    outcomes = fit.outcomes
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.6 * len(outcomes), 3.6), squeeze=False)
    for ax, o in zip(axes[0], outcomes, strict=True):
        r = fit.spec.roles(o)
        p = pooled[pooled["outcome"] == o].set_index("path")
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 7)
        ax.axis("off")
        boxes = {r.treatment: (1.5, 2.0), r.mediator: (5.0, 5.2), o: (8.5, 2.0)}
        for name, (x, y) in boxes.items():
            ax.add_patch(FancyBboxPatch((x - 1.2, y - 0.45), 2.4, 0.9, boxstyle="round,pad=0.1",
                                        fc="#eef3f7", ec=BAYES))
            ax.text(x, y, name, ha="center", va="center", fontsize=10)
        arrows = [(r.treatment, r.mediator, "a"), (r.mediator, o, "b"), (r.treatment, o, "direct")]
        for src, dst, path in arrows:
            (x0, y0), (x1, y1) = boxes[src], boxes[dst]
            ax.annotate("", xy=(x1 - 0.9 * np.sign(x1 - x0), y1 - 0.5 * np.sign(y1 - y0)),
                        xytext=(x0 + 0.9 * np.sign(x1 - x0), y0 + 0.5 * np.sign(y1 - y0)),
                        arrowprops={"arrowstyle": "-|>", "color": BAYES, "lw": 1.5})
            # labels beside the arrows, off the lines
            dx = {"a": -1.1, "b": 1.1, "direct": 0.0}[path]
            mx, my = (x0 + x1) / 2 + dx, (y0 + y1) / 2 + (0.2 if path != "direct" else -0.55)
            label = {"a": "a", "b": "b", "direct": "c'"}[path]
            ax.text(mx, my, f"{label} = {_fmt(p.loc[path])}", ha="center", va="center",
                    fontsize=8, color=BAYES)
        ax.text(5.0, 0.3, f"indirect a*b = {p.loc['indirect', 'mean']:+.3f} "
                f"[{p.loc['indirect', 'lo']:+.3f}, {p.loc['indirect', 'hi']:+.3f}]   total = "
                f"{p.loc['total', 'mean']:+.3f} [{p.loc['total', 'lo']:+.3f}, "
                f"{p.loc['total', 'hi']:+.3f}]", ha="center", fontsize=8)
        _verdict_title(ax, f"{o}: average of the {len(fit.groups) * len(fit.areas)} contexts "
                       f"({hdi_prob:.0%} intervals)", fit.verdict.headline)
    fig.tight_layout()
    return fig


def mediation_forest(fit, ols: pd.DataFrame | None = None, path: str = "indirect",
                     hdi_prob: float = 0.9):
    """Forest plot of ``path`` (default the indirect effect) by context, one panel per
    outcome: posterior mean and ``hdi_prob`` interval, and with ``ols``
    (:func:`coprod_bayes.mediation.ols_mediation`) the OLS estimate with its bootstrap
    interval just below it.

    The posterior intervals are central (equal-tailed, :meth:`MediationFit.table`). The
    OLS intervals are those ``ols`` holds, at the ``level`` it was computed with
    (:func:`coprod_bayes.ols_mediation`'s default 0.9), whatever ``hdi_prob`` is.

    Parameters
    ----------
    fit : MediationFit
        The result of :func:`coprod_bayes.fit_mediation`.
    ols : DataFrame, optional
        :func:`coprod_bayes.ols_mediation` on the same data and spec; without it only the
        posterior is drawn.
    path : str, default "indirect"
        A path of :meth:`MediationFit.table`: ``"a"``, ``"b"``, ``"direct"``,
        ``"indirect"``, ``"total"`` (only these have OLS estimates), ``"proportion"`` or a
        ``:=`` name of the spec.
    hdi_prob : float, default 0.9
        Probability of the posterior intervals.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per outcome, one row per context (``group:area``).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fit = cb.fit_mediation("mediation", s)                  # doctest: +SKIP
    >>> ols = cb.ols_mediation(s, "mediation")                  # doctest: +SKIP
    >>> fig = cb.plot.mediation_forest(fit, ols, path="a")      # doctest: +SKIP
    """
    t = fit.compare(ols, hdi_prob) if ols is not None else fit.table(hdi_prob)
    g = fit.spec.group
    t = t[t["path"] == path]
    outcomes = fit.outcomes
    n = len(fit.groups) * len(fit.areas)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.8 * len(outcomes), 0.32 * n + 1.6),
                             squeeze=False, sharey=True)
    for ax, o in zip(axes[0], outcomes, strict=True):
        s = t[t["outcome"] == o].reset_index(drop=True)
        y = np.arange(len(s))[::-1].astype(float)
        ax.errorbar(s["mean"], y + 0.15, xerr=[s["mean"] - s["lo"], s["hi"] - s["mean"]],
                    fmt="o", color=BAYES, ms=4, capsize=2, label=f"posterior, {hdi_prob:.0%}")
        if ols is not None:
            ax.errorbar(s["ols"], y - 0.15, xerr=[s["ols"] - s["ols_lo"], s["ols_hi"] - s["ols"]],
                        fmt="s", color=OLS, mfc="white", ms=4, capsize=2,
                        label=f"OLS, bootstrap {ols.attrs.get('level', 0.9):.0%}")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, s[g] + ":" + s["area"], fontsize=8)
        ax.set_xlabel(f"{path} effect (SD of {o} per SD of conditions)")
        ax.legend(fontsize=7, loc="best")
        _verdict_title(ax, f"{o}: {path} effect by context", fit.verdict.headline)
    fig.tight_layout()
    return fig


def mediation_shrinkage(fit, ols: pd.DataFrame, path: str = "a", outcome: str | None = None):
    """Shrinkage of the context estimates of ``path``: each context's OLS estimate (left)
    joined to its posterior mean (right), the average over contexts as a dashed line: the
    hierarchical model pulls noisy contexts toward the others.

    Parameters
    ----------
    fit : MediationFit
        The result of :func:`coprod_bayes.fit_mediation`.
    ols : DataFrame
        :func:`coprod_bayes.ols_mediation` on the same data and spec.
    path : str, default "a"
        One of ``"a"``, ``"b"``, ``"direct"``, ``"indirect"``, ``"total"``.
    outcome : str, optional
        The outcome whose model's paths are drawn; by default the fit's first outcome.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the dashed line is the posterior mean of the average over contexts
        (:meth:`MediationFit.pooled`).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fit = cb.fit_mediation("mediation", s)                         # doctest: +SKIP
    >>> ols = cb.ols_mediation(s, "mediation")                         # doctest: +SKIP
    >>> fig = cb.plot.mediation_shrinkage(fit, ols, outcome="collective")  # doctest: +SKIP
    """
    o = outcome or fit.outcomes[0]
    t = fit.compare(ols)
    t = t[(t["path"] == path) & (t["outcome"] == o)]
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    for _, r in t.iterrows():
        ax.plot([0, 1], [r["ols"], r["mean"]], color="grey", lw=0.8)
        ax.text(1.03, r["mean"], f"{r[fit.spec.group]}:{r['area']}", fontsize=6, va="center")
    ax.scatter(np.zeros(len(t)), t["ols"], color=OLS, zorder=3, label="OLS per context")
    ax.scatter(np.ones(len(t)), t["mean"], color=BAYES, zorder=3, label="posterior mean")
    pooled = fit.pooled().set_index(["outcome", "path"]).loc[(o, path), "mean"]
    ax.axhline(pooled, ls="--", color=BAYES, lw=1, label="average over contexts")
    ax.set_xticks([0, 1], ["OLS", "hierarchical"])
    ax.set_xlim(-0.3, 1.5)
    ax.set_ylabel(f"{path} ({o} model)" if path != "a" else "a-path (conditions -> efficacy)")
    ax.legend(fontsize=7, loc="best")
    _verdict_title(ax, f"Shrinkage of the {len(t)} context estimates", fit.verdict.headline)
    fig.tight_layout()
    return fig
