"""Figures of the nudge experiment (:mod:`coprod_bayes.experiment`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .figures import BAYES, OLS, _verdict_title

__all__ = ["nudge_effects"]


def nudge_effects(fit, ols: dict | None = None, outcome: str | None = None,
                  contrasts: tuple[str, ...] = ("A (main)", "B (main)", "A x B"),
                  hdi_prob: float = 0.9):
    """Forest plot of the nudge contrasts of one outcome, in index points: one panel per
    contrast, one line per group and for the average over groups (``all``), the posterior
    mean and ``hdi_prob`` interval; with ``ols`` (:func:`coprod_bayes.ols_experiment`) the
    OLS estimate and its interval (95% by default, HC3) just below; the region of practical
    equivalence (+- the spec's smallest effect of interest) shaded.

    For a latent fit (``fit.unit`` ``"latent SD"``) the contrasts are in latent SDs and the
    shaded region is +- the spec's ``smallest_effect_sd``.

    Parameters
    ----------
    fit : ExperimentFit
        The result of :func:`coprod_bayes.fit_experiment`.
    ols : dict, optional
        :func:`coprod_bayes.ols_experiment` on the same survey and spec; its ``pooled`` row
        is drawn beside ``all``. Its intervals are drawn as it holds them (95% by default)
        and labelled with its level.
    outcome : str, optional
        One of the spec's outcomes; by default the first.
    contrasts : tuple of str, default ("A (main)", "B (main)", "A x B")
        The contrasts to draw, one panel each, names of
        :data:`coprod_bayes.experiment.CONTRASTS`.
    hdi_prob : float, default 0.9
        Probability of the posterior HDIs.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per contrast, rows the fit's groups and ``all``.

    Warns
    -----
    ConvergenceWarning
        If the fit did not converge (from :meth:`ExperimentFit.contrasts`).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate("uk_panels_2011", seed=1)
    >>> fit = cb.fit_experiment("nudge_experiment", s)             # doctest: +SKIP
    >>> ols = cb.ols_experiment(s, "nudge_experiment")             # doctest: +SKIP
    >>> fig = cb.plot.nudge_effects(fit, ols, outcome="collective")  # doctest: +SKIP
    """
    o = outcome or fit.spec.outcomes[0]
    t = fit.compare(ols, hdi_prob) if ols is not None else fit.contrasts(hdi_prob)
    t = t[(t["outcome"] == o) & (t["level"] != "population")]
    levels = [*fit.groups, "all"]
    latent = getattr(fit, "unit", "index points") != "index points"
    sesoi = fit.spec.smallest_effect_sd if latent else fit.spec.smallest_effect
    fig, axes = plt.subplots(1, len(contrasts),
                             figsize=(3.6 * len(contrasts), 0.42 * len(levels) + 1.6),
                             squeeze=False, sharey=True)
    for ax, c in zip(axes[0], contrasts, strict=True):
        s = t[t["contrast"] == c].set_index("level").reindex(levels)
        y = np.arange(len(levels))[::-1].astype(float)
        ax.axvspan(-sesoi, sesoi, color="#eeeeee", zorder=0,
                   label=f"|effect| < {sesoi:g}")
        ax.errorbar(s["mean"], y + 0.12, xerr=[s["mean"] - s["lower"], s["upper"] - s["mean"]],
                    fmt="o", color=BAYES, ms=4, capsize=2, label=f"posterior, {hdi_prob:.0%}")
        if ols is not None:
            ax.errorbar(s["ols"], y - 0.12, xerr=[s["ols"] - s["ols_lower"],
                                                  s["ols_upper"] - s["ols"]],
                        fmt="s", color=OLS, mfc="white", ms=4, capsize=2,
                        label=f"OLS, {ols['contrasts'].attrs.get('level', 0.95):.0%} (HC3)")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, levels, fontsize=8)
        ax.set_xlabel(f"{c}: {o}, {getattr(fit, 'unit', 'index points')}")
        _verdict_title(ax, c, fit.verdict.headline)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig
