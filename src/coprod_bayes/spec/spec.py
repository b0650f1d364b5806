"""Specs: frozen, validated descriptions of one analysis. They know nothing of PyMC.

A spec is a TOML file in ``models/`` (shipped inside the package too) or a :class:`Spec`
built in Python; the same spec built both ways compares equal.

.. code-block:: toml

    name = "table3_collective"
    description = "Table 3 on the Bayesian side"

    [model]
    outcome = "collective"
    predictors = ["age", "female", "efficacy"]
    measurement = "index"           # "index" (sum-score indexes) or "latent" (item-level
                                    # measurement models, coprod_bayes.latent)
    invariance = "scalar"           # latent only: "scalar", "configural" or "approximate"
    scores = "noncentred"           # latent only: "noncentred" or "informed" (the respondents'
                                    # scores' parametrisation, coprod_bayes.sem)
    group = "country"               # or "" for none
    pooling = "partial"             # "partial", "none" or "complete"
    varying = "all"                 # coefficients that vary by group: "all", "intercept"
    standardize = "group"           # z-score within group (betas as in the tables) or "all"
    weights = false                 # survey weights as a normalised pseudo-likelihood
    level = "respondent"            # or "area": respondent x policy area rows

    [priors]                        # on the standardised scale
    coefficient = 0.25              # Normal(0, 0.25) on population slopes
    coefficient_sd = 0.1            # HalfNormal(0.1) on their between-group SDs
    intercept = 1.0                 # Normal(0, 1) on the population intercept
    intercept_sd = 0.5              # HalfNormal(0.5) on its between-group SD
    residual_sd = 1.0               # HalfNormal(1.0) on each group's residual SD

    [sampler]
    draws = 1000
    tune = 1000
    chains = 2
    target_accept = 0.9
    seed = 20080401
    backend = "nutpie"              # or "pymc"
    mass_matrix = "diag"            # or "low_rank" (nutpie)
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SpecError

__all__ = ["Priors", "Sampler", "Spec", "load_spec", "builtin_specs"]

_POOLING = ("partial", "none", "complete")
_VARYING = ("all", "intercept")
_STANDARDIZE = ("group", "all")
_MEASUREMENT = ("index", "latent")
_INVARIANCE = ("scalar", "configural", "approximate")
_SCORES = ("noncentred", "informed")
_BACKENDS = ("nutpie", "nutpie-jax", "pymc", "numpyro")


@dataclass(frozen=True)
class Priors:
    """Prior scales on the standardised scale (outcome and predictors z-scored).

    ``coefficient``: SD of the Normal prior on each population slope (0.25: a standardised
    beta beyond +-0.5 is rare in survey regressions; with nine predictors the prior R-squared
    has median 0.56, where 0.5 gave 0.82, see :func:`coprod_bayes.prior_predictive` and
    docs/regression.md). ``coefficient_sd``: scale of the HalfNormal prior on the
    between-group SD of each varying slope (0.1: countries' betas differ by tenths, not by
    units). ``intercept`` and ``intercept_sd``: the same for the intercept (1.0 and 0.5:
    group means of the standardised outcome may differ by up to about one SD).
    ``residual_sd``: scale of the HalfNormal prior on each group's residual SD (the outcome
    has SD 1 within group).
    """

    coefficient: float = 0.25
    coefficient_sd: float = 0.1
    intercept: float = 1.0
    intercept_sd: float = 0.5
    residual_sd: float = 1.0
    posterior: dict | None = field(default=None, hash=False, compare=True)

    def __post_init__(self):
        for f in fields(self):
            if f.name == "posterior":
                continue
            v = getattr(self, f.name)
            if not (isinstance(v, int | float) and v > 0):
                raise SpecError(f"prior scale {f.name!r} must be a positive number, got {v!r}")
        if self.posterior is not None:
            _check_posterior_prior(self.posterior)


def _check_posterior_prior(post: dict) -> None:
    """A [priors.posterior] table: ``coefficients`` (names of mu), ``varying`` (names of
    tau), ``mean`` and ``cov`` of (mu, log tau), ``source``."""
    need = {"coefficients", "varying", "mean", "cov"}
    if not isinstance(post, dict) or not need <= set(post):
        raise SpecError(f"priors.posterior needs {sorted(need)}; got "
                        f"{sorted(post) if isinstance(post, dict) else post!r}")
    k = len(post["coefficients"]) + len(post["varying"])
    mean = np.asarray(post["mean"], float)
    cov = np.asarray(post["cov"], float)
    if mean.shape != (k,) or cov.shape != (k, k):
        raise SpecError(f"priors.posterior: mean must have {k} values and cov be {k} x {k} "
                        f"(coefficients + varying); got {mean.shape} and {cov.shape}")
    if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() <= 0:
        raise SpecError("priors.posterior: cov is not a symmetric positive definite matrix")


@dataclass(frozen=True)
class Sampler:
    """Sampler settings.

    ``backend`` is ``"nutpie"`` (default; the model compiled by numba), ``"nutpie-jax"``
    (nutpie with the log density and gradient compiled by JAX: needs ``pip install jax``;
    faster per gradient on the large latent models, and the path to a GPU), ``"pymc"``
    (PyMC's own NUTS) or ``"numpyro"`` (NumPyro's NUTS on the model compiled by JAX: needs
    ``pip install jax numpyro``; chains in parallel, one XLA device per chain).
    ``mass_matrix`` is ``"diag"``
    (every backend) or ``"low_rank"`` (nutpie only: a diagonal plus low-rank mass matrix
    learned from draws and gradients, which cut the gradient evaluations per draw of
    ``policy_areas`` from about 127 to 18).
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    target_accept: float = 0.9
    seed: int = 20080401
    backend: str = "nutpie"
    mass_matrix: str = "diag"

    def __post_init__(self):
        for name in ("draws", "tune", "chains"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise SpecError(f"sampler {name!r} must be a positive integer, got {v!r}")
        if not 0.5 <= self.target_accept < 1:
            raise SpecError(f"sampler target_accept must be in [0.5, 1), got {self.target_accept}")
        if self.backend not in _BACKENDS:
            raise SpecError(f"sampler backend {self.backend!r} unknown; use one of {_BACKENDS}")
        if self.mass_matrix not in ("diag", "low_rank"):
            raise SpecError(f"sampler mass_matrix {self.mass_matrix!r} unknown; use 'diag' or "
                            "'low_rank'")
        if self.mass_matrix == "low_rank" and self.backend in ("pymc", "numpyro"):
            raise SpecError(f"sampler mass_matrix 'low_rank' needs backend 'nutpie' (with "
                            f"backend {self.backend!r} set mass_matrix='diag')")


@dataclass(frozen=True)
class Spec:
    """One analysis: an outcome regressed on predictors, grouped, with priors and sampler.

    Parameters
    ----------
    name : str
        The spec's name (used in messages, warnings and fit summaries).
    outcome : str
        A construct or composite index of the codebook (its 0-100 index is the outcome).
    predictors : sequence of str
        Demographics (as coded), constructs or composite indexes (as their 0-100 indexes) of
        the codebook; stored as a tuple. :meth:`validate_against` rejects other columns.
    description : str, default ""
        Free text.
    measurement : {"index", "latent"}, default "index"
        ``"latent"``: outcome and construct predictors as latent variables measured by their
        ordinal items (:mod:`coprod_bayes.latent`), demographics as covariates.
    group : str or None, default "country"
        Grouping column (``"country"``); None (or ``""``) for a single-level regression.
    pooling : {"partial", "none", "complete"}, default "partial"
        Partial pooling estimates the between-group SDs; none gives each group independent
        Normal(0, ``priors.coefficient``) coefficients; complete shares the varying
        coefficients across groups (with ``varying="intercept"``, group intercepts remain).
    varying : {"all", "intercept"}, default "all"
        Which coefficients vary by group.
    standardize : {"group", "all"}, default "group"
        z-score outcome and predictors within each group (the papers' per-country betas) or
        over all respondents (the pooled Figures 5-6).
    weights : bool, default False
        Use the survey weights (normalised to sum to n per group) as a pseudo-likelihood.
    level : {"respondent", "area"}, default "respondent"
        ``"area"``: one row per respondent x policy area (the area's index on the area's items
        and the demographics), coefficients varying by group, by area and by group x area, with
        a respondent intercept (z-scoring within group x area).
    invariance : {"scalar", "configural", "approximate"}, default "scalar"
        Measurement invariance across groups of a latent spec.
    scores : {"noncentred", "informed"}, default "noncentred"
        How a latent spec's sampler sees the respondents' latent scores (the ``scores``
        argument of :func:`~coprod_bayes.sem`; the same posterior either way).
    priors : Priors or dict, optional
        Prior scales on the standardised scale (:class:`~coprod_bayes.spec.Priors`; a dict
        is passed to it). Default ``Priors()``.
    sampler : Sampler or dict, optional
        Sampler settings (:class:`~coprod_bayes.spec.Sampler`; a dict is passed to it).
        Default ``Sampler()``.

    Raises
    ------
    SpecError
        If ``predictors`` is empty, names a predictor twice or contains the outcome, or
        ``measurement``, ``pooling``, ``level``, ``invariance``, ``varying`` or
        ``standardize`` is not one of its options; also for a prior scale or sampler
        setting that :class:`~coprod_bayes.spec.Priors` or
        :class:`~coprod_bayes.spec.Sampler` rejects.

    Examples
    --------
    >>> s = Spec(name="demo", outcome="collective", predictors=("age", "efficacy"))
    >>> s.coefficients
    ('Intercept', 'age', 'efficacy')
    >>> s.group, s.pooling, s.sampler.draws
    ('country', 'partial', 1000)
    >>> Spec(name="demo", outcome="collective", predictors=("collective",))
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: spec 'demo': the outcome 'collective' is also a predictor
    """

    name: str
    outcome: str
    predictors: tuple[str, ...]
    description: str = ""
    measurement: str = "index"
    group: str | None = "country"
    pooling: str = "partial"
    varying: str = "all"
    standardize: str = "group"
    weights: bool = False
    level: str = "respondent"
    invariance: str = "scalar"
    scores: str = "noncentred"
    priors: Priors = field(default_factory=Priors)
    sampler: Sampler = field(default_factory=Sampler)

    def __post_init__(self):
        object.__setattr__(self, "predictors", tuple(self.predictors))
        if isinstance(self.priors, dict):
            object.__setattr__(self, "priors", Priors(**self.priors))
        if isinstance(self.sampler, dict):
            object.__setattr__(self, "sampler", Sampler(**self.sampler))
        if self.group == "":
            object.__setattr__(self, "group", None)
        if not self.predictors:
            raise SpecError(f"spec {self.name!r}: lists no predictors")
        dup = sorted({p for p in self.predictors if self.predictors.count(p) > 1})
        if dup:
            raise SpecError(f"spec {self.name!r}: predictor(s) {dup} listed twice")
        if self.outcome in self.predictors:
            raise SpecError(f"spec {self.name!r}: the outcome {self.outcome!r} is also a predictor")
        for key, allowed in (("measurement", _MEASUREMENT), ("pooling", _POOLING),
                             ("level", ("respondent", "area")), ("invariance", _INVARIANCE),
                             ("scores", _SCORES),
                             ("varying", _VARYING), ("standardize", _STANDARDIZE)):
            if getattr(self, key) not in allowed:
                raise SpecError(f"spec {self.name!r}: {key} = {getattr(self, key)!r}; "
                                f"use one of {list(allowed)}")
        self._no_ignored_settings()

    def _no_ignored_settings(self) -> None:
        """Settings the chosen engine would not read are refused, not silently ignored: the
        policy-area engine always pools partially every coefficient and z-scores within
        group x area; the latent engine has its own priors, z-scores the demographics
        within group and fits respondent rows unweighted."""
        from dataclasses import MISSING, fields

        default = {f.name: (f.default if f.default is not MISSING else f.default_factory())
                   for f in fields(Spec) if f.default is not MISSING
                   or f.default_factory is not MISSING}
        if self.level == "area":
            keys = ["pooling", "varying", "standardize", "invariance", "scores"]
            why = ("the policy-area model pools every coefficient partially by group, area "
                   "and group x area, z-scored within group x area, on the indexes")
        elif self.measurement == "latent":
            keys = ["varying", "standardize", "weights", "level", "priors"]
            why = ("the latent engine has its own priors (coprod_bayes.engines.sem_latent), "
                   "z-scores the demographics within group and fits the respondents "
                   "unweighted (weights enter only SemFit.latent_means)")
        else:
            keys = ["invariance", "scores"]
            why = "they are settings of latent specs (measurement = 'latent')"
        bad = [k for k in keys if getattr(self, k) != default[k]]
        if bad:
            settings = ", ".join(f"{k} = {getattr(self, k)!r}" for k in bad)
            raise SpecError(f"spec {self.name!r}: {settings} "
                            f"would have no effect: {why}; remove "
                            f"{'it' if len(bad) == 1 else 'them'} (or set the default)")

    @property
    def coefficients(self) -> tuple[str, ...]:
        """Coefficient names: ``Intercept`` then the predictors."""
        return ("Intercept", *self.predictors)

    def with_sampler(self, **changes: Any) -> Spec:
        """A copy with some sampler settings changed (``draws=500, backend="pymc"``).

        Parameters
        ----------
        **changes
            Fields of :class:`~coprod_bayes.spec.Sampler` and their new values (``draws``,
            ``tune``, ``chains``, ``target_accept``, ``seed``, ``backend``, ``mass_matrix``).

        Returns
        -------
        Spec
            The same spec with the changed sampler; the original is unchanged.

        Raises
        ------
        SpecError
            If a new value is invalid (see :class:`~coprod_bayes.spec.Sampler`).
        TypeError
            If a name is not a sampler setting.

        Examples
        --------
        >>> s = load_spec("table3_collective").with_sampler(draws=500, seed=1)
        >>> s.sampler.draws, s.sampler.seed, s.sampler.tune
        (500, 1, 1000)
        """
        return replace(self, sampler=replace(self.sampler, **changes))

    def with_priors_from(self, fit, inflate: float = 1.0) -> Spec:
        """A copy whose prior on the population parameters is ``fit``'s posterior: sequential
        updating from one survey wave to the next.

        The posterior draws of the population coefficients ``mu`` and the log between-group
        SDs ``log tau`` are summarised by their mean and covariance, and the new spec's
        prior on (mu, log tau) is that multivariate normal (times ``inflate`` on the
        covariance, to discount the earlier wave; 1 keeps it whole). Assumptions: (1) both
        waves come from the same population model (the same mu and tau); (2) the new
        wave's groups are new draws from it, exchangeable with the earlier ones: their
        coefficients and residual SDs are not carried over (the same countries asked again
        with unchanged coefficients would be a different model); (3) the posterior of (mu,
        log tau) is close to multivariate normal. Under these, fitting wave 2 with this
        prior approximates the joint fit of both waves with groups wave x group
        (``tests/test_sequential.py`` checks the agreement; the normal summary is least
        exact for a tau whose posterior piles up near 0).

        Parameters
        ----------
        fit : Fit
            A fit of a spec with the same outcome, predictors, pooling (partial or
            complete), ``varying`` and ``standardize``.
        inflate : float, default 1
            Multiplies the covariance (> 1 weakens the carried information).

        Returns
        -------
        Spec
            A copy of this spec whose ``priors.posterior`` holds the coefficient names
            (``coefficients``), the varying ones (``varying``), ``mean`` and ``cov`` of (mu,
            log tau) and a ``source`` line naming the fit, its data and ``inflate``.

        Raises
        ------
        SpecError
            If the fit's spec differs from this one in outcome, predictors, pooling,
            varying, standardize, level or measurement; if this spec is not an index
            regression (``measurement="index"``, ``level="respondent"``) with partial or
            complete pooling (pooling "none" has no population parameters); or if
            ``inflate`` is not positive.

        Examples
        --------
        >>> f1 = cb.fit("table3_collective", wave1)                          # doctest: +SKIP
        >>> prior = load_spec("table3_collective").with_priors_from(f1)       # doctest: +SKIP
        >>> f2 = cb.fit(prior, wave2)                                         # doctest: +SKIP
        """
        other = fit.spec
        keys = ("outcome", "predictors", "pooling", "varying", "standardize", "level",
                "measurement")
        differ = [k for k in keys if getattr(other, k, None) != getattr(self, k)]
        if differ:
            raise SpecError(f"with_priors_from: the fit's spec {other.name!r} differs from "
                            f"{self.name!r} in {differ}; the posterior can only become the "
                            "prior of the same model")
        if (self.pooling == "none" or self.level != "respondent"
                or self.measurement != "index"):
            raise SpecError("with_priors_from needs an index regression with partial or "
                            "complete pooling "
                            f"(spec {self.name!r}: pooling {self.pooling!r}, level "
                            f"{self.level!r}, measurement {self.measurement!r})")
        if not inflate > 0:
            raise SpecError(f"with_priors_from: inflate must be positive, got {inflate!r}")
        post = fit.idata.posterior
        mu = post["mu"].values.reshape(-1, post["mu"].shape[-1])
        parts, varying = [mu], []
        if "tau" in post:
            tau = post["tau"].values.reshape(-1, post["tau"].shape[-1])
            parts.append(np.log(tau))
            varying = [str(v) for v in post["tau"].coords["varying"].values]
        u = np.hstack(parts)
        prior = {"coefficients": [str(c) for c in post["mu"].coords["coef"].values],
                 "varying": varying, "mean": u.mean(0).tolist(),
                 "cov": (np.atleast_2d(np.cov(u, rowvar=False)) * inflate).tolist(),
                 "source": f"posterior of {other.name!r} ({u.shape[0]} draws), "
                           f"data {getattr(fit, 'fingerprint', '?')}, inflate {inflate:g}"}
        return replace(self, priors=replace(self.priors, posterior=prior))

    def to_dict(self) -> dict[str, Any]:
        """The spec as nested plain data, TOML-shaped.

        Returns
        -------
        dict
            ``name``, ``description``, ``model`` (outcome, predictors as a list, measurement,
            group (``""`` for none), pooling, varying, standardize, weights, level,
            invariance, scores), ``priors`` and ``sampler``; :meth:`from_dict` reads it back.

        Examples
        --------
        >>> s = load_spec("table3_collective")
        >>> d = s.to_dict()
        >>> d["model"]["outcome"], Spec.from_dict(d) == s
        ('collective', True)
        """
        d = asdict(self)
        model = {k: d.pop(k) for k in ("outcome", "predictors", "measurement", "group",
                                      "pooling", "varying", "standardize", "weights",
                                      "level", "invariance", "scores")}
        model["predictors"] = list(model["predictors"])
        model["group"] = model["group"] or ""
        return {"name": d["name"], "description": d["description"], "model": model,
                "priors": d["priors"], "sampler": d["sampler"]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "<dict>") -> Spec:
        """Build a spec from TOML-shaped data.

        Parameters
        ----------
        data : dict
            ``name``, optional ``description``, a ``model`` table (``outcome`` and
            ``predictors`` required, and any of ``measurement``, ``group``, ``pooling``,
            ``varying``, ``standardize``, ``weights``, ``level``, ``invariance``,
            ``scores``) and
            optional ``priors`` and ``sampler`` tables, as in a spec's TOML file.
        where : str, default "<dict>"
            Where the data came from (a file name), quoted in error messages.

        Returns
        -------
        Spec

        Raises
        ------
        SpecError
            On unknown sections or keys, a missing ``name``, ``model``, ``outcome`` or
            ``predictors``, or an invalid value, naming them and ``where``.

        Examples
        --------
        >>> data = {"name": "demo", "model": {"outcome": "collective", "predictors": ["age"]},
        ...         "sampler": {"draws": 500}}
        >>> Spec.from_dict(data).sampler.draws
        500
        >>> Spec.from_dict({"name": "demo", "model": {"outcome": "collective"}})
        Traceback (most recent call last):
        ...
        coprod_bayes.errors.SpecError: <dict>: [model] needs 'outcome' and 'predictors'
        """
        known = {"name", "description", "model", "priors", "sampler"}
        extra = sorted(set(data) - known)
        if extra:
            raise SpecError(f"{where}: unknown top-level key(s) {extra}; known: {sorted(known)}")
        if "name" not in data or "model" not in data:
            raise SpecError(f"{where}: a spec needs 'name' and a [model] section")
        model = dict(data["model"])
        allowed = {"outcome", "predictors", "measurement", "group", "pooling", "varying",
                   "standardize", "weights", "level", "invariance", "scores"}
        extra = sorted(set(model) - allowed)
        if extra:
            raise SpecError(f"{where}: unknown key(s) {extra} in [model]; known: {sorted(allowed)}")
        if "outcome" not in model or "predictors" not in model:
            raise SpecError(f"{where}: [model] needs 'outcome' and 'predictors'")
        return build_from_sections(cls, data, model, where)

    def validate_against(self, codebook) -> None:
        """Check that the outcome, predictors and group exist in ``codebook``.

        Parameters
        ----------
        codebook : Codebook
            The outcome must be one of its constructs or composite indexes, each predictor a
            construct, composite index or demographic, and ``group`` (unless None) one of
            its grouping columns.

        Raises
        ------
        SpecError
            Naming the unknown construct, predictor or grouping column and what exists.

        Examples
        --------
        >>> from coprod_bayes import load_codebook
        >>> load_spec("table3_collective").validate_against(load_codebook("eu5_2008"))
        >>> Spec(name="demo", outcome="collective", predictors=("income",)).validate_against(
        ...     load_codebook("eu5_2008"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        coprod_bayes.errors.SpecError: spec 'demo': unknown predictor(s) ['income']; ...
        """
        indexes = set(codebook.constructs) | set(codebook.indexes)
        if self.outcome not in indexes:
            raise SpecError(f"spec {self.name!r}: outcome {self.outcome!r} is not a construct "
                            f"or index of codebook {codebook.name!r}; known: {sorted(indexes)}")
        known = indexes | set(codebook.demographic_columns)
        unknown = [p for p in self.predictors if p not in known]
        if unknown:
            raise SpecError(f"spec {self.name!r}: unknown predictor(s) {unknown}; codebook "
                            f"{codebook.name!r} has demographics {codebook.demographic_columns} "
                            f"and constructs {sorted(indexes)}")
        if self.group is not None and self.group not in codebook.group_columns:
            raise SpecError(f"spec {self.name!r}: grouping column {self.group!r} is absent; "
                            f"codebook {codebook.name!r} has {codebook.group_columns}")


def build_from_sections(cls, data: dict[str, Any], model: dict[str, Any], where: str):
    """``cls(name, description, priors, sampler, **model)`` from TOML-shaped ``data``, after
    checking the keys of its [priors] and [sampler] sections.

    Raises
    ------
    SpecError
        On an unknown key (naming it, the section and the file) or a bad value.
    """
    for section, klass in (("priors", Priors), ("sampler", Sampler)):
        names = {f.name for f in fields(klass)}
        extra = sorted(set(data.get(section, {})) - names)
        if extra:
            raise SpecError(f"{where}: unknown key(s) {extra} in [{section}]; "
                            f"known: {sorted(names)}")
    try:
        return cls(name=data["name"], description=data.get("description", ""),
                   priors=Priors(**data.get("priors", {})),
                   sampler=Sampler(**data.get("sampler", {})), **model)
    except TypeError as e:
        raise SpecError(f"{where}: {e}") from None


def build_kind_spec(cls, data: dict[str, Any], allowed: set[str], required: set[str],
                    where: str):
    """A spec of a special kind (``[model] kind = ...``: mediation, experiment) from
    TOML-shaped data: its [model] keys checked against ``allowed`` and ``required``, then
    :func:`build_from_sections`.

    Raises
    ------
    SpecError
        On an unknown or a missing [model] key, naming it, the kind and the file.
    """
    model = dict(data["model"])
    kind = model.pop("kind", None)
    extra = sorted(set(model) - allowed)
    if extra:
        raise SpecError(f"{where}: unknown key(s) {extra} in [model] of a {kind} spec; "
                        f"known: {sorted(allowed)}")
    missing = sorted(required - set(model))
    if missing:
        raise SpecError(f"{where}: a {kind} spec's [model] needs {missing}")
    return build_from_sections(cls, data, model, where)


def _spec_dirs() -> list[Path]:
    """The installed ``coprod_bayes.models`` package, and ``models/`` of a source checkout."""
    dirs = []
    try:
        dirs.append(Path(str(resources.files("coprod_bayes.models"))))
    except ModuleNotFoundError:
        pass
    dirs.append(Path(__file__).resolve().parents[3] / "models")
    return list(dict.fromkeys(d for d in dirs if d.is_dir()))


def builtin_specs() -> list[str]:
    """Names of the specs in ``models/``."""
    names = set()
    for d in _spec_dirs():
        names |= {p.stem for p in d.glob("*.toml")}
    return sorted(names)


def load_spec(source: str | Path | Spec) -> Spec:
    """A spec by built-in name (``"table3_collective"``), TOML path, or as given.

    Parameters
    ----------
    source : str, Path or Spec
        The name of a built-in spec (a name without a suffix: a file ``<name>.toml`` in
        ``models/``; see :func:`builtin_specs`), a path to a TOML file, or a spec, which is
        returned unchanged (so are a :class:`~coprod_bayes.MediationSpec` and an
        :class:`~coprod_bayes.ExperimentSpec`).

    Returns
    -------
    Spec, MediationSpec or ExperimentSpec
        A :class:`~coprod_bayes.MediationSpec` if the file's ``[model]`` has
        ``kind = "mediation"``, an :class:`~coprod_bayes.ExperimentSpec` for
        ``kind = "experiment"``, otherwise a :class:`Spec`.

    Raises
    ------
    SpecError
        If the name is unknown, the file does not exist, the TOML does not parse (with its
        line) or a key or value is wrong.

    Examples
    --------
    >>> load_spec("table3_collective").outcome
    'collective'
    >>> type(load_spec("mediation")).__name__
    'MediationSpec'
    >>> load_spec("no_such_spec")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: no built-in spec 'no_such_spec'; built-in: [...]
    """
    if isinstance(source, Spec) or getattr(source, "kind", None) in ("mediation", "experiment"):
        return source
    path = Path(source)
    if not path.suffix:
        for d in _spec_dirs():
            if (d / f"{source}.toml").is_file():
                path = d / f"{source}.toml"
                break
        else:
            raise SpecError(f"no built-in spec {str(source)!r}; built-in: {builtin_specs()}")
    if not path.is_file():
        raise SpecError(f"spec file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: {e}") from None
    if isinstance(data.get("model"), dict) and data["model"].get("kind") == "mediation":
        from ..mediation import MediationSpec

        return MediationSpec.from_dict(data, where=str(path))
    if isinstance(data.get("model"), dict) and data["model"].get("kind") == "experiment":
        from ..experiment import ExperimentSpec

        return ExperimentSpec.from_dict(data, where=str(path))
    return Spec.from_dict(data, where=str(path))
