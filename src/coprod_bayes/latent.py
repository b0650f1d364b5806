"""Latent specs: the papers' regressions with the constructs measured by their items.

A spec with ``measurement = "latent"`` (``models/latent_individual.toml``) becomes a model
in lavaan's syntax: the outcome construct and every construct predictor are latent variables
measured by their ordinal codebook items, the demographics are covariates (z-scored within
the group, as the tables' betas), and the structural regression is the spec's. The latent
predictors are regressed on the demographics too, so that they may correlate with them as
the indexes do in OLS. The outcome's slopes vary by group as the spec's ``pooling`` says
(partial pooling by default); the latent predictors' regressions on the demographics are
free in each group (see :func:`slope_pooling`); the groups' latent means, SDs and
correlations are free; measurement invariance is the spec's ``invariance``.

Respondents whose demographics are missing cannot enter (a covariate must be known); they
are listed in ``fit.excluded``, never dropped silently. Respondents with gaps in their item
responses all enter: a missing response is absent from the likelihood.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .errors import SpecError
from .spec.spec import Spec, load_spec
from .survey.survey import Survey

__all__ = ["latent_syntax", "latent_frame", "fit_latent"]

log = logging.getLogger(__name__)


def _parts(spec: Spec, codebook):
    constructs = [p for p in spec.predictors if p in codebook.constructs]
    demographics = [p for p in spec.predictors if p in codebook.demographic_columns]
    other = [p for p in spec.predictors if p not in constructs and p not in demographics]
    if other:
        raise SpecError(f"spec {spec.name!r}: latent specs take constructs and demographics as "
                        f"predictors; {other} are neither")
    if spec.outcome not in codebook.constructs:
        raise SpecError(f"spec {spec.name!r}: the outcome of a latent spec must be a construct "
                        f"of the codebook; {spec.outcome!r} is not")
    return constructs, demographics


def latent_syntax(spec: str | Spec, codebook) -> str:
    """The spec as lavaan model syntax (one ``=~`` line per construct, its items in codebook
    order; the structural regression; the latent predictors on the demographics)."""
    spec = load_spec(spec)
    constructs, demographics = _parts(spec, codebook)
    lines = [f"{c} =~ " + " + ".join(it.column for it in codebook.items_of(c))
             for c in [spec.outcome, *constructs]]
    lines.append(f"{spec.outcome} ~ " + " + ".join(spec.predictors))
    if demographics:
        lines += [f"{c} ~ " + " + ".join(demographics) for c in constructs]
    return "\n".join(lines)


def latent_frame(spec: str | Spec, survey: Survey) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The data of a latent spec: scored items (reverse-keyed items reversed, missing codes
    missing), demographics z-scored within the group, group and weight columns. Returns
    ``(frame, excluded)``: respondents with a missing demographic are in ``excluded``
    (id, group, the missing columns), not in ``frame``."""
    spec = load_spec(spec)
    cb = survey.codebook
    _, demographics = _parts(spec, cb)
    frame = survey.frame.copy()
    scored = survey.scored_items()
    frame[scored.columns] = scored
    miss = frame[demographics].isna()
    bad = miss.any(axis=1).to_numpy()
    excluded = pd.DataFrame({
        cb.id: frame.loc[bad, cb.id].to_numpy(),
        "group": frame.loc[bad, spec.group].to_numpy() if spec.group else "all",
        "missing": [", ".join(c for c in demographics if miss.at[i, c]) for i in frame.index[bad]],
    })
    frame = frame.loc[~bad].copy()
    for d in demographics:
        x = frame[d].astype(float)
        if spec.group:
            g = frame.groupby(spec.group, observed=True)[d]
            frame[d] = (x - g.transform("mean")) / g.transform("std")
        else:
            frame[d] = (x - x.mean()) / x.std()
        flat = frame[d].isna() & x.notna()
        if flat.any():
            raise SpecError(f"spec {spec.name!r}: demographic {d!r} does not vary within "
                            f"group(s) {sorted(frame.loc[flat, spec.group].unique())}")
    return frame, excluded


def slope_pooling(spec: Spec, codebook) -> tuple[set[str], set[str]]:
    """(latent outcomes with partially pooled slopes, latent outcomes with slopes free per
    group) for a latent spec: the outcome's slopes as the spec's ``pooling`` says (partial:
    pooled; none: free per group; complete: equal across groups); the latent predictors'
    regressions on the demographics, a nuisance part that lets them correlate with the
    demographics, free per group unless pooling is complete (then equal)."""
    constructs, _ = _parts(spec, codebook)
    vary = {spec.outcome} if spec.pooling == "partial" else set()
    free = set() if spec.pooling == "complete" else set(constructs)
    if spec.pooling == "none":
        free.add(spec.outcome)
    return vary, free


def fit_latent(spec: str | Spec, survey: Survey, progress: bool = False):
    """Fit a latent spec (see the module docstring); returns a :class:`~coprod_bayes.SemFit`
    with ``spec``, ``syntax`` and ``excluded`` set."""
    from .sem import sem

    spec = load_spec(spec)
    spec.validate_against(survey.codebook)
    syntax = latent_syntax(spec, survey.codebook)
    frame, excluded = latent_frame(spec, survey)
    if len(excluded):
        log.warning("%s: %d respondents without every demographic are not in the model "
                    "(fit.excluded lists them)", spec.name, len(excluded))
    weights = survey.codebook.weight if survey.codebook.weight in frame.columns else None
    from .spec.syntax import parse_model

    observed = set(parse_model(syntax).observed)
    vary, free = slope_pooling(spec, survey.codebook)
    fit = sem(syntax, frame, ordered=[c for c in survey.codebook.item_columns if c in observed],
              group=spec.group, invariance=spec.invariance, vary_slopes=vary,
              free_slopes=free, weights=weights, sampler=spec.sampler, scores=spec.scores)
    fit.spec, fit.syntax, fit.excluded = spec, syntax, excluded
    fit.n_excluded = int(len(excluded))
    return fit


def attenuation(latent_fit, classical: pd.DataFrame, index_fit=None,
                hdi_prob: float = 0.9) -> pd.DataFrame:
    """Latent standardised slopes beside OLS on the indexes (and the index-based Bayesian
    betas): one row per group and predictor, with ``attenuation = sign(latent) x (latent -
    ols_beta)``: positive where OLS on the sum scores is nearer zero than the latent slope."""
    spec = latent_fit.spec
    st = latent_fit.standardized_paths(hdi_prob)
    st = st[st["outcome"] == spec.outcome].drop(columns="outcome")
    st["group"] = st["group"].astype(str)
    gcol = spec.group or "group"
    ols = classical[classical["outcome"] == spec.outcome].rename(columns={gcol: "group"})
    out = st.rename(columns={"mean": "latent_mean", "sd": "latent_sd", "lower": "latent_lower",
                             "upper": "latent_upper"}).merge(
        ols[["group", "predictor", "beta", "se"]].rename(columns={"beta": "ols_beta",
                                                                   "se": "ols_se"}),
        on=["group", "predictor"], how="left")
    if index_fit is not None:
        idx = index_fit.summary("beta", hdi_prob).rename(columns={"coef": "predictor",
                                                                  "mean": "index_mean",
                                                                  "sd": "index_sd"})
        idx["group"] = idx["group"].astype(str)
        out = out.merge(idx[["group", "predictor", "index_mean", "index_sd"]],
                        on=["group", "predictor"], how="left")
    out["attenuation"] = np.sign(out["latent_mean"]) * (out["latent_mean"] - out["ols_beta"])
    return out
