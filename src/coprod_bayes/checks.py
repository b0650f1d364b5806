"""Model checks: prior and posterior predictive checks, and LOO comparison of pooling choices."""

from __future__ import annotations

import warnings
from dataclasses import replace

import arviz as az
import numpy as np
import pandas as pd

from .engines import regression
from .errors import SpecError
from .fit import Fit, data_fingerprint, fit
from .spec.spec import Spec, load_spec
from .survey.survey import Survey

__all__ = ["prior_predictive", "posterior_predictive", "compare_models", "pooling_variants",
           "fit_pooling_variants"]


def prior_predictive(spec: str | Spec, survey: Survey, draws: int = 1000,
                     seed: int = 0) -> pd.DataFrame:
    """What the priors imply before seeing the outcome: per prior draw and group, the
    standardised slopes' spread and the R-squared they imply on the survey's predictors.

    The papers' R-squared were 0.07-0.18 per country; a prior that puts much of its mass
    near 1, or slopes beyond +-1, says more than one believes.
    :func:`coprod_bayes.plot.prior_predictive` draws both. No sampling: the draws come
    straight from the priors.

    Parameters
    ----------
    spec : str or Spec
        A respondent-level index regression spec, or a built-in spec's name or TOML path.
    survey : Survey
        Supplies the predictors (the respondents the spec would use) and the groups.
    draws : int, default 1000
        Number of prior draws.
    seed : int, default 0
        Seed of the prior draws.

    Returns
    -------
    DataFrame
        One row per draw and group: ``draw``, ``group``, ``r2`` (the R-squared implied on
        the survey's predictors), ``max_abs_beta`` (largest absolute standardised slope,
        the intercept excluded).

    Raises
    ------
    SpecError
        If the spec is by policy area (``level="area"``), does not fit the survey's
        codebook, or a group has too few complete respondents.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> pp = cb.prior_predictive("table3_collective", cb.simulate(n_per_country=100, seed=1))
    >>> round(float(pp["r2"].median()), 2), bool((pp["max_abs_beta"] < 1).mean() > 0.9)
    (0.57, True)
    """
    spec = load_spec(spec)
    _respondent_level(spec, "prior_predictive")
    data = regression.prepare(spec, survey)
    p, G = len(data.coefficients), len(data.groups)
    d = regression.prior_draws(spec, G, p, draws, seed)
    r2 = regression.bayes_r2(data, d["beta"][None], d["sigma"][None])[0]
    rows = pd.DataFrame({
        "draw": np.repeat(np.arange(draws), G), "group": np.tile(data.groups, draws),
        "r2": r2.ravel(), "max_abs_beta": np.abs(d["beta"][:, :, 1:]).max(-1).ravel(),
    })
    return rows


def _respondent_level(spec: Spec, what: str) -> None:
    if spec.level != "respondent":
        raise SpecError(f"{what}: spec {spec.name!r} is by policy area (level 'area'); only "
                        "respondent-level specs are supported")


def _fit_data(f: Fit, survey: Survey) -> regression.RegressionData:
    """The fit's analysis data, after checking it is the survey the fit used."""
    _respondent_level(f.spec, "model checks")
    if data_fingerprint(survey) != f.fingerprint:
        raise SpecError(f"fit {f.spec.name!r} was made on other data (fingerprint "
                        f"{f.fingerprint}, this survey {data_fingerprint(survey)})")
    return regression.prepare(f.spec, survey)


def posterior_predictive(f: Fit, survey: Survey, n_draws: int = 100, seed: int = 0) -> pd.DataFrame:
    """Observed and replicated index values (0-100) per respondent used by the fit.

    The replicates come from the normal likelihood, so they show where a normal model of a
    bounded, lumpy index misses (below 0, above 100, skew).

    Parameters
    ----------
    f : Fit
        A fit of a respondent-level index regression spec.
    survey : Survey
        The survey the fit was made on (checked by its fingerprint).
    n_draws : int, default 100
        Number of replicated data sets.
    seed : int, default 0
        Seed of the replications.

    Returns
    -------
    DataFrame
        One row per respondent used by the fit: ``respondent_id``, ``group``, ``observed``
        and ``replicate_0`` ... ``replicate_{n_draws - 1}``.

    Raises
    ------
    SpecError
        If the fit's spec is by policy area, or the fit was made on other data.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> f = cb.fit("table3_collective", s)  # doctest: +SKIP
    >>> pp = cb.posterior_predictive(f, s, n_draws=50)  # doctest: +SKIP
    >>> (pp.filter(like="replicate_") > 100).mean().mean()  # doctest: +SKIP
    """
    data = _fit_data(f, survey)
    post = f.idata.posterior
    beta = post["beta"].values
    yrep = regression.predict(data, beta, post["sigma"].values, seed, n_draws)
    observed = data.y_loc[data.group_index] + data.y_scale[data.group_index] * data.y
    out = pd.DataFrame({"respondent_id": data.respondent_id,
                        "group": np.asarray(data.groups)[data.group_index], "observed": observed})
    reps = pd.DataFrame(yrep.T, columns=[f"replicate_{i}" for i in range(yrep.shape[0])])
    return pd.concat([out, reps], axis=1)


def pooling_variants(spec: str | Spec) -> dict[str, Spec]:
    """The spec with complete, no and partial pooling of its coefficients across groups.

    Parameters
    ----------
    spec : str or Spec
        A regression spec, or a built-in spec's name or TOML path.

    Returns
    -------
    dict of str to Spec
        ``"complete pooling"``, ``"no pooling"`` and ``"partial pooling"``: copies of the
        spec named ``<name>_complete``, ``<name>_none`` and ``<name>_partial``; the
        complete and partial ones with ``varying="all"``, the no-pooling one keeping the
        spec's ``varying``.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> variants = cb.pooling_variants("table3_collective")
    >>> {label: s.pooling for label, s in variants.items()}
    {'complete pooling': 'complete', 'no pooling': 'none', 'partial pooling': 'partial'}
    >>> variants["no pooling"].name
    'table3_collective_none'
    """
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

    :func:`coprod_bayes.plot.model_comparison` draws the comparison table.

    Parameters
    ----------
    fits : dict of str to Fit
        Respondent-level index regression fits by name (e.g. the result of
        :func:`fit_pooling_variants`).
    survey : Survey
        The survey every fit was made on (checked by its fingerprint).

    Returns
    -------
    comparison : DataFrame
        ``az.compare``'s table, best model first: elpd_loo, p_loo, elpd differences with
        their SE, weights.
    pareto_k : DataFrame
        Per model: counts of respondents with k <= 0.7, 0.7 < k <= 1 and k > 1, and the
        largest k (a respondent with k > 0.7 makes that model's LOO estimate unreliable).

    Raises
    ------
    SpecError
        If the fits do not share the outcome, a fit's spec is by policy area, a fit was
        made on other data, or the fits used different respondents.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fits = cb.fit_pooling_variants("table3_collective", s)  # doctest: +SKIP
    >>> table, pareto_k = cb.compare_models(fits, s)  # doctest: +SKIP
    >>> table.index[0]  # doctest: +SKIP
    """
    outcomes = {f.spec.outcome for f in fits.values()}
    if len(outcomes) != 1:
        raise SpecError(f"compare_models: the fits model different outcomes {sorted(outcomes)}; "
                        "LOO compares models of the same data only")
    datas = {name: _fit_data(f, survey) for name, f in fits.items()}
    first_name, first = next(iter(datas.items()))
    for name, data in datas.items():  # before any LOO is computed
        if not np.array_equal(data.respondent_id, first.respondent_id):
            raise SpecError(f"compare_models: fit {name!r} used other respondents than "
                            f"{first_name!r} (different predictors or missing data)")
    idatas, ks = {}, []
    for name, f in fits.items():
        ll = regression.pointwise_loglik(datas[name], f.idata.posterior["beta"].values,
                                         f.idata.posterior["sigma"].values)
        idata = az.from_dict(posterior={"sigma": f.idata.posterior["sigma"].values},
                             log_likelihood={"y": ll})
        idatas[name] = az.loo(idata, pointwise=True)  # az.compare takes these as they are
        k = np.asarray(idatas[name].pareto_k)
        ks.append({"model": name, "k <= 0.7": int((k <= 0.7).sum()),
                   "0.7 < k <= 1": int(((k > 0.7) & (k <= 1)).sum()), "k > 1": int((k > 1).sum()),
                   "max k": float(k.max())})
    with warnings.catch_warnings():  # ArviZ 0.23 sorts in place, which pandas 3.1 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword")
        table = az.compare(idatas, ic="loo")
    return table, pd.DataFrame(ks)


def fit_pooling_variants(spec: str | Spec, survey: Survey, **sampler_options) -> dict[str, Fit]:
    """Fit the three pooling variants of a spec (see :func:`pooling_variants`).

    Parameters
    ----------
    spec : str or Spec
        A regression spec, or a built-in spec's name or TOML path.
    survey : Survey
        The survey to fit.
    **sampler_options
        Override the spec's sampler settings, as for :func:`coprod_bayes.fit`.

    Returns
    -------
    dict of str to Fit
        ``"complete pooling"``, ``"no pooling"`` and ``"partial pooling"``, each fitted with
        :func:`coprod_bayes.fit` (which warns for each that does not converge).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fits = cb.fit_pooling_variants("table3_collective", s, draws=500)  # doctest: +SKIP
    >>> table, pareto_k = cb.compare_models(fits, s)  # doctest: +SKIP
    """
    return {name: fit(s, survey, **sampler_options) for name, s in pooling_variants(spec).items()}
