"""The self-efficacy pathway: service performance (conditions) -> efficacy -> co-production,
in each of the 15 country x policy-area contexts, pooled hierarchically.

For respondent i in country c and policy area k (one row per respondent and area; every
variable z-scored within the context c x k, as the papers' per-context betas):

    M_ik = alpha_ck + a_ck X_ik + g_ck' w_i + u_i + e_ik          (mediator equation)
    Y_ik = beta_ck + b_ck M_ik + c'_ck X_ik + h_ck' w_i + v_i + f_ik  (outcome equation)

with X the conditions in the area (service performance as the citizen sees it), M
self-efficacy in the area, Y individual or collective co-production in the area, w the
demographics, u_i and v_i respondent effects. Every coefficient varies by country, by area and
by country x area around its population mean, exactly as the policy-area regression
(:mod:`coprod_bayes.engines.areas`, whose reductions make the fit independent of the number of
respondents). The two equations have independent errors, so their joint posterior is the
product of the two equations' posteriors: each is sampled on its own and the draws are paired,
the indirect effect a*b and the total effect c' + a*b computed draw by draw, as the model's
``:=`` lines define them.

The model is written in lavaan's syntax (``models/mediation.toml``); ``{outcome}`` stands for
each co-production outcome in turn::

    efficacy ~ a*conditions + age + female + educated + inactive + urban
    {outcome} ~ b*efficacy + c*conditions + age + female + educated + inactive + urban
    indirect := a*b
    total := c + a*b

Beside it the frequentist answer of the literature: OLS in each context, the product of
coefficients, percentile bootstrap intervals (:func:`ols_mediation`). And the sensitivity of
the indirect effect to an unmeasured confounder of efficacy and co-production
(:meth:`MediationFit.sensitivity`, after Imai, Keele and Tingley 2010).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConvergenceWarning, SpecError, SurveyDataError
from .fit import Verdict, fit_area_data
from .spec.spec import Priors, Sampler, Spec, build_kind_spec
from .spec.syntax import Definition, parse_model
from .survey.survey import Survey

__all__ = ["MediationSpec", "MediationFit", "Roles", "fit_mediation", "mediation_frame",
           "ols_mediation", "indirect_under_confounding", "bootstrap_indices",
           "simulate_mediation"]

log = logging.getLogger("coprod_bayes")

PATHS = ("a", "b", "direct", "indirect", "total")
_PLACEHOLDER = "{outcome}"


@dataclass(frozen=True)
class Roles:
    """The variables and labels of one outcome's mediation model, read from its syntax."""

    treatment: str
    mediator: str
    outcome: str
    mediator_covariates: tuple[str, ...]
    outcome_covariates: tuple[str, ...]
    a: str
    b: str
    c: str
    definitions: tuple[Definition, ...]

    @property
    def variables(self) -> list[str]:
        """Every variable the two equations use, treatment, mediator and outcome first."""
        return list(dict.fromkeys([self.treatment, self.mediator, self.outcome,
                                   *self.mediator_covariates, *self.outcome_covariates]))


@dataclass(frozen=True)
class MediationSpec:
    """A mediation analysis: the two equations in lavaan's syntax, the co-production outcomes
    it is fitted to, the grouping, priors and sampler.

    Parameters
    ----------
    name : str
        The spec's name (used in messages, warnings and the equations' spec names).
    syntax : str
        Two regressions and the defined effects; ``{outcome}`` stands for each outcome. The
        mediator's equation labels the treatment's slope (``a*conditions``), the outcome's
        equation labels the mediator's and the treatment's (``b*efficacy + c*conditions``);
        other predictors are covariates.
    outcomes : sequence of str
        Constructs of the codebook (their area indexes are the outcomes), one fit each.
    description : str, default ""
        Free text.
    group : str, default "country"
        The grouping column (``"country"``); contexts are group x policy area.
    measurement : {"index", "latent"}, default "index"
        ``"index"``: area indexes and single items as continuous scores (z-scored within
        context), 15 contexts. ``"latent"``: treatment, mediator and outcome as person-level
        latent variables measured by their ordinal items, one context per group
        (:mod:`coprod_bayes.mediation_latent`).
    weights : bool, default False
        Survey weights as a normalised pseudo-likelihood.
    priors : Priors or dict, default Priors()
        As for the regression specs.
    sampler : Sampler or dict, default Sampler()
        Each equation is sampled with ``sampler``; the outcome equations with the seed
        plus 1, 2, ...

    Raises
    ------
    SpecError
        If ``outcomes`` is empty, ``measurement`` is unknown, the syntax has no
        ``{outcome}`` but several outcomes are listed, or for some outcome the syntax is not
        two regressions of the shape above (see :meth:`roles`).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> spec = cb.load_spec("mediation")
    >>> spec.outcomes, spec.roles("collective").mediator
    (('individual', 'collective'), 'efficacy')
    >>> cb.MediationSpec(name="m", outcomes=("collective",), syntax='''
    ... efficacy ~ conditions
    ... collective ~ b*efficacy + c*conditions''')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: mediation spec 'm' line 2: label exactly one slope ...
    """

    name: str
    syntax: str
    outcomes: tuple[str, ...]
    description: str = ""
    group: str = "country"
    measurement: str = "index"
    weights: bool = False
    priors: Priors = field(default_factory=Priors)
    sampler: Sampler = field(default_factory=Sampler)

    kind = "mediation"
    level = "area"

    def __post_init__(self):
        object.__setattr__(self, "outcomes", tuple(self.outcomes))
        if isinstance(self.priors, dict):
            object.__setattr__(self, "priors", Priors(**self.priors))
        if isinstance(self.sampler, dict):
            object.__setattr__(self, "sampler", Sampler(**self.sampler))
        if not self.outcomes:
            raise SpecError(f"mediation spec {self.name!r}: lists no outcomes")
        if self.measurement not in ("index", "latent"):
            raise SpecError(f"mediation spec {self.name!r}: measurement = "
                            f"{self.measurement!r}; choose 'index' (area indexes and single "
                            "items) or 'latent' (person-level constructs measured by their "
                            "items: coprod_bayes.mediation_latent)")
        if _PLACEHOLDER not in self.syntax and len(self.outcomes) > 1:
            raise SpecError(f"mediation spec {self.name!r}: the syntax has no {_PLACEHOLDER} "
                            f"but {len(self.outcomes)} outcomes are listed")
        for o in self.outcomes:
            self.roles(o)

    def roles(self, outcome: str) -> Roles:
        """The treatment, mediator, covariates and labels for one outcome.

        Parameters
        ----------
        outcome : str
            The outcome put in place of ``{outcome}`` in the syntax.

        Returns
        -------
        Roles
            ``treatment``, ``mediator``, ``outcome``, ``mediator_covariates``,
            ``outcome_covariates``, the labels ``a``, ``b``, ``c`` and the ``:=``
            ``definitions``.

        Raises
        ------
        SpecError
            Naming the line when the syntax is not a mediation model: it does not parse, has
            latent variables (``=~``), does not have exactly two regressions (one of
            ``outcome``), fixes a coefficient, does not label exactly the treatment's slope
            in the mediator's equation and the mediator's and treatment's slopes in the
            outcome's, reuses a label, or defines ``a``, ``b``, ``direct`` or
            ``proportion``.

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> r = cb.load_spec("mediation").roles("individual")
        >>> r.treatment, r.mediator, r.outcome, r.a, r.b, r.c
        ('conditions', 'efficacy', 'individual', 'a', 'b', 'c')
        """
        text = self.syntax.replace(_PLACEHOLDER, outcome)
        model = parse_model(text)
        where = f"mediation spec {self.name!r}"
        if model.latent:
            raise SpecError(f"{where}: latent variables (=~) {model.latent} are not supported "
                            "in the index version")
        lhs = list(dict.fromkeys(p.lhs for p in model.regressions))
        if len(lhs) != 2 or outcome not in lhs:
            raise SpecError(f"{where}: needs exactly two regressions, of a mediator and of "
                            f"{outcome!r}; found regressions of {lhs}")
        mediator = next(v for v in lhs if v != outcome)
        m_eq = [p for p in model.regressions if p.lhs == mediator]
        y_eq = [p for p in model.regressions if p.lhs == outcome]
        fixed = [p for p in m_eq + y_eq if p.fixed is not None]
        if fixed:
            raise SpecError(f"{where} line {fixed[0].line}: fixed coefficients are not "
                            "supported here")
        labelled_m = [p for p in m_eq if p.label]
        if len(labelled_m) != 1:
            raise SpecError(f"{where} line {m_eq[0].line}: label exactly one slope of "
                            f"{mediator}'s equation, the treatment's (a*conditions); labelled: "
                            f"{[p.rhs for p in labelled_m]}")
        treatment, a = labelled_m[0].rhs, labelled_m[0].label
        by_rhs = {p.rhs: p for p in y_eq}
        for v, what in ((mediator, "mediator"), (treatment, "treatment")):
            if v not in by_rhs or not by_rhs[v].label:
                raise SpecError(f"{where} line {y_eq[0].line}: {outcome}'s equation must "
                                f"include the {what} {v!r} with a label (b*{mediator} + "
                                f"c*{treatment})")
        b, c = by_rhs[mediator].label, by_rhs[treatment].label
        clash = [d.name for d in model.definitions if d.name in ("a", "b", "direct", "proportion")]
        if clash:
            raise SpecError(f"{where}: defined parameter(s) {clash} would replace the built-in "
                            "a, b, direct or proportion; name them otherwise")
        if len({a, b, c}) < 3:
            raise SpecError(f"{where}: the labels of a, b and c' must differ; got {a}, {b}, {c}")
        others = [p.rhs for p in y_eq if p.label and p.rhs not in (mediator, treatment)]
        if others:
            raise SpecError(f"{where}: only the mediator and treatment slopes may be labelled in "
                            f"{outcome}'s equation; also labelled: {others}")
        return Roles(treatment, mediator, outcome,
                     tuple(p.rhs for p in m_eq if p.rhs != treatment),
                     tuple(p.rhs for p in y_eq if p.rhs not in (mediator, treatment)),
                     a, b, c, model.definitions)

    def equation_spec(self, role: str, roles: Roles, seed_offset: int = 0) -> Spec:
        """The policy-area regression spec of one equation (``"mediator"`` or ``"outcome"``).

        Parameters
        ----------
        role : {"mediator", "outcome"}
            Which equation; any value other than ``"mediator"`` gives the outcome's.
        roles : Roles
            The roles of one outcome (:meth:`roles`).
        seed_offset : int, default 0
            Added to the sampler's seed.

        Returns
        -------
        Spec
            Named ``<name>:<equation's outcome>``, with ``level="area"``, this spec's group,
            weights and priors; predictors the treatment and the mediator's covariates
            (mediator), or the mediator, the treatment and the outcome's covariates
            (outcome).

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> spec = cb.load_spec("mediation")
        >>> eq = spec.equation_spec("outcome", spec.roles("collective"), seed_offset=2)
        >>> eq.name, eq.predictors[:2], eq.sampler.seed - spec.sampler.seed
        ('mediation:collective', ('efficacy', 'conditions'), 2)
        """
        if role == "mediator":
            outcome, predictors = roles.mediator, (roles.treatment, *roles.mediator_covariates)
        else:
            outcome = roles.outcome
            predictors = (roles.mediator, roles.treatment, *roles.outcome_covariates)
        return Spec(name=f"{self.name}:{outcome}", outcome=outcome, predictors=predictors,
                    group=self.group, level="area", weights=self.weights, priors=self.priors,
                    sampler=replace(self.sampler, seed=self.sampler.seed + seed_offset))

    def validate_against(self, codebook) -> None:
        """Check every variable against ``codebook`` (constructs with items in each area, or
        demographics).

        Parameters
        ----------
        codebook : Codebook
            Every variable of every outcome's model must be one of its constructs,
            composite indexes or demographics, and ``group`` one of its grouping columns.

        Raises
        ------
        SpecError
            Naming the unknown variables, or the absent grouping column.
        """
        known = set(codebook.constructs) | set(codebook.indexes) | set(codebook.demographic_columns)
        for o in self.outcomes:
            unknown = [v for v in self.roles(o).variables if v not in known]
            if unknown:
                raise SpecError(f"mediation spec {self.name!r}: unknown variable(s) {unknown} "
                                f"in codebook {codebook.name!r}")
        if self.group not in codebook.group_columns:
            raise SpecError(f"mediation spec {self.name!r}: grouping column {self.group!r} "
                            f"is absent; codebook {codebook.name!r} has {codebook.group_columns}")

    def with_sampler(self, **changes: Any) -> MediationSpec:
        """A copy with some sampler settings changed.

        Parameters
        ----------
        **changes
            Fields of :class:`~coprod_bayes.spec.Sampler` and their new values (``draws``,
            ``seed`` ...).

        Returns
        -------
        MediationSpec
            The same spec with the changed sampler; the original is unchanged.
        """
        return replace(self, sampler=replace(self.sampler, **changes))

    def to_dict(self) -> dict[str, Any]:
        """The spec as TOML-shaped data.

        Returns
        -------
        dict
            ``name``, ``description``, ``model`` (``kind = "mediation"``, syntax, outcomes,
            group, measurement, weights), ``priors`` and ``sampler``; :meth:`from_dict`
            reads it back.

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> spec = cb.load_spec("mediation")
        >>> cb.MediationSpec.from_dict(spec.to_dict()) == spec
        True
        """
        from dataclasses import asdict

        return {"name": self.name, "description": self.description,
                "model": {"kind": "mediation", "syntax": self.syntax,
                          "outcomes": list(self.outcomes), "group": self.group,
                          "measurement": self.measurement, "weights": self.weights},
                "priors": asdict(self.priors), "sampler": asdict(self.sampler)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "<dict>") -> MediationSpec:
        """Build from TOML-shaped data (``[model] kind = "mediation"``).

        Parameters
        ----------
        data : dict
            ``name``, optional ``description``, a ``model`` table (``syntax`` and
            ``outcomes`` required; ``kind``, ``group``, ``measurement``, ``weights``
            optional) and optional ``priors`` and ``sampler`` tables.
        where : str, default "<dict>"
            Where the data came from (a file name), quoted in error messages.

        Returns
        -------
        MediationSpec

        Raises
        ------
        SpecError
            On unknown or missing keys or invalid values, naming them and the file.
        """
        return build_kind_spec(cls, data, {"syntax", "outcomes", "group", "measurement",
                                           "weights"}, {"syntax", "outcomes"}, where)


# -- data ------------------------------------------------------------------------------------

_ID, _GROUP, _AREA, _WEIGHT = "respondent_id", "country", "area", "weight"


def _long_from_survey(survey: Survey, spec: MediationSpec, variables: list[str]) -> pd.DataFrame:
    from .engines.areas import area_frame

    if not survey.codebook.areas:
        raise SpecError(f"mediation spec {spec.name!r}: the codebook {survey.codebook.name!r} "
                        "has no policy areas; contexts are group x area")
    try:
        long = area_frame(survey, spec.group, variables)
    except Exception as e:  # a construct without items in an area
        raise SpecError(f"mediation spec {spec.name!r}: {e}") from None
    long[_GROUP] = long[_GROUP].astype(str)
    return long


def mediation_frame(data: Survey | pd.DataFrame,
                    spec: MediationSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long respondent x area frame of the spec's models, and the rows used.

    ``data`` is a :class:`Survey` (each construct's area index; demographics as coded) or a
    long DataFrame with columns ``respondent_id``, the group column, ``area``, every variable
    of the syntax and optionally ``weight``. Rows with a missing variable (of any outcome's
    model) are not used: the same rows in every equation, so that a*b multiplies slopes of
    one sample and the outcomes are compared on one sample; the second frame counts them
    per context and says which variables were missing. Every variable is z-scored within
    context.

    Raises
    ------
    SpecError
        A missing column or a context with too few complete rows.
    SurveyDataError
        A variable constant within a context (its beta is undefined), naming it and the
        context; non-numeric values.
    """
    variables = list(dict.fromkeys(v for o in spec.outcomes for v in spec.roles(o).variables))
    if isinstance(data, Survey) and spec.measurement == "latent":
        from .mediation_latent import person_frame

        spec.validate_against(data.codebook)
        long = person_frame(data, spec)
    elif isinstance(data, Survey):
        spec.validate_against(data.codebook)
        long = _long_from_survey(data, spec, variables)
    else:
        need = [_ID, spec.group, _AREA, *variables]
        absent = [c for c in need if c not in data.columns]
        if absent:
            raise SpecError(f"mediation: column(s) {absent} are not in the data; columns: "
                            f"{list(data.columns)}")
        long = data[need + ([_WEIGHT] if _WEIGHT in data.columns else [])].copy()
        if _WEIGHT not in long.columns:
            long[_WEIGHT] = 1.0
        long = long.rename(columns={spec.group: _GROUP}) if spec.group != _GROUP else long
        long[_GROUP] = long[_GROUP].astype(str)
        for v in variables:
            if not pd.api.types.is_numeric_dtype(long[v]):
                raise SurveyDataError(f"mediation: column {v!r} is not numeric "
                                      f"(dtype {long[v].dtype})")
        dup = long.duplicated([_ID, _AREA])
        if dup.any():
            raise SurveyDataError(f"mediation: respondent x area rows repeated at rows "
                                  f"{list(long.index[dup][:10])} ({int(dup.sum())} rows)")
    cols = variables
    complete = long[cols].notna().all(axis=1)
    groups = list(dict.fromkeys(long[_GROUP]))
    areas = list(dict.fromkeys(long[_AREA]))
    rows = (long.assign(used=complete).groupby([_GROUP, _AREA], sort=False)["used"]
            .agg(rows="size", used="sum").reset_index())
    rows["not_used"] = rows["rows"] - rows["used"]
    missing = long[cols].isna().groupby([long[_GROUP], long[_AREA]], sort=False).sum()
    rows["missing"] = ["; ".join(f"{v} {int(k)}" for v, k in missing.loc[(r[_GROUP], r[_AREA])]
                                 .items() if k) for _, r in rows.iterrows()]
    small = rows[rows["used"] <= len(cols) + 1]
    if len(small):
        where = list(zip(small[_GROUP], small[_AREA], strict=True))
        raise SpecError(f"mediation: context(s) {where} have "
                        f"too few complete rows ({list(small['used'])}) for {len(cols)} variables")
    d = long[complete].copy()
    for (g, a), idx in d.groupby([_GROUP, _AREA], sort=False).groups.items():
        w = d.loc[idx, _WEIGHT].to_numpy(float) if spec.weights else np.ones(len(idx))
        for col in cols:
            x = d.loc[idx, col].to_numpy(float)
            m = np.average(x, weights=w)
            sd = np.sqrt(np.average((x - m) ** 2, weights=w))
            if not sd > 0:
                raise SurveyDataError(f"mediation: {col!r} is constant ({x[0]:g}) in context "
                                      f"{g}:{a} ({len(idx)} complete rows); its slope is undefined")
            d.loc[idx, col] = (x - m) / sd
    d.attrs.update(groups=groups, areas=areas)
    return d, rows


def _area_data(d: pd.DataFrame, eq: Spec, rows: pd.DataFrame):
    from .engines.areas import AreaData, area_statistics

    groups, areas = d.attrs["groups"], d.attrs["areas"]
    return AreaData(groups, areas, ["Intercept", *eq.predictors],
                    area_statistics(d, eq, groups, areas), rows, d)


# -- fit -------------------------------------------------------------------------------------

def _combine(verdicts: dict[str, Verdict]) -> Verdict:
    vs = list(verdicts.values())
    return Verdict(converged=all(v.converged for v in vs),
                   max_rhat=max(v.max_rhat for v in vs),
                   min_ess_bulk=min(v.min_ess_bulk for v in vs),
                   min_ess_tail=min(v.min_ess_tail for v in vs),
                   divergences=sum(v.divergences for v in vs),
                   problems=tuple(f"{k}: {p}" for k, v in verdicts.items() for p in v.problems))


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, *x.shape[2:])


class MediationFit:
    """A fitted mediation spec: per outcome, draws of each context's a, b, c' (``direct``),
    indirect and total effects and of the defined parameters.

    Made by :func:`fit_mediation`; the parameters are kept as attributes of the same
    names.

    Parameters
    ----------
    spec : MediationSpec
        The spec that was fitted.
    equations : dict
        ``"mediator"`` and each outcome -> ``(idata, verdict, outcome name)`` of its equation
        (the latent version: one entry per outcome, its latent model's).
    draws : dict
        outcome -> path -> array (draw, group, area) (chains stacked); paths ``a``, ``b``,
        ``direct``, ``indirect``, ``total`` and the ``:=`` names.
    rows : DataFrame
        Respondent x area rows per context: used, not used, and the missing variables.
    groups : list of str
        The group levels (the second axis of the draws).
    areas : list of str
        The policy areas (the third axis; ``["all"]`` in the latent version).
    roles : Roles
        The roles of the first outcome (:meth:`MediationSpec.roles`).

    Attributes
    ----------
    verdict : Verdict
        All equations together (the worst R-hat and ESS; problems named by equation).
    residual : dict or None
        The latent version's standardised residual SDs of the mediator and the outcome per
        outcome (used by :meth:`sensitivity`); None for the index version.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(seed=0)
    >>> fit = cb.fit_mediation("mediation", s)                    # doctest: +SKIP
    >>> fit.table().query("path == 'indirect'")                    # doctest: +SKIP
    >>> fit.compare(cb.ols_mediation(s)).query("path == 'a'")      # doctest: +SKIP
    >>> dist, summary = fit.positive_counts("individual", "a")     # doctest: +SKIP
    """

    def __init__(self, spec, equations, draws, rows, groups, areas, roles):
        self.spec, self.equations, self.draws, self.rows = spec, equations, draws, rows
        self.groups, self.areas, self.roles = groups, areas, roles
        self.residual = None  # the latent version's standardised residual SDs, per outcome
        self.verdict = _combine({k: v[1] for k, v in equations.items()})

    def __repr__(self) -> str:
        return (f"<MediationFit {self.spec.name}: outcomes {list(self.spec.outcomes)}, "
                f"{len(self.groups)} x {len(self.areas)} contexts; {self.verdict.headline}>")

    @property
    def outcomes(self) -> list[str]:
        """The fitted outcomes, in the spec's order."""
        return list(self.draws)

    def table(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """One row per outcome x context x path (``a``, ``b``, ``direct``, ``indirect``,
        ``total``, ``proportion``): posterior mean, SD, equal-tailed interval ``lo``-``hi``
        at ``hdi_prob``, P(> 0).

        ``proportion`` (indirect / total; its posterior median in ``mean``, no SD, as the
        ratio's mean is unstable) is given only where it means something: the direct and
        indirect effects not credibly of opposite signs (P(opposite) < 0.9; a direct
        effect near 0, full mediation, passes) and the total effect's interval excluding
        zero; elsewhere it is missing and ``note`` says why (opposite signs, the pattern the
        papers expect, make it exceed 1 or turn negative).

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the equal-tailed intervals (quantiles, not HDIs).

        Returns
        -------
        DataFrame
            Columns ``outcome``, the spec's group column, ``area``, ``path``, ``mean``,
            ``sd``, ``lo``, ``hi``, ``p_positive``, ``note``; the paths are ``a``, ``b``,
            ``direct``, ``indirect``, ``total``, the syntax's other ``:=`` names and
            ``proportion``.
        """
        q = (1 - hdi_prob) / 2
        out = []
        for o, paths in self.draws.items():
            for gi, g in enumerate(self.groups):
                for ai, a in enumerate(self.areas):
                    for path in [*PATHS, *[d for d in paths if d not in PATHS]]:
                        x = paths[path][:, gi, ai]
                        out.append(_row(o, g, a, path, x, q))
                    ind, dire, tot = (paths[p][:, gi, ai] for p in ("indirect", "direct", "total"))
                    opposite = np.mean(np.sign(ind) != np.sign(dire))
                    lo, hi = np.quantile(tot, [q, 1 - q])
                    ratio = ind / tot
                    row = _row(o, g, a, "proportion", ratio, q)
                    # the ratio's mean and SD are unstable (draws with a total near 0): the
                    # posterior median stands in the mean column, and no SD
                    row.update(mean=float(np.median(ratio)), sd=np.nan,
                               note="posterior median (the ratio's mean is unstable)")
                    if opposite >= 0.9 or lo <= 0 <= hi:
                        row.update(mean=np.nan, lo=np.nan, hi=np.nan, p_positive=np.nan,
                                   note=("direct and indirect effects of opposite signs "
                                         "(P >= 0.9)" if opposite >= 0.9
                                         else "total effect's interval includes 0"))
                    out.append(row)
        t = pd.DataFrame(out)
        if "note" not in t:
            t["note"] = ""
        t["note"] = t["note"].fillna("")
        return t.rename(columns={"group": self.spec.group})

    def pooled(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """The effects averaged over the contexts (draw by draw), per outcome and path.

        Every context counts equally (not weighted by its respondents).

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the equal-tailed intervals.

        Returns
        -------
        DataFrame
            Columns ``outcome``, ``path`` (``a``, ``b``, ``direct``, ``indirect``,
            ``total``), ``mean``, ``sd``, ``lo``, ``hi``, ``p_positive``.
        """
        q = (1 - hdi_prob) / 2
        return pd.DataFrame([_row(o, "all", "all", p, paths[p].mean(axis=(1, 2)), q)
                             for o, paths in self.draws.items() for p in PATHS]
                            ).drop(columns=["group", "area"])

    def positive_counts(self, outcome: str | None = None, path: str = "a",
                        level: float = 0.975, seed: int = 0) -> tuple[pd.DataFrame, dict]:
        """How many of the contexts have a positive ``path`` (the papers: the a-path was
        "significant in ten out of fifteen contexts").

        Parameters
        ----------
        outcome : str, optional
            One of the fitted outcomes; by default the first.
        path : str, default "a"
            A path of the draws (``a``, ``b``, ``direct``, ``indirect``, ``total`` or a
            ``:=`` name).
        level : float, default 0.975
            The posterior probability of a positive path above which a context counts as
            credibly positive.
        seed : int, default 0
            Seed of the simulated replications.

        Returns
        -------
        distribution : DataFrame
            ``count`` 0..contexts; ``p_positive``: posterior probability that exactly that
            many contexts have path > 0; ``p_credible_replication``: the probability that a
            replication of the survey (same contexts and sample sizes) would find exactly that
            many contexts credibly positive (P(> 0) > ``level``), under the posterior
            (each context's estimate drawn around a posterior draw with the context's
            posterior SD as its standard error: a flat-prior approximation, as pooling makes
            the posterior SD smaller than a refit's standard error). The default ``level``
            0.975 is the one-sided counterpart of the papers' two-sided p < 0.05.
        summary : dict
            ``outcome``, ``path``, ``contexts``, ``level``, ``credibly_positive`` (contexts
            whose P(> 0) > ``level`` in this fit), ``mean_positive`` (the posterior mean
            number of positive contexts) and ``positive_90`` (its 90% interval).
        """
        o = outcome or self.outcomes[0]
        x = self.draws[o][path].reshape(len(self.draws[o][path]), -1)  # (S, contexts)
        k = x.shape[1]
        n_pos = (x > 0).sum(1)
        sd = x.std(0, ddof=1)
        rng = np.random.default_rng(seed)
        est = x + rng.standard_normal(x.shape) * sd
        from scipy.stats import norm

        n_rep = (est / sd > norm.ppf(level)).sum(1)
        counts = np.arange(k + 1)
        dist = pd.DataFrame({"count": counts,
                             "p_positive": np.bincount(n_pos, minlength=k + 1) / len(x),
                             "p_credible_replication":
                                 np.bincount(n_rep, minlength=k + 1) / len(x)})
        lo, hi = np.quantile(n_pos, [0.05, 0.95], method="inverted_cdf")
        summary = {"outcome": o, "path": path, "contexts": k, "level": level,
                   "credibly_positive": int(((x > 0).mean(0) > level).sum()),
                   "mean_positive": float(n_pos.mean()), "positive_90": (int(lo), int(hi))}
        return dist, summary

    def sensitivity(self, outcome: str | None = None,
                    rho: np.ndarray | None = None, hdi_prob: float = 0.9) -> pd.DataFrame:
        """The indirect effect of each context if the residuals of efficacy and co-production
        correlated ``rho`` (an unmeasured confounder), draw by draw
        (:func:`indirect_under_confounding`; residuals include the respondent effects).

        Parameters
        ----------
        outcome : str, optional
            One of the fitted outcomes; by default the first.
        rho : array of float, optional
            The residual correlations, each strictly between -1 and 1; by default 25 values
            from -0.6 to 0.6.
        hdi_prob : float, default 0.9
            Probability mass of the equal-tailed intervals.

        Returns
        -------
        DataFrame
            Columns the spec's group column, ``area``, ``rho``, posterior ``mean``, ``lo``,
            ``hi``; its ``attrs["vanishes_at"]`` holds, per context, the posterior mean and
            interval of the correlation at which the indirect effect is zero.

        Raises
        ------
        ValueError
            If a value of ``rho`` is not strictly between -1 and 1.
        """
        o = outcome or self.outcomes[0]
        rho = np.linspace(-0.6, 0.6, 25) if rho is None else np.asarray(rho, float)
        q = (1 - hdi_prob) / 2
        a, b = self.draws[o]["a"], self.draws[o]["b"]
        s_m, s_y = self._residual_sds(o)  # (S, G)
        rows, zero = [], []
        for gi, g in enumerate(self.groups):
            for ai, ar in enumerate(self.areas):
                acme, r0 = indirect_under_confounding(a[:, gi, ai], b[:, gi, ai], s_m[:, gi],
                                                      s_y[:, gi], rho)
                for j, r in enumerate(rho):
                    lo, hi = np.quantile(acme[:, j], [q, 1 - q])
                    rows.append({self.spec.group: g, "area": ar, "rho": r,
                                 "mean": acme[:, j].mean(), "lo": lo, "hi": hi})
                lo, hi = np.quantile(r0, [q, 1 - q])
                zero.append({self.spec.group: g, "area": ar, "mean": r0.mean(), "lo": lo,
                             "hi": hi})
        out = pd.DataFrame(rows)
        out.attrs["vanishes_at"] = pd.DataFrame(zero)
        return out

    def _residual_sds(self, outcome: str) -> tuple[np.ndarray, np.ndarray]:
        """Each draw's residual SDs of the mediator's and the outcome's equations by group,
        (S, G) each: the respondent effect and row error together (index version), the
        standardised latent residual SDs (latent version)."""
        if getattr(self, "residual", None) is not None:
            return self.residual[outcome]

        def sd(equation):
            post = self.equations[equation][0].posterior
            sigma = _flat(post["sigma"].values)
            omega = _flat(post["omega"].values)
            return np.sqrt(sigma**2 + omega[:, None] ** 2)

        return sd("mediator"), sd(outcome)

    def compare(self, ols: pd.DataFrame, hdi_prob: float = 0.9) -> pd.DataFrame:
        """The posterior table beside the frequentist one (:func:`ols_mediation`), one row
        per outcome x context x path: ``ols``, ``ols_lo``, ``ols_hi`` (bootstrap), ``ols_p``.

        Parameters
        ----------
        ols : DataFrame
            The table of :func:`ols_mediation` for the same spec.
        hdi_prob : float, default 0.9
            Probability mass of the posterior's equal-tailed intervals.

        Returns
        -------
        DataFrame
            :meth:`table` with the four OLS columns (missing for paths OLS does not have,
            such as ``proportion``).
        """
        t = self.table(hdi_prob)
        g = self.spec.group
        keep = ols[["outcome", g, "area", "path", "estimate", "lo", "hi", "p"]].rename(
            columns={"estimate": "ols", "lo": "ols_lo", "hi": "ols_hi", "p": "ols_p"})
        return t.merge(keep, on=["outcome", g, "area", "path"], how="left")


def _row(o, g, a, path, x, q) -> dict:
    lo, hi = np.quantile(x, [q, 1 - q])
    return {"outcome": o, "group": g, "area": a, "path": path, "mean": float(np.mean(x)),
            "sd": float(np.std(x, ddof=1)), "lo": float(lo), "hi": float(hi),
            "p_positive": float(np.mean(x > 0))}


def indirect_under_confounding(a, b, s_m, s_y, rho) -> tuple[np.ndarray, np.ndarray]:
    """The indirect effect a*b when the mediator's and outcome's residuals correlate ``rho``
    (Imai, Keele and Tingley 2010, linear models, their eq. for the ACME):

        ACME(rho) = a s_1 / s_m * (rho~ - rho sqrt((1 - rho~^2) / (1 - rho^2)))

    where the fitted model (rho = 0) gives the reduced-form residual SD
    s_1 = sqrt(b^2 s_m^2 + s_y^2) and rho~ = b s_m / s_1, the correlation of the mediator's
    and the reduced form's residuals. At rho = 0 it is a*b; it is 0 at rho = rho~.

    Parameters
    ----------
    a, b, s_m, s_y : array (draws,)
        a-path, b-path and the residual SDs of the mediator and outcome equations.
    rho : array (k,)

    Returns
    -------
    acme : array (draws, k)
    vanishes_at : array (draws,)
        rho~.
    """
    a, b, s_m, s_y = (np.asarray(v, float)[:, None] for v in (a, b, s_m, s_y))
    rho = np.asarray(rho, float)[None, :]
    if np.any(np.abs(rho) >= 1):
        raise ValueError("rho must lie strictly between -1 and 1")
    s1 = np.sqrt(b**2 * s_m**2 + s_y**2)
    rt = b * s_m / s1
    acme = a * s1 / s_m * (rt - rho * np.sqrt((1 - rt**2) / (1 - rho**2)))
    return acme, rt[:, 0]


def fit_mediation(spec: str | MediationSpec, data: Survey | pd.DataFrame,
                  progress: bool = False, **sampler_options) -> MediationFit:
    """Fit a mediation spec (see the module docstring) to a survey or long frame.

    Parameters
    ----------
    spec : str or MediationSpec
        ``"mediation"`` (built in) or a spec.
    data : Survey or DataFrame
        See :func:`mediation_frame` (the latent version needs a Survey).
    progress : bool, default False
        Show the sampler's progress bar (index version; the latent version does not use it).
    **sampler_options
        Overrides of the spec's sampler settings (``draws=500``).

    Returns
    -------
    MediationFit

    Raises
    ------
    SpecError
        If the spec is not a mediation spec, does not fit the data (see
        :func:`mediation_frame`), or the mediator's equation differs between outcomes.
    SurveyDataError
        If the data are unusable (see :func:`mediation_frame`).

    Warns
    -----
    ConvergenceWarning
        If any equation did not converge (R-hat > 1.01, ESS < 400 or divergences).

    Examples
    --------
    >>> fit = cb.fit_mediation("mediation", cb.simulate())      # doctest: +SKIP
    >>> fit.table().query("path == 'indirect'")                  # doctest: +SKIP
    """
    from .spec.spec import load_spec

    spec = load_spec(spec)
    if not isinstance(spec, MediationSpec):
        raise SpecError(f"spec {spec.name!r} is not a mediation spec")
    if sampler_options:
        spec = spec.with_sampler(**sampler_options)
    if spec.measurement == "latent":
        from .mediation_latent import fit_latent_mediation

        fit = fit_latent_mediation(spec, data, progress)
    else:
        fit = _fit_index(spec, data, progress)
    if not fit.verdict.converged:
        warnings.warn(f"{spec.name}: {fit.verdict.headline}", ConvergenceWarning, stacklevel=2)
    return fit


def _effects(spec: MediationSpec, roles: Roles, paths: dict) -> dict:
    """a, b and c' (``direct``) draws extended by ``indirect`` = a*b, ``total`` = c' + a*b
    and the syntax's ``:=`` definitions (checked against the built-in ones)."""
    labels = {roles.a: paths["a"], roles.b: paths["b"], roles.c: paths["direct"]}
    paths["indirect"] = paths["a"] * paths["b"]
    paths["total"] = paths["direct"] + paths["indirect"]
    for dfn in roles.definitions:
        value = np.asarray(dfn.evaluate({**labels, **paths}), float) * np.ones_like(paths["a"])
        if dfn.name in PATHS and not np.allclose(value, paths[dfn.name]):
            raise SpecError(f"mediation spec {spec.name!r} line {dfn.line}: {dfn.name} := "
                            f"{dfn.expression} is not the built-in {dfn.name} "
                            "(indirect = a*b, total = c' + a*b); name it otherwise")
        paths[dfn.name] = value
    return paths


def _fit_index(spec: MediationSpec, data, progress: bool) -> MediationFit:
    d, rows = mediation_frame(data, spec)
    rows = rows.rename(columns={_GROUP: spec.group})
    groups, areas = d.attrs["groups"], d.attrs["areas"]
    equations, draws = {}, {}
    roles = spec.roles(spec.outcomes[0])
    eq = spec.equation_spec("mediator", roles, 0)
    m_idata, m_verdict = fit_area_data(eq, _area_data(d, eq, rows), progress)
    equations["mediator"] = (m_idata, m_verdict, roles.mediator)
    for k, o in enumerate(spec.outcomes):
        roles = spec.roles(o)
        if spec.equation_spec("mediator", roles, 0).predictors != eq.predictors:
            raise SpecError(f"mediation spec {spec.name!r}: the mediator's equation must be the "
                            "same for every outcome")
        y_eq = spec.equation_spec("outcome", roles, k + 1)
        y_idata, y_verdict = fit_area_data(y_eq, _area_data(d, y_eq, rows), progress)
        equations[o] = (y_idata, y_verdict, o)
        beta_m = _flat(m_idata.posterior["beta"].sel(coef=roles.treatment).values)
        beta_y = y_idata.posterior["beta"]
        draws[o] = _effects(spec, roles, {
            "a": beta_m, "b": _flat(beta_y.sel(coef=roles.mediator).values),
            "direct": _flat(beta_y.sel(coef=roles.treatment).values)})
    return MediationFit(spec, equations, draws, rows, groups, areas, roles)


# -- frequentist -----------------------------------------------------------------------------

def bootstrap_indices(n: int, n_boot: int, seed: int, context: int) -> np.ndarray:
    """The bootstrap resamples of one context: ``(n_boot, n)`` row positions drawn with
    replacement by ``numpy.random.default_rng([seed, context])``, ``context`` the context's
    position (group-major) among the contexts."""
    return np.random.default_rng([seed, context]).integers(0, n, size=(n_boot, n))


def _std_slopes(Z: np.ndarray, counts: np.ndarray, y: int, xs: list[int]) -> np.ndarray:
    """Standardised OLS slopes of column y on columns xs with an intercept, in each resample
    given by its row counts (B, n): from the resample's (weighted) covariance matrix.

    A resample whose regressors are collinear (in a small context, a rare binary covariate
    that no drawn respondent has, or two covariates that coincide among the drawn) is solved
    by least squares with the minimum norm: a slope that the resample identifies (its
    regressor is not in the span of the others) is exactly OLS's with the redundant columns
    dropped; one it does not identify is NaN.
    """
    w = counts / counts.sum(1, keepdims=True)
    mean = w @ Z                                                  # (B, v)
    S = np.einsum("bn,ni,nj->bij", w, Z, Z) - mean[:, :, None] * mean[:, None, :]
    var = np.clip(np.diagonal(S, axis1=1, axis2=2), 0.0, None)    # (B, v)
    Sxx = S[:, xs][:, :, xs]
    Sxy = S[:, xs, y]
    try:
        beta = np.linalg.solve(Sxx, Sxy[..., None])[..., 0]      # raw slopes (B, k)
    except np.linalg.LinAlgError:
        # scale-free rank decisions: the correlation matrix of the regressors
        d = np.sqrt(np.clip(np.diagonal(Sxx, axis1=1, axis2=2), 0.0, None))
        d = np.where(d > 0, d, 1.0)
        R = Sxx / d[:, :, None] / d[:, None, :]
        P = np.linalg.pinv(R, rcond=1e-10, hermitian=True)
        beta = (P @ (Sxy / d)[..., None])[..., 0] / d
        # slope j is identified iff e_j is in R's row space: (P R)_jj = 1
        ident = np.abs(np.diagonal(P @ R, axis1=1, axis2=2) - 1.0) < 1e-8
        beta = np.where(ident, beta, np.nan)
    sd = np.sqrt(var)
    return beta * sd[:, xs] / sd[:, [y]]


def ols_mediation(data: Survey | pd.DataFrame, spec: str | MediationSpec = "mediation",
                  n_boot: int = 2000, seed: int = 20080401, level: float = 0.9) -> pd.DataFrame:
    """The frequentist answer per context: OLS of the mediator and of the outcome (on the
    rows complete for every outcome, z-scored within context, as the Bayesian fit; weighted
    least squares when the spec uses weights), a, b, c' (``direct``),
    the product of coefficients a*b (``indirect``) and ``total``, with percentile bootstrap
    intervals at ``level`` (``n_boot`` resamples of the context's respondents, re-standardised
    in each resample, seeded: :func:`bootstrap_indices`) and the classical two-sided p-value
    of a, b and c'.

    Parameters
    ----------
    data : Survey or DataFrame
        As for :func:`fit_mediation` (see :func:`mediation_frame`).
    spec : str or MediationSpec, default "mediation"
        A mediation spec or the name of a built-in one.
    n_boot : int, default 2000
        Bootstrap resamples per context.
    seed : int, default 20080401
        Seed of the resamples (with the context's position: :func:`bootstrap_indices`).
    level : float, default 0.9
        Coverage of the percentile intervals.

    Returns
    -------
    DataFrame
        ``outcome``, group, ``area``, ``path``, ``estimate``, ``lo``, ``hi``, ``p`` (missing
        for ``indirect`` and ``total``), ``n``.

    Raises
    ------
    SpecError, SurveyDataError
        As :func:`mediation_frame`.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> t = cb.ols_mediation(cb.simulate(n_per_country=200, seed=3), n_boot=200)
    >>> t.shape, t["path"].unique().tolist()
    ((150, 9), ['a', 'b', 'direct', 'indirect', 'total'])
    """
    from .classical.ols import standardized_ols
    from .spec.spec import load_spec

    spec = load_spec(spec)
    q = (1 - level) / 2
    out = []
    d, _ = mediation_frame(data, spec)
    for o in spec.outcomes:
        roles = spec.roles(o)
        cols = roles.variables
        xm = [cols.index(v) for v in (roles.treatment, *roles.mediator_covariates)]
        xy = [cols.index(v) for v in (roles.mediator, roles.treatment, *roles.outcome_covariates)]
        ctx = 0
        for g in d.attrs["groups"]:
            for ar in d.attrs["areas"]:
                sub = d[(d[_GROUP] == g) & (d[_AREA] == ar)]
                Z = sub[cols].to_numpy(float)
                n = len(Z)
                w = sub[_WEIGHT].to_numpy(float) if spec.weights else np.ones(n)
                idx = bootstrap_indices(n, n_boot, seed, ctx)
                ctx += 1
                counts = np.zeros((n_boot, n))
                np.add.at(counts, (np.repeat(np.arange(n_boot), n), idx.ravel()), 1.0)
                counts *= w[None, :]
                fit_m = standardized_ols(Z[:, 1], Z[:, xm], [cols[i] for i in xm], weights=w)[0]
                fit_y = standardized_ols(Z[:, 2], Z[:, xy], [cols[i] for i in xy], weights=w)[0]
                est_a, est_y = fit_m["beta"].iloc[0], fit_y["beta"].to_numpy()
                ba = _std_slopes(Z, counts, 1, xm)[:, 0]
                by = _std_slopes(Z, counts, 2, xy)
                est = {"a": est_a, "b": est_y[0], "direct": est_y[1]}
                boot = {"a": ba, "b": by[:, 0], "direct": by[:, 1]}
                est["indirect"], boot["indirect"] = est["a"] * est["b"], ba * by[:, 0]
                est["total"] = est["direct"] + est["indirect"]
                boot["total"] = boot["direct"] + boot["indirect"]
                p = {"a": fit_m["p"].iloc[0], "b": fit_y["p"].iloc[0],
                     "direct": fit_y["p"].iloc[1]}
                for path in PATHS:
                    lo, hi = np.quantile(boot[path], [q, 1 - q])
                    out.append({"outcome": o, spec.group: g, "area": ar, "path": path,
                                "estimate": float(est[path]), "lo": float(lo), "hi": float(hi),
                                "p": float(p.get(path, np.nan)), "n": n})
    table = pd.DataFrame(out)
    table.attrs.update(level=level, n_boot=n_boot)  # the plots label the intervals with it
    return table


# -- simulation from the model's own class ---------------------------------------------------

def simulate_mediation(n_per_group: int = 400, seed: int = 0, groups: int = 5,
                       areas: tuple[str, ...] = ("safety", "environment", "health"),
                       outcomes: tuple[str, ...] = ("individual", "collective"),
                       missing: float = 0.03) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A long respondent x area data set from the mediation model's own class, with known
    context paths: for recovery studies of :func:`fit_mediation`.

    Each respondent answers in every area; conditions X have a respondent part (share 0.36);
    a, b and c' of each context are population means (0.2, 0.3 and -0.1; b and c' shifted
    by outcome) plus country, area and country x area deviations (SDs 0.06, 0.04 and 0.04);
    two respondent-level covariates; respondent effects (SD 0.6) and row errors (SD 0.8) in
    both equations, independent of each other; a share ``missing`` of outcome values absent.

    Returns
    -------
    data : DataFrame
        ``respondent_id``, ``country``, ``area``, ``conditions``, ``efficacy``, ``w1``,
        ``w2`` and one column per outcome: fit it with a spec whose covariates are w1, w2.
    truth : DataFrame
        ``outcome``, ``country``, ``area``, ``a``, ``b``, ``direct``, ``indirect``, ``total``
        on the model's scale: the raw paths times the context's sample SD ratios (every
        variable is z-scored within context, on the rows complete for all outcomes).
    """
    rng = np.random.default_rng(seed)
    G, K = groups, len(areas)
    names = [f"c{g + 1}" for g in range(G)]

    def paths(mean):
        return (mean + 0.06 * rng.standard_normal((G, 1)) + 0.04 * rng.standard_normal((1, K))
                + 0.04 * rng.standard_normal((G, K)))

    a = paths(0.2)
    bc = {o: (paths(0.3 + 0.05 * j), paths(-0.1 + 0.03 * j)) for j, o in enumerate(outcomes)}
    n = n_per_group * G
    gi = np.repeat(np.arange(G), n_per_group)
    w = rng.standard_normal((n, 2))
    hx, um = rng.standard_normal(n), 0.6 * rng.standard_normal(n)
    uy = {o: 0.6 * rng.standard_normal(n) for o in outcomes}
    parts = []
    for k, ar in enumerate(areas):
        X = 0.6 * hx + 0.8 * rng.standard_normal(n)
        M = a[gi, k] * X + 0.1 * w[:, 0] - 0.1 * w[:, 1] + um + 0.8 * rng.standard_normal(n)
        part = pd.DataFrame({"respondent_id": np.arange(n), "country": np.array(names)[gi],
                             "area": ar, "conditions": X, "efficacy": M, "w1": w[:, 0],
                             "w2": w[:, 1]})
        for o in outcomes:
            b, c = bc[o]
            Y = (b[gi, k] * M + c[gi, k] * X + 0.1 * w[:, 0] + uy[o]
                 + 0.8 * rng.standard_normal(n))
            Y[rng.random(n) < missing] = np.nan
            part[o] = Y
        parts.append(part)
    data = pd.concat(parts, ignore_index=True)
    d = data.dropna()
    truth = []
    for o in outcomes:
        b, c = bc[o]
        for g in range(G):
            for k, ar in enumerate(areas):
                s = d[(d["country"] == names[g]) & (d["area"] == ar)]
                sx, sm, sy = (s[v].std(ddof=0) for v in ("conditions", "efficacy", o))
                row = {"outcome": o, "country": names[g], "area": ar, "a": a[g, k] * sx / sm,
                       "b": b[g, k] * sm / sy, "direct": c[g, k] * sx / sy}
                row["indirect"] = row["a"] * row["b"]
                row["total"] = row["direct"] + row["indirect"]
                truth.append(row)
    return data, pd.DataFrame(truth)


def mediation_layout(compared: pd.DataFrame, group: str = "country") -> pd.DataFrame:
    """One row per outcome x context, one column per path: ``posterior mean [lo, hi]
    P(>0)`` and, below the Bayesian columns, ``OLS estimate [bootstrap lo, hi]``; from
    :meth:`MediationFit.compare`."""
    t = compared[compared["path"].isin(PATHS)].copy()
    t["bayes"] = [f"{r['mean']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}] P={r['p_positive']:.2f}"
                  for _, r in t.iterrows()]
    t["ols"] = [f"{r['ols']:+.3f} [{r['ols_lo']:+.3f}, {r['ols_hi']:+.3f}]"
                if pd.notna(r.get("ols")) else "" for _, r in t.iterrows()]
    wide = t.pivot_table(index=["outcome", group, "area"], columns="path",
                         values=["bayes", "ols"], aggfunc="first", sort=False)
    wide = wide.swaplevel(axis=1)
    return wide[[(p, k) for p in PATHS for k in ("bayes", "ols") if (p, k) in wide.columns]]
