"""Latent variable models with ordinal indicators: the graded response model (ordered logit).

For respondent i and item j measuring factors through loadings lambda_j (a row of Lambda):

    P(y_ij <= k) = logistic(kappa_jk - lambda_j' eta_i),   kappa_j1 < ... < kappa_j,K-1
    eta_i = (I - B)^-1 zeta_i,   zeta_i ~ Normal(0, Psi)

Identification as lavaan's ``std.lv``: exogenous factors have variance 1 (correlated through
the same canonical-partial-correlation prior as the normal engine), endogenous factors
residual variance 1. Loadings are positive (HalfNormal(2.5) on the logit scale): items keyed
the other way are reversed by the codebook, not by a sign here. The latent scores are
non-centred (zeta = z W'), and the likelihood runs over the long list of observed responses
only: a missing response is simply absent, no row is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ..errors import SpecError, SurveyDataError
from ..spec.syntax import ModelSyntax
from .sem_normal import _correlation_cholesky, latent_paths, structure

__all__ = ["OrdinalData", "prepare_ordinal", "build_ordinal_model"]


@dataclass
class OrdinalData:
    """Observed responses in long form: respondent, item and category (0 .. K - 1)."""

    indicators: list[str]
    latent: list[str]
    categories: int
    respondent: np.ndarray
    item: np.ndarray
    y: np.ndarray
    n: int
    levels: dict[str, list]


def prepare_ordinal(model: ModelSyntax, data: pd.DataFrame) -> OrdinalData:
    """Long-form responses of the model's indicators, each recoded to 0 .. K - 1 by the
    order of its values (the levels are kept in ``levels``).

    Raises
    ------
    SpecError
        If an indicator is absent, the items have different numbers of categories, or the
        model has parts this engine does not fit (observed covariates, residual covariances).
    SurveyDataError
        If an indicator holds non-numeric values, or a respondent answered no item.
    """
    lat = model.latent
    if not lat:
        raise SpecError("model syntax: no latent variable (=~); nothing to fit")
    indicators = [v for v in model.observed if any(v in model.indicators(f) for f in lat)]
    others = [v for v in model.observed if v not in indicators]
    if others:
        raise SpecError(f"model syntax: {others} are observed but measure no latent variable; "
                        "observed covariates are not supported for ordinal indicators yet")
    if any(q.lhs != q.rhs for q in model.covariances if q.lhs in indicators):
        raise SpecError("model syntax: residual covariances of ordinal indicators are not "
                        "supported yet")
    absent = [v for v in indicators if v not in data.columns]
    if absent:
        raise SpecError(f"model syntax: indicator(s) {absent} are not columns of the data")
    frame = data[indicators]
    bad = [c for c in indicators if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise SurveyDataError(f"ordinal indicator column(s) {bad} are not numeric codes")
    levels = {c: sorted(frame[c].dropna().unique().tolist()) for c in indicators}
    ks = {c: len(v) for c, v in levels.items()}
    if len(set(ks.values())) != 1:
        raise SpecError(f"ordinal items with different numbers of observed categories {ks}: "
                        "not supported yet")
    empty = frame.index[frame.isna().all(axis=1)]
    if len(empty):
        raise SurveyDataError(f"respondent rows {list(empty[:10])} answered none of the items "
                              f"{indicators}")
    codes = np.column_stack([frame[c].map({v: k for k, v in enumerate(levels[c])}).to_numpy()
                             for c in indicators])
    obs = ~np.isnan(codes.astype(float))
    resp, item = np.nonzero(obs)
    return OrdinalData(indicators, lat, next(iter(ks.values())), resp, item,
                       codes[obs].astype(int), len(frame), levels)


def build_ordinal_model(model: ModelSyntax, data: OrdinalData) -> pm.Model:
    """The PyMC model (see the module docstring). Free: ``z`` (respondent x latent), the
    loadings under lavaan's names, ``cutpoints`` (item x K - 1), ``latent_cpc``, paths."""
    lat, ind = data.latent, data.indicators
    li, yi, endogenous = structure(model, lat, ind)
    m, J, K = len(lat), len(ind), data.categories
    coords = {"latent": lat, "item": ind, "cut": np.arange(K - 1),
              "respondent": np.arange(data.n)}
    with pm.Model(coords=coords) as pmodel:
        Lam = pt.zeros((J, m))
        labelled: dict[str, pt.TensorVariable] = {}
        for par in [q for q in model.parameters if q.op == "=~"]:
            if par.fixed is not None:
                value = pt.as_tensor(par.fixed)
            elif par.label and par.label in labelled:
                value = labelled[par.label]
            else:
                value = pm.HalfNormal(par.name, 2.5, initval=1.0)
            if par.label:
                labelled.setdefault(par.label, value)
            Lam = pt.set_subtensor(Lam[yi[par.rhs], li[par.lhs]], value)
        B = latent_paths(model, li, labelled, {})
        exo = [f for f in lat if f not in endogenous]
        chol = pt.eye(m)
        if len(exo) > 1:
            W = _correlation_cholesky(len(exo))
            idx = np.array([li[f] for f in exo])
            chol = pt.set_subtensor(chol[np.ix_(idx, idx)], W)
            R = pt.dot(W, W.T)
            for a in range(len(exo)):
                for b in range(a + 1, len(exo)):
                    pm.Deterministic(f"{exo[a]}~~{exo[b]}", R[a, b])
        z = pm.Normal("z", 0.0, 1.0, dims=("respondent", "latent"))
        zeta = pt.dot(z, chol.T)
        eta = pt.dot(zeta, pt.linalg.inv(pt.eye(m) - B).T) if model.regressions else zeta
        cut = pm.Normal("cutpoints", 0.0, 3.0, dims=("item", "cut"),
                        transform=pm.distributions.transforms.ordered,
                        initval=np.tile(np.linspace(-2, 2, K - 1), (J, 1)))
        lin = (Lam[data.item] * eta[data.respondent]).sum(-1)
        pm.OrderedLogistic("y", eta=lin, cutpoints=cut[data.item], observed=data.y,
                           compute_p=False)
        for d in model.definitions:
            pm.Deterministic(d.name, d.evaluate({lab: labelled[lab] for lab in d.labels
                                                 if lab in labelled}))
    return pmodel
