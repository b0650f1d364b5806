"""lavaan's one-liners on any DataFrame: ``cb.sem(model, data)`` and ``cb.cfa(model, data)``.

Complete continuous indicators without groups or covariates use the closed-form normal
model of :mod:`coprod_bayes.engines.sem_normal`; everything else (ordinal items, missing
responses, covariates, groups and measurement invariance) the respondent-level latent-score
model of :mod:`coprod_bayes.engines.sem_latent`.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd

from .engines.sem_normal import build_sem_model, prepare_sem
from .engines.sem_latent import LatentData, build_latent_model, latent_scores, prepare_latent
from .errors import ConvergenceWarning, SpecError
from .fit import Verdict, assess, sample
from .spec.spec import Sampler
from .spec.syntax import ModelSyntax, parse_model

__all__ = ["sem", "cfa", "SemFit"]


class SemFit:
    """A fitted SEM: the posterior, the parsed model, the data as the engine read them and
    the convergence verdict."""

    def __init__(self, idata, model: ModelSyntax, verdict: Verdict, data, link: str = "logit",
                 invariance: str | None = None):
        self.idata, self.model, self.verdict, self.data = idata, model, verdict, data
        self.n = data.n
        self.link, self.invariance = link, invariance
        #: the ordinal indicators (their latent responses have residual variance pi^2/3
        #: under the logit link, 1 under the probit)
        self.ordinal = list(getattr(data, "ordinal", []))
        self.groups = list(getattr(data, "groups", ["all"]))

    def __repr__(self) -> str:
        return f"SemFit({len(self.model.latent)} latent, n={self.n}; {self.verdict.headline})"

    @property
    def latent_engine(self) -> bool:
        """True for respondent-level latent scores, False for the closed-form normal model."""
        return isinstance(self.data, LatentData)

    def codebook(self) -> pd.DataFrame:
        """How the data were read: each indicator's kind (ordinal or continuous), number of
        categories and observed values, the covariates and the group column."""
        if self.latent_engine:
            return self.data.codebook()
        return pd.DataFrame({"column": self.data.indicators, "role": "indicator",
                             "kind": "continuous", "categories": None, "values": None})

    def _residual_variance(self) -> float:
        return np.pi**2 / 3 if self.link == "logit" else 1.0

    def parameter_names(self) -> list[str]:
        """Every parameter under lavaan's name (``f=~x1``, ``y~f``, ``f1~~f2``), then the
        residual variances (``x1~~x1``), intercepts (``x1~1``) and defined parameters."""
        post = self.idata.posterior
        names = [p.name for p in self.model.parameters if p.name in post]
        names += [n for n in post.data_vars if "~~" in n and n not in names]
        return names + [d.name for d in self.model.definitions]

    def _flat(self, name: str) -> np.ndarray:
        v = self.idata.posterior[name].values
        return v.reshape(-1, *v.shape[2:])

    def draws(self) -> dict[str, np.ndarray]:
        """Flat posterior draws of every parameter, keyed by lavaan's names. In a grouped
        model measurement parameters are the reference group's (the first level); under
        approximate invariance the across-group baseline (see :meth:`invariance`)."""
        post = self.idata.posterior
        out = {n: post[n].values.reshape(-1) for n in self.parameter_names()}
        if "thresholds" in post:  # lavaan's "x1|t1"
            base = (self._flat("thresholds")[:, 0] if self.invariance == "configural"
                    else self._flat("thresholds_base"))
            for k, name in enumerate(post["thresholds"].coords["threshold"].values):
                out[str(name)] = base[:, k]
        if self.latent_engine:
            if self.data.continuous:
                res, icp = self._flat("residual_sd")[:, 0], self._flat("intercepts")[:, 0]
                for k, v in enumerate(self.data.continuous):
                    out[f"{v}~~{v}"] = res[:, k] ** 2
                    out[f"{v}~1"] = icp[:, k]
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
        covs = list(getattr(self.data, "covariates", []))
        lat = self.model.latent + covs  # covariates: exogenous, with their sample covariance
        ind = list(self.data.indicators)
        m, p, S = len(lat), len(ind), len(next(iter(d.values())))
        li, yi = {v: i for i, v in enumerate(lat)}, {v: i for i, v in enumerate(ind)}
        Lam, B, Psi, Theta = (np.zeros((S, p, m)), np.zeros((S, m, m)),
                              np.broadcast_to(np.eye(m), (S, m, m)).copy(), np.zeros((S, p, p)))
        if covs:
            k = len(self.model.latent)
            Psi[:, k:, k:] = np.cov(self.data.x, rowvar=False, ddof=0).reshape(len(covs), -1)
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
        for v in self.ordinal:  # latent responses: logistic (pi^2 / 3) or normal (1) residuals
            Theta[:, yi[v], yi[v]] = self._residual_variance()
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
            theta = np.stack([np.full(lam.shape[1], self._residual_variance())
                              if x in self.ordinal else d[f"{x}~~{x}"] for x in items])
            true = lam.sum(0) ** 2 * var_f
            omega = true / (true + theta.sum(0))
            lo, hi = az.hdi(omega, hdi_prob=hdi_prob)
            rows.append({"factor": f, "items": len(items), "mean": omega.mean(),
                         "sd": omega.std(), "lower": lo, "upper": hi,
                         "scale": ("latent response" if set(items) <= set(self.ordinal)
                                   else "observed" if not set(items) & set(self.ordinal)
                                   else "mixed")})
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


def _survey_frame(survey, model: ModelSyntax, ordered):
    """A Survey as the engines' input: items scored (reverse-keyed items reversed, missing
    codes missing), every other column as is; ordinal = the codebook's items in the model."""
    scored = survey.scored_items()
    frame = survey.frame.copy()
    frame[scored.columns] = scored
    items = set(survey.codebook.item_columns)
    if ordered is None:
        ordered = [v for v in model.observed if v in items]
    return frame, ordered


def sem(model: str | ModelSyntax, data, ordered: list[str] | None = None,
        group: str | None = None, *, invariance: str = "scalar", link: str = "logit",
        vary_slopes: bool = True, weights: str | None = None, engine: str = "auto",
        sampler: Sampler | None = None, **sampler_options) -> SemFit:
    """Fit a structural equation model written in lavaan's syntax.

    Parameters
    ----------
    model : str or ModelSyntax
        lavaan model syntax (see :mod:`coprod_bayes.spec.syntax`).
    data : DataFrame or Survey
        One row per respondent. A :class:`~coprod_bayes.Survey` brings its codebook: its
        items are scored (reverse-keyed items reversed, missing-value codes missing) and
        ordinal unless ``ordered`` says otherwise.
    ordered : list of str, optional
        Ordinal indicators (graded response model); the others are continuous. Each item
        keeps its own number of categories.
    group : str, optional
        A grouping column (country, wave, area): latent means and SDs per group (the first
        level the reference), structural slopes partially pooled across groups.
    invariance : {"scalar", "configural", "approximate"}
        Measurement invariance across groups (see :mod:`coprod_bayes.engines.sem_latent`).
    link : {"logit", "probit"}
        Of the ordinal items (logit is about 3x cheaper to evaluate).
    vary_slopes : bool, default True
        With ``group``: structural slopes vary by group (partial pooling).
    weights : str, optional
        A survey-weight column, used by :meth:`SemFit.latent_means` (post-stratified latent
        means); the likelihood is unweighted.
    engine : {"auto", "closed_form", "latent"}
        ``auto``: latent variables integrated out analytically when every indicator is
        continuous and complete and there are no groups or covariates; otherwise
        respondent-level latent scores (missing responses absent from the likelihood).
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
    from dataclasses import replace

    from .survey.survey import Survey

    syntax = parse_model(model) if isinstance(model, str) else model
    if isinstance(data, Survey):
        data, ordered = _survey_frame(data, syntax, ordered)
    if engine not in ("auto", "closed_form", "latent"):
        raise SpecError(f"engine={engine!r}: choose 'auto', 'closed_form' or 'latent'")
    indicators = [v for v in syntax.observed
                  if any(v in syntax.indicators(f) for f in syntax.latent)]
    closed = engine == "closed_form" or (
        engine == "auto" and not ordered and group is None
        and set(indicators) == set(syntax.observed)
        and all(c in data.columns for c in indicators)
        and not data[indicators].isna().any().any())
    if closed and (ordered or group is not None):
        raise SpecError("engine='closed_form' fits continuous indicators without groups; "
                        "use engine='latent' for ordinal items or groups")
    # latent scores: the loadings trade off against the scale of n latent scores, a
    # correlation the diagonal mass matrix adapts to slowly (min ESS 216 vs 446 low-rank)
    s = sampler or Sampler(mass_matrix="diag" if closed else "low_rank")
    if sampler_options:
        s = replace(s, **sampler_options)
    if closed:
        data_ = prepare_sem(syntax, data)
        pmodel = build_sem_model(syntax, data_)
    else:
        data_ = prepare_latent(syntax, data, ordered, group, weights)
        pmodel = build_latent_model(syntax, data_, invariance, link, vary_slopes)
    loadings = {pmodel[p.name] for p in syntax.parameters
                if p.op == "=~" and p.name in pmodel.named_vars and pmodel[p.name] in pmodel.free_RVs}
    idata = sample(pmodel, s, no_jitter=loadings)
    # the verdict covers the model's parameters, not each respondent's latent score ("z")
    # nor constants (the reference group's latent mean)
    free = [v.name for v in pmodel.free_RVs if v.name != "z"]
    named = [p.name for p in syntax.parameters if p.name in pmodel.named_vars]
    verdict = assess(idata, free + [n for n in named if n not in free]
                     + [d.name for d in syntax.definitions])
    if not verdict.converged:
        warnings.warn(f"sem: {verdict.headline}", ConvergenceWarning, stacklevel=2)
    return SemFit(idata, syntax, verdict, data_, link=link,
                  invariance=invariance if not closed else None)


def cfa(model: str | ModelSyntax, data, **kwargs) -> SemFit:
    """A confirmatory factor analysis: :func:`sem` (as lavaan's ``cfa()``, the same model)."""
    return sem(model, data, **kwargs)
