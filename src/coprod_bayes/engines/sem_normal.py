"""Structural equation models with continuous (normal) indicators, in closed form.

For a model in lavaan's syntax whose indicators are all continuous, the latent variables are
integrated out analytically: with loadings Lambda, latent regressions B, latent (residual)
covariance Psi and residual covariance Theta,

    y ~ Normal(nu, Sigma),   Sigma = Lambda (I - B)^-1 Psi (I - B)^-T Lambda' + Theta,

whose log density over n complete rows needs only the sample mean and covariance. The
sampler sees the loadings, paths, covariances and intercepts, not n x m latent scores.

Identification as lavaan's ``std.lv = TRUE``: every latent variable has variance 1 when
exogenous and residual variance 1 when endogenous (its total variance follows), and each
factor's first free loading is positive (a HalfNormal prior), which removes the sign
flip; every loading starts at 0.7 SD, positive, as items keyed the same way (the codebook
reverses the others) load. Latent means are 0. Exogenous latent variables are correlated, as in
lavaan's ``cfa()`` and ``sem()``, unless the syntax fixes a covariance (``f1 ~~ 0*f2``).

Priors, on the scale of each indicator's sample SD s_j: loadings Normal(0, s_j) (first:
HalfNormal(s_j)), intercepts Normal(mean_j, s_j), residual SDs HalfNormal(s_j), latent
regressions Normal(0, 1), residual correlations of indicators Uniform(-1, 1); the
correlation matrix of the exogenous latent variables from its canonical partial
correlations, each 2 Beta(2, 2) - 1 (for two factors: the correlation itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ..errors import SpecError, SurveyDataError
from ..spec.syntax import ModelSyntax

__all__ = ["SemData", "prepare_sem", "build_sem_model"]


@dataclass
class SemData:
    """Complete rows of the indicators reduced to n, mean and ML covariance."""

    indicators: list[str]
    latent: list[str]
    n: int
    mean: np.ndarray
    cov: np.ndarray
    frame: pd.DataFrame


def prepare_sem(model: ModelSyntax, data: pd.DataFrame) -> SemData:
    """Check the model against the data and reduce the data to sufficient statistics.

    Raises
    ------
    SpecError
        If the model has no latent variable, an observed variable outside the measurement
        part (observed covariates are not supported here yet), or a column is absent.
    SurveyDataError
        If an indicator is not numeric or has missing values (named, with the rows).
    """
    lat = model.latent
    if not lat:
        raise SpecError("model syntax: no latent variable (=~); nothing to fit")
    if model.constraints:
        raise SpecError(f"model syntax: equality constraints {list(model.constraints)} are not "
                        "supported yet; give the parameters the same label instead")
    indicators = [v for v in model.observed if any(v in model.indicators(f) for f in lat)]
    others = [v for v in model.observed if v not in indicators]
    if others:
        raise SpecError(f"model syntax: {others} are observed but measure no latent variable; "
                        "regressions on observed covariates are not supported for continuous "
                        "indicators yet")
    absent = [v for v in indicators if v not in data.columns]
    if absent:
        raise SpecError(f"model syntax: indicator(s) {absent} are not columns of the data; "
                        f"columns: {list(data.columns)}")
    frame = data[indicators]
    bad = [c for c in indicators if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise SurveyDataError(f"indicator column(s) {bad} are not numeric "
                              f"(dtypes {[str(frame[c].dtype) for c in bad]})")
    missing = frame.isna()
    if missing.any().any():
        cols = missing.any()
        detail = "; ".join(f"{c}: rows {list(frame.index[missing[c]][:5])}"
                           f"{' ...' if missing[c].sum() > 5 else ''} ({int(missing[c].sum())})"
                           for c in cols[cols].index)
        raise SurveyDataError(f"continuous indicators with missing values ({detail}); the "
                              "closed-form model needs complete rows: drop or impute them "
                              "knowingly, or declare the items ordinal")
    y = frame.to_numpy(float)
    mean = y.mean(0)
    cov = np.cov(y, rowvar=False, ddof=0)
    return SemData(indicators, lat, len(y), mean, cov, frame)


def structure(model: ModelSyntax, latent: list[str], indicators: list[str],
              covariates: list[str] = ()):
    """Index maps of the latent variables and indicators, and the endogenous latents.
    Regressions are of latent variables on latent variables or on ``covariates``.

    Raises
    ------
    SpecError
        For a regression involving an observed variable, or a variance statement the
        engines would otherwise ignore: a latent variance other than ``f ~~ 1*f`` (std.lv
        fixes it to 1) or a fixed indicator residual variance (they are estimated).
    """
    li = {v: i for i, v in enumerate(latent)}
    yi = {v: i for i, v in enumerate(indicators)}
    endogenous = {p.lhs for p in model.regressions}
    for p in model.regressions:
        if p.lhs not in li or (p.rhs not in li and p.rhs not in covariates):
            raise SpecError(f"model syntax line {p.line}: {p.lhs} ~ {p.rhs}: regressions are "
                            "between latent variables in this engine")
    for q in model.covariances:
        if q.lhs == q.rhs and q.lhs in li and q.fixed != 1.0:
            raise SpecError(f"model syntax line {q.line}: {q.lhs} ~~ {q.rhs}: latent "
                            f"variances are fixed to 1 (lavaan's std.lv); write 1*{q.rhs} or "
                            "leave it out")
        if q.lhs == q.rhs and q.lhs in yi and q.fixed is not None:
            raise SpecError(f"model syntax line {q.line}: {q.lhs} ~~ {q.fixed}*{q.rhs}: fixed "
                            "residual variances are not supported; they are estimated")
    return li, yi, endogenous


def latent_paths(model: ModelSyntax, li: dict[str, int], labelled: dict, named: dict):
    """B (m x m): the latent regressions, Normal(0, 1) unless fixed or sharing a label
    (``labelled`` and ``named`` are filled in); inside a PyMC model context."""
    m = len(li)
    B = pt.zeros((m, m))
    for par in model.regressions:
        if par.fixed is not None:
            value = pt.as_tensor(par.fixed)
        elif par.label and par.label in labelled:
            value = labelled[par.label]
        else:
            value = pm.Normal(par.name, 0.0, 1.0)
        if par.label:
            labelled.setdefault(par.label, value)
        named[par.name] = value
        B = pt.set_subtensor(B[li[par.lhs], li[par.rhs]], value)
    return B


def _correlation_cholesky(k: int, batch: tuple[int, ...] = ()):
    """Cholesky factor of a k x k correlation matrix (one per ``batch`` entry, shape
    ``batch + (k, k)``) from its canonical partial correlations (Lewandowski, Kurowicka and
    Joe 2009), each 2 Beta(2, 2) - 1, stored as ``latent_cpc``. Built entry by entry and
    stacked once (a set_subtensor per entry makes a graph that compiles slowly)."""
    z = 2 * pm.Beta("latent_cpc", 2.0, 2.0, shape=(*batch, k * (k - 1) // 2)) - 1
    zero, one = pt.zeros(batch), pt.ones(batch)
    rows, idx = [], 0
    for i in range(k):
        row, rest = [], one
        for j in range(k):
            if j < i:
                w = z[..., idx] * pt.sqrt(rest)
                rest = rest - w**2
                idx += 1
                row.append(w)
            elif j == i:
                row.append(pt.sqrt(rest) if i else one)
            else:
                row.append(zero)
        rows.append(pt.stack(row, axis=-1))
    return pt.stack(rows, axis=-2)


def build_sem_model(model: ModelSyntax, data: SemData) -> pm.Model:
    """The PyMC model with the latent variables integrated out (see the module docstring).

    Deterministics: ``Sigma`` is not stored; every labelled or named parameter is stored
    under its lavaan name (``f=~x1``, ``y~f``, ``f1~~f2``, ``x1~~x1``) in ``params`` order.
    """
    li, yi, endogenous = structure(model, data.latent, data.indicators)
    lat, ind = data.latent, data.indicators
    m, p = len(lat), len(ind)
    sd = np.sqrt(np.diag(data.cov))
    coords = {"indicator": ind, "latent": lat}
    with pm.Model(coords=coords) as pmodel:
        # loadings ------------------------------------------------------------------
        Lam = pt.zeros((p, m))
        labelled: dict[str, pt.TensorVariable] = {}
        first_seen: set[str] = set()
        named: dict[str, pt.TensorVariable] = {}
        for par in [q for q in model.parameters if q.op == "=~"]:
            i, j = yi[par.rhs], li[par.lhs]
            if par.fixed is not None:
                value = pt.as_tensor(par.fixed)
            elif par.label and par.label in labelled:
                value = labelled[par.label]
            elif par.lhs not in first_seen:
                value = pm.HalfNormal(par.name, sd[i], initval=0.7 * sd[i])
            else:
                # started positive: a factor whose first loading sits near 0 while the others
                # turn negative is a local mode the chains otherwise wander into
                value = pm.Normal(par.name, 0.0, sd[i], initval=0.7 * sd[i])
            if par.fixed is None:
                first_seen.add(par.lhs)
            if par.label:
                labelled.setdefault(par.label, value)
            named[par.name] = value
            Lam = pt.set_subtensor(Lam[i, j], value)
        B = latent_paths(model, li, labelled, named)
        # latent (residual) covariances: unit variances, exogenous latents correlated ------
        exo = [f for f in lat if f not in endogenous]
        Psi = pt.eye(m)
        fixed_cov = {frozenset((q.lhs, q.rhs)): q.fixed for q in model.covariances
                     if q.lhs in li and q.rhs in li and q.lhs != q.rhs}
        free_pairs = []
        for a in range(len(exo)):
            for b in range(a + 1, len(exo)):
                key = frozenset((exo[a], exo[b]))
                if key in fixed_cov and fixed_cov[key] is not None:
                    Psi = pt.set_subtensor(Psi[li[exo[a]], li[exo[b]]], fixed_cov[key])
                    Psi = pt.set_subtensor(Psi[li[exo[b]], li[exo[a]]], fixed_cov[key])
                else:
                    free_pairs.append((exo[a], exo[b]))
        if free_pairs and len(free_pairs) == len(exo) * (len(exo) - 1) // 2:
            W = _correlation_cholesky(len(exo))
            R = pt.dot(W, W.T)
        elif free_pairs:  # some exogenous covariances fixed: free ones one by one
            R = pt.eye(len(exo))
            for a, b in free_pairs:
                ia, ib = exo.index(a), exo.index(b)
                r = pm.Uniform(f"{a}~~{b}", -1, 1)
                R = pt.set_subtensor(R[ia, ib], r)
                R = pt.set_subtensor(R[ib, ia], r)
        for a, b in free_pairs:
            ia, ib = exo.index(a), exo.index(b)
            Psi = pt.set_subtensor(Psi[li[a], li[b]], R[ia, ib])
            Psi = pt.set_subtensor(Psi[li[b], li[a]], R[ia, ib])
            named[f"{a}~~{b}"] = R[ia, ib]
        for q in model.covariances:  # residual covariances among endogenous latents
            if q.lhs in li and q.rhs in li and q.lhs != q.rhs and q.fixed is None \
                    and (q.lhs in endogenous or q.rhs in endogenous):
                r = pm.Uniform(f"{q.lhs}~~{q.rhs}", -1, 1)
                Psi = pt.set_subtensor(Psi[li[q.lhs], li[q.rhs]], r)
                Psi = pt.set_subtensor(Psi[li[q.rhs], li[q.lhs]], r)
                named[q.name] = r
        # indicator residuals -----------------------------------------------------------
        theta_sd = pm.HalfNormal("residual_sd", sd, dims="indicator")
        Theta = pt.diag(theta_sd**2)
        for q in model.covariances:
            if q.lhs in yi and q.rhs in yi and q.lhs != q.rhs:
                r = pm.Uniform(f"{q.lhs}~~{q.rhs}", -1, 1) if q.fixed is None else q.fixed
                c = r * theta_sd[yi[q.lhs]] * theta_sd[yi[q.rhs]]
                Theta = pt.set_subtensor(Theta[yi[q.lhs], yi[q.rhs]], c)
                Theta = pt.set_subtensor(Theta[yi[q.rhs], yi[q.lhs]], c)
                named[q.name] = c
        nu = pm.Normal("intercept", data.mean, sd, dims="indicator")
        # implied moments and the complete-data normal log likelihood ---------------------
        inv = pt.linalg.inv(pt.eye(m) - B)
        Sigma = pt.dot(pt.dot(Lam, pt.dot(inv, pt.dot(Psi, inv.T))), Lam.T) + Theta
        L = pt.linalg.cholesky(Sigma)
        logdet = 2 * pt.sum(pt.log(pt.diag(L)))
        Linv = pt.linalg.solve_triangular(L, pt.eye(p), lower=True)
        Sinv = pt.dot(Linv.T, Linv)
        dev = data.mean - nu
        n = data.n
        loglik = -0.5 * n * (p * np.log(2 * np.pi) + logdet + pt.sum(Sinv * data.cov)
                             + pt.dot(dev, pt.dot(Sinv, dev)))
        pm.Potential("loglik", loglik)
        store_named(pmodel, model, named, labelled)
    return pmodel


def store_named(pmodel: pm.Model, model: ModelSyntax, named: dict, labelled: dict) -> None:
    """Store the named parameters that are not free variables, then the defined parameters
    (``:=``, evaluated on the labels and on earlier definitions), as Deterministics; inside
    the model's context."""
    for name, value in named.items():
        if name not in pmodel.named_vars:
            pm.Deterministic(name, value)
    for d in model.definitions:
        values = {lab: labelled[lab] for lab in d.labels if lab in labelled}
        values.update({dd.name: pmodel[dd.name] for dd in model.definitions
                       if dd.name in d.labels and dd.name in pmodel.named_vars})
        pm.Deterministic(d.name, d.evaluate(values))
