"""lavaan's one-liners on any DataFrame: ``cb.sem(model, data)`` and ``cb.cfa(model, data)``.

Continuous indicators use the closed-form normal model of
:mod:`coprod_bayes.engines.sem_normal`, ordinal ones (``ordered=[...]``) the graded response
model of :mod:`coprod_bayes.engines.sem_ordinal`. Groups are not supported yet.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd

from .engines.sem_normal import build_sem_model, prepare_sem
from .engines.sem_ordinal import build_ordinal_model, prepare_ordinal
from .errors import ConvergenceWarning, SpecError
from .fit import Verdict, assess, sample
from .spec.spec import Sampler
from .spec.syntax import ModelSyntax, parse_model

__all__ = ["sem", "cfa", "SemFit"]


class SemFit:
    """A fitted SEM: the posterior, the parsed model and the convergence verdict."""

    def __init__(self, idata, model: ModelSyntax, verdict: Verdict, n: int,
                 ordinal: bool = False):
        self.idata, self.model, self.verdict, self.n = idata, model, verdict, n
        #: ordinal indicators (ordered logit): latent responses with residual variance pi^2/3
        self.ordinal = ordinal

    def __repr__(self) -> str:
        return f"SemFit({len(self.model.latent)} latent, n={self.n}; {self.verdict.headline})"

    def parameter_names(self) -> list[str]:
        """Every parameter under lavaan's name (``f=~x1``, ``y~f``, ``f1~~f2``), then the
        residual variances (``x1~~x1``), intercepts (``x1~1``) and defined parameters."""
        post = self.idata.posterior
        names = [p.name for p in self.model.parameters if p.name in post]
        names += [n for n in post.data_vars if "~~" in n and n not in names]
        return names + [d.name for d in self.model.definitions]

    def draws(self) -> dict[str, np.ndarray]:
        """Flat posterior draws of every parameter, keyed by lavaan's names."""
        post = self.idata.posterior
        out = {n: post[n].values.reshape(-1) for n in self.parameter_names()}
        if self.ordinal:  # thresholds, lavaan's "x1|t1"
            ind = list(post["cutpoints"].coords["item"].values)
            cut = post["cutpoints"].values.reshape(-1, len(ind), post.sizes["cut"])
            for k, v in enumerate(ind):
                for t in range(cut.shape[-1]):
                    out[f"{v}|t{t + 1}"] = cut[:, k, t]
            return out
        ind = list(post["residual_sd"].coords["indicator"].values)
        res = post["residual_sd"].values.reshape(-1, len(ind))
        icp = post["intercept"].values.reshape(-1, len(ind))
        for k, v in enumerate(ind):
            out[f"{v}~~{v}"] = res[:, k] ** 2
            out[f"{v}~1"] = icp[:, k]
        return out

    def implied_sd(self, d: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Per draw, the model-implied total SD of every latent variable and indicator
        (with ordinal items, of the latent response: residual variance pi^2/3)."""
        d = self.draws() if d is None else d
        lat = self.model.latent
        post = self.idata.posterior
        ind = list(post["cutpoints"].coords["item"].values if self.ordinal
                   else post["residual_sd"].coords["indicator"].values)
        m, p, S = len(lat), len(ind), len(next(iter(d.values())))
        li, yi = {v: i for i, v in enumerate(lat)}, {v: i for i, v in enumerate(ind)}
        Lam, B, Psi, Theta = (np.zeros((S, p, m)), np.zeros((S, m, m)),
                              np.broadcast_to(np.eye(m), (S, m, m)).copy(), np.zeros((S, p, p)))
        for par in self.model.parameters:
            v = d.get(par.name)
            if v is None and par.fixed is not None:
                v = np.full(S, par.fixed)
            if v is None:
                continue
            if par.op == "=~":
                Lam[:, yi[par.rhs], li[par.lhs]] = v
            elif par.op == "~" and par.rhs != "1":
                B[:, li[par.lhs], li[par.rhs]] = v
        for name, v in d.items():
            if "~~" not in name:
                continue
            a, b = name.split("~~")
            if a in li and b in li:
                Psi[:, li[a], li[b]] = Psi[:, li[b], li[a]] = v
            elif a in yi and b in yi:
                Theta[:, yi[a], yi[b]] = Theta[:, yi[b], yi[a]] = v
        if self.ordinal:  # latent responses: logistic residuals, variance pi^2 / 3
            Theta[:, np.arange(p), np.arange(p)] = np.pi**2 / 3
        inv = np.linalg.inv(np.eye(m) - B)
        Phi = inv @ Psi @ np.swapaxes(inv, 1, 2)
        Sigma = Lam @ Phi @ np.swapaxes(Lam, 1, 2) + Theta
        sd_lat = np.sqrt(np.diagonal(Phi, axis1=1, axis2=2))
        sd_ind = np.sqrt(np.diagonal(Sigma, axis1=1, axis2=2))
        return {**{v: sd_lat[:, i] for v, i in li.items()},
                **{v: sd_ind[:, i] for v, i in yi.items()}}

    def standardized_draws(self) -> dict[str, np.ndarray]:
        """Draws of every parameter standardised as lavaan's ``std.all``: latent variables
        and indicators at their model-implied unit variance. Loadings and paths are scaled
        by SD(from) / SD(to), (residual) variances and covariances divided by the product of
        the total SDs, and defined parameters recomputed from the standardised labels."""
        d = self.draws()
        sd = self.implied_sd(d)
        defined = {df.name for df in self.model.definitions}
        out: dict[str, np.ndarray] = {}
        for name, v in d.items():
            if "=~" in name:
                f, x = name.split("=~")
                out[name] = v * sd[f] / sd[x]
            elif "~~" in name:
                a, b = name.split("~~")
                out[name] = v / (sd[a] * sd[b])
            elif name.endswith("~1") or "|t" in name or name in defined:
                continue
            elif "~" in name:
                y, x = name.split("~")
                out[name] = v * sd[x] / sd[y]
        labels = {p.label: out[p.name] for p in self.model.parameters
                  if p.label and p.name in out}
        for df in self.model.definitions:
            labels[df.name] = out[df.name] = df.evaluate(labels)
        return out

    def reliability(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """McDonald's omega per factor, from the posterior: for the items that load on that
        factor only, (sum of loadings)^2 Var(f) / ((sum of loadings)^2 Var(f) + sum of
        residual variances), per draw. With ordinal items the residual variance is the
        logistic pi^2/3: omega of the latent responses, not of the sum score.

        Returns one row per factor: ``factor``, ``items``, ``mean``, ``sd``, ``lower``,
        ``upper``, ``scale`` (``"observed"`` or ``"latent response"``).
        """
        d = self.draws()
        lat = self.model.latent
        sd = self.implied_sd(d)  # Var(f): 1 if exogenous, its implied variance if endogenous
        rows = []
        for f in lat:
            items = [x for x in self.model.indicators(f)
                     if sum(x in self.model.indicators(g) for g in lat) == 1]
            if not items:
                continue
            lam = np.stack([d[f"{f}=~{x}"] for x in items])
            var_f = sd[f] ** 2
            if self.ordinal:
                theta = np.full_like(lam, np.pi**2 / 3)
            else:
                theta = np.stack([d[f"{x}~~{x}"] for x in items])
            true = lam.sum(0) ** 2 * var_f
            omega = true / (true + theta.sum(0))
            lo, hi = az.hdi(omega, hdi_prob=hdi_prob)
            rows.append({"factor": f, "items": len(items), "mean": omega.mean(),
                         "sd": omega.std(), "lower": lo, "upper": hi,
                         "scale": "latent response" if self.ordinal else "observed"})
        return pd.DataFrame(rows)

    def standardized_solution(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """As lavaan's ``standardizedSolution()``: every loading, path, (co)variance and
        defined parameter on the ``std.all`` scale, with posterior SD and HDI."""
        return self._table(self.standardized_draws(), hdi_prob)

    def summary(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """One row per parameter: ``lhs``, ``op``, ``rhs``, ``label``, ``mean``, ``sd``,
        ``lower``, ``upper`` (HDI), ``p_positive``, ``r_hat``, ``ess_bulk``."""
        return self._table(self.draws(), hdi_prob)

    def _table(self, draws: dict[str, np.ndarray], hdi_prob: float) -> pd.DataFrame:
        rows = []
        labels = {p.name: p.label for p in self.model.parameters}
        chains, n_draw = self.idata.posterior.sizes["chain"], self.idata.posterior.sizes["draw"]
        defined = {d.name: d.expression for d in self.model.definitions}
        for name, x in draws.items():
            if name in defined:
                op, lhs, rhs = ":=", name, defined[name]
            else:  # "|" a threshold (lavaan's "x1|t1")
                op = next(o for o in ("=~", "~~", "|", "~") if o in name)
                lhs, rhs = name.split(op)
            arr = x.reshape(chains, n_draw)
            lo, hi = az.hdi(x, hdi_prob=hdi_prob)
            rows.append({"lhs": lhs, "op": op, "rhs": rhs, "label": labels.get(name) or "",
                         "mean": x.mean(), "sd": x.std(), "lower": lo, "upper": hi,
                         "p_positive": (x > 0).mean(),
                         "r_hat": float(az.rhat(arr)), "ess_bulk": float(az.ess(arr))})
        out = pd.DataFrame(rows)
        out.attrs["verdict"] = self.verdict.headline
        return out


def sem(model: str | ModelSyntax, data: pd.DataFrame, ordered: list[str] | None = None,
        group: str | None = None, sampler: Sampler | None = None, **sampler_options) -> SemFit:
    """Fit a structural equation model written in lavaan's syntax to a DataFrame.

    Parameters
    ----------
    model : str or ModelSyntax
        lavaan model syntax (see :mod:`coprod_bayes.spec.syntax`).
    data : DataFrame
        One row per respondent; the indicators as numeric columns.
    ordered : list of str, optional
        Ordinal indicators (graded response model, ordered logit). This release needs all
        indicators ordinal or all continuous.
    group : str, optional
        Multiple-group models. Not supported in this release (raises).
    sampler, **sampler_options
        Sampler settings (as for :func:`coprod_bayes.fit`).

    Warns
    -----
    ConvergenceWarning
        If the fit did not converge.

    Examples
    --------
    >>> fit = cb.sem("f =~ x1 + x2 + x3", df)  # doctest: +SKIP
    >>> fit.summary()  # doctest: +SKIP
    """
    if group is not None:
        raise SpecError("group=: multiple-group models are not in this release")
    syntax = parse_model(model) if isinstance(model, str) else model
    indicators = [v for v in syntax.observed
                  if any(v in syntax.indicators(f) for f in syntax.latent)]
    ordinal = bool(ordered)
    if ordinal and set(ordered) != set(indicators):
        raise SpecError(f"ordered={sorted(ordered)}: this release fits models whose indicators "
                        f"are all ordinal or all continuous; the indicators are {indicators}")
    # ordinal: the loadings trade off against the scale of n latent scores, a correlation
    # the diagonal mass matrix adapts to slowly (min ESS 216 vs 446 with the low-rank one)
    s = sampler or Sampler(mass_matrix="low_rank" if ordinal else "diag")
    if sampler_options:
        from dataclasses import replace

        s = replace(s, **sampler_options)
    if ordinal:
        data_ = prepare_ordinal(syntax, data)
        pmodel = build_ordinal_model(syntax, data_)
    else:
        data_ = prepare_sem(syntax, data)
        pmodel = build_sem_model(syntax, data_)
    loadings = {pmodel[p.name] for p in syntax.parameters
                if p.op == "=~" and p.name in pmodel.named_vars and pmodel[p.name] in pmodel.free_RVs}
    idata = sample(pmodel, s, no_jitter=loadings)
    # the verdict covers the model's parameters, not each respondent's latent score ("z")
    verdict = assess(idata, [v for v in idata.posterior.data_vars
                             if v != "z" and not v.endswith("__")])
    if not verdict.converged:
        warnings.warn(f"sem: {verdict.headline}", ConvergenceWarning, stacklevel=2)
    return SemFit(idata, syntax, verdict, data_.n, ordinal=ordinal)


def cfa(model: str | ModelSyntax, data: pd.DataFrame, **kwargs) -> SemFit:
    """A confirmatory factor analysis: :func:`sem` (as lavaan's ``cfa()``, the same model)."""
    return sem(model, data, **kwargs)
