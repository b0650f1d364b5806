"""Survey waves together: measurement invariance across waves and wave effects.

A combined survey (:func:`coprod_bayes.combine`) has a ``wave`` column. :func:`wave_invariance`
fits each construct as a latent variable measured by its ordinal items in every wave, with
approximate measurement invariance across waves (every item's thresholds and loading may
differ by wave, the width of those differences estimated per item; see
:mod:`coprod_bayes.engines.sem_latent`): the latent mean and SD of each wave relative to the
first (the wave effects) come from the items that behave alike, and
``fit.noninvariance()`` says which shared items do not (with two waves, an item is flagged
when its thresholds or loading move between the waves unlike the majority of the shared
items). Items asked in one wave only enter the measurement of that wave and carry no test.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .errors import SpecError
from .survey.survey import Survey

__all__ = ["wave_invariance", "wave_syntax", "wave_effects"]


def wave_syntax(survey: Survey, constructs: Sequence[str]) -> str:
    """lavaan syntax: one factor per construct, measured by all of its items in the combined
    codebook (shared and wave-specific)."""
    cbk = survey.codebook
    lines = []
    for c in constructs:
        items = [it.column for it in cbk.items_of(c)]
        lines.append(f"{c} =~ " + " + ".join(items))
    return "\n".join(lines)


def wave_invariance(survey: Survey, constructs: Sequence[str] = ("collective",),
                    wave: str = "wave", invariance: str = "approximate", **options):
    """Fit constructs across waves with (approximate) measurement invariance.

    Parameters
    ----------
    survey : Survey
        Several waves combined (:func:`coprod_bayes.combine`).
    constructs : sequence of str
        Constructs of the combined codebook, each one latent variable (correlated).
    wave : str, default "wave"
        The wave column; its first level is the reference (latent mean 0, SD 1).
    invariance : {"approximate", "scalar", "configural"}
        ``approximate`` (default) tests the items; ``scalar`` assumes them invariant (its
        LOO can be compared with ``cb.compare_loo``).
    **options
        Passed to :func:`coprod_bayes.sem` (sampler settings, ``link``); approximate
        invariance samples with ``target_accept=0.98`` unless told otherwise.

    Returns
    -------
    SemFit
        ``noninvariance()`` per item and wave, ``group_parameters()`` (latent mean and SD
        per wave), :func:`wave_effects`.

    Raises
    ------
    SpecError
        If the survey has fewer than two waves or a construct is unknown.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> both = cb.combine(cb.simulate(), cb.simulate("uk_panels_2011"))   # doctest: +SKIP
    >>> fit = cb.wave_invariance(both, ["collective"])                     # doctest: +SKIP
    >>> fit.noninvariance().query("flagged")                               # doctest: +SKIP

    A single wave has nothing to compare:

    >>> cb.wave_invariance(cb.simulate(n_per_country=30, seed=3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: wave_invariance needs a survey of two or more waves ...
    """
    from .sem import sem

    if wave not in survey.codebook.group_columns or len(survey.levels(wave)) < 2:
        raise SpecError(f"wave_invariance needs a survey of two or more waves in column {wave!r} "
                        "(combine them with cb.combine)")
    unknown = [c for c in constructs if c not in survey.codebook.constructs]
    if unknown:
        raise SpecError(f"wave_invariance: unknown construct(s) {unknown}; known: "
                        f"{sorted(survey.codebook.constructs)}")
    if invariance == "approximate" and "sampler" not in options:
        # two waves give each item one deviation, whose width only the prior and that one
        # deviation inform: a funnel (35 divergences at target_accept 0.9, none at 0.98)
        options.setdefault("target_accept", 0.98)
    return sem(wave_syntax(survey, constructs), survey, group=wave, invariance=invariance,
               **options)


def wave_effects(fit, hdi_prob: float = 0.9) -> pd.DataFrame:
    """Each wave's latent mean and SD of every construct relative to the first wave (its
    mean 0 and SD 1), from a :func:`wave_invariance` fit.

    Parameters
    ----------
    fit : SemFit
        A fit of :func:`wave_invariance` (or any grouped latent-score fit of
        :func:`coprod_bayes.sem`: its groups are then reported as waves).
    hdi_prob : float, default 0.9
        Probability mass of the highest-density intervals.

    Returns
    -------
    DataFrame
        :meth:`SemFit.group_parameters` with ``group`` renamed ``wave``: ``wave``,
        ``parameter`` (``mean(<construct>)``, ``sd(<construct>)``), ``mean``, ``sd``,
        ``lower``, ``upper``.

    Raises
    ------
    SpecError
        If ``fit`` is a closed-form fit (no latent scores).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> both = cb.combine(cb.simulate(), cb.simulate("uk_panels_2011"))   # doctest: +SKIP
    >>> fit = cb.wave_invariance(both, ["collective"])                     # doctest: +SKIP
    >>> cb.wave_effects(fit).query("wave == '2011'")                       # doctest: +SKIP
    """
    gp = fit.group_parameters(hdi_prob)
    return gp.rename(columns={"group": "wave"}).reset_index(drop=True)
