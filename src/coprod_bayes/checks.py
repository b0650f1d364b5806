"""Model checks: prior and posterior predictive checks, and LOO comparison of pooling choices."""

from __future__ import annotations

from dataclasses import replace

import arviz as az
import numpy as np
import pandas as pd

from .engines import regression
from .fit import Fit, fit
from .spec.spec import Spec, load_spec
from .survey.survey import Survey

__all__ = ["prior_predictive", "posterior_predictive", "compare_models", "pooling_variants"]


def prior_predictive(spec: str | Spec, survey: Survey, draws: int = 1000, seed: int = 0) -> pd.DataFrame:
    """What the priors imply before seeing the outcome: per prior draw and group, the
    standardised slopes' spread and the R-squared they imply on the survey's predictors.

    Returns a tidy frame: ``draw``, ``group``, ``r2`` (implied), ``max_abs_beta`` (largest
    standardised slope). A sensible prior puts most R-squared below 0.5 and slopes within +-1.
    """
    spec = load_spec(spec)
    data = regression.prepare(spec, survey)
    p, G = len(data.coefficients), len(data.groups)
    d = regression.prior_draws(spec, G, p, draws, seed)
    r2 = regression.bayes_r2(data, d["beta"][None], d["sigma"][None])[0]
    rows = pd.DataFrame({
        "draw": np.repeat(np.arange(draws), G), "group": np.tile(data.groups, draws),
        "r2": r2.ravel(), "max_abs_beta": np.abs(d["beta"][:, :, 1:]).max(-1).ravel(),
    })
    return rows


def _fit_data(f: Fit, survey: Survey) -> regression.RegressionData:
    return regression.prepare(f.spec, survey)


def posterior_predictive(f: Fit, survey: Survey, n_draws: int = 100, seed: int = 0) -> pd.DataFrame:
    """Observed and replicated index values (0-100) per respondent used by the fit.

    Returns a tidy frame: ``group``, ``observed`` and ``replicate_0`` ... ``replicate_{n-1}``.
    The replicates come from the normal likelihood, so they show where a normal model of a
    bounded, lumpy index misses (below 0, above 100, skew).
    """
    data = _fit_data(f, survey)
    post = f.idata.posterior
    beta = post["beta"].values
    if beta.ndim == 3:  # no group dimension cannot happen; keep shapes explicit
        raise ValueError("unexpected beta shape")
    yrep = regression.predict(data, beta, post["sigma"].values, seed, n_draws)
    observed = data.y_loc[data.group_index] + data.y_scale[data.group_index] * data.y
    out = pd.DataFrame({"group": np.asarray(data.groups)[data.group_index], "observed": observed})
    reps = pd.DataFrame(yrep.T, columns=[f"replicate_{i}" for i in range(yrep.shape[0])])
    return pd.concat([out, reps], axis=1)


def pooling_variants(spec: str | Spec) -> dict[str, Spec]:
    """The spec with complete, no and partial pooling of its coefficients across groups."""
    spec = load_spec(spec)
    return {
        "complete pooling": replace(spec, name=f"{spec.name}_complete", pooling="complete",
                                    varying="all"),
        "no pooling": replace(spec, name=f"{spec.name}_none", pooling="none"),
        "partial pooling": replace(spec, name=f"{spec.name}_partial", pooling="partial",
                                   varying="all"),
    }


def compare_models(fits: dict[str, Fit], survey: Survey) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PSIS-LOO of several fits of the same outcome on the same respondents (ArviZ).

    Returns the comparison table (``az.compare``: elpd_loo, p_loo, elpd differences with
    their SE, weights) and a Pareto-k table per model (counts of k <= 0.7, 0.7-1, > 1: a
    respondent with k > 0.7 makes that model's LOO estimate unreliable).
    """
    idatas, ks = {}, []
    for name, f in fits.items():
        data = _fit_data(f, survey)
        ll = regression.pointwise_loglik(data, f.idata.posterior["beta"].values,
                                         f.idata.posterior["sigma"].values)
        idata = az.from_dict(posterior={"sigma": f.idata.posterior["sigma"].values},
                             log_likelihood={"y": ll})
        idatas[name] = idata
        loo = az.loo(idata, pointwise=True)
        k = np.asarray(loo.pareto_k)
        ks.append({"model": name, "k <= 0.7": int((k <= 0.7).sum()),
                   "0.7 < k <= 1": int(((k > 0.7) & (k <= 1)).sum()), "k > 1": int((k > 1).sum()),
                   "max k": float(k.max())})
    table = az.compare(idatas, ic="loo")
    return table, pd.DataFrame(ks)


def fit_pooling_variants(spec: str | Spec, survey: Survey, **sampler_options) -> dict[str, Fit]:
    """Fit the three pooling variants of a spec (see :func:`pooling_variants`)."""
    return {name: fit(s, survey, **sampler_options) for name, s in pooling_variants(spec).items()}
