"""lavaan's one-liners on any DataFrame: ``cb.sem(model, data)`` and ``cb.cfa(model, data)``.

Complete continuous indicators without groups or covariates use the closed-form normal
model of :mod:`coprod_bayes.engines.sem_normal`; everything else (ordinal items, missing
responses, covariates, groups and measurement invariance) the respondent-level latent-score
model of :mod:`coprod_bayes.engines.sem_latent`.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection

import arviz as az
import numpy as np
import pandas as pd

from .engines.sem_latent import (
    LatentData,
    build_latent_model,
    judged_variables,
    latent_scores,
    prepare_latent,
    redraw_independent,
)
from .engines.sem_normal import build_sem_model, prepare_sem
from .errors import ConvergenceWarning, SpecError
from .fit import Verdict, assess, sample
from .spec.spec import Sampler
from .spec.syntax import ModelSyntax, parse_model

__all__ = ["sem", "cfa", "SemFit"]


class SemFit:
    """A fitted SEM: the posterior, the parsed model, the data as the engine read them and
    the convergence verdict.

    Made by :func:`sem`, :func:`cfa`, :func:`wave_invariance` and (for latent specs)
    :func:`coprod_bayes.fit`; the parameters are kept as attributes of the same names.

    Parameters
    ----------
    idata : arviz.InferenceData
        The posterior, every parameter under its lavaan name (``f=~x1``, ``y~f``) and the
        engine's arrays (``loadings``, ``thresholds``, ``latent_mean`` ...; the latent-score
        engine also each respondent's standardised scores ``z``).
    model : ModelSyntax
        The parsed model syntax.
    verdict : Verdict
        The convergence verdict over the model's parameters (not the respondents' scores).
    data : LatentData or SemData
        The data as the engine read them: :class:`~coprod_bayes.engines.sem_latent.
        LatentData` for the latent-score engine, :class:`~coprod_bayes.engines.sem_normal.
        SemData` for the closed-form one.
    link : {"logit", "probit"}, default "logit"
        The ordinal items' link.
    invariance : {"scalar", "configural", "approximate"} or None, default None
        The measurement invariance across groups; None for the closed-form engine.

    Attributes
    ----------
    n : int
        Number of respondents.
    ordinal : list of str
        The ordinal indicators (their latent responses have residual variance pi^2/3 under
        the logit link, 1 under the probit).
    groups : list
        The group levels as the engine ordered them (sorted, or a categorical column's
        categories), the reference group first; ``["all"]`` without groups.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=200, seed=1, nonresponse=False)
    >>> fit = cb.cfa("efficacy =~ efficacy_safety + efficacy_environment + efficacy_health",
    ...              s)  # doctest: +SKIP
    >>> fit.codebook()  # doctest: +SKIP
    >>> fit.summary()  # doctest: +SKIP
    >>> fit.reliability()  # doctest: +SKIP
    """

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
        categories and observed values, the covariates and the group column.

        Returns
        -------
        DataFrame
            One row per indicator (then covariate and group column, latent-score engine):
            ``column``, ``role`` (``indicator``, ``covariate``, ``group``), ``kind``
            (``ordinal``, ``continuous``, ``nominal``), ``categories`` and ``values``
            (ordinal items: the observed codes in order; the group: its levels).
        """
        if self.latent_engine:
            return self.data.codebook()
        return pd.DataFrame({"column": self.data.indicators, "role": "indicator",
                             "kind": "continuous", "categories": None, "values": None})

    def _residual_variance(self) -> float:
        return np.pi**2 / 3 if self.link == "logit" else 1.0

    def parameter_names(self) -> list[str]:
        """Every parameter in the posterior under lavaan's name (``f=~x1``, ``y~f``,
        ``f1~~f2``), then the defined parameters.

        The model's parameters come in the syntax's order, then any other ``~~``
        (co)variance the posterior holds under a lavaan name, then the ``:=`` definitions.
        Thresholds, residual variances (``x1~~x1``) and intercepts (``x1~1``) are not among
        them; :meth:`draws` adds them.

        Returns
        -------
        list of str
        """
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
        approximate invariance the across-group baseline (see :meth:`noninvariance`).

        Returns
        -------
        dict of str to ndarray
            One array of all draws (chains stacked) per name: the parameters of
            :meth:`parameter_names`, the thresholds of ordinal items (``x1|t1``), and the
            residual variances (``x1~~x1``) and intercepts (``x1~1``) of continuous ones.
        """
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
        """Per draw, the model-implied total SD of every latent variable, covariate and
        indicator (with ordinal items, of the latent response: residual variance pi^2/3
        under the logit link, 1 under the probit) in the reference group.

        Parameters
        ----------
        d : dict of str to ndarray, optional
            Draws keyed by lavaan's names, as :meth:`draws` returns them (the default).

        Returns
        -------
        dict of str to ndarray
            One array (one value per draw) per latent variable, covariate and indicator.
        """
        Phi, Sigma, li, yi = self._implied(self.draws() if d is None else d)
        sd_lat = np.sqrt(np.diagonal(Phi, axis1=1, axis2=2))
        sd_ind = np.sqrt(np.diagonal(Sigma, axis1=1, axis2=2))
        return {**{v: sd_lat[:, i] for v, i in li.items()},
                **{v: sd_ind[:, i] for v, i in yi.items()}}

    def _implied(self, d: dict[str, np.ndarray]):
        """Per draw, the implied covariance of the latent variables (and covariates) and of
        the indicators, with their index maps."""
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
        return Phi, Sigma, li, yi

    def standardized_draws(self) -> dict[str, np.ndarray]:
        """Draws of every parameter standardised as lavaan's ``std.all``: latent variables
        and indicators at their model-implied unit variance. Loadings and paths are scaled
        by SD(from) / SD(to), (residual) variances and covariances divided by the product of
        the total SDs, and defined parameters recomputed from the standardised labels.

        Returns
        -------
        dict of str to ndarray
            As :meth:`draws`, without the intercepts and thresholds (which have no
            standardised form).
        """
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
        logistic pi^2/3 (1 under the probit link): omega of the latent responses, not of the
        sum score.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density interval.

        Returns
        -------
        DataFrame
            One row per factor with at least one item of its own: ``factor``, ``items``
            (how many), ``mean``, ``sd``, ``lower``, ``upper``, ``scale`` (``"observed"``,
            ``"latent response"`` or, for ordinal and continuous items together,
            ``"mixed"``).

        Examples
        --------
        >>> fit.reliability(hdi_prob=0.95)  # doctest: +SKIP
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

    # ------------------------------------------------------------------ groups
    def _need_latent(self, what: str) -> None:
        if not self.latent_engine:
            raise SpecError(f"{what}: the closed-form model has no respondent latent scores; "
                            "fit with engine='latent'")

    def group_parameters(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Per group and latent variable: the latent mean (intercept for endogenous ones)
        and SD (residual SD) relative to the reference group (first level: 0 and 1), and,
        with varying slopes, every structural path per group. Columns ``group``,
        ``parameter``, ``mean``, ``sd``, ``lower``, ``upper``.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            Parameters ``mean(<latent>)`` and ``sd(<latent>)`` per group, and the paths
            under lavaan's names (``y~f``) when the posterior has per-group paths.

        Raises
        ------
        SpecError
            For a closed-form fit (no latent scores).
        """
        self._need_latent("group_parameters")
        rows = []
        lat = self.model.latent
        names = {"latent_mean": "mean({})", "latent_sd": "sd({})"}
        for var, fmt in names.items():
            x = self._flat(var)
            for k, g in enumerate(self.groups):
                for j, f in enumerate(lat):
                    rows.append(_row(x[:, k, j], hdi_prob, group=g, parameter=fmt.format(f)))
        if "paths" in self.idata.posterior:
            B = self._flat("paths")
            Gam = self._flat("effects") if "effects" in self.idata.posterior else None
            li = {v: i for i, v in enumerate(lat)}
            for par in self.model.regressions:
                for k, g in enumerate(self.groups):
                    x = (B[:, k, li[par.lhs], li[par.rhs]] if par.rhs in li else
                         Gam[:, k, li[par.lhs], self.data.covariates.index(par.rhs)])
                    rows.append(_row(x, hdi_prob, group=g, parameter=par.name))
        return pd.DataFrame(rows)

    def noninvariance(self, hdi_prob: float = 0.95) -> pd.DataFrame:
        """How non-invariant each item is (approximate invariance only).

        One row per item and group: ``kind`` (``threshold`` shift in logits, or continuous
        ``intercept`` shift in units of the item's SD; ``loading`` log-ratio), the group's
        deviation from the across-group baseline (``mean``, ``lower``, ``upper``), its
        difference from the median of all groups' deviations, per draw (``vs_others``,
        ``vs_lower``, ``vs_upper``), the item's estimated width (``width``: SD of the group
        deviations, posterior mean) and ``flagged``: the interval of ``vs_others`` excludes 0.
        The median is the reference because a single deviant group drags the across-group
        mean, and with it every other group's deviation; the median stays with the
        majority. (The median of the *other* groups fails with three groups: it is then the
        mean of the two others, one of them the deviant.)

        With two groups (two survey waves) the groups' deviations are mirror images, so the
        reference is instead the median over the items of the same kind of that group's
        deviations, per draw: an item is flagged when it moves between the groups unlike
        the majority of items. Only items answered in every group are reported and enter
        the median (``shared`` is False for the others, which have no deviation to test);
        this needs at least three shared items.

        Parameters
        ----------
        hdi_prob : float, default 0.95
            Probability mass of the highest-density intervals (``lower``/``upper`` and
            ``vs_lower``/``vs_upper``) and so of the flag.

        Returns
        -------
        DataFrame
            Columns ``item``, ``group``, ``kind``, ``mean``, ``sd``, ``lower``, ``upper``,
            ``shared``, ``width``, ``vs_others``, ``vs_lower``, ``vs_upper``, ``flagged``
            (the ``vs_`` columns missing and ``flagged`` False for items not shared).

        Raises
        ------
        SpecError
            Unless the fit has ``invariance="approximate"`` and at least two groups; with two
            groups, if fewer than three items are answered in both.

        Examples
        --------
        >>> fit = cb.wave_invariance(both, ["collective"])  # doctest: +SKIP
        >>> fit.noninvariance().query("flagged")  # doctest: +SKIP
        """
        if self.invariance != "approximate" or len(self.groups) < 2:
            raise SpecError("noninvariance(): fit with group=..., invariance='approximate' and "
                            "at least two groups")
        two = len(self.groups) == 2
        dat = self.data
        seen = np.zeros((len(dat.indicators), len(self.groups)), bool)
        oi = np.array([dat.indicators.index(v) for v in dat.ordinal], int)
        ci = np.array([dat.indicators.index(v) for v in dat.continuous], int)
        if len(dat.o_item):
            seen[oi[dat.o_item], dat.g[dat.o_resp]] = True
        if len(dat.c_item):
            seen[ci[dat.c_item], dat.g[dat.c_resp]] = True
        shared = dict(zip(dat.indicators, seen.all(axis=1), strict=True))
        if two and sum(shared.values()) < 3:
            raise SpecError("noninvariance(): with two groups at least three items must be "
                            f"answered in both; shared: {[v for v, s in shared.items() if s]}")
        post = self.idata.posterior
        parts = []
        if "threshold_shift" in post:
            parts.append(("threshold", self.data.ordinal, self._flat("threshold_shift"),
                          self._flat("threshold_width")))
        if "intercept_shift" in post:
            sd = self.data.c_sd[None, :, None]
            parts.append(("intercept", self.data.continuous, self._flat("intercept_shift") / sd,
                          self._flat("intercept_width")))
        parts.append(("loading", self.data.indicators, np.log(self._flat("loading_ratio")),
                      self._flat("loading_width")))
        rows = []
        for kind, items, dev, width in parts:
            common = np.array([shared[v] for v in items])
            for j, v in enumerate(items):
                for k, g in enumerate(self.groups):
                    r = _row(dev[:, j, k], hdi_prob, item=v, group=g, kind=kind)
                    r.update(shared=bool(shared[v]), width=width[:, j].mean())
                    if shared[v] and (not two or common.sum() >= 3):
                        ref = (np.median(dev[:, common, k], axis=1) if two
                               else np.median(dev[:, j, :], axis=1))
                        vs = dev[:, j, k] - ref
                        lo, hi = az.hdi(vs, hdi_prob=hdi_prob)
                        r.update(vs_others=vs.mean(), vs_lower=lo, vs_upper=hi,
                                 flagged=bool(lo > 0 or hi < 0))
                    else:
                        r.update(vs_others=np.nan, vs_lower=np.nan, vs_upper=np.nan,
                                 flagged=False)
                    rows.append(r)
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ respondents
    def factor_scores(self) -> pd.DataFrame:
        """Posterior mean and SD of every respondent's latent scores (rows as the data's),
        columns ``<latent>`` and ``<latent>_sd``.

        Returns
        -------
        DataFrame
            Indexed like the rows of the data the model was fitted to.

        Raises
        ------
        SpecError
            For a closed-form fit (no latent scores).
        """
        self._need_latent("factor_scores")
        eta = latent_scores(self.idata.posterior, self.data)
        out = {}
        for j, f in enumerate(self.model.latent):
            out[f] = eta[:, :, j].mean(0)
            out[f"{f}_sd"] = eta[:, :, j].std(0)
        return pd.DataFrame(out, index=self.data.index)

    def latent_means(self, hdi_prob: float = 0.9, weighted: bool = True) -> pd.DataFrame:
        """Each group's mean of every latent variable, per draw the (survey-)weighted mean
        of its respondents' latent scores: post-stratification with each respondent
        standing for ``weight`` people of the population, so the means follow the margins
        the weights encode. The model itself is fitted unweighted (a weighted likelihood
        would give intervals of no stated coverage); the weights enter here only.

        Without a weight column (``sem(..., weights=...)``) or with ``weighted=False`` every
        respondent counts once.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.
        weighted : bool, default True
            Weight the respondents by the fit's weight column, if it has one.

        Returns
        -------
        DataFrame
            Columns ``group``, ``latent``, ``weighted`` (whether weights were used),
            ``mean``, ``sd``, ``lower``, ``upper``.

        Raises
        ------
        SpecError
            For a closed-form fit (no latent scores).
        """
        self._need_latent("latent_means")
        eta = latent_scores(self.idata.posterior, self.data)
        w = self.data.weights if weighted and self.data.weights is not None else np.ones(self.n)
        rows = []
        for k, g in enumerate(self.groups):
            rows_k = self.data.g == k
            wk = w[rows_k] / w[rows_k].sum()
            for j, f in enumerate(self.model.latent):
                rows.append(_row(eta[:, rows_k, j] @ wk, hdi_prob, group=g, latent=f,
                                 weighted=self.data.weights is not None and weighted))
        return pd.DataFrame(rows)

    def standardized_path_draws(self) -> dict[str, dict]:
        """Per group, draws of every structural path standardised within the group (slope x
        SD(predictor) / SD(outcome), both SDs implied by that group's parameters: latent SDs
        and correlations, paths, and the covariates' covariance in the group) and of each
        endogenous latent variable's standardised residual SD (residual SD / total SD).

        Returns
        -------
        dict
            ``"paths"``: ``{(outcome, predictor): array (draws, groups)}``;
            ``"residual_sd"``: ``{latent: array (draws, groups)}``.

        Raises
        ------
        SpecError
            For a closed-form fit (no latent scores).
        """
        self._need_latent("standardized_path_draws")
        dat = self.data
        lat, covs = self.model.latent, dat.covariates
        names = lat + covs
        m, q = len(lat), len(covs)
        li = {v: i for i, v in enumerate(names)}
        post = self.idata.posterior
        chol, sds = self._flat("latent_chol"), self._flat("latent_sd")
        S, G = chol.shape[:2]
        B = self._flat("paths") if "paths" in post else np.zeros((S, G, m, m))
        Gam = self._flat("effects") if "effects" in post else np.zeros((S, G, m, q))
        R = chol @ np.swapaxes(chol, -1, -2)  # (draws, group, latent, latent)
        paths = {(p.lhs, p.rhs): np.empty((S, G)) for p in self.model.regressions}
        endogenous = list(dict.fromkeys(p.lhs for p in self.model.regressions))
        resid = {f: np.empty((S, G)) for f in endogenous}
        for k in range(G):
            full_B = np.zeros((S, m + q, m + q))
            full_B[:, :m, :m] = B[:, k]
            full_B[:, :m, m:] = Gam[:, k]
            Psi = np.zeros((S, m + q, m + q))
            Psi[:, :m, :m] = sds[:, k, :, None] * R[:, k] * sds[:, k, None, :]
            if q:
                xg = dat.x[dat.g == k]
                Psi[:, m:, m:] = np.cov(xg, rowvar=False, ddof=0).reshape(q, q)
            inv = np.linalg.inv(np.eye(m + q) - full_B)
            Phi = inv @ Psi @ np.swapaxes(inv, 1, 2)
            sd = np.sqrt(np.diagonal(Phi, axis1=1, axis2=2))
            for (y, x), out in paths.items():
                out[:, k] = full_B[:, li[y], li[x]] * sd[:, li[x]] / sd[:, li[y]]
            for f, out in resid.items():
                out[:, k] = sds[:, k, li[f]] / sd[:, li[f]]
        return {"paths": paths, "residual_sd": resid}

    def standardized_paths(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Every structural path standardised within each group, as the papers' per-country
        betas (:meth:`standardized_path_draws`). Columns ``group``, ``outcome``,
        ``predictor``, ``mean``, ``sd``, ``lower``, ``upper``, ``p_positive``.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            One row per group and structural path.

        Raises
        ------
        SpecError
            For a closed-form fit (no latent scores).
        """
        paths = self.standardized_path_draws()["paths"]
        rows = []
        for k, g in enumerate(self.groups):
            for (y, x), v in paths.items():
                r = _row(v[:, k], hdi_prob, group=g, outcome=y, predictor=x)
                r["p_positive"] = float((v[:, k] > 0).mean())
                rows.append(r)
        return pd.DataFrame(rows)

    def compare(self, classical, index_fit=None, hdi_prob: float = 0.9) -> pd.DataFrame:
        """A latent spec's standardised slopes per group beside OLS on the indexes (a tidy
        OLS table or the dict of :func:`coprod_bayes.classical.tables`) and, if given, the
        index-based Bayesian fit's betas; ``attenuation`` > 0 where OLS is nearer zero.
        See :func:`coprod_bayes.latent.attenuation`.

        Parameters
        ----------
        classical : DataFrame or dict
            A tidy OLS table (:func:`coprod_bayes.classical.ols_table`) or the dict of
            :func:`coprod_bayes.classical.tables` (the table of the spec's outcome is used).
        index_fit : Fit, optional
            The index-based fit of the same regression; its betas are added as
            ``index_mean`` and ``index_sd``.
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            One row per group and predictor of the spec's outcome: ``group``,
            ``predictor``, ``latent_mean``, ``latent_sd``, ``latent_lower``,
            ``latent_upper``, ``p_positive``, ``ols_beta``, ``ols_se``, (``index_mean``,
            ``index_sd``), ``attenuation``.

        Raises
        ------
        SpecError
            If the fit is not of a latent spec (a plain :func:`sem` fit has no ``spec``),
            or ``classical`` is a dict without a table of the spec's outcome.

        Examples
        --------
        >>> s = cb.simulate(seed=0)  # doctest: +SKIP
        >>> latent = cb.fit("latent_collective", s)  # doctest: +SKIP
        >>> latent.compare(cb.classical.tables(s))  # doctest: +SKIP
        """
        from .fit import _classical_table
        from .latent import attenuation

        if getattr(self, "spec", None) is None:
            raise SpecError("compare(): only fits of a latent spec (cb.fit('latent_...')) "
                            "know which OLS table they answer")
        return attenuation(self, _classical_table(classical, self.spec), index_fit, hdi_prob)

    def save(self, path):
        """Write the fit to one netCDF file: the posterior (the respondents' latent scores
        ``z`` included), the model syntax, the convergence verdict, the link, the invariance,
        the data as the engine read them and, for a latent spec's fit, the spec and the
        excluded respondents. Read it back with :func:`coprod_bayes.load_fit`.

        The attributes are set on ``self.idata`` itself (a copy of the posterior would
        double the memory of a fit with thousands of respondents' scores); the data go to a
        group of their own, ``coprod_data``.

        Parameters
        ----------
        path : str or Path
            The file to write (``.nc``); an existing file is overwritten.

        Returns
        -------
        Path
            ``path``.

        Examples
        --------
        >>> path = fit.save("latent_collective.nc")  # doctest: +SKIP
        >>> cb.load_fit(path).summary().equals(fit.summary())  # doctest: +SKIP
        True
        """
        import json
        from dataclasses import asdict
        from pathlib import Path

        path = Path(path)
        attrs = self.idata.posterior.attrs
        attrs["coprod_kind"] = "sem"
        attrs["coprod_model"] = self.model.source or getattr(self, "syntax", "") or ""
        attrs["coprod_verdict"] = json.dumps(asdict(self.verdict))
        attrs["coprod_link"] = self.link
        attrs["coprod_invariance"] = self.invariance or ""
        spec = getattr(self, "spec", None)
        if spec is not None:
            attrs["coprod_spec"] = json.dumps(spec.to_dict())
            # "table" keeps the dtypes and index, also of an empty frame
            attrs["coprod_excluded"] = self.excluded.to_json(orient="table")
        self.idata.to_netcdf(str(path))
        _data_to_dataset(self.data).to_netcdf(str(path), mode="a", group="coprod_data")
        return path

    # ------------------------------------------------------------------ model fit
    def ppp(self, draws: int = 200, seed: int = 0) -> dict[str, pd.DataFrame]:
        """Posterior predictive p-values: where does the model miss?

        Ordinal items (latent-score model). For each of ``draws`` posterior draws, new
        respondents are drawn from the population the model describes (same groups,
        covariates and pattern of answered items): one set gives the expected counts E,
        an independent set the replicated responses. The discrepancy is Pearson's
        X^2 = sum (count - E)^2 / E, of each item's response frequencies per group
        (``items``) and of each item pair's two-way table over all respondents who
        answered both (``pairs``); PPP = P(X^2(replicated) >= X^2(observed)). Values near 0
        mark misfit; near 0.5 is fine. Each pair also gets the focused check of its
        association: the correlation of the two items' codes (``r``, among respondents who
        answered both) against the replicated ones, ``ppp_r`` = P(r(replicated) >= r):
        near 0 the items go together more than the factors explain (a residual dependence,
        e.g. shared wording), near 1 less.

        Continuous indicators, closed-form model: the chi^2 (likelihood-ratio) discrepancy
        of the sample mean and covariance, observed against data sets of the same size
        replicated from each draw (``overall``).

        Parameters
        ----------
        draws : int, default 200
            Number of posterior draws used (sampled without replacement; all of them if the
            posterior has fewer).
        seed : int, default 0
            Seed of the draw selection and the replications.

        Returns
        -------
        dict of str to DataFrame
            ``overall`` always (``statistic``, ``observed``, ``replicated``, ``ppp``);
            ``items`` (``item``, ``group``, ``n``, ``observed`` and ``expected``
            proportions, ``x2``, ``ppp``) and ``pairs`` (``item``, ``item2``, ``x2``,
            ``x2_replicated``, ``ppp``, ``r``, ``r_replicated``, ``ppp_r``) for ordinal
            items.

        Raises
        ------
        SpecError
            For a latent-score fit without ordinal indicators.

        Examples
        --------
        >>> checks = fit.ppp(draws=100)  # doctest: +SKIP
        >>> checks["pairs"].sort_values("ppp_r").head()  # doctest: +SKIP
        """
        rng = np.random.default_rng(seed)
        post = self.idata.posterior
        total = post.sizes["chain"] * post.sizes["draw"]
        pick = np.sort(rng.choice(total, size=min(draws, total), replace=False))
        if not self.latent_engine:
            return {"overall": self._chi2_ppp(pick, rng)}
        if not self.ordinal:
            raise SpecError("ppp(): for continuous indicators fit the closed-form model "
                            "(complete rows, no groups)")
        return self._ordinal_ppp(pick, rng)

    # ------------------------------------------------------------------ model comparison
    def marginal_loglik(self, draws: int = 200, points: int = 128, seed: int = 0):
        """Each respondent's log-likelihood with the latent scores integrated out,
        log p(y_i | theta_s), for ``draws`` posterior draws (evenly spaced in each chain).

        The latent-score model's own likelihood is conditional on each respondent's latent
        scores, and leave-one-out on it asks the wrong question (how well do a person's
        own scores predict their answers?) with unreliable importance weights; comparing
        models needs the marginal likelihood (Merkle, Furr and Rabe-Hesketh 2019). The
        integral over the m latent scores is by importance sampling: per respondent a
        normal proposal with the mean and (1.2^2-inflated) covariance of their scores'
        posterior, ``points`` scrambled Sobol points mapped through it (quasi-Monte Carlo),
        the same for every posterior draw.

        Parameters
        ----------
        draws : int, default 200
            About how many posterior draws to use in all (``draws // chains`` per chain, at
            least one, at most the chain's length).
        points : int, default 128
            Quasi-Monte Carlo points per respondent for the integral.
        seed : int, default 0
            Seed of the scrambled Sobol points.

        Returns
        -------
        arviz.InferenceData
            Groups ``log_likelihood`` (``loglik``: chain, draw, respondent) and
            ``posterior`` (``loglik_total``, the sum over respondents, from which PSIS
            takes its relative efficiency), plus the smallest importance-sampling effective
            sample size over respondents and draws in ``attrs["min_is_ess"]``.

        Raises
        ------
        SpecError
            For a closed-form fit (no latent scores).
        """
        import scipy.sparse as sp
        from scipy.special import log_expit, log_ndtr, ndtri
        from scipy.stats import qmc

        self._need_latent("marginal_loglik")
        dat, post = self.data, self.idata.posterior
        C, D = post.sizes["chain"], post.sizes["draw"]
        per = max(1, min(D, draws // C))
        at_draw = np.unique(np.linspace(0, D - 1, per).round().astype(int))
        rng = np.random.default_rng(seed)
        m = len(self.model.latent)
        zpost = post["z"].values.reshape(C * D, dat.n, m)
        mu = zpost.mean(0)
        dev = zpost - mu
        cov = np.einsum("snj,snk->njk", dev, dev) / (len(zpost) - 1) * 1.2**2
        chol = np.linalg.cholesky(cov + 1e-9 * np.eye(m))
        # scrambled Sobol points mapped to normals: for these smooth integrands the
        # error falls nearly as 1/points, against 1/sqrt(points) for random draws
        u = qmc.Sobol(m, scramble=True, seed=rng).random(points)
        e = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
        Z = mu[None] + np.einsum("njk,pk->pnj", chol, e)  # (points, n, m)
        logdet = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)
        log_q = -0.5 * (e**2).sum(1)[:, None] - logdet[None] - 0.5 * m * np.log(2 * np.pi)
        log_prior = -0.5 * (Z**2).sum(2) - 0.5 * m * np.log(2 * np.pi)
        # responses -> respondents
        o_sum = sp.csr_matrix((np.ones(len(dat.o_resp)), (dat.o_resp, np.arange(len(dat.o_resp)))),
                              shape=(dat.n, len(dat.o_resp)))
        c_sum = sp.csr_matrix((np.ones(len(dat.c_resp)), (dat.c_resp, np.arange(len(dat.c_resp)))),
                              shape=(dat.n, len(dat.c_resp)))
        if dat.ordinal:
            from .engines.sem_latent import padded_thresholds

            oi = np.array([dat.indicators.index(v) for v in dat.ordinal])
        ci = np.array([dat.indicators.index(v) for v in dat.continuous], int)
        flat = lambda v: v.reshape(-1, *v.shape[2:])  # noqa: E731
        loads = flat(post["loadings"].values)
        thr = flat(post["thresholds"].values) if dat.ordinal else None
        if dat.continuous:
            nu, theta = flat(post["intercepts"].values), flat(post["residual_sd"].values)
        lcdf = log_expit if self.link == "logit" else log_ndtr
        out = np.empty((C, len(at_draw), dat.n))
        min_ess = np.inf
        for c in range(C):
            for t, d in enumerate(at_draw):
                s = c * D + d
                eta = latent_scores(post, dat, draws=np.full(points, s), z=Z)  # (P, n, m)
                lin = np.einsum("pnm,njm->pnj", eta, loads[s][dat.g])
                ll = log_prior - log_q
                if dat.ordinal:
                    pad = padded_thresholds(thr[s], dat)
                    g = dat.g[dat.o_resp]
                    lin_o = lin[:, dat.o_resp, oi[dat.o_item]]
                    up = pad[g, dat.o_item, dat.o_y + 1] - lin_o
                    lo = pad[g, dat.o_item, dat.o_y] - lin_o
                    # log(F(up) - F(lo)) = log F(up) + log(1 - exp(log F(lo) - log F(up)))
                    lu, ll_ = lcdf(up), lcdf(lo)
                    lp = lu + np.log1p(-np.exp(np.minimum(ll_ - lu, -1e-300)))
                    ll = ll + (o_sum @ lp.T).T
                if dat.continuous:
                    g = dat.g[dat.c_resp]
                    mean = nu[s][g, dat.c_item] + lin[:, dat.c_resp, ci[dat.c_item]]
                    sdv = theta[s][g, dat.c_item]
                    lp = (-0.5 * ((dat.c_y - mean) / sdv) ** 2 - np.log(sdv)
                          - 0.5 * np.log(2 * np.pi))
                    ll = ll + (c_sum @ lp.T).T
                top = ll.max(0)
                w = np.exp(ll - top)
                out[c, t] = top + np.log(w.mean(0))
                min_ess = min(min_ess, float((w.sum(0) ** 2 / (w**2).sum(0)).min()))
        # the posterior group (needed for PSIS's relative efficiency): the total
        idata = az.from_dict(posterior={"loglik_total": out.sum(-1)},
                             log_likelihood={"loglik": out},
                             coords={"respondent": np.arange(dat.n)},
                             dims={"loglik": ["respondent"]})
        idata.attrs["min_is_ess"] = min_ess
        return idata

    def loo(self, draws: int = 200, points: int = 128, seed: int = 0):
        """PSIS-LOO on the marginal likelihood (:meth:`marginal_loglik`): the expected log
        predictive density of a new respondent's answers, with Pareto-k diagnostics
        (:func:`arviz.loo`). Compare fits with :func:`coprod_bayes.compare_loo`.

        Parameters
        ----------
        draws : int, default 200
            About how many posterior draws to use (see :meth:`marginal_loglik`).
        points : int, default 128
            Quasi-Monte Carlo points per respondent.
        seed : int, default 0
            Seed of the scrambled Sobol points.

        Returns
        -------
        arviz.ELPDData
            Pointwise, with the Pareto k of every respondent and the smallest
            importance-sampling ESS in ``attrs["min_is_ess"]``.

        Raises
        ------
        SpecError
            For a closed-form fit (no latent scores).

        Examples
        --------
        >>> fit.loo().elpd_loo  # doctest: +SKIP
        """
        ll = self.marginal_loglik(draws, points, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            res = az.loo(ll, pointwise=True, var_name="loglik")
        res.attrs["min_is_ess"] = ll.attrs["min_is_ess"]
        return res

    def _chi2_ppp(self, pick: np.ndarray, rng) -> pd.DataFrame:
        d = {k: v[pick] for k, v in self.draws().items()}
        _, Sigma, _, yi = self._implied(d)
        nu = np.column_stack([d[f"{v}~1"] for v in yi])
        n, p = self.n, len(yi)
        S_obs, m_obs = self.data.cov, self.data.mean

        def lr(S, m, Sig, mu):
            inv = np.linalg.inv(Sig)
            dev = m - mu
            return n * (np.linalg.slogdet(Sig)[1] + np.trace(S @ inv) - np.linalg.slogdet(S)[1]
                        - p + dev @ inv @ dev)

        t_obs, t_rep = np.empty(len(pick)), np.empty(len(pick))
        for s in range(len(pick)):
            y = rng.multivariate_normal(nu[s], Sigma[s], size=n)
            t_obs[s] = lr(S_obs, m_obs, Sigma[s], nu[s])
            t_rep[s] = lr(np.cov(y, rowvar=False, ddof=0), y.mean(0), Sigma[s], nu[s])
        return pd.DataFrame([{"statistic": "chi2 (mean and covariance)", "observed": t_obs.mean(),
                              "replicated": t_rep.mean(), "ppp": (t_rep >= t_obs).mean()}])

    def _ordinal_ppp(self, pick: np.ndarray, rng) -> dict[str, pd.DataFrame]:
        from .engines.sem_latent import ordinal_probabilities

        dat, post = self.data, self.idata.posterior
        n, m = dat.n, len(self.model.latent)
        K = np.array([len(dat.levels[v]) for v in dat.ordinal])
        J, Kmax, G = len(K), K.max(), len(self.groups)
        obs = np.zeros((n, J), bool)
        obs[dat.o_resp, dat.o_item] = True
        Y = np.zeros((n, J, Kmax))
        Y[dat.o_resp, dat.o_item, dat.o_y] = 1.0
        onehot = lambda x: x.reshape(n, J * Kmax)  # noqa: E731
        O_items = np.stack([Y[dat.g == k].sum(0) for k in range(G)])  # (G, J, Kmax)
        O_pairs = onehot(Y).T @ onehot(Y)
        loads, thr = self._flat("loadings")[pick], self._flat("thresholds")[pick]

        def x2(obs_, E):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(E > 0, (obs_ - E) ** 2 / E, 0.0)

        def corr(codes):  # pairwise-complete Pearson correlations of the codes
            M = obs.astype(float)
            Yc = np.where(obs, codes, 0.0)
            nn = M.T @ M
            sx = Yc.T @ M
            sxx = (Yc**2).T @ M
            with np.errstate(divide="ignore", invalid="ignore"):
                cov = (Yc.T @ Yc) / nn - (sx / nn) * (sx.T / nn)
                vx = sxx / nn - (sx / nn) ** 2
                return cov / np.sqrt(vx * vx.T)

        codes_obs = np.zeros((n, J))
        codes_obs[dat.o_resp, dat.o_item] = dat.o_y
        r_obs = corr(codes_obs)
        S = len(pick)
        r_rep = np.zeros((S, J, J))
        ti_obs, ti_rep = np.zeros((S, G, J)), np.zeros((S, G, J))
        tp_obs, tp_rep = np.zeros((S, J, J)), np.zeros((S, J, J))
        E_mean = np.zeros((G, J, Kmax))
        for s in range(S):
            # expected counts from three sets of new respondents, replications from a fourth
            z = rng.standard_normal((4, 1, n, m))
            P = sum(ordinal_probabilities(latent_scores(post, dat, pick[s:s + 1], z[k])[0], dat,
                                          loads[s], thr[s], self.link) for k in range(3)) / 3
            P *= obs[..., None]
            eta_r = latent_scores(post, dat, pick[s:s + 1], z[3])[0]
            P_r = ordinal_probabilities(eta_r, dat, loads[s], thr[s], self.link)
            u = rng.random((n, J, 1))
            cat = (np.cumsum(P_r, -1) < u).sum(-1).clip(max=K - 1)
            R = np.zeros((n, J, Kmax))
            np.put_along_axis(R, cat[..., None], 1.0, axis=-1)
            R *= obs[..., None]
            r_rep[s] = corr(cat.astype(float))
            E_items = np.stack([P[dat.g == k].sum(0) for k in range(G)])
            E_mean += E_items / S
            R_items = np.stack([R[dat.g == k].sum(0) for k in range(G)])
            ti_obs[s] = x2(O_items, E_items).sum(-1)
            ti_rep[s] = x2(R_items, E_items).sum(-1)
            E_p = onehot(P).T @ onehot(P)
            R_p = onehot(R).T @ onehot(R)
            blocks = lambda a: a.reshape(J, Kmax, J, Kmax).sum((1, 3))  # noqa: E731
            tp_obs[s] = blocks(x2(O_pairs, E_p))
            tp_rep[s] = blocks(x2(R_p, E_p))
        items = []
        for k, g in enumerate(self.groups):
            for j, v in enumerate(dat.ordinal):
                tot = O_items[k, j, :K[j]].sum()
                items.append({"item": v, "group": g, "n": int(tot),
                              "observed": np.round(O_items[k, j, :K[j]] / tot, 3).tolist(),
                              "expected": np.round(E_mean[k, j, :K[j]] / tot, 3).tolist(),
                              "x2": ti_obs[:, k, j].mean(),
                              "ppp": (ti_rep[:, k, j] >= ti_obs[:, k, j]).mean()})
        pairs = [{"item": dat.ordinal[a], "item2": dat.ordinal[b],
                  "x2": tp_obs[:, a, b].mean(), "x2_replicated": tp_rep[:, a, b].mean(),
                  "ppp": (tp_rep[:, a, b] >= tp_obs[:, a, b]).mean(),
                  "r": r_obs[a, b], "r_replicated": r_rep[:, a, b].mean(),
                  "ppp_r": (r_rep[:, a, b] >= r_obs[a, b]).mean()}
                 for a in range(J) for b in range(a + 1, J)]
        iu = np.triu_indices(J, 1)
        overall = pd.DataFrame([
            {"statistic": "item frequencies by group", "observed": ti_obs.sum((1, 2)).mean(),
             "replicated": ti_rep.sum((1, 2)).mean(),
             "ppp": (ti_rep.sum((1, 2)) >= ti_obs.sum((1, 2))).mean()},
            {"statistic": "pairwise tables", "observed": tp_obs[:, iu[0], iu[1]].sum(1).mean(),
             "replicated": tp_rep[:, iu[0], iu[1]].sum(1).mean(),
             "ppp": (tp_rep[:, iu[0], iu[1]].sum(1) >= tp_obs[:, iu[0], iu[1]].sum(1)).mean()}])
        return {"overall": overall, "items": pd.DataFrame(items), "pairs": pd.DataFrame(pairs)}

    def standardized_solution(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """As lavaan's ``standardizedSolution()``: every loading, path, (co)variance and
        defined parameter on the ``std.all`` scale, with posterior SD and HDI.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            The columns of :meth:`summary`, for the draws of :meth:`standardized_draws`.
        """
        return self._table(self.standardized_draws(), hdi_prob)

    def summary(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """One row per parameter: ``lhs``, ``op``, ``rhs``, ``label``, ``mean``, ``sd``,
        ``lower``, ``upper`` (HDI), ``p_positive``, ``r_hat``, ``ess_bulk``.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            One row per entry of :meth:`draws`; ``op`` is lavaan's (``=~``, ``~``, ``~~``,
            ``|`` for thresholds, ``:=`` for defined parameters). ``.attrs["verdict"]``
            holds the verdict's headline.

        Examples
        --------
        >>> fit.summary().query("op == '=~'")  # doctest: +SKIP
        """
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


def _row(x: np.ndarray, hdi_prob: float, **keys) -> dict:
    lo, hi = az.hdi(x, hdi_prob=hdi_prob)
    return {**keys, "mean": float(x.mean()), "sd": float(x.std()), "lower": float(lo),
            "upper": float(hi)}


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
        vary_slopes: bool | Collection[str] = True, free_slopes: Collection[str] = (),
        weights: str | None = None, engine: str = "auto", origin: str = "population",
        pooling: str = "noncentred", sd_prior: str = "gamma", scores: str = "noncentred",
        anchor: str = "average", sampler: Sampler | None = None,
        **sampler_options) -> SemFit:
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
        level the reference: the first in sorted order, or a categorical column's first
        category), structural slopes partially pooled across groups.
    invariance : {"scalar", "configural", "approximate"}
        Measurement invariance across groups (see :mod:`coprod_bayes.engines.sem_latent`).
    link : {"logit", "probit"}
        Of the ordinal items (logit is about 3x cheaper to evaluate).
    vary_slopes : bool or collection of str, default True
        With ``group``: structural slopes vary by group (partial pooling); a collection
        names the latent outcomes whose slopes vary (the others are equal across groups)
        or single paths (``"efficacy~conditions"``).
    free_slopes : collection of str, optional
        With ``group``: latent outcomes (or single paths, ``"efficacy~age"``) whose
        regressions are estimated separately in every group (no pooling; lavaan's
        multi-group default), e.g. nuisance regressions. A path in both is free.
    weights : str, optional
        A survey-weight column (a Survey's own by default), used by
        :meth:`SemFit.latent_means` (post-stratified latent means); the likelihood is
        unweighted.
    engine : {"auto", "closed_form", "latent"}
        ``auto``: latent variables integrated out analytically when every indicator is
        continuous and complete and there are no groups or covariates; otherwise
        respondent-level latent scores (missing responses absent from the likelihood).
    origin : {"population", "sample"}
        Latent-score engine: the coordinates the sampler sees (the same posterior; see
        :mod:`coprod_bayes.engines.sem_latent`, "The origin and scale the sampler sees").
        ``"sample"`` mixes better per draw on some models but costs more per gradient and
        to compile (docs/sem.md).
    pooling : {"noncentred", "centred"}
        Latent-score engine, the partially pooled slopes: ``"noncentred"`` samples each
        group's standardised deviation (b_g = B + sigma * d_g, best where a group's data say
        little about its slope), ``"centred"`` each group's slope itself (b_g ~ Normal(B,
        sigma), best where every group's data pin its slope down, as with hundreds of
        respondents per country). The same posterior.
    sd_prior : {"gamma", "halfnormal"}, default "gamma"
        Latent-score engine: the prior of the between-group SDs of partially pooled slopes,
        Gamma(2, 20) or HalfNormal(0.1) (see :mod:`coprod_bayes.engines.sem_latent`).
    scores : {"noncentred", "informed"}, default "noncentred"
        Latent-score engine, population origin: the coordinates of the respondents' scores.
        ``"noncentred"`` samples the standard scores z ~ Normal(0, I) themselves;
        ``"informed"`` centres each respondent's z on a Gaussian approximation of where its
        answers put it, given the parameters, so that the scores move with the loadings,
        thresholds, correlations and slopes: three to six times the effective draws per
        draw on the latent specs, at about twice the cost per gradient and a longer numba
        compile (use ``backend="nutpie-jax"``). The same posterior (an exact change of
        variables; docs/sem.md, "Speed").
    anchor : {"average", "reference"}, default "average"
        Latent-score engine, population origin with groups whose latent means are free: the
        location and unit the sampler sees. ``"average"`` samples the thresholds relative to
        the groups' size-weighted average latent mean, the groups' means and log SDs as
        deviations from their averages, slopes in each latent variable's geometric-mean
        unit and loadings in its total-SD unit, an equation's slopes on correlated
        exogenous latent variables whitened, and a partially pooled slope as the groups'
        mean slope (its deviations in a basis whose first axis is their mean);
        ``"reference"`` samples the parameters as written (the reference group's mean 0
        and SD 1). The same posterior (an exact change of variables;
        :mod:`coprod_bayes.engines.sem_latent`, "The location and unit the sampler sees").
    sampler : Sampler, optional
        Sampler settings. By default ``Sampler()`` with ``mass_matrix="low_rank"`` for the
        latent-score engine (``"diag"`` for the closed form), and with ``draws=2500`` and
        ``target_accept=0.98`` under approximate invariance with groups.
    **sampler_options
        Changes to the sampler settings (``draws=500``, ``seed=1``), applied to
        ``sampler`` or to the default.

    Returns
    -------
    SemFit
        The posterior, the parsed model, the data as read and the convergence verdict.

    Raises
    ------
    SpecError
        If the syntax does not parse or has no latent variable, a model variable is not a
        column of the data, ``engine`` is unknown, ``engine="closed_form"`` is asked for
        ordinal items or groups, or ``invariance``, ``link``, ``origin``, ``pooling``,
        ``sd_prior``, ``scores`` or ``anchor`` is not one of its options.
    SurveyDataError
        If a column is not numeric, a covariate, group or weight is missing for some
        respondent, a respondent answered none of the items, an indicator does not vary, or
        (closed form) a continuous indicator has missing values.

    Warns
    -----
    ConvergenceWarning
        If the fit did not converge.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=200, seed=1)
    >>> model = '''
    ... efficacy =~ efficacy_safety + efficacy_environment + efficacy_health
    ... collective =~ collective_safety_1 + collective_environment_1 + collective_health_1
    ... collective ~ efficacy
    ... '''
    >>> fit = cb.sem(model, s, group="country")  # doctest: +SKIP
    >>> fit.summary()  # doctest: +SKIP
    >>> fit.standardized_paths()  # doctest: +SKIP
    """
    from dataclasses import replace

    from .survey.survey import Survey

    syntax = parse_model(model) if isinstance(model, str) else model
    if isinstance(data, Survey):
        if weights is None and data.codebook.weight in data.frame.columns:
            weights = data.codebook.weight
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
    # approximate invariance: a deviant item's group deviation trades off against that
    # group's latent mean (a ridge only the prior bounds): 1,500 draws gave a tail ESS of
    # 277 on the four safety items, so it draws 2,500 by default
    # the approximate widths are funnels where few items per group inform a deviation (35
    # divergences at target_accept 0.9 in the two-wave model, 1-16 at 0.95 in the planted
    # three-group test): 0.98 by default
    approx = group is not None and invariance == "approximate"
    s = sampler or Sampler(mass_matrix="diag" if closed else "low_rank",
                           draws=2500 if approx else 1000,
                           target_accept=0.98 if approx else 0.9)
    if sampler_options:
        s = replace(s, **sampler_options)
    if closed:
        data_ = prepare_sem(syntax, data)
        pmodel = build_sem_model(syntax, data_)
    else:
        data_ = prepare_latent(syntax, data, ordered, group, weights)
        pmodel = build_latent_model(syntax, data_, invariance, link, vary_slopes, free_slopes,
                                    origin=origin, pooling=pooling,
                                    sd_prior=sd_prior, scores=scores, anchor=anchor)
    # the loadings' free variables (on the scores' sample scale: "f=~x_rel")
    loadings = {pmodel[n] for p in syntax.parameters if p.op == "=~"
                for n in (p.name, f"{p.name}_rel")
                if n in pmodel.named_vars and pmodel[n] in pmodel.free_RVs}
    idata = sample(pmodel, s, no_jitter=loadings)
    if not closed:
        redraw_independent(idata, pmodel, s.seed)
    # the verdict covers the model's parameters, not each respondent's latent score ("z")
    # nor constants (the reference group's latent mean)
    free = (judged_variables(pmodel) if not closed
            else [v.name for v in pmodel.free_RVs])
    named = [p.name for p in syntax.parameters if p.name in pmodel.named_vars]
    verdict = assess(idata, free + [n for n in named if n not in free]
                     + [d.name for d in syntax.definitions])
    if not verdict.converged:
        warnings.warn(f"sem: {verdict.headline}", ConvergenceWarning, stacklevel=2)
    return SemFit(idata, syntax, verdict, data_, link=link,
                  invariance=invariance if not closed else None)


def _json_value(v):
    """numpy scalars as Python numbers, anything else as its text (JSON's fallback)."""
    return v.item() if isinstance(v, np.generic) else str(v)


def _data_to_dataset(data):
    """The engine's data (:class:`LatentData` or :class:`SemData`) as an xarray Dataset:
    arrays as variables (their own dimensions), the rest as JSON attributes."""
    import json
    from dataclasses import fields

    import xarray as xr

    out, meta = {}, {}
    for f in fields(data):
        v = getattr(data, f.name)
        if isinstance(v, np.ndarray):
            out[f.name] = ([f"{f.name}_{k}" for k in range(v.ndim)], v)
        elif isinstance(v, pd.Index):
            values = np.asarray(v)
            as_text = values.dtype.kind not in "iufb"
            out[f.name] = ([f"{f.name}_0"], values.astype(str) if as_text else values)
            meta["index_as_text"] = as_text
            meta["index_name"] = v.name
        elif isinstance(v, pd.DataFrame):
            meta[f.name] = v.to_json(orient="split")
        else:
            meta[f.name] = v
    meta["kind"] = type(data).__name__
    return xr.Dataset(out, attrs={"coprod_meta": json.dumps(meta, default=_json_value)})


def _data_from_dataset(ds):
    """Inverse of :func:`_data_to_dataset`."""
    import io
    import json
    from dataclasses import fields

    from .engines.sem_normal import SemData

    meta = json.loads(ds.attrs["coprod_meta"])
    cls = {"LatentData": LatentData, "SemData": SemData}[meta.pop("kind")]
    as_text, name = meta.pop("index_as_text", False), meta.pop("index_name", None)
    values = {}
    for f in fields(cls):
        if f.name in ds:
            v = ds[f.name].to_numpy()
            values[f.name] = pd.Index(v.astype(object) if as_text else v, name=name) \
                if f.name == "index" else v
        elif f.name == "frame":
            values[f.name] = pd.read_json(io.StringIO(meta[f.name]), orient="split",
                                          dtype=False)
        elif f.name in meta:
            values[f.name] = meta[f.name]
    return cls(**values)


def load_sem_fit(path, idata=None) -> SemFit:
    """Read a fit written by :meth:`SemFit.save` (``cb.load_fit`` calls this for such a
    file); its summaries equal the original's.

    Parameters
    ----------
    path : str or Path
        A netCDF file written by :meth:`SemFit.save`.
    idata : arviz.InferenceData, optional
        The file's InferenceData if already read (by ``load_fit``).

    Returns
    -------
    SemFit
        With the stored posterior, model syntax, verdict, link, invariance and data; for a
        latent spec's fit also ``spec``, ``syntax``, ``excluded`` and ``n_excluded``.

    Raises
    ------
    SpecError
        If the file holds no SEM fit of coprod_bayes (older files, written before the data
        were stored, cannot be read back as a fit: open them with
        :func:`arviz.from_netcdf`).
    """
    import io
    import json

    import xarray as xr

    from .spec.spec import Spec

    idata = az.from_netcdf(str(path)) if idata is None else idata
    attrs = idata.posterior.attrs
    if attrs.get("coprod_kind") != "sem" or "coprod_data" not in idata.groups():
        raise SpecError(f"{path}: not a SEM fit written by SemFit.save of this version (no "
                        "data stored in it); arviz.from_netcdf reads its posterior")
    data = _data_from_dataset(xr.load_dataset(str(path), group="coprod_data"))
    delattr(idata, "coprod_data")
    v = json.loads(attrs["coprod_verdict"])
    v["problems"] = tuple(v["problems"])
    fit = SemFit(idata, parse_model(attrs["coprod_model"]), Verdict(**v), data,
                 link=attrs["coprod_link"], invariance=attrs["coprod_invariance"] or None)
    if "coprod_spec" in attrs:
        fit.spec = Spec.from_dict(json.loads(attrs["coprod_spec"]), where=str(path))
        fit.syntax = attrs["coprod_model"]
        fit.excluded = pd.read_json(io.StringIO(attrs["coprod_excluded"]), orient="table")
        fit.n_excluded = int(len(fit.excluded))
    return fit


def compare_loo(fits: dict[str, SemFit], draws: int = 200, points: int = 128,
                seed: int = 0) -> pd.DataFrame:
    """Compare latent-score fits of the same respondents and items (e.g. the invariance
    variants: ``{"configural": f1, "scalar": f2, "approximate": f3}``) by PSIS-LOO on the
    marginal likelihood (:meth:`SemFit.marginal_loglik`); :func:`arviz.compare`'s table,
    best first (``elpd_loo``, ``elpd_diff``, ``dse``, ``p_loo``, ``weight``), with the
    number of respondents whose Pareto k exceeds 0.7 (``n_bad_k``).

    Parameters
    ----------
    fits : dict of str to SemFit
        Two or more latent-score fits by name.
    draws : int, default 200
        About how many posterior draws to use per fit (see :meth:`SemFit.marginal_loglik`).
    points : int, default 128
        Quasi-Monte Carlo points per respondent.
    seed : int, default 0
        Seed of the scrambled Sobol points, the same for every fit.

    Returns
    -------
    DataFrame
        Indexed by the fits' names, best first.

    Raises
    ------
    SpecError
        Fewer than two fits, fits of different numbers of respondents (only the counts are
        compared), or a closed-form fit (no latent scores).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> cb.compare_loo({"scalar": scalar_fit, "approximate": approx_fit})  # doctest: +SKIP
    >>> cb.compare_loo({})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: compare_loo(): give two or more fits, ...
    """
    if len(fits) < 2:
        raise SpecError("compare_loo(): give two or more fits, e.g. {'scalar': f1, "
                        "'approximate': f2}")
    ns = {name: f.n for name, f in fits.items()}
    if len(set(ns.values())) > 1:
        raise SpecError(f"compare_loo(): the fits are of different numbers of respondents {ns}")
    loos = {name: f.loo(draws, points, seed) for name, f in fits.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = az.compare(loos)
    table["n_bad_k"] = [int((loos[name].pareto_k.values > 0.7).sum()) for name in table.index]
    return table


def cfa(model: str | ModelSyntax, data, **kwargs) -> SemFit:
    """A confirmatory factor analysis: :func:`sem` (as lavaan's ``cfa()``, the same model).

    Parameters
    ----------
    model : str or ModelSyntax
        lavaan model syntax, usually measurement (``=~``) lines only.
    data : DataFrame or Survey
        One row per respondent (see :func:`sem`).
    **kwargs
        Passed to :func:`sem` (``ordered``, ``group``, ``invariance``, sampler settings
        ...).

    Returns
    -------
    SemFit

    Raises
    ------
    SpecError, SurveyDataError
        As :func:`sem`.

    Warns
    -----
    ConvergenceWarning
        If the fit did not converge.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=200, seed=1, nonresponse=False)
    >>> fit = cb.cfa("efficacy =~ efficacy_safety + efficacy_environment + efficacy_health",
    ...              s, group="country", invariance="scalar")  # doctest: +SKIP
    >>> fit.reliability()  # doctest: +SKIP
    """
    return sem(model, data, **kwargs)
