"""Simulation-based checks of the regression engines: outcomes drawn from the model itself,
with known parameters, on a survey's own predictors, then fitted and compared with the truth.

The survey simulator's truth is a latent-variable model (whose index regressions are
attenuated by measurement error), so it cannot check that a regression engine recovers its
own parameters; these functions can. ``benchmarks/recovery.py`` runs them over many seeds;
the tests run one reduced case each.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .engines import areas, regression
from .fit import assess, sample
from .spec.spec import Spec
from .survey.survey import Survey

__all__ = ["regression_recovery", "area_recovery", "latent_truth", "latent_recovery"]


def _coverage(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out["z"] = (out["post_mean"] - out["truth"]) / out["post_sd"]
    out["within_2sd"] = out["z"].abs() < 2
    return out


def regression_recovery(spec: Spec, survey: Survey, seed: int, mu: np.ndarray | None = None,
                        tau: float = 0.1, sigma: float = 0.9) -> tuple[pd.DataFrame, object]:
    """Draw an outcome from the hierarchical regression with known parameters on the spec's
    (z-scored) predictors, fit it, and compare.

    ``mu`` (slopes, without intercept; default: evenly spaced in [-0.3, 0.3]); country slopes
    are ``mu + tau * N(0, 1)``, intercepts ``N(0, tau)``, residual SD ``sigma``.

    Returns
    -------
    (DataFrame, Verdict)
        One row per population slope (``parameter = "mu"``) and country slope (``"beta"``):
        ``truth``, ``post_mean``, ``post_sd``, ``z``, ``within_2sd``; and the fit's verdict.
    """
    base = regression.prepare(spec, survey)
    G, p = len(base.groups), len(base.coefficients)
    rng = np.random.default_rng(seed)
    mu = np.linspace(-0.3, 0.3, p - 1) if mu is None else np.asarray(mu, float)
    mu_full = np.r_[0.0, mu]
    beta = mu_full + tau * rng.standard_normal((G, p))
    gi = base.group_index
    y = np.einsum("ip,ip->i", base.X, beta[gi]) + sigma * rng.standard_normal(len(gi))
    Xw = base.X * base.w[:, None]
    data = replace(
        base, y=y,
        Xty=np.stack([Xw[gi == k].T @ y[gi == k] for k in range(G)]),
        yty=np.array([np.sum(base.w[gi == k] * y[gi == k] ** 2) for k in range(G)]),
        y_loc=np.zeros(G), y_scale=np.ones(G))
    idata = sample(regression.build_model(spec, data), spec.sampler)
    verdict = assess(idata, [v for v in ("mu", "tau", "sigma") if v in idata.posterior])
    draws = regression.draw_group_coefficients(spec, data, idata.posterior, spec.sampler.seed)
    draws = draws.reshape(-1, G, p)
    rows = []
    if "mu" in idata.posterior:
        # the posterior SD of mu includes the realised countries' spread around it
        m = idata.posterior["mu"].values.reshape(-1, p)
        for j in range(1, p):
            rows.append({"parameter": "mu", "group": "", "coef": base.coefficients[j],
                         "truth": mu_full[j], "post_mean": m[:, j].mean(),
                         "post_sd": m[:, j].std()})
    for k, g in enumerate(base.groups):
        for j in range(1, p):
            rows.append({"parameter": "beta", "group": g, "coef": base.coefficients[j],
                         "truth": beta[k, j], "post_mean": draws[:, k, j].mean(),
                         "post_sd": draws[:, k, j].std()})
    return _coverage(rows), verdict


def area_recovery(spec: Spec, survey: Survey, seed: int, tau_country: float = 0.08,
                  tau_context: float = 0.05, gamma_sd: float = 0.1, omega: float = 0.5,
                  sigma: float = 0.8) -> tuple[pd.DataFrame, object]:
    """Draw the area-level outcome from the policy-area model with known parameters on the
    spec's (z-scored) predictors, fit it, and compare every context's slope and the
    population slopes with the truth (as :func:`regression_recovery`)."""
    base = areas.prepare_areas(spec, survey)
    C, A, p = len(base.countries), len(base.areas), len(base.coefficients)
    rng = np.random.default_rng(seed)
    mu = np.r_[0.0, np.linspace(-0.3, 0.3, p - 1)]
    gamma = gamma_sd * rng.standard_normal((A, p))
    gamma -= gamma.mean(0)
    alpha = tau_country * rng.standard_normal((C, p))
    delta = tau_context * rng.standard_normal((C, A, p))
    beta = mu + gamma[None] + alpha[:, None] + delta  # (country, area, coef)
    d = base.long.copy()
    ci = d["country"].map({c: i for i, c in enumerate(base.countries)}).to_numpy()
    ai = d["area"].map({a: j for j, a in enumerate(base.areas)}).to_numpy()
    X = np.column_stack([np.ones(len(d)), d[list(spec.predictors)].to_numpy(float)])
    ids, inverse = np.unique(d["respondent_id"].to_numpy(), return_inverse=True)
    u = omega * rng.standard_normal(len(ids))
    d[spec.outcome] = (np.einsum("ip,ip->i", X, beta[ci, ai]) + u[inverse]
                       + sigma * rng.standard_normal(len(d)))
    data = replace(base, long=d,
                   classes=areas.area_statistics(d, spec, base.countries, base.areas))
    idata = sample(areas.build_area_model(spec, data), spec.sampler)
    verdict = assess(idata, ["mu", "gamma", "tau_country", "tau_context", "sigma", "omega"])
    draws = areas.draw_context_coefficients(data, idata.posterior, spec.sampler.seed)
    draws = draws.reshape(-1, C, A, p)
    m = idata.posterior["mu"].values.reshape(-1, p)
    rows = [{"parameter": "mu", "group": "", "coef": base.coefficients[j], "truth": mu[j],
             "post_mean": m[:, j].mean(), "post_sd": m[:, j].std()} for j in range(1, p)]
    for i, c in enumerate(base.countries):
        for a_, area in enumerate(base.areas):
            for j in range(1, p):
                rows.append({"parameter": "beta", "group": f"{c}:{area}",
                             "coef": base.coefficients[j], "truth": beta[i, a_, j],
                             "post_mean": draws[:, i, a_, j].mean(),
                             "post_sd": draws[:, i, a_, j].std()})
    return _coverage(rows), verdict


# ----------------------------------------------------------------------------- latent specs
def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients of y on [1, X] and the residual SD (divisor n - p)."""
    A = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    res = y - A @ coef
    return coef, float(np.sqrt(res @ res / (len(y) - A.shape[1])))


def latent_truth(fit, survey: Survey) -> pd.DataFrame:
    """The truth of a latent spec's fit to a survey simulated with ``person_level=True``,
    in the model's own parametrisation.

    The estimand is the oracle regression: the model's structural equations fitted by least
    squares, group by group, to the respondents' true latent values (which the simulator
    keeps) and the model's own covariates. Each latent variable's scale is its residual SD
    in the reference group and its origin there its intercept (covariates centred), as the
    model identifies it (lavaan's ``std.lv`` in the first group). So, for latent f with
    simulator loading lambda and thresholds tau on an item, origin a_f and scale s_f: the
    model's loading is lambda s_f and its thresholds tau - lambda a_f; the groups' latent
    means are (intercept - a_f) / s_f (for the outcome, at the reference origins of its
    predictors) and their SDs residual SD / s_f; paths are scaled by s_pred / s_outcome.
    Standardised paths (``kind = "std_path"``) use the group's SDs of the true values.

    Returns one row per parameter: ``kind`` (loading, threshold, latent_mean, latent_sd,
    correlation, path, effect, std_path), ``group``, ``parameter`` and ``truth``.

    Raises
    ------
    SpecError
        The survey was not simulated with ``person_level=True`` (the default simulator's
        constructs are area-specific, which a one-factor-per-construct model does not
        have as parameters), or a fit that is not of a latent spec.
    """
    from .engines.sem_latent import _depths
    from .errors import SpecError

    truth = survey.truth or {}
    if not truth.get("person_level"):
        raise SpecError("latent_truth(): simulate the survey with person_level=True; the "
                        "default simulator's constructs are area-specific, and a "
                        "one-factor-per-construct model has no parameter for them")
    if getattr(fit, "spec", None) is None:
        raise SpecError("latent_truth(): a fit of a latent spec (cb.fit('latent_...'))")
    data, model, cb = fit.data, fit.model, survey.codebook
    lat, covs = model.latent, data.covariates
    ids = survey.frame.loc[data.index, cb.id].to_numpy()
    true = truth["latent"].groupby(cb.id)[lat].mean().loc[ids].to_numpy()  # (n, m)
    x = data.x
    li = {f: i for i, f in enumerate(lat)}
    parents = {f: [p.rhs for p in model.regressions if p.lhs == f] for f in lat}
    depth = _depths(model, li)
    if depth is None:
        raise SpecError("latent_truth(): the latent regressions have a cycle")
    order = sorted(lat, key=depth.__getitem__)  # predictors before what they predict
    G = len(data.groups)
    coef = {}   # (group, latent) -> {predictor: slope, "1": intercept}
    resid = {}  # (group, latent) -> residual SD
    residuals = {}
    for k in range(G):
        rows = data.g == k
        for f in order:
            preds = parents[f]
            X = np.column_stack([true[rows, li[p]] if p in li else x[rows, covs.index(p)]
                                 for p in preds]) if preds else np.zeros((rows.sum(), 0))
            c, s = _ols(true[rows, li[f]], X)
            coef[k, f] = {"1": c[0], **dict(zip(preds, c[1:], strict=True))}
            resid[k, f] = s
            residuals[k, f] = true[rows, li[f]] - np.column_stack(
                [np.ones(rows.sum()), X]) @ c
    # origins and scales: the reference group's; an outcome's origin at its predictors' origins
    origin, scale = {}, {}
    for f in order:
        origin[f] = coef[0, f]["1"] + sum(coef[0, f][p] * origin[p] for p in parents[f] if p in li)
        scale[f] = resid[0, f]
    out = []

    def put(kind, group, parameter, value):
        out.append({"kind": kind, "group": str(group), "parameter": parameter,
                    "truth": float(value)})

    lam = truth["loadings"]
    thr = truth["thresholds"]
    for f in lat:
        for v in model.indicators(f):
            it = cb.item(v)
            if it.reverse:
                raise SpecError(f"latent_truth(): item {v!r} is reverse-keyed; its simulator "
                                "parameters are on the unreversed codes")
            put("loading", "", f"{f}=~{v}", lam[v] * scale[f])
            levels = data.levels[v]
            if list(it.scale.codes) != levels or len(levels) != len(thr[v]) + 1:
                continue  # an unobserved category merges thresholds: no one-to-one truth
            for t, tau in enumerate(thr[v]):
                put("threshold", "", f"{v}|t{t + 1}", tau - lam[v] * origin[f])
    for k, g in enumerate(data.groups):
        sd_true = true[data.g == k].std(axis=0, ddof=1)
        sd_x = x[data.g == k].std(axis=0, ddof=1)
        for f in lat:
            icpt = coef[k, f]["1"] + sum(coef[k, f][p] * origin[p] for p in parents[f] if p in li)
            if k > 0:
                put("latent_mean", g, f, (icpt - origin[f]) / scale[f])
                put("latent_sd", g, f, resid[k, f] / scale[f])
            for p in parents[f]:
                if p in li:
                    put("path", g, f"{f}~{p}", coef[k, f][p] * scale[p] / scale[f])
                    put("std_path", g, f"{f}~{p}", coef[k, f][p] * sd_true[li[p]] / sd_true[li[f]])
                else:
                    put("effect", g, f"{f}~{p}", coef[k, f][p] / scale[f])
                    put("std_path", g, f"{f}~{p}",
                        coef[k, f][p] * sd_x[covs.index(p)] / sd_true[li[f]])
        exo = [f for f in lat if not any(p in li for p in parents[f])]
        for a in range(len(exo)):
            for b in range(a + 1, len(exo)):
                r = np.corrcoef(residuals[k, exo[a]], residuals[k, exo[b]])[0, 1]
                put("correlation", g, f"{exo[a]}~~{exo[b]}", r)
    return pd.DataFrame(out)


def latent_recovery(fit, survey: Survey) -> pd.DataFrame:
    """:func:`latent_truth` beside the fit's posterior: ``post_mean``, ``post_sd``, ``z`` and
    ``within_2sd`` per parameter."""
    t = latent_truth(fit, survey)
    post = fit.idata.posterior
    data, model = fit.data, fit.model
    lat = model.latent
    li = {f: i for i, f in enumerate(lat)}
    groups = [str(g) for g in data.groups]
    flat = fit._flat
    loadings, thresholds = flat("loadings"), flat("thresholds")
    chol = flat("latent_chol")
    R = chol @ np.swapaxes(chol, -1, -2)
    paths = flat("paths") if "paths" in post else None
    effects = flat("effects") if "effects" in post else None
    mean, sd = flat("latent_mean"), flat("latent_sd")
    std = fit.standardized_paths()
    std["group"] = std["group"].astype(str)
    std = std.set_index(["group", "outcome", "predictor"])
    thr_names = list(post["thresholds"].coords["threshold"].values)
    rows = []
    for r in t.itertuples(index=False):
        k = groups.index(r.group) if r.group else 0
        if r.kind == "loading":
            f, v = r.parameter.split("=~")
            d = loadings[:, 0, data.indicators.index(v), li[f]]
        elif r.kind == "threshold":
            d = thresholds[:, 0, thr_names.index(r.parameter)]
        elif r.kind in ("latent_mean", "latent_sd"):
            d = (mean if r.kind == "latent_mean" else sd)[:, k, li[r.parameter]]
        elif r.kind == "correlation":
            a, b = r.parameter.split("~~")
            d = R[:, k, li[a], li[b]]
        elif r.kind == "path":
            f, p = r.parameter.split("~")
            d = paths[:, k, li[f], li[p]]
        elif r.kind == "effect":
            f, p = r.parameter.split("~")
            d = effects[:, k, li[f], data.covariates.index(p)]
        else:  # std_path: summarised by standardized_paths
            f, p = r.parameter.split("~")
            s = std.loc[(r.group, f, p)]
            rows.append({**r._asdict(), "post_mean": s["mean"], "post_sd": s["sd"]})
            continue
        rows.append({**r._asdict(), "post_mean": float(d.mean()), "post_sd": float(d.std())})
    return _coverage(rows)
