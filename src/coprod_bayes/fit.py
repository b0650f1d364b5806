"""Fitting a spec: sampling, the convergence verdict, and the :class:`Fit` it returns."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from .errors import ConvergenceWarning, SpecError
from .spec.spec import Sampler, Spec, load_spec
from .survey.survey import Survey

__all__ = ["Verdict", "assess", "sample", "fit", "Fit", "load_fit"]

log = logging.getLogger("coprod_bayes")

#: Convergence thresholds (Vehtari et al. 2021): R-hat, bulk and tail ESS, divergences.
RHAT_MAX, ESS_MIN = 1.01, 400


@dataclass(frozen=True)
class Verdict:
    """Whether a fit converged, with the numbers behind the answer."""

    converged: bool
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    problems: tuple[str, ...] = ()

    @property
    def headline(self) -> str:
        """One line for the top of every table: the verdict and its numbers."""
        nums = (f"max R-hat {self.max_rhat:.3f}, min bulk ESS {self.min_ess_bulk:.0f}, "
                f"min tail ESS {self.min_ess_tail:.0f}, {self.divergences} divergences")
        if self.converged:
            return f"Converged ({nums})."
        return (f"NOT CONVERGED: {'; '.join(self.problems)} ({nums}). "
                "Do not interpret these estimates.")


def assess(idata: az.InferenceData, var_names: list[str]) -> Verdict:
    """The convergence verdict: R-hat <= 1.01, bulk and tail ESS >= 400, no divergences."""
    post = idata.posterior[[v for v in var_names if v in idata.posterior]]
    # per variable, then over variables: to_array() would broadcast every variable to the
    # union of all dims (respondent x item x ...), terabytes for a latent model
    def _over(ds, fn):
        return float(fn([fn(v.values) for v in ds.data_vars.values()]))

    rhat = _over(az.rhat(post), np.max)
    ess_b = _over(az.ess(post, method="bulk"), np.min)
    ess_t = _over(az.ess(post, method="tail"), np.min)
    div = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.sample_stats else 0
    problems = []
    if not rhat <= RHAT_MAX:
        problems.append(f"R-hat {rhat:.3f} > {RHAT_MAX}")
    if not ess_b >= ESS_MIN:
        problems.append(f"bulk ESS {ess_b:.0f} < {ESS_MIN}")
    if not ess_t >= ESS_MIN:
        problems.append(f"tail ESS {ess_t:.0f} < {ESS_MIN}")
    if div:
        problems.append(f"{div} divergent transitions")
    return Verdict(not problems, rhat, ess_b, ess_t, div, tuple(problems))


def sample(model, sampler: Sampler, progress: bool = False,
           no_jitter: set | None = None) -> az.InferenceData:
    """Draw from a PyMC model with nutpie (default), PyMC's NUTS or NumPyro's NUTS, seeded.

    ``no_jitter``: free variables whose chains start exactly at their initial value (the
    rest are jittered), e.g. factor loadings that must start on the positive side.

    On two cores set ``OMP_NUM_THREADS=1`` and ``OPENBLAS_NUM_THREADS=1`` so that BLAS
    threads do not compete with the chains.
    """
    cores = min(sampler.chains, os.cpu_count() or 1)
    jitter = None if not no_jitter else {v for v in model.free_RVs if v not in no_jitter}
    if sampler.backend in ("nutpie", "nutpie-jax"):
        import nutpie

        kw = {} if jitter is None else {"jitter_rvs": jitter}
        if sampler.backend == "nutpie-jax":
            compiled = _compile_jax(model, kw)
        else:
            compiled = nutpie.compile_pymc_model(model, **kw)
        return nutpie.sample(compiled, draws=sampler.draws, tune=sampler.tune,
                             chains=sampler.chains, cores=cores, seed=sampler.seed,
                             target_accept=sampler.target_accept, progress_bar=progress,
                             save_warmup=False,
                             low_rank_modified_mass_matrix=sampler.mass_matrix == "low_rank")
    if sampler.backend == "numpyro":
        return _sample_numpyro(model, sampler, progress, jitter=no_jitter is None)
    import pymc as pm

    return pm.sample(draws=sampler.draws, tune=sampler.tune, chains=sampler.chains, cores=cores,
                     random_seed=sampler.seed, target_accept=sampler.target_accept,
                     progressbar=progress, model=model, compute_convergence_checks=False,
                     **({} if jitter is None else {"init": "adapt_diag"}))


def _jax_threads() -> None:
    """Before JAX is first imported, with ``OMP_NUM_THREADS=1``: one XLA thread per device,
    so that two chains on two cores do not compete. (PyMC's JAX bridge, imported for the
    NumPyro backend, itself asks XLA for 100 CPU devices, so NumPyro's chains run in
    parallel.) Once JAX is imported its settings are fixed and nothing is changed."""
    import sys

    flags = os.environ.get("XLA_FLAGS", "")
    if ("jax" not in sys.modules and os.environ.get("OMP_NUM_THREADS") == "1"
            and "multi_thread_eigen" not in flags):
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1").strip()


def _sample_numpyro(model, sampler: Sampler, progress: bool, jitter: bool):
    """NumPyro's NUTS (PyMC's JAX bridge), diagonal mass matrix, chains in parallel on
    XLA CPU devices (vectorised on one device when JAX was imported before with fewer).
    PyMC's bridge jitters all variables or none: with ``jitter=False`` (some variables must
    start at their initial values) every chain starts at the model's initial point, and the
    chains part in warm-up by their own random momenta."""
    _jax_threads()
    try:
        import jax
        import numpyro  # noqa: F401
    except ImportError:
        raise SpecError("sampler backend 'numpyro' needs JAX and NumPyro: pip install jax "
                        "numpyro (or use backend 'nutpie')") from None
    from pymc.sampling.jax import sample_jax_nuts

    method = "parallel" if jax.local_device_count() >= sampler.chains else "vectorized"
    return sample_jax_nuts(draws=sampler.draws, tune=sampler.tune, chains=sampler.chains,
                           target_accept=sampler.target_accept, random_seed=sampler.seed,
                           jitter=jitter, model=model, progressbar=progress,
                           chain_method=method, compute_convergence_checks=False,
                           nuts_sampler="numpyro")


def _compile_jax(model, kw: dict):
    """nutpie's JAX backend (log density and gradient compiled by JAX). It cannot convert a
    model with initial values, so they are passed as nutpie's ``initial_points`` (the same
    start) and left on the model. With ``OMP_NUM_THREADS=1`` and JAX not yet
    imported, XLA is kept to one thread per process too (two chains on two cores)."""
    import nutpie

    _jax_threads()
    try:
        import jax  # noqa: F401
    except ImportError:
        raise SpecError("sampler backend 'nutpie-jax' needs JAX: pip install jax "
                        "(or use backend 'nutpie')") from None
    from pymc.model.transform.optimization import freeze_dims_and_data

    saved = dict(model.rvs_to_initial_values)
    inits = {rv.name: v for rv, v in saved.items() if v is not None}
    model.rvs_to_initial_values = dict.fromkeys(saved)
    try:
        # JAX needs static shapes: the model is frozen here rather than inside nutpie, so
        # that the variables to jitter can be named in the frozen copy
        frozen = freeze_dims_and_data(model)
    finally:
        model.rvs_to_initial_values = saved
    if "jitter_rvs" in kw:
        kw = {**kw, "jitter_rvs": {frozen[v.name] for v in kw["jitter_rvs"]}}
    return nutpie.compile_pymc_model(frozen, backend="jax", gradient_backend="jax",
                                     freeze_model=False, initial_points=inits or None, **kw)


def data_fingerprint(survey: Survey) -> str:
    """Hash of the survey frame (and codebook name): which data a fit used."""
    h = hashlib.sha256(pd.util.hash_pandas_object(survey.frame, index=False).to_numpy().tobytes())
    h.update(survey.codebook.name.encode())
    return h.hexdigest()[:16]


def fit(spec: str | Path | Spec, survey: Survey, *, progress: bool = False,
        **sampler_options) -> Fit:
    """Fit a spec to a survey.

    Parameters
    ----------
    spec : str, Path or Spec
        A built-in spec's name (``"table3_collective"``), a TOML path or a :class:`Spec`
        (a :class:`MediationSpec` or :class:`ExperimentSpec` is passed on, see Returns).
    survey : Survey
        The survey to fit; the spec's outcome, predictors and group must be in its codebook.
    progress : bool, default False
        Show the sampler's progress bar.
    **sampler_options
        Override the spec's sampler settings (``draws``, ``tune``, ``chains``,
        ``target_accept``, ``seed``, ``backend``, ``mass_matrix``).

    Returns
    -------
    Fit
        For an index regression (``measurement="index"``, at respondent or area level).
        The other kinds of spec return their own fit: a latent spec
        (``measurement="latent"``) a :class:`SemFit` (:func:`coprod_bayes.latent.fit_latent`),
        a mediation spec a :class:`MediationFit` (:func:`fit_mediation`), an experiment spec
        an :class:`ExperimentFit` (:func:`fit_experiment`).

    Raises
    ------
    SpecError
        If the spec cannot be loaded or does not fit the survey's codebook, or a group has
        too few complete respondents.

    Warns
    -----
    ConvergenceWarning
        If R-hat > 1.01, a bulk or tail ESS < 400, or any divergence.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> f = cb.fit("table3_collective", cb.simulate(seed=0))  # doctest: +SKIP
    >>> f.verdict.converged  # doctest: +SKIP
    True
    """
    from .engines import regression

    spec = load_spec(spec)
    if sampler_options:
        spec = spec.with_sampler(**sampler_options)
    if getattr(spec, "kind", None) == "mediation":
        from .mediation import fit_mediation

        return fit_mediation(spec, survey, progress)
    if getattr(spec, "kind", None) == "experiment":
        from .experiment import fit_experiment

        return fit_experiment(spec, survey, progress)
    if spec.measurement == "latent":
        from .latent import fit_latent

        return fit_latent(spec, survey, progress)
    if spec.level == "area":
        return _fit_areas(spec, survey, progress)
    data = regression.prepare(spec, survey)
    model = regression.build_model(spec, data)
    log.info("fitting %s: %d respondents in %d groups (%s)", spec.name, int(data.n.sum()),
             len(data.groups), spec.sampler.backend)
    idata = sample(model, spec.sampler, progress=progress)
    beta = regression.draw_group_coefficients(spec, data, idata.posterior, spec.sampler.seed)
    post = idata.posterior
    post["beta"] = (("chain", "draw", "group", "coef"), beta)
    post["r2"] = (("chain", "draw", "group"),
                  regression.bayes_r2(data, beta, post["sigma"].values))
    post = post.assign_coords(group=data.groups, coef=data.coefficients)
    idata.posterior = post
    free = [v for v in ("mu", "tau", "sigma") if v in post]
    verdict = assess(idata, [*free, "beta"])
    result = Fit(idata, spec, data_fingerprint(survey), verdict, data.rows)
    if not verdict.converged:
        warnings.warn(f"{spec.name}: {verdict.headline}", ConvergenceWarning, stacklevel=2)
    return result


def fit_area_data(spec: Spec, data, progress: bool = False) -> tuple[az.InferenceData, Verdict]:
    """Sample the policy-area model of ``spec`` on prepared :class:`~coprod_bayes.engines.
    areas.AreaData` and draw every context's coefficients (``beta``: chain, draw, country,
    area, coef); returns the InferenceData and its verdict (no warning: the caller's)."""
    from .engines import areas

    model = areas.build_area_model(spec, data)
    log.info("fitting %s: %d respondent x area rows in %d contexts (%s)", spec.name,
             int(data.rows["used"].sum()), len(data.rows), spec.sampler.backend)
    idata = sample(model, spec.sampler, progress=progress)
    beta = areas.draw_context_coefficients(data, idata.posterior, spec.sampler.seed)
    post = idata.posterior
    post["beta"] = (("chain", "draw", "country", "area", "coef"), beta)
    idata.posterior = post.assign_coords(country=data.countries, area=data.areas,
                                         coef=data.coefficients)
    free = ["mu", "gamma", "tau_country", "tau_context", "sigma", "omega"]
    return idata, assess(idata, [*free, "beta"])


def _fit_areas(spec: Spec, survey: Survey, progress: bool) -> Fit:
    from .engines import areas

    data = areas.prepare_areas(spec, survey)
    idata, verdict = fit_area_data(spec, data, progress)
    result = Fit(idata, spec, data_fingerprint(survey), verdict, data.rows)
    if not verdict.converged:
        warnings.warn(f"{spec.name}: {verdict.headline}", ConvergenceWarning, stacklevel=3)
    return result


class Fit:
    """A fitted spec: the posterior, the spec, the data's fingerprint and the verdict.

    Made by :func:`coprod_bayes.fit` and :func:`load_fit`; the parameters are kept as
    attributes of the same names.

    Parameters
    ----------
    idata : arviz.InferenceData
        ``posterior`` has ``mu`` (coef), ``tau`` (varying), ``sigma`` (group) and the derived
        ``beta`` (group, coef: exact draws of each group's standardised coefficients) and
        ``r2`` (group: Bayesian R-squared), as far as the spec's pooling has them. A spec by
        policy area (``level="area"``) has ``beta`` by (country, area, coef) instead and no
        ``r2``.
    spec : Spec
        The spec that was fitted.
    fingerprint : str
        Hash of the survey frame the fit used.
    verdict : Verdict
        The convergence verdict (``verdict.converged``, ``verdict.headline``).
    rows : DataFrame
        Respondents per group, used and not used (and for which missing variable).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> f = cb.fit("table3_collective", cb.simulate(seed=0))  # doctest: +SKIP
    >>> f.summary("beta").query("coef == 'efficacy'")  # doctest: +SKIP
    >>> f.rows  # doctest: +SKIP
    """

    def __init__(self, idata, spec: Spec, fingerprint: str, verdict: Verdict, rows: pd.DataFrame):
        self.idata = idata
        self.spec = spec
        self.fingerprint = fingerprint
        self.verdict = verdict
        self.rows = rows

    def __repr__(self) -> str:
        return f"Fit({self.spec.name!r}, data {self.fingerprint}; {self.verdict.headline})"

    # ------------------------------------------------------------------ summaries
    def summary(self, var: str = "beta", hdi_prob: float = 0.9) -> pd.DataFrame:
        """Tidy posterior table of ``var``: one row per element, its dims as columns.

        Parameters
        ----------
        var : str, default "beta"
            A variable of the posterior: ``beta``, ``mu``, ``tau``, ``sigma``, ``r2`` (as
            far as the fit has them).
        hdi_prob : float, default 0.9
            Probability mass of the highest-density interval.

        Returns
        -------
        DataFrame
            Columns: ``parameter`` (``var``), the variable's dims (``group``, ``coef`` ...),
            ``mean``, ``sd``, ``lower``/``upper`` (HDI at ``hdi_prob``), ``p_positive``
            (posterior probability > 0), ``r_hat``, ``ess_bulk``, ``ess_tail``.
            ``.attrs["verdict"]`` holds the verdict's headline.

        Examples
        --------
        >>> f.summary("beta", hdi_prob=0.95)  # doctest: +SKIP
        """
        post = self.idata.posterior[var]
        dims = [d for d in post.dims if d not in ("chain", "draw")]
        flat = post.stack(sample=("chain", "draw")).transpose(*dims, "sample").values
        hdi = az.hdi(self.idata, var_names=[var], hdi_prob=hdi_prob)[var]
        rhat, ess_b, ess_t = (az.rhat(self.idata, var_names=[var])[var],
                              az.ess(self.idata, var_names=[var], method="bulk")[var],
                              az.ess(self.idata, var_names=[var], method="tail")[var])
        index = pd.MultiIndex.from_product([post[d].values for d in dims], names=dims) if dims \
            else pd.Index([0])
        out = pd.DataFrame({
            "mean": flat.mean(-1).ravel(), "sd": flat.std(-1).ravel(),
            "lower": hdi.sel(hdi="lower").values.ravel(),
            "upper": hdi.sel(hdi="higher").values.ravel(),
            "p_positive": (flat > 0).mean(-1).ravel(), "r_hat": np.asarray(rhat).ravel(),
            "ess_bulk": np.asarray(ess_b).ravel(), "ess_tail": np.asarray(ess_t).ravel(),
        }, index=index)
        out = out.reset_index() if dims else out.reset_index(drop=True)
        out.insert(0, "parameter", var)
        out.attrs["verdict"] = self.verdict.headline
        return out

    def compare(self, classical, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Posterior beside OLS: one row per group x predictor, plus an ``R2`` row per group.

        Parameters
        ----------
        classical : DataFrame or dict
            A tidy OLS table (:func:`coprod_bayes.classical.ols_table`) for the spec's outcome,
            or the dict of :func:`coprod_bayes.classical.tables` (the matching table is used).
            For a spec by policy area: the table of
            :func:`coprod_bayes.classical.ols_by_area`.
        hdi_prob : float, default 0.9
            Probability mass of the posterior intervals (``lower``, ``upper``).

        Returns
        -------
        DataFrame
            ``group``, ``predictor``, ``ols_beta``, ``ols_se``, ``ols_p``, ``ols_stars``,
            ``post_mean``, ``post_sd``, ``lower``, ``upper``, ``p_positive``, ``flag``. The flag
            is ``"sign"`` where the two estimates differ in sign and at least one side
            excludes zero (the posterior interval, or p < 0.10), ``"credible only"`` /
            ``"significant only"`` where only one side excludes zero. R2 rows hold Bayesian
            and OLS R² (no OLS R² under complete pooling).
            For complete pooling (one slope for all groups) the population coefficients are
            set beside the pooled OLS row (group ``"pooled"``). For a spec by policy area
            the rows are contexts: ``group`` is ``"<country>:<area>"``, with the group column
            and ``area`` beside it, and there are no R2 rows. ``.attrs["verdict"]`` holds the
            verdict's headline.

        Raises
        ------
        SpecError
            If ``classical`` is a dict without a table of the spec's outcome, or, for a spec
            by policy area, not a DataFrame with an ``area`` column.

        Examples
        --------
        >>> s = cb.simulate(seed=0)  # doctest: +SKIP
        >>> f = cb.fit("table3_collective", s)  # doctest: +SKIP
        >>> f.compare(cb.classical.tables(s)).query("flag != ''")  # doctest: +SKIP
        """
        if self.spec.level == "area":
            return self._compare_areas(classical, hdi_prob)
        table = _classical_table(classical, self.spec)
        group_col = self.spec.group or "group"
        ols = table.rename(columns={group_col: "group"})
        shared = self.spec.pooling == "complete"
        if shared:  # one slope for all groups: the population coefficients beside pooled OLS
            post = self.summary("mu", hdi_prob).assign(group="pooled")
        else:
            post = self.summary("beta", hdi_prob)
            if self.spec.group is None:
                post["group"] = "pooled"
        post = post[post["coef"] != "Intercept"].rename(columns={"coef": "predictor"})
        both = post.merge(ols[["group", "predictor", "beta", "se", "p", "stars"]],
                          on=["group", "predictor"], how="left")
        out = pd.DataFrame({
            "group": both["group"], "predictor": both["predictor"],
            "ols_beta": both["beta"], "ols_se": both["se"], "ols_p": both["p"],
            "ols_stars": both["stars"], "post_mean": both["mean"], "post_sd": both["sd"],
            "lower": both["lower"], "upper": both["upper"], "p_positive": both["p_positive"],
        })
        out["flag"] = _disagreement(out)
        r2 = self.summary("r2", hdi_prob)
        if self.spec.group is None:
            r2["group"] = "pooled"
        ols_r2 = ols.drop_duplicates("group").set_index("group")["r2"]
        if shared:  # pooled OLS has no group intercepts: its R2 is not comparable per group
            ols_r2 = pd.Series(dtype=float)
        r2_rows = pd.DataFrame({"group": r2["group"], "predictor": "R2",
                                "ols_beta": r2["group"].map(ols_r2).to_numpy(),
                                "post_mean": r2["mean"], "post_sd": r2["sd"],
                                "lower": r2["lower"], "upper": r2["upper"]})
        out = pd.concat([out, r2_rows], ignore_index=True)
        out.attrs["verdict"] = self.verdict.headline
        return out

    def _compare_areas(self, classical: pd.DataFrame, hdi_prob: float) -> pd.DataFrame:
        """Context coefficients beside per-context OLS (:func:`classical.ols_by_area`)."""
        if not isinstance(classical, pd.DataFrame) or "area" not in classical.columns:
            raise SpecError(f"spec {self.spec.name!r} is by policy area: compare it with "
                            "coprod_bayes.classical.ols_by_area(survey, outcome, predictors)")
        g = self.spec.group
        post = self.summary("beta", hdi_prob).rename(columns={"coef": "predictor"})
        post = post[post["predictor"] != "Intercept"]
        both = post.merge(classical, left_on=[g, "area", "predictor"],
                          right_on=[g, "area", "predictor"], how="left")
        out = pd.DataFrame({
            "group": both[g] + ":" + both["area"], g: both[g], "area": both["area"],
            "predictor": both["predictor"], "ols_beta": both["beta"], "ols_se": both["se"],
            "ols_p": both["p"], "ols_stars": both["stars"], "post_mean": both["mean"],
            "post_sd": both["sd"], "lower": both["lower"], "upper": both["upper"],
            "p_positive": both["p_positive"],
        })
        out["flag"] = _disagreement(out)
        out.attrs["verdict"] = self.verdict.headline
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the fit to one netCDF file (posterior, spec, fingerprint, verdict, rows).

        Parameters
        ----------
        path : str or Path
            The file to write (``.nc``); an existing file is overwritten.

        Returns
        -------
        Path
            ``path``; read it back with :func:`load_fit`.

        Examples
        --------
        >>> f.save("table3.nc")  # doctest: +SKIP
        PosixPath('table3.nc')
        """
        path = Path(path)
        attrs = {
            "coprod_spec": json.dumps(self.spec.to_dict()),
            "coprod_fingerprint": self.fingerprint,
            "coprod_verdict": json.dumps(asdict(self.verdict)),
            "coprod_rows": self.rows.to_json(orient="records"),
        }
        idata = self.idata.copy()
        idata.posterior.attrs.update(attrs)
        idata.to_netcdf(str(path))
        return path


def load_fit(path: str | Path) -> Fit:
    """Read a fit written by :meth:`Fit.save` or :meth:`~coprod_bayes.SemFit.save`; its
    summaries equal the original's.

    Parameters
    ----------
    path : str or Path
        A netCDF file written by :meth:`Fit.save` or :meth:`~coprod_bayes.SemFit.save`.

    Returns
    -------
    Fit or SemFit
        A :class:`Fit` with the stored posterior, spec, data fingerprint, verdict and rows;
        or, for a SEM or latent spec's fit, a :class:`~coprod_bayes.SemFit` (see
        :func:`coprod_bayes.sem.load_sem_fit`).

    Raises
    ------
    SpecError
        If the file is not a coprod_bayes fit (no spec stored in it).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> f = cb.fit("table3_collective", cb.simulate(seed=0))  # doctest: +SKIP
    >>> path = f.save("table3.nc")  # doctest: +SKIP
    >>> cb.load_fit(path).summary().equals(f.summary())  # doctest: +SKIP
    True
    """
    idata = az.from_netcdf(str(path))
    attrs = idata.posterior.attrs
    if attrs.get("coprod_kind") == "sem":
        from .sem import load_sem_fit

        return load_sem_fit(path, idata)
    if "coprod_spec" not in attrs:
        raise SpecError(f"{path}: not a coprod_bayes fit (no spec stored in it)")
    spec = Spec.from_dict(json.loads(attrs["coprod_spec"]), where=str(path))
    v = json.loads(attrs["coprod_verdict"])
    v["problems"] = tuple(v["problems"])
    rows = pd.read_json(__import__("io").StringIO(attrs["coprod_rows"]), orient="records")
    return Fit(idata, spec, attrs["coprod_fingerprint"], Verdict(**v), rows)


def _disagreement(out: pd.DataFrame) -> np.ndarray:
    """Where posterior and OLS disagree: sign, or one side excluding zero (90% / p < 0.10)."""
    credible = (out["lower"] > 0) | (out["upper"] < 0)
    significant = out["ols_p"] < 0.10
    sign = (np.sign(out["ols_beta"]) != np.sign(out["post_mean"])) & (credible | significant)
    return np.select([sign, credible & ~significant, significant & ~credible],
                     ["sign", "credible only", "significant only"], "")


def _classical_table(classical, spec: Spec) -> pd.DataFrame:
    if isinstance(classical, dict):
        for table in classical.values():
            if isinstance(table, pd.DataFrame) and "outcome" in table.columns \
                    and (table["outcome"] == spec.outcome).all():
                return table
        raise SpecError(f"no classical table for outcome {spec.outcome!r} among {list(classical)}")
    return classical
