"""Randomised experiments in a survey wave: the 2x2 "nudge" factorial of the 2011 UK panels.

For outcome index y (0-100) of respondent i in group g (a local area), with treatments A, B
(0/1) and optional covariates x (z-scored over the respondents used):

    y_i = m + s * (beta_g0 + beta_gA A_i + beta_gB B_i + beta_gAB A_i B_i + beta_gx' x_i + e_i)
    e_i ~ Normal(0, sigma_g^2),   beta_g ~ Normal(mu, diag(tau)^2)    (partial pooling)
    mu ~ Normal(0, prior scale),  tau ~ HalfNormal(prior scale),  sigma_g ~ HalfNormal(...)

where m and s are the outcome's mean and SD over all respondents used, so the coefficients
are in outcome SDs and the priors are on that scale (the spec's ``[priors]``: Normal(0, 0.5),
so a nudge effect beyond 1 SD, two prior SDs, is implausible a priori; areas' effects differ
by tenths of an SD, HalfNormal(0.1)). The
areas' coefficients are integrated out exactly (the closed-form engine of
:mod:`coprod_bayes.engines.regression`) and drawn afterwards from their exact conditional
posterior. Treatments keep their 0/1 coding, so ``beta_gA`` is the effect of nudge A without
nudge B in area g, ``beta_gAB`` the interaction; the arm means, simple and main effects and
the interaction follow per draw, in index points (times s) and in SDs.

Beside them, :func:`ols_experiment` gives the frequentist answer: OLS of the same terms per
area and pooled over areas (area fixed effects), HC3 robust standard errors, and the two-way
ANOVA table (type II) per area and pooled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .classical.indexes import index_scores
from .errors import ConvergenceWarning, SpecError, SurveyDataError
from .spec.spec import Priors, Sampler, build_kind_spec
from .survey.survey import Survey

__all__ = ["ExperimentSpec", "ExperimentFit", "fit_experiment", "ols_experiment",
           "experiment_frame", "experiment_layout", "planted_contrasts",
           "planted_latent_contrasts", "CONTRASTS"]

#: Draws per chain of the latent version at the least: the between-area SDs of the four
#: areas' nudge effects mix slowly (on the simulated 2011 wave, seed 3, collective: bulk
#: ESS 192 of 2 x 1,000 draws; 379 (tail 373) of 2 x 3,000; 159 (tail 85) of 2 x 4,000, a
#: chain lingering near an SD of 0; the verdict asks 400).
LATENT_DRAWS = 3000

#: The contrasts reported, as weights on (intercept, A, B, AB): simple effects (the other
#: nudge absent), main effects (averaged over the other nudge's two levels), interaction.
CONTRASTS = {
    "A (B absent)": (0, 1, 0, 0),
    "B (A absent)": (0, 0, 1, 0),
    "A (main)": (0, 1, 0, 0.5),
    "B (main)": (0, 0, 1, 0.5),
    "A x B": (0, 0, 0, 1),
}
ARMS = {"none": (1, 0, 0, 0), "A only": (1, 1, 0, 0), "B only": (1, 0, 1, 0),
        "A and B": (1, 1, 1, 1)}


@dataclass(frozen=True)
class ExperimentSpec:
    """A randomised 2x2 factorial analysed in every group with partial pooling.

    Parameters
    ----------
    name : str
        The spec's name (used in messages and warnings).
    outcomes : sequence of str, default ("collective", "individual")
        Constructs (or composite indexes) of the codebook whose 0-100 indexes are the
        outcomes; one model each.
    treatments : sequence of two str, default ("nudge_a", "nudge_b")
        The 0/1 treatment columns (the codebook's ``treatments``): A and B.
    description : str, default ""
        Free text.
    group : str, default "area"
        The grouping column (``"area"``) whose levels' effects are partially pooled.
    covariates : sequence of str, default ()
        Demographics to adjust for (z-scored), which sharpens the effects without changing
        what they estimate under randomisation; respondents missing one are not used (and
        counted in ``fit.rows``).
    interaction : bool, default True
        Include the A x B interaction (the full factorial).
    pooling : {"partial", "none", "complete"}, default "partial"
        How the groups' coefficients relate (as in the regression specs).
    smallest_effect : float, default 2.0
        The smallest effect of interest, in index points: the tables give P(effect >
        smallest_effect), P(|effect| < smallest_effect) (the region of practical
        equivalence) and P(effect < -smallest_effect).
    smallest_effect_sd : float, default 0.1
        The same for the latent version, in latent SDs (the reference group's residual SD).
    measurement : {"index", "latent"}, default "index"
        The outcomes as 0-100 indexes, or as latent variables measured by their ordinal
        items (graded response; the latent engine of :func:`coprod_bayes.sem`), regressed on
        the treatments with slopes varying by group (its own priors: Normal(0, 1) on the
        population slopes, Gamma(2, 20) on their between-group SDs, in latent SDs: the
        latent engine's default).
    weights : bool, default False
        Survey weights as a normalised pseudo-likelihood (randomised experiments rarely
        need them).
    priors : Priors or dict, default Priors(coefficient=0.5)
        Prior scales in outcome SDs (index version).
    sampler : Sampler or dict, default Sampler()
        Sampler settings (outcome k is sampled with seed + k).

    Raises
    ------
    SpecError
        If ``outcomes`` is empty, ``treatments`` are not two different columns, ``pooling``
        or ``measurement`` is not one of its options, or ``smallest_effect`` is not a
        number >= 0.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> spec = cb.ExperimentSpec(name="nudges", outcomes=("collective",), covariates=("age",))
    >>> spec.coefficients
    ['Intercept', 'nudge_a', 'nudge_b', 'nudge_a:nudge_b', 'age']
    >>> cb.load_spec("nudge_experiment").smallest_effect
    2.0
    >>> cb.ExperimentSpec(name="nudges", treatments=("nudge_a",))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: experiment spec 'nudges': a 2x2 factorial needs two ...
    """

    name: str
    outcomes: tuple[str, ...] = ("collective", "individual")
    treatments: tuple[str, ...] = ("nudge_a", "nudge_b")
    description: str = ""
    group: str = "area"
    covariates: tuple[str, ...] = ()
    interaction: bool = True
    pooling: str = "partial"
    smallest_effect: float = 2.0
    smallest_effect_sd: float = 0.1
    measurement: str = "index"
    weights: bool = False
    priors: Priors = field(default_factory=lambda: Priors(coefficient=0.5))
    sampler: Sampler = field(default_factory=Sampler)

    kind = "experiment"
    varying = "all"
    level = "respondent"

    def __post_init__(self):
        for name in ("outcomes", "treatments", "covariates"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if isinstance(self.priors, dict):
            object.__setattr__(self, "priors", Priors(**self.priors))
        if isinstance(self.sampler, dict):
            object.__setattr__(self, "sampler", Sampler(**self.sampler))
        where = f"experiment spec {self.name!r}"
        if not self.outcomes:
            raise SpecError(f"{where}: lists no outcomes")
        if len(self.treatments) != 2 or len(set(self.treatments)) != 2:
            raise SpecError(f"{where}: a 2x2 factorial needs two different treatments, got "
                            f"{list(self.treatments)}")
        if self.pooling not in ("partial", "none", "complete"):
            raise SpecError(f"{where}: pooling = {self.pooling!r}; choose 'partial', 'none' "
                            "or 'complete'")
        if self.measurement not in ("index", "latent"):
            raise SpecError(f"{where}: measurement = {self.measurement!r}; choose 'index' "
                            "or 'latent'")
        for key, unit in (("smallest_effect", "index points"),
                          ("smallest_effect_sd", "latent SDs")):
            v = getattr(self, key)
            if not (isinstance(v, int | float) and not isinstance(v, bool) and v >= 0):
                raise SpecError(f"{where}: {key} must be a number >= 0 ({unit}), got {v!r}")

    @property
    def coefficients(self) -> list[str]:
        """Intercept, A, B, (A:B), covariates."""
        a, b = self.treatments
        return ["Intercept", a, b, *([f"{a}:{b}"] if self.interaction else []),
                *self.covariates]

    def with_sampler(self, **changes: Any) -> ExperimentSpec:
        """A copy with some sampler settings changed.

        Parameters
        ----------
        **changes
            Fields of :class:`~coprod_bayes.spec.Sampler` and their new values (``draws``,
            ``seed`` ...).

        Returns
        -------
        ExperimentSpec
            The same spec with the changed sampler; the original is unchanged.

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> cb.load_spec("nudge_experiment").with_sampler(draws=500).sampler.draws
        500
        """
        return replace(self, sampler=replace(self.sampler, **changes))

    def validate_against(self, codebook) -> None:
        """Check the outcomes, treatments, covariates and group against a codebook.

        Parameters
        ----------
        codebook : Codebook
            The outcomes must be its constructs or composite indexes, the treatments its
            randomised treatments, the covariates its demographics and ``group`` one of its
            grouping columns.

        Raises
        ------
        SpecError
            Naming what is absent and what the codebook has.

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> spec = cb.ExperimentSpec(name="nudges", covariates=("income",))
        >>> spec.validate_against(cb.load_codebook("uk_panels_2011"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        coprod_bayes.errors.SpecError: experiment spec 'nudges': covariate(s) ['income'] ...
        """
        where = f"experiment spec {self.name!r}"
        known = set(codebook.constructs) | set(codebook.indexes)
        bad = [o for o in self.outcomes if o not in known]
        if bad:
            raise SpecError(f"{where}: outcome(s) {bad} are not constructs of codebook "
                            f"{codebook.name!r}; known: {sorted(known)}")
        bad = [t for t in self.treatments if t not in codebook.treatment_columns]
        if bad:
            raise SpecError(f"{where}: treatment(s) {bad} are not randomised treatments of "
                            f"codebook {codebook.name!r} (its treatments: "
                            f"{codebook.treatment_columns})")
        bad = [c for c in self.covariates if c not in codebook.demographic_columns]
        if bad:
            raise SpecError(f"{where}: covariate(s) {bad} are not demographics of codebook "
                            f"{codebook.name!r}: {codebook.demographic_columns}")
        if self.group not in codebook.group_columns:
            raise SpecError(f"{where}: grouping column {self.group!r} is absent; codebook "
                            f"{codebook.name!r} has {codebook.group_columns}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "<dict>") -> ExperimentSpec:
        """Build from TOML-shaped data (``[model] kind = "experiment"``).

        Parameters
        ----------
        data : dict
            ``name``, optional ``description``, a ``model`` table (``kind`` and any of
            ``outcomes``, ``treatments``, ``group``, ``covariates``, ``interaction``,
            ``pooling``, ``smallest_effect``, ``smallest_effect_sd``, ``measurement``,
            ``weights``) and optional ``priors`` and ``sampler`` tables.
        where : str, default "<dict>"
            Where the data came from (a file name), quoted in error messages.

        Returns
        -------
        ExperimentSpec

        Raises
        ------
        SpecError
            On unknown keys or invalid values, naming them and the file.
        """
        allowed = {"outcomes", "treatments", "group", "covariates", "interaction", "pooling",
                   "smallest_effect", "smallest_effect_sd", "measurement", "weights"}
        return build_kind_spec(cls, data, allowed, set(), where)


# -- data ------------------------------------------------------------------------------------

def experiment_frame(survey: Survey, spec: ExperimentSpec, outcome: str
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analysis rows of one outcome: ``(frame, rows)``. ``frame`` has the respondent id,
    group, outcome index, treatments, covariates and weight of every respondent with all of
    them; ``rows`` counts per group the respondents, those used and those not used, with the
    variables they lacked.

    Raises
    ------
    SpecError
        If the spec does not fit the codebook or a group x arm cell has fewer than two
        usable respondents.
    """
    cbk = survey.codebook
    spec.validate_against(cbk)
    f = survey.frame
    d = pd.DataFrame({"respondent_id": f[cbk.id].to_numpy(),
                      "group": f[spec.group].to_numpy(),
                      outcome: index_scores(survey, outcome).to_numpy()})
    for c in (*spec.treatments, *spec.covariates):
        d[c] = f[c].astype(float).to_numpy()
    d["weight"] = survey.weights().to_numpy()
    need = [outcome, *spec.treatments, *spec.covariates]
    complete = d[need].notna().all(axis=1)
    levels = [lv for lv in survey.levels(spec.group) if (d["group"] == lv).any()]
    rows = []
    for g in levels:
        sel = d["group"] == g
        miss = {c: int(d.loc[sel, c].isna().sum()) for c in need}
        rows.append({spec.group: g, "respondents": int(sel.sum()),
                     "used": int((sel & complete).sum()),
                     "not_used": int((sel & ~complete).sum()),
                     "missing_by_variable": ", ".join(f"{k}: {v}" for k, v in miss.items() if v)})
    rows = pd.DataFrame(rows)
    d = d[complete].reset_index(drop=True)
    a, b = spec.treatments
    cells = d.groupby(["group", a, b]).size().unstack([1, 2], fill_value=0)
    thin = [(g, f"{a}={int(i)}, {b}={int(j)}", int(cells.at[g, (i, j)]) if (i, j) in cells else 0)
            for g in levels for i in (0.0, 1.0) for j in (0.0, 1.0)
            if g not in cells.index or (i, j) not in cells.columns or cells.at[g, (i, j)] < 2]
    if thin:
        raise SpecError(f"experiment spec {spec.name!r}, outcome {outcome!r}: arms with fewer "
                        f"than two usable respondents (group, arm, n): {thin}")
    d.attrs["levels"] = levels
    return d, rows


def _regression_data(d: pd.DataFrame, spec: ExperimentSpec, outcome: str, rows: pd.DataFrame):
    from .engines.regression import RegressionData

    levels = d.attrs["levels"]
    gi = d["group"].map({g: k for k, g in enumerate(levels)}).to_numpy(int)
    w = d["weight"].to_numpy(float, copy=True) if spec.weights else np.ones(len(d))
    for k in range(len(levels)):
        sel = gi == k
        w[sel] *= sel.sum() / w[sel].sum()
    y_raw = d[outcome].to_numpy(float)
    m = np.average(y_raw, weights=w)
    s = np.sqrt(np.average((y_raw - m) ** 2, weights=w))
    if not s > 0:
        raise SurveyDataError(f"outcome {outcome!r} does not vary among the respondents used")
    y = (y_raw - m) / s
    a, b = spec.treatments
    A, B = d[a].to_numpy(float), d[b].to_numpy(float)
    cols = [np.ones(len(d)), A, B] + ([A * B] if spec.interaction else [])
    for c in spec.covariates:
        x = d[c].to_numpy(float)
        cols.append((x - np.average(x, weights=w)) / np.sqrt(np.cov(x, aweights=w)))
    X = np.column_stack(cols)
    G, p = len(levels), X.shape[1]
    XtX, Xty, yty, n = np.zeros((G, p, p)), np.zeros((G, p)), np.zeros(G), np.zeros(G)
    for k in range(G):
        sel = gi == k
        Xw = X[sel] * w[sel, None]
        XtX[k], Xty[k] = Xw.T @ X[sel], Xw.T @ y[sel]
        yty[k], n[k] = float(np.sum(w[sel] * y[sel] ** 2)), w[sel].sum()
    return RegressionData([str(g) for g in levels], spec.coefficients, XtX, Xty, yty, n, X, y,
                          w, gi, d["respondent_id"].to_numpy(), rows, np.full(G, m),
                          np.full(G, s))


# -- fit -------------------------------------------------------------------------------------

def _weights(wts, p: int, interaction: bool) -> np.ndarray | None:
    """A contrast's or arm's weights on the p coefficients (intercept, A, B, [AB], ...);
    None for the interaction contrast of a model without one."""
    w = np.zeros(p)
    w[:3] = wts[:3]
    if interaction:
        w[3] = wts[3]
    elif not any(wts[:3]):  # the interaction itself
        return None
    return w


def _hdi(x: np.ndarray, prob: float) -> tuple[float, float]:
    import arviz as az

    lo, hi = az.hdi(np.asarray(x, float), hdi_prob=prob)
    return float(lo), float(hi)


class ExperimentFit:
    """A fitted experiment: per outcome, the posterior of every group's coefficients
    (intercept, A, B, A x B, covariates).

    Made by :func:`fit_experiment`; the parameters ``spec``, ``idata``, ``verdicts``,
    ``rows``, ``scale`` and ``unit`` are kept as attributes of the same names.

    Parameters
    ----------
    spec : ExperimentSpec
        The spec that was fitted.
    idata : dict of str to arviz.InferenceData
        Per outcome. Index version: ``mu``, ``tau``, ``sigma`` and the derived ``beta``
        (chain, draw, group, coef), in outcome SDs. Latent version: the latent model's
        posterior (:class:`~coprod_bayes.SemFit`'s).
    coef : dict of str to ndarray
        Per outcome, every group's coefficients per draw (chains stacked), an array
        (draws, groups, coefficients) in the model's units (outcome SDs, or latent SDs).
    verdicts : dict of str to Verdict
        Per outcome, the verdict of its model.
    rows : DataFrame
        Respondents per outcome and group: used, not used, and why.
    sizes : dict of str to array
        Per outcome, the respondents used in each group (the weights of the ``all``
        average).
    groups : sequence of str
        The group levels, in the order of ``coef``'s second axis.
    scale : dict of str to (float, float)
        Per outcome, the origin and unit the contrasts are reported in: index points
        (the index version: mean and SD of the index) or the latent variable's residual SD
        in the reference group (the latent version: (0, 1)).
    population : dict of str to ndarray, optional
        Per outcome, draws (draws, coefficients) of the population coefficients (a new
        group's expected coefficients): the ``population`` level of the tables.
    between : dict, optional
        Per outcome, ``(names, draws)``: the names of the varying coefficients and draws
        (draws, names) of their between-group SDs (:meth:`heterogeneity`).
    unit : str, default "index points"
        ``"index points"`` or ``"latent SD"``.

    Attributes
    ----------
    verdict : Verdict
        Over every outcome's model (the worst R-hat and ESS, all divergences, problems
        named by outcome).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate("uk_panels_2011", seed=1)               # doctest: +SKIP
    >>> fit = cb.fit_experiment("nudge_experiment", s)          # doctest: +SKIP
    >>> fit.contrasts().query("level == 'all'")                  # doctest: +SKIP
    >>> fit.compare(cb.ols_experiment(s, "nudge_experiment"))    # doctest: +SKIP
    """

    def __init__(self, spec, idata, coef, verdicts, rows, sizes, groups, scale,
                 population=None, between=None, unit="index points"):
        self.spec, self.idata, self._coef = spec, idata, coef
        self.verdicts, self.rows, self._sizes = verdicts, rows, sizes
        self._groups, self.scale, self.unit = list(groups), scale, unit
        self._population, self._between = population or {}, between or {}
        from .fit import Verdict

        vs = list(verdicts.values())
        self.verdict = Verdict(all(v.converged for v in vs), max(v.max_rhat for v in vs),
                               min(v.min_ess_bulk for v in vs), min(v.min_ess_tail for v in vs),
                               sum(v.divergences for v in vs),
                               tuple(f"{o}: {p}" for o, v in verdicts.items() for p in v.problems))

    def __repr__(self) -> str:
        return f"ExperimentFit({self.spec.name!r}, {list(self.idata)}; {self.verdict.headline})"

    @property
    def groups(self) -> list[str]:
        """The group levels (the spec's ``group``), in the order of the coefficients."""
        return self._groups

    def _levels(self, outcome: str) -> dict[str, np.ndarray]:
        """Per-draw coefficient vectors (S, p), in the model's units, of every group, of the
        respondent-weighted average over the groups (``"all"``) and of the population
        (``"population"``: a new group's expected coefficients)."""
        beta = self._coef[outcome]
        out = {g: beta[:, k] for k, g in enumerate(self.groups)}
        n = np.asarray(self._sizes[outcome], float)
        out["all"] = np.einsum("sgp,g->sp", beta, n / n.sum())
        if outcome in self._population:
            out["population"] = self._population[outcome]
        return out

    def draws(self, outcome: str, what: str = "contrasts") -> pd.DataFrame:
        """Per-draw values in index points: columns ``(level, contrast)`` for ``what =
        "contrasts"`` or ``(level, arm)`` for ``"arms"``; ``level`` is a group, ``all``
        (the respondent-weighted average over the groups) or ``population``.

        The latent version's values are in latent SDs (its ``scale`` is (0, 1)).

        Parameters
        ----------
        outcome : str
            One of the spec's outcomes.
        what : {"contrasts", "arms"}, default "contrasts"
            The contrasts of :data:`CONTRASTS` (effects), or the arms' mean index
            (``none``, ``A only``, ``B only``, ``A and B``); any value other than
            ``"contrasts"`` gives the arms.

        Returns
        -------
        DataFrame
            One row per posterior draw, columns a MultiIndex (level, contrast or arm); the
            ``population`` level only where the fit has population coefficients, the
            ``A x B`` contrast only with an interaction.

        Examples
        --------
        >>> d = fit.draws("collective")  # doctest: +SKIP
        >>> (d[("all", "A (main)")] > 2).mean()  # doctest: +SKIP
        """
        m, s = self.scale[outcome]
        table = CONTRASTS if what == "contrasts" else ARMS
        cols = {}
        for level, coef in self._levels(outcome).items():
            for name, wts in table.items():
                w = _weights(wts, coef.shape[1], self.spec.interaction)
                if w is None:
                    continue
                v = coef @ w
                cols[(level, name)] = (m + s * v) if what == "arms" else s * v
        return pd.DataFrame(cols)

    def _summarise(self, outcome: str, what: str, hdi_prob: float) -> pd.DataFrame:
        d = self.draws(outcome, what)
        s = self.scale[outcome][1]
        sesoi = float(self.spec.smallest_effect if self.unit == "index points"
                      else self.spec.smallest_effect_sd)
        rows = []
        for (level, name), x in d.items():
            x = x.to_numpy()
            lo, hi = _hdi(x, hdi_prob)
            row = {"outcome": outcome, "level": level, what[:-1]: name, "mean": x.mean(),
                   "sd": x.std(ddof=1), "lower": lo, "upper": hi}
            if what == "contrasts":
                row.update({"d": x.mean() / s, "p_positive": float((x > 0).mean()),
                            "p_above": float((x > sesoi).mean()),
                            "p_rope": float((np.abs(x) < sesoi).mean()),
                            "p_below": float((x < -sesoi).mean())})
            rows.append(row)
        out = pd.DataFrame(rows)
        out.attrs.update(hdi_prob=hdi_prob, smallest_effect=sesoi, verdict=self.verdict.headline)
        return out

    def contrasts(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Every contrast per outcome and level (group, ``all``, ``population``), in index
        points: mean, sd, HDI, ``d`` (mean / the outcome's SD), P(> 0), P(> smallest_effect),
        P(|effect| < smallest_effect) and P(< -smallest_effect).

        The latent version reports in latent SDs, with the spec's ``smallest_effect_sd``.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            Columns ``outcome``, ``level``, ``contrast``, ``mean``, ``sd``, ``lower``,
            ``upper``, ``d``, ``p_positive``, ``p_above``, ``p_rope``, ``p_below``;
            ``.attrs`` holds ``hdi_prob``, ``smallest_effect`` (in the fit's unit) and the
            ``verdict`` headline.

        Warns
        -----
        ConvergenceWarning
            If the fit did not converge.

        Examples
        --------
        >>> fit.contrasts().query("level == 'all' and contrast == 'A (main)'")  # doctest: +SKIP
        """
        self._warn()
        return pd.concat([self._summarise(o, "contrasts", hdi_prob) for o in self.spec.outcomes],
                         ignore_index=True)

    def arms(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """The mean index of every arm per outcome and level, in index points, with HDI.

        The latent version's arm means are in latent SDs, with origin the reference group's
        latent mean at the respondents' average treatments and covariates.

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            Columns ``outcome``, ``level``, ``arm``, ``mean``, ``sd``, ``lower``, ``upper``.

        Warns
        -----
        ConvergenceWarning
            If the fit did not converge.
        """
        self._warn()
        return pd.concat([self._summarise(o, "arms", hdi_prob) for o in self.spec.outcomes],
                         ignore_index=True)

    def heterogeneity(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """The between-group SD of every varying coefficient, in the report's unit (index
        points, or latent SDs).

        Parameters
        ----------
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            Columns ``outcome``, ``coef``, ``mean``, ``sd``, ``lower``, ``upper``; empty
            (no columns) when the fit has no between-group SDs (pooling ``"none"`` or
            ``"complete"``).
        """
        rows = []
        for o, (names, t) in self._between.items():
            t = t * self.scale[o][1]
            for k, c in enumerate(names):
                lo, hi = _hdi(t[:, k], hdi_prob)
                rows.append({"outcome": o, "coef": str(c), "mean": t[:, k].mean(),
                             "sd": t[:, k].std(ddof=1), "lower": lo, "upper": hi})
        return pd.DataFrame(rows)

    def compare(self, ols: dict[str, pd.DataFrame], hdi_prob: float = 0.9) -> pd.DataFrame:
        """The posterior contrasts beside OLS (:func:`ols_experiment`): one row per outcome,
        level and contrast; the OLS ``pooled`` row sits beside the posterior's ``all``.

        Parameters
        ----------
        ols : dict of str to DataFrame
            The result of :func:`ols_experiment` (its ``contrasts`` table is used).
        hdi_prob : float, default 0.9
            Probability mass of the highest-density intervals.

        Returns
        -------
        DataFrame
            The columns of :meth:`contrasts` and ``ols``, ``ols_se``, ``ols_lower``,
            ``ols_upper``, ``ols_p`` (missing for the ``population`` level, which OLS does
            not have).

        Warns
        -----
        ConvergenceWarning
            If the fit did not converge.
        """
        post = self.contrasts(hdi_prob)
        o = ols["contrasts"].rename(columns={"estimate": "ols", "se": "ols_se",
                                             "lower": "ols_lower", "upper": "ols_upper",
                                             "p": "ols_p"})
        o["level"] = o["level"].replace({"pooled": "all"})
        return post.merge(o[["outcome", "level", "contrast", "ols", "ols_se", "ols_lower",
                             "ols_upper", "ols_p"]], on=["outcome", "level", "contrast"],
                          how="left")

    def _warn(self) -> None:
        if not self.verdict.converged:
            warnings.warn(f"{self.spec.name}: {self.verdict.headline}", ConvergenceWarning,
                          stacklevel=3)


def fit_experiment(spec: ExperimentSpec | str, survey: Survey, progress: bool = False,
                   **sampler_options) -> ExperimentFit:
    """Fit an experiment spec (see the module docstring) to a survey.

    Parameters
    ----------
    spec : ExperimentSpec or str
        A spec or the name of a built-in one (``"nudge_experiment"``).
    survey : Survey
        With the spec's treatments and group (``cb.simulate("uk_panels_2011")``).
    progress : bool, default False
        Show the sampler's progress bar (index version; the latent version does not use it).
    **sampler_options
        Override the spec's sampler settings.

    Returns
    -------
    ExperimentFit

    Raises
    ------
    SpecError
        If the spec is not an experiment spec or does not fit the survey's codebook; in the
        index version, if a group x arm cell has fewer than two usable respondents; in the
        latent version, if an outcome is not a construct.
    SurveyDataError
        If an outcome index does not vary among the respondents used (index version).

    Warns
    -----
    ConvergenceWarning
        If any outcome's model did not converge.

    Examples
    --------
    >>> s = cb.simulate("uk_panels_2011", seed=1)           # doctest: +SKIP
    >>> fit = cb.fit_experiment("nudge_experiment", s)      # doctest: +SKIP
    >>> fit.contrasts().query("level == 'all'")              # doctest: +SKIP
    """
    from .engines import regression
    from .fit import assess, sample
    from .spec import load_spec

    spec = load_spec(spec)
    if getattr(spec, "kind", None) != "experiment":
        raise SpecError(f"spec {spec.name!r} is not an experiment spec")
    if sampler_options:
        spec = spec.with_sampler(**sampler_options)
    if spec.measurement == "latent":
        return _fit_latent_experiment(spec, survey, progress)
    idata, coef, verdicts, rows, sizes, scale, pop, between = {}, {}, {}, [], {}, {}, {}, {}
    groups = None
    for k, outcome in enumerate(spec.outcomes):
        d, r = experiment_frame(survey, spec, outcome)
        rd = _regression_data(d, spec, outcome, r)
        model = regression.build_model(spec, rd)
        sd = sample(model, replace(spec.sampler, seed=spec.sampler.seed + k), progress=progress)
        beta = regression.draw_group_coefficients(spec, rd, sd.posterior, spec.sampler.seed + k)
        post = sd.posterior
        post["beta"] = (("chain", "draw", "group", "coef"), beta)
        sd.posterior = post.assign_coords(group=rd.groups, coef=rd.coefficients)
        free = [v for v in ("mu", "tau", "sigma") if v in sd.posterior]
        verdicts[outcome] = assess(sd, [*free, "beta"])
        idata[outcome], sizes[outcome], groups = sd, rd.n, rd.groups
        coef[outcome] = beta.reshape(-1, *beta.shape[2:])
        scale[outcome] = (float(rd.y_loc[0]), float(rd.y_scale[0]))
        if "mu" in sd.posterior:
            pop[outcome] = sd.posterior["mu"].values.reshape(len(coef[outcome]), -1)
        if "tau" in sd.posterior:
            t = sd.posterior["tau"]
            between[outcome] = ([str(c) for c in t.coords["varying"].values],
                                t.values.reshape(-1, t.shape[-1]))
        rows.append(r.assign(outcome=outcome))
    fit = ExperimentFit(spec, idata, coef, verdicts, pd.concat(rows, ignore_index=True), sizes,
                        groups, scale, pop, between)
    if not fit.verdict.converged:
        warnings.warn(f"{spec.name}: {fit.verdict.headline}", ConvergenceWarning, stacklevel=2)
    return fit


def _fit_latent_experiment(spec: ExperimentSpec, survey: Survey, progress: bool
                           ) -> ExperimentFit:
    """The latent version: each outcome a latent variable measured by its ordinal items
    (graded response, the latent engine), regressed on the treatments (and covariates)
    with slopes varying by group as the spec's pooling says, the groups' latent means and
    SDs free (the first group the reference: mean 0, residual SD 1)."""
    from .sem import sem

    cbk = survey.codebook
    a, b = spec.treatments
    ab = f"{a}_x_{b}"
    scored = survey.scored_items()
    idata, coef, verdicts, rows, sizes, scale, pop, between = {}, {}, {}, [], {}, {}, {}, {}
    groups = None
    for k, outcome in enumerate(spec.outcomes):
        if outcome not in cbk.constructs:
            raise SpecError(f"experiment spec {spec.name!r}: the latent version needs a "
                            f"construct as outcome; {outcome!r} is not one")
        spec.validate_against(cbk)
        items = [it.column for it in cbk.items_of(outcome)]
        f = survey.frame[[cbk.id, spec.group, a, b, *spec.covariates]].copy()
        f[items] = scored[items]
        f[ab] = f[a] * f[b]
        need = [*spec.covariates]
        none = f[items].isna().all(axis=1)
        lack = f[need].isna().any(axis=1) if need else pd.Series(False, index=f.index)
        use = ~(none | lack)
        r = []
        for g in survey.levels(spec.group):
            sel = f[spec.group] == g
            r.append({spec.group: g, "respondents": int(sel.sum()), "used": int((sel & use).sum()),
                      "not_used": int((sel & ~use).sum()),
                      "missing_by_variable": ", ".join(
                          x for x in ([f"no {outcome} item: {int((sel & none).sum())}"]
                                      if (sel & none).any() else [])
                          + [f"{c}: {int((sel & f[c].isna()).sum())}" for c in need
                             if (sel & f[c].isna()).any()])})
        f = f[use].reset_index(drop=True)
        terms = [a, b, *([ab] if spec.interaction else []), *spec.covariates]
        syntax = f"{outcome} =~ " + " + ".join(items) + f"\n{outcome} ~ " + " + ".join(terms)
        vary = {outcome} if spec.pooling == "partial" else False
        free = {outcome} if spec.pooling == "none" else ()
        # the sample origin and scale: better mixing of the areas' SDs here (docs/waves.md)
        fit = sem(syntax, f, ordered=items, group=spec.group, vary_slopes=vary,
                  free_slopes=free, origin="sample",
                  sampler=replace(spec.sampler, seed=spec.sampler.seed + k,
                                  mass_matrix="low_rank",
                                  draws=max(spec.sampler.draws, LATENT_DRAWS)))
        post = fit.idata.posterior
        eff = post["effects"].values  # chain, draw, group, latent, covariate
        S = eff.shape[0] * eff.shape[1]
        gam = eff.reshape(S, *eff.shape[2:])[:, :, 0, :]          # (S, G, terms)
        mean = post["latent_mean"].values.reshape(S, -1, eff.shape[3])[:, :, 0]
        # covariates are centred in the engine: the intercept at A = B = 0
        x_mean = fit.data.x_mean
        intercept = mean - np.einsum("sgq,q->sg", gam, x_mean)
        beta = np.concatenate([intercept[:, :, None], gam], axis=2)
        coef[outcome] = beta
        groups = [str(g) for g in fit.groups]
        sizes[outcome] = np.bincount(fit.data.g, minlength=len(groups)).astype(float)
        scale[outcome] = (0.0, 1.0)
        base = [f"{outcome}~{t}" for t in terms]
        if spec.pooling == "partial" and all(n in post for n in base):
            popc = np.column_stack([post[n].values.reshape(S) for n in base])
            pop[outcome] = np.column_stack([intercept.mean(1), popc])
            sds = [f"sd({n})" for n in base]
            between[outcome] = (terms,
                                np.column_stack([post[n].values.reshape(S) for n in sds]))
        verdicts[outcome] = fit.verdict
        idata[outcome] = fit.idata
        rows.append(pd.DataFrame(r).assign(outcome=outcome))
    out = ExperimentFit(spec, idata, coef, verdicts, pd.concat(rows, ignore_index=True), sizes,
                        groups, scale, pop, between, unit="latent SD")
    if not out.verdict.converged:
        warnings.warn(f"{spec.name}: {out.verdict.headline}", ConvergenceWarning, stacklevel=3)
    return out


# -- frequentist -----------------------------------------------------------------------------

def ols_experiment(survey: Survey, spec: ExperimentSpec | str, level: float = 0.95
                   ) -> dict[str, pd.DataFrame]:
    """The frequentist answer: per outcome, OLS of the outcome index on the treatments (and
    their interaction and the covariates) in every group and pooled over groups (with group
    fixed effects), HC3 robust standard errors; and the two-way ANOVA (type II).

    The rows are those of the Bayesian fit (complete on outcome, treatments and covariates).
    With ``spec.weights`` the contrasts come from weighted least squares; the ANOVA is
    always unweighted.

    Parameters
    ----------
    survey : Survey
        With the spec's treatments and group.
    spec : ExperimentSpec or str
        A spec or the name of a built-in one (``"nudge_experiment"``).
    level : float, default 0.95
        Coverage of the confidence intervals (normal quantiles: estimate +- z x SE; the
        p-values are normal too).

    Returns
    -------
    dict
        ``contrasts``: one row per outcome, level (group or ``pooled``) and contrast
        (:data:`CONTRASTS`): ``estimate``, robust ``se``, ``lower`` and ``upper`` of the
        ``level`` confidence interval, ``p``, ``n``, in index points.
        ``anova``: per outcome and level, each ``term``'s ``sum_sq``, ``df``, ``F`` and
        ``p``.

    Raises
    ------
    SpecError
        If the spec does not fit the survey's codebook or a group x arm cell has fewer than
        two usable respondents.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate("uk_panels_2011", n_per_area=40, seed=1, truth_population=1000)
    >>> res = cb.ols_experiment(s, "nudge_experiment")
    >>> sorted(res)
    ['anova', 'contrasts']
    >>> res["contrasts"]["level"].unique().tolist()
    ['LB', 'MB', 'LT', 'RA', 'pooled']
    """
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.stats.anova import anova_lm

    from .spec import load_spec

    spec = load_spec(spec)
    a, b = spec.treatments
    rows, anovas = [], []
    z = stats.norm.ppf(0.5 + level / 2)
    for outcome in spec.outcomes:
        d, _ = experiment_frame(survey, spec, outcome)
        levels = d.attrs["levels"]
        for lev in [*levels, "pooled"]:
            sub = d if lev == "pooled" else d[d["group"] == lev]
            cols = {"const": np.ones(len(sub)), a: sub[a].to_numpy(), b: sub[b].to_numpy()}
            if spec.interaction:
                cols[f"{a}:{b}"] = sub[a].to_numpy() * sub[b].to_numpy()
            for c in spec.covariates:
                cols[c] = sub[c].to_numpy()
            X = pd.DataFrame(cols)
            if lev == "pooled":
                for g in levels[1:]:
                    X[f"group[{g}]"] = (sub["group"] == g).to_numpy(float)
            y = sub[outcome].to_numpy()
            wls = (sm.WLS(y, X, weights=sub["weight"].to_numpy()) if spec.weights
                   else sm.OLS(y, X))
            res = wls.fit(cov_type="HC3")
            names = list(X.columns)
            for cname, wts in CONTRASTS.items():
                w = _weights(wts, len(names), spec.interaction)
                if w is None:
                    continue
                est = float(w @ res.params.to_numpy())
                se = float(np.sqrt(w @ res.cov_params().to_numpy() @ w))
                rows.append({"outcome": outcome, "level": str(lev), "contrast": cname,
                             "estimate": est, "se": se, "lower": est - z * se,
                             "upper": est + z * se, "p": float(2 * stats.norm.sf(abs(est / se))),
                             "n": len(sub)})
            # two-way ANOVA (type II) on the same terms
            frame = pd.DataFrame({"y": y, "A": sub[a].to_numpy(), "B": sub[b].to_numpy(),
                                  "g": sub["group"].astype(str).to_numpy()})
            for c in spec.covariates:
                frame[c] = sub[c].to_numpy()
            rhs = "C(A) * C(B)" if spec.interaction else "C(A) + C(B)"
            rhs += "".join(f" + {c}" for c in spec.covariates)
            if lev == "pooled":
                rhs += " + C(g)"
            import statsmodels.formula.api as smf

            tab = anova_lm(smf.ols(f"y ~ {rhs}", frame).fit(), typ=2)
            tab = tab.reset_index().rename(columns={"index": "term", "sum_sq": "sum_sq",
                                                    "PR(>F)": "p"})
            tab["term"] = tab["term"].replace({"C(A)": a, "C(B)": b, "C(A):C(B)": f"{a}:{b}",
                                               "C(g)": spec.group})
            anovas.append(tab.assign(outcome=outcome, level=str(lev)))
    contrasts = pd.DataFrame(rows)
    contrasts.attrs["level"] = level  # the plots label the intervals with it
    return {"contrasts": contrasts, "anova": pd.concat(anovas, ignore_index=True)}


def experiment_layout(cmp: pd.DataFrame, contrasts: tuple[str, ...] = (
        "A (main)", "B (main)", "A x B", "A (B absent)", "B (A absent)")) -> pd.DataFrame:
    """:meth:`ExperimentFit.compare` as a readable table: one row per outcome, level and
    contrast, the posterior as ``mean [lower, upper]`` with P(> 0) and the ROPE
    probabilities, OLS as ``estimate (robust SE)`` with its p-value (``pooled`` beside
    ``all``)."""
    t = cmp[cmp["contrast"].isin(contrasts)].copy()
    t["contrast"] = pd.Categorical(t["contrast"], categories=list(contrasts), ordered=True)
    t = t.sort_values(["outcome", "contrast"], kind="stable")
    out = pd.DataFrame({
        "outcome": t["outcome"], "level": t["level"], "contrast": t["contrast"].astype(str),
        "posterior": [f"{m:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                      for m, lo, hi in zip(t["mean"], t["lower"], t["upper"], strict=True)],
        "P(>0)": t["p_positive"].round(2), "P(>+sesoi)": t["p_above"].round(2),
        "P(rope)": t["p_rope"].round(2), "P(<-sesoi)": t["p_below"].round(2),
        "OLS (HC3 SE)": [f"{e:+.2f} ({s:.2f})" if pd.notna(e) else ""
                         for e, s in zip(t["ols"], t["ols_se"], strict=True)],
        "OLS p": t["ols_p"].round(3),
    })
    if "truth" in t.columns:
        out["planted"] = t["truth"].round(2)
    return out.reset_index(drop=True)


def planted_latent_contrasts(survey: Survey, reference: str | None = None) -> pd.DataFrame:
    """For a simulated 2011 wave: the planted contrasts in the latent version's units, per
    group (columns ``outcome``, ``level``, ``contrast``, ``truth``).

    The simulator shifts latent outcome o by ``s_o x (a_g A + b_g B + ab_g A B)`` (``s_o``
    its residual SD, the effects in ``truth["nudges"]``). The latent version measures o in
    the reference group's SD of o given the treatments, its residual SD with the treatments
    as the only regressors; that SD is taken from the simulated respondents' own latent
    values in the reference group (the first level), net of their planted shifts (about 500
    respondents: a relative error of about 3%, small beside the posterior SDs);
    ``reference`` is the fit's reference group (``fit.groups[0]``; by default the
    codebook's first area)."""
    if not survey.truth or "nudges" not in survey.truth or "latent" not in survey.truth:
        raise SpecError("planted_latent_contrasts needs a simulated 2011 wave (cb.simulate("
                        "'uk_panels_2011'))")
    truth, design = survey.truth, survey.truth["design"]
    frame = survey.frame.set_index(survey.codebook.id)
    lat = truth["latent"].set_index(survey.codebook.id)
    ref = reference if reference is not None else survey.levels("area")[0]
    here = lat[lat["area"] == ref]
    A = frame.loc[here.index, "nudge_a"].to_numpy(float)
    B = frame.loc[here.index, "nudge_b"].to_numpy(float)
    rows = []
    for o, nud in truth["nudges"].items():
        s = float(design["latent"]["outcomes"][o]["residual_sd"])
        net = here[o].to_numpy() - s * (nud["nudge_a"][ref] * A + nud["nudge_b"][ref] * B
                                        + nud["interaction"][ref] * A * B)
        unit = float(np.std(net, ddof=1))
        for g in survey.levels("area"):
            coef = np.array([0.0, nud["nudge_a"][g], nud["nudge_b"][g],
                             nud["interaction"][g]]) * s / unit
            for name, w in CONTRASTS.items():
                rows.append({"outcome": o, "level": g, "contrast": name,
                             "truth": float(np.dot(w, coef))})
    return pd.DataFrame(rows)


def planted_contrasts(survey: Survey) -> pd.DataFrame:
    """For a simulated 2011 wave: the planted contrasts in index points (from the expected
    index of every group x arm in ``survey.truth["arm_indexes"]``), columns ``outcome``,
    ``level``, ``contrast``, ``truth``, for every contrast of :data:`CONTRASTS` per group and
    for the respondent-weighted average over groups (``all``)."""
    if not survey.truth or "arm_indexes" not in survey.truth:
        raise SpecError("planted_contrasts needs a simulated 2011 wave (cb.simulate("
                        "'uk_panels_2011'))")
    t = survey.truth["arm_indexes"]
    n = survey.frame["area"].value_counts()
    rows = []
    for (o, g), sub in t.groupby(["outcome", "area"], sort=False):
        e = sub.set_index("arm")["index"]
        coef = np.array([e["none"], e["A only"] - e["none"], e["B only"] - e["none"],
                         e["A and B"] - e["A only"] - e["B only"] + e["none"]])
        for name, w in CONTRASTS.items():
            rows.append({"outcome": o, "level": g, "contrast": name,
                         "truth": float(np.dot(w, coef)), "n": int(n.get(g, 0))})
    out = pd.DataFrame(rows)
    avg = (out.assign(wt=out["truth"] * out["n"]).groupby(["outcome", "contrast"], sort=False)
           .agg(wt=("wt", "sum"), n=("n", "sum")).reset_index())
    avg = avg.assign(level="all", truth=avg["wt"] / avg["n"])
    return pd.concat([out, avg[["outcome", "level", "contrast", "truth", "n"]]],
                     ignore_index=True).drop(columns="n")
