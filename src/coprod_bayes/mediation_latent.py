"""The latent version of the mediation pathway: conditions, efficacy and co-production as
latent variables measured by their ordinal items, one context per country.

In the 2008 survey conditions and efficacy are single four-point items in each policy area,
so an area's conditions or efficacy cannot be separated from the item's measurement error:
what the items allow is one person-level latent variable per construct, measured by its
items in all three areas (co-production by all its items). The model, per outcome Y and
for respondent i in country g (lavaan's syntax, the demographics w z-scored within
country)::

    conditions =~ conditions_safety + conditions_environment + conditions_health
    efficacy   =~ efficacy_safety + efficacy_environment + efficacy_health
    Y          =~ <Y's items>
    efficacy   ~ conditions + w           # a (and the demographics)
    Y          ~ efficacy + conditions + w  # b and c'
    conditions ~ w                        # lets conditions correlate with the demographics

fitted by the latent-score engine (:func:`coprod_bayes.sem`: graded response model,
ordered logit, scalar invariance across countries, the countries' latent means and SDs
free); a, b and c' partially pooled across countries (Normal(0, 1) population slopes,
Gamma(2, 20) between-country SDs, the engine's default), the demographics' effects (a
nuisance part) and
conditions' regression on them free per country. a, b and c' of each country are the
paths standardised within the country by the SDs its parameters imply (the index version
z-scores within context), and indirect = a*b, total = c' + a*b per draw. Each outcome is its
own model (the engine keeps endogenous residuals independent, so the two outcomes are not
fitted jointly): a is estimated once per outcome.

Its frequentist counterpart is OLS on the person-level indexes (each construct's items
averaged over the areas) per country, with the percentile bootstrap of
:func:`coprod_bayes.mediation.ols_mediation`. The index version's per-area effects are of
single items; :func:`compare_versions` sets its country averages beside the latent
effects.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from .errors import SpecError
from .survey.survey import Survey

__all__ = ["latent_mediation_syntax", "fit_latent_mediation", "compare_versions",
           "person_frame"]

log = logging.getLogger("coprod_bayes")

AREA = "all"  # the latent version's one "area": the person-level constructs


def _constructs(spec, roles, codebook) -> tuple[list[str], list[str]]:
    where = f"mediation spec {spec.name!r} (measurement = 'latent')"
    lat = [roles.treatment, roles.mediator, roles.outcome]
    not_constructs = [v for v in lat if v not in codebook.constructs]
    if not_constructs:
        raise SpecError(f"{where}: the treatment, mediator and outcome must be constructs of "
                        f"codebook {codebook.name!r} with items; {not_constructs} are not")
    covs = list(dict.fromkeys([*roles.mediator_covariates, *roles.outcome_covariates]))
    other = [v for v in covs if v not in codebook.demographic_columns]
    if other:
        raise SpecError(f"{where}: covariates must be demographics of codebook "
                        f"{codebook.name!r}; {other} are not")
    return lat, covs


def latent_mediation_syntax(spec, outcome: str, codebook) -> str:
    """The latent model of one outcome in lavaan's syntax (see the module docstring). The
    labels of the spec's syntax name the paths (a, b, c'); the engine gets the paths
    unlabelled, as each country has its own."""
    roles = spec.roles(outcome)
    (t, m, y), covs = _constructs(spec, roles, codebook)
    lines = [f"{f} =~ " + " + ".join(it.column for it in codebook.items_of(f)) for f in (t, m, y)]
    lines.append(f"{m} ~ " + " + ".join([t, *roles.mediator_covariates]))
    lines.append(f"{y} ~ " + " + ".join([m, t, *roles.outcome_covariates]))
    if covs:
        lines.append(f"{t} ~ " + " + ".join(covs))
    return "\n".join(lines)


def _frame(spec, roles, survey: Survey) -> tuple[pd.DataFrame, pd.DataFrame]:
    from .latent import latent_frame
    from .spec.spec import Spec

    (t, m, y), covs = _constructs(spec, roles, survey.codebook)
    as_spec = Spec(name=spec.name, outcome=y, predictors=(m, t, *covs), group=spec.group,
                   measurement="latent")
    return latent_frame(as_spec, survey)


def _rows(survey: Survey, frame: pd.DataFrame, excluded: pd.DataFrame, group: str) -> pd.DataFrame:
    """Respondents per country: in the model, not in it (a missing demographic), which."""
    out = []
    for g in dict.fromkeys(survey.frame[group].astype(str)):
        ex = excluded[excluded["group"].astype(str) == g]
        used = int((frame[group].astype(str) == g).sum())
        counts = pd.Series([c for s in ex["missing"] for c in s.split(", ") if c]).value_counts()
        out.append({group: g, "area": AREA, "rows": used + len(ex), "used": used,
                    "not_used": len(ex),
                    "missing": "; ".join(f"{v} {int(k)}" for v, k in counts.items())})
    return pd.DataFrame(out)


def _no_ignored_settings(spec) -> None:
    """The latent version takes its priors from the latent engine and fits unweighted; a
    spec that asks otherwise is refused rather than silently ignored."""
    from .spec.spec import Priors

    where = f"mediation spec {spec.name!r} (measurement = 'latent')"
    if spec.weights:
        raise SpecError(f"{where}: weights = true, but the latent version is fitted "
                        "unweighted (the latent engine uses the weights only for the "
                        "post-stratified latent means, SemFit.latent_means); set weights = "
                        "false, or use the index version for a weighted pseudo-likelihood")
    if spec.priors != Priors():
        raise SpecError(f"{where}: a [priors] table ({spec.priors}) has no effect on the "
                        "latent version, whose priors are the latent engine's "
                        "(coprod_bayes.engines.sem_latent: paths Normal(0, 1), between-"
                        "country SDs Gamma(2, 20), loadings HalfNormal(2.5), thresholds "
                        "Normal(0, 3)); remove the table")


def fit_latent_mediation(spec, survey: Survey, progress: bool = False,
                         pooling: str = "partial", sd_prior: str = "gamma"):
    """Fit a mediation spec with ``measurement = "latent"`` (see the module docstring).

    Parameters
    ----------
    spec : MediationSpec
        A mediation spec with ``measurement = "latent"`` (e.g. the built-in
        ``mediation_latent``).
    survey : Survey
        The items and their codebook.
    progress : bool, default False
        Unused (kept for the signature of :func:`coprod_bayes.fit_mediation`).
    pooling : {"partial", "none"}, default "partial"
        a, b and c' partially pooled across countries, or free in each country (lavaan's
        multi-group default; no between-country SDs).
    sd_prior : {"gamma", "halfnormal"}, default "gamma"
        Prior of the between-country SDs under partial pooling (see
        :mod:`coprod_bayes.engines.sem_latent`).

    Returns
    -------
    MediationFit
        One context per country (``areas == ["all"]``); ``fit.sem_fits`` holds each
        outcome's :class:`~coprod_bayes.SemFit` (loadings, thresholds, latent means, factor
        scores, its verdict), ``fit.syntax`` each outcome's model.

    Raises
    ------
    SpecError
        A treatment, mediator or outcome that is not a construct with items, a covariate that
        is not a demographic, data that is not a Survey (the items need a codebook), a
        ``pooling`` other than "partial" and "none", or a setting the latent version would
        ignore (``weights = true``; a ``[priors]`` table other than the defaults).
    """
    from .mediation import MediationFit, _effects
    from .sem import sem

    if not isinstance(survey, Survey):
        raise SpecError(f"mediation spec {spec.name!r}: the latent version fits the items of "
                        "a Survey (its codebook says which items measure which construct); "
                        f"got {type(survey).__name__}")
    if pooling not in ("partial", "none"):
        raise SpecError(f"pooling={pooling!r}: choose 'partial' or 'none'")
    _no_ignored_settings(spec)
    none = pooling == "none"
    spec.validate_against(survey.codebook)
    cb = survey.codebook
    equations, draws, sem_fits, syntaxes, residual = {}, {}, {}, {}, {}
    rows = None
    for k, o in enumerate(spec.outcomes):
        roles = spec.roles(o)
        syntax = latent_mediation_syntax(spec, o, cb)
        frame, excluded = _frame(spec, roles, survey)
        if len(excluded):
            log.warning("%s (%s): %d respondents without every demographic are not in the "
                        "model (fit.rows counts them per country)", spec.name, o, len(excluded))
        if rows is None:
            rows = _rows(survey, frame, excluded, spec.group)
        items = [it.column for f in (roles.treatment, roles.mediator, o)
                 for it in cb.items_of(f)]
        # a, b and c' partially pooled across countries (or free); the demographics' effects
        # (nuisance) free in each country: each pooled path's SD is a funnel for the sampler
        pooled = {f"{roles.mediator}~{roles.treatment}", f"{o}~{roles.mediator}",
                  f"{o}~{roles.treatment}"}
        covs = [f"{f}~{w}" for f, ws in ((roles.mediator, roles.mediator_covariates),
                                         (o, roles.outcome_covariates)) for w in ws]
        sf = sem(syntax, frame, ordered=items, group=spec.group, invariance="scalar",
                 vary_slopes=set() if none else pooled,
                 free_slopes={roles.treatment, *covs, *(pooled if none else ())},
                 sd_prior=sd_prior,
                 sampler=replace(spec.sampler, seed=spec.sampler.seed + k))
        sf.spec, sf.syntax, sf.excluded = spec, syntax, excluded
        std = sf.standardized_path_draws()
        p = std["paths"]
        paths = {"a": p[roles.mediator, roles.treatment][:, :, None],
                 "b": p[o, roles.mediator][:, :, None],
                 "direct": p[o, roles.treatment][:, :, None]}
        draws[o] = _effects(spec, roles, paths)
        residual[o] = (std["residual_sd"][roles.mediator], std["residual_sd"][o])
        equations[o] = (sf.idata, sf.verdict, o)
        sem_fits[o], syntaxes[o] = sf, syntax
    groups = [str(g) for g in sem_fits[spec.outcomes[0]].groups]
    fit = MediationFit(spec, equations, draws, rows, groups, [AREA], spec.roles(spec.outcomes[0]))
    fit.sem_fits, fit.syntax, fit.residual = sem_fits, syntaxes, residual
    return fit


def person_frame(survey: Survey, spec) -> pd.DataFrame:
    """The latent version's frequentist data: one row per respondent (``area = "all"``),
    each construct's person-level index (its items averaged over the areas, 0-100) and the
    demographics as coded; for :func:`coprod_bayes.mediation.ols_mediation`."""
    from .classical.indexes import index_scores

    cb = survey.codebook
    variables = list(dict.fromkeys(v for o in spec.outcomes for v in spec.roles(o).variables))
    out = pd.DataFrame({"respondent_id": survey.frame[cb.id].to_numpy(),
                        "country": survey.frame[spec.group].astype(str).to_numpy(),
                        "area": AREA, "weight": survey.weights().to_numpy()})
    for v in variables:
        out[v] = (survey.frame[v].to_numpy(float) if v in cb.demographic_columns
                  else index_scores(survey, v).to_numpy())
    return out


def compare_versions(index_fit, latent_fit, hdi_prob: float = 0.9) -> pd.DataFrame:
    """The two versions side by side, one row per outcome x country x path (``a``, ``b``,
    ``direct``, ``indirect``, ``total``): the index version's effect averaged over the
    country's three areas (draw by draw) and the latent version's person-level effect,
    posterior means and equal-tailed intervals at ``hdi_prob``, and ``ratio`` = latent /
    index of the means (how much the single items' unreliability attenuates)."""
    from .mediation import PATHS

    q = (1 - hdi_prob) / 2
    g = index_fit.spec.group
    out = []
    for o in latent_fit.outcomes:
        if o not in index_fit.draws:
            continue
        for path in PATHS:
            idx = index_fit.draws[o][path].mean(axis=2)      # (S, G): average over areas
            lat = latent_fit.draws[o][path][:, :, 0]
            for gi, grp in enumerate(latent_fit.groups):
                if grp not in index_fit.groups:
                    continue
                x = idx[:, index_fit.groups.index(grp)]
                y = lat[:, gi]
                (xl, xh), (yl, yh) = np.quantile(x, [q, 1 - q]), np.quantile(y, [q, 1 - q])
                out.append({"outcome": o, g: grp, "path": path, "index_mean": x.mean(),
                            "index_lo": xl, "index_hi": xh, "latent_mean": y.mean(),
                            "latent_lo": yl, "latent_hi": yh,
                            "ratio": y.mean() / x.mean() if x.mean() else np.nan})
    return pd.DataFrame(out)
