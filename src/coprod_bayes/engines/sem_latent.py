"""Latent variable models with respondent-level latent scores: ordinal (graded response) and
continuous indicators, observed covariates, groups and measurement invariance.

For respondent i in group g, latent variables eta_i (m), covariates x_i (centred at their
sample mean):

    eta_i = (I - B_g)^-1 (alpha_g + Gamma_g x_i + s_g * (L_g z_i)),   z_i ~ Normal(0, I)

where L_g is the Cholesky factor of group g's latent correlation matrix (free per group, as
in lavaan's multi-group models; latent variables that are
not regressed on other latent variables correlated, even when regressed on covariates,
unless the syntax fixes one uncorrelated with all the others, ``f ~~ 0*g`` for each g (a
method factor; the other covariance statements this engine does not fit are refused);
those regressed on latent variables with independent residuals), s_g the group's latent (residual)
SDs and alpha_g its latent intercepts. Identification as lavaan's ``std.lv``: in the
reference group (the first level) alpha = 0 and s = 1; the other groups' means
(Normal(0, 1)) and SDs (LogNormal(0, 0.5)) are free under ``"scalar"`` and
``"approximate"`` invariance and fixed like the reference group's under ``"configural"``.

Indicators, item j with loadings lambda_jg (positive, HalfNormal; items keyed the other way
are reversed by the codebook):

- ordinal (K_j categories, its own number per item): P(y_ij <= k) = F(kappa_jkg -
  lambda_jg' eta_i), F the logistic (default) or normal CDF; thresholds ordered per item,
  prior Normal(0, 3);
- continuous: y_ij ~ Normal(nu_jg + lambda_jg' eta_i, theta_jg), residual SDs per group.

Missing responses are absent from the long-form likelihood: no row is dropped.

Invariance across groups:

- ``"configural"``: loadings (log-scale deviation Normal(0, 1) from the reference group),
  thresholds and intercepts free per group; latent means 0, SDs 1 in every group.
- ``"scalar"`` (default): loadings, thresholds and intercepts equal across groups.
- ``"approximate"``: item j's thresholds (all shifted together) or intercept differ by group
  by d_jg = tau_j delta_jg, and its loadings by a factor exp(omega_j epsilon_jg), with
  delta, epsilon ~ ZeroSumNormal(1) over the groups (so the base parameters are the
  across-group averages, not a second copy of them) and the widths estimated per item:
  tau_j ~ LogNormal(log 0.15, 1) (logits, or item SDs; 95% prior range 0.02-1.1) and
  omega_j ~ LogNormal(log 0.05, 1). The data say how non-invariant each item is (Mplus BSEM
  instead fixes the prior variance of the differences). The prior keeps the widths off 0:
  with HalfNormal widths the invariant items' widths sat in the funnel at 0 and the chains
  mixed badly (bulk ESS 135-165 of 2,000 draws).

Structural slopes (``B``, ``Gamma``) vary by group with partial pooling when
``vary_slopes`` (True, or the latent outcomes whose slopes vary, or single paths named
``"f~x"``): B_g = B + sigma * b_g,
b_g ~ Normal(0, 1) (``pooling="centred"``: B_g ~ Normal(B, sigma) itself), B ~ Normal(0, 1)
and sigma ~ Gamma(2, 20) per path (mean 0.1, mode 0.05, 95% prior interval 0.012-0.28;
``sd_prior="halfnormal"``: HalfNormal(0.1), as in the regression specs). With four or five
groups the data say little about sigma, and a prior with its mode at 0 lets the posterior
reach into the neck of the funnel sigma -> 0, where the chains stall: the boundary-avoiding
Gamma(2) of Chung, Rabe-Hesketh, Dorie, Gelman and Liu (2013, Psychometrika 78) keeps
sigma's density at 0 zero (linear near it), so it states that the groups differ a little
and lets the data say how much. (Latent mediation, 5 countries x 300, 1,000 draws: bulk
ESS 128 and R-hat 1.025 with HalfNormal(0.1), 342 and 1.006 with Gamma(2, 20).) The
regressions of the latent variables (or the single paths) in ``free_slopes`` are instead
free in every group
(Normal(0, 1) each, lavaan's multi-group default): for nuisance regressions, such as the
latent predictors on the demographics in the latent specs, whose group differences need no
pooling and whose pooling SDs would only add funnels for the sampler. Otherwise slopes are
equal across groups.

The origin and scale the sampler sees (``origin="sample"``, an option; the default is
``"population"``, the parameters as written above). The likelihood
depends on a group's scores only through the items' thresholds minus loadings times scores,
so the thresholds, the other groups' latent means and the reference group's *sample* mean of
z move together (the prior on z alone pins that mean, to 1/sqrt(n)); likewise every loading
against the sample SD of the reference group's scores, and each group's latent SD against
the sample SD of its own. These directions, each spread over many parameters, made the
chains crawl. The engine therefore samples, by an exact change of variables:

- thresholds (intercepts) relative to the reference group's sample mean of the latent
  variables, E_0 (``thresholds_base = thresholds_base_rel + loadings' E_0``);
- the other groups' latent means as differences of sample means, ``E_g - E_0``;
- loadings, paths, covariate effects, their pooling SDs and the groups' SDs and mean
  differences in units of r_f, the reference group's sample RMS of its centred correlated
  scores C_0 z (and a group's SD per its own RMS), e.g. ``loading = loading_rel / r_f``;
- every slope as the effective slope the likelihood sees: the slope plus b-hat_g, the
  sample regression (least squares, in group g) of the equation's residual scores
  s_g (C_g z)_f on its regressors' centred scores and covariates (errors in variables: the
  residual scores' sample correlation with the predictor's scores otherwise trades off
  against the slope). Free slopes shift per group; equal and partially pooled slopes by
  the size-weighted mean of b-hat (their deviations are left alone: shifting them by
  b-hat / sd made a funnel where the between-group SD is small).
  The latent variables are then built in topological order, each group's centred scores
  column by column.

The priors stay on the model's own parameters (Potentials on the deterministic originals),
with the log-Jacobian of the rescaling (``sample_scale_jacobian``; the shifts have none),
so the posterior is the same as with ``origin="population"``; ``tests/test_sem_origin.py``
checks the log density against the population form and an independently computed Jacobian.
Latent variables with a fixed or labelled loading keep their scale (the marker sets it);
slopes with labels are neither rescaled nor shifted; cyclic models keep the population
form.

The location and unit the sampler sees (``anchor="average"``, the default with the
population origin and free group means, i.e. scalar or approximate invariance;
``anchor="reference"`` samples the parameters as written). Identified against the reference
group alone, the thresholds of a construct's items and the other groups' latent means move
together (the reference group's location is known to 1/sqrt(n_0)), and so do its loadings
and the other groups' SDs (its unit): in the posterior of the reduced latent_collective these
were the largest principal directions (eigenvalues 12.3, 9.9 and 7.8 of the correlation
matrix of the parameters: the location; 6.4: the unit). The engine therefore samples, by
an exact change of variables with the priors kept on the model's parameters:

- thresholds (intercepts) relative to the size-weighted average of the groups'
  model-implied latent means, E-bar = sum_g w_g (I - B_g)^-1 (alpha_g + Gamma_g xbar_g)
  (``thresholds_base = thresholds_base_rel + loadings' E-bar``, a shear);
- each latent variable's group log SDs and group means as deviations from their
  size-weighted averages (``latent_sd_dev``, ``latent_mean_dev``: log sd_g = d_g - d_0 with
  d_0 = -sum_{g>0} w_g d_g / w_0; linear maps of constant Jacobian);
- means, slopes and their pooling SDs in the latent variable's average unit
  c_f = exp(sum_g w_g log sd_gf), the groups' geometric mean SD (means, effects and SDs
  of f over c_f, a slope of f on g times c_g / c_f; with the log-Jacobian), and loadings
  times the geometric mean of its model-implied total SD (``_total_sd_unit``: residual
  and explained; for a variable without regressions c_f itself). An outcome's items see
  its total spread, so its loadings, in the residual's unit, trade off against its slopes:
  the largest principal direction of the latent_individual posterior (eigenvalue 7.9:
  the outcome's twelve loadings with its slopes on efficacy and the government factors);
- an equation's slopes on two or more correlated exogenous latent variables (the
  government factors, correlating about 0.7-0.9, on efficacy and one another) whitened:
  sampled as L' beta in the average unit, L L' the regressors' model-implied covariance in
  each group (free slopes) or its size-weighted average over the groups (population
  slopes), with -log det L in the log-Jacobian (``_whitened_slopes``);
- a partially pooled slope (non-centred, b_g = B + sigma d_g) as the groups' mean slope
  B + sigma mean(d) (unweighted, as the prior is symmetric in the groups), with the
  deviations d in an orthonormal basis whose first axis is their mean (iid Normal(0, 1)
  as d is, Jacobian 1). Where every group's data pin its slope down, B itself and the mean
  of the d_g trade off (posterior correlations of -0.6 with each of the five deviations in
  latent_individual). The likelihood does not depend on rot_0 = sqrt(G) mean(d), so it is
  marginalised exactly: with k = sigma^2 / G the mean slope V = B + sigma mean(d) has the
  prior Normal(0, sqrt(1 + k)), and rot_0 given V and sigma is Normal(V sigma / sqrt(G) /
  (1 + k), 1 / sqrt(1 + k)), sampled as its standard normal u (``dev_mean``,
  independent of everything else in the posterior; the Jacobian 1 / sqrt(1 + k) of (V, u)
  -> (B, rot_0) cancels that conditional's normalising factor), with B = V - sigma rot_0 /
  sqrt(G). The groups' slopes B + sigma d_g = V + sigma H' r, r the other G - 1
  coordinates (``dev_rot``), do not involve u. ``redraw_independent`` replaces the
  sampler's draws of u, which are valid but noisy (lag-1 autocorrelation -0.5 in u, +0.55
  in |u|: its folded R-hat reached 1.0106 at one seed), by exact seeded draws and
  recomputes B and d from them.

``tests/test_sem_origin.py`` checks the log density against the reference form and a
finite-difference Jacobian. On the reduced latent_collective (5 x 300 respondents, informed
scores, 500 + 1,000 draws, 2 chains) the smallest bulk ESS of the latent means rose from 486
to 1,361, of the loadings from 504 to 1,175, of the group SDs from 624 to 1,288 and of the
thresholds from 624 to 1,302; see docs/sem.md, Speed (Session 19).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.dist_math import normal_lcdf
from pymc.logprob.transforms import Transform
from pytensor.tensor.slinalg import solve_triangular

from ..errors import SpecError, SurveyDataError
from ..spec.syntax import ModelSyntax
from .sem_normal import _correlation_cholesky, store_named, structure

__all__ = ["LatentData", "prepare_latent", "build_latent_model", "INVARIANCE", "LINKS",
           "ORIGINS", "latent_scores", "judged_variables",
           "redraw_independent"]

INVARIANCE = ("configural", "scalar", "approximate")
LINKS = ("logit", "probit")
ORIGINS = ("sample", "population")
POOLING = ("noncentred", "centred")
SD_PRIORS = ("gamma", "halfnormal")
CORRELATIONS = ("group", "shared")
SCORES = ("noncentred", "informed")
ANCHORS = ("average", "reference")
#: Rate of the Gamma(2, rate) prior on the between-group SDs of pooled slopes: mean 0.1,
#: mode 0.05, 95% prior interval 0.012-0.28 (latent SD units per unit of the predictor)
#: (float64: PyTensor makes a Python float such as 20.0 a float32 constant, and its log and
#: gammaln are then computed in single precision, 1e-7 off)
SD_SHAPE, SD_RATE = np.float64(2.0), np.float64(20.0)
_BOUND = 1e3  # the thresholds "below" the lowest and "above" the highest category


@dataclass
class LatentData:
    """The model's data: long-form item responses, covariates and groups."""

    latent: list[str]
    indicators: list[str]
    ordinal: list[str]
    continuous: list[str]
    covariates: list[str]
    levels: dict[str, list]            # ordinal item -> its observed values, in order
    n: int
    index: pd.Index                    # the data's row labels
    groups: list                       # group levels (one "all" level without groups)
    g: np.ndarray                      # (n,) group of each respondent
    x: np.ndarray                      # (n, q) covariates, centred
    x_mean: np.ndarray
    o_resp: np.ndarray                 # ordinal responses in long form
    o_item: np.ndarray                 # index into ``ordinal``
    o_y: np.ndarray                    # category 0 .. K_j - 1
    c_resp: np.ndarray                 # continuous responses in long form
    c_item: np.ndarray
    c_y: np.ndarray
    c_mean: np.ndarray
    c_sd: np.ndarray
    group_column: str | None = None
    weights: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def categories(self) -> dict[str, int]:
        return {v: len(self.levels[v]) for v in self.ordinal}

    @property
    def threshold_names(self) -> list[str]:
        """lavaan's names of the thresholds, ``x1|t1``, item by item."""
        return [f"{v}|t{t + 1}" for v in self.ordinal for t in range(len(self.levels[v]) - 1)]

    def codebook(self) -> pd.DataFrame:
        """What the data were read as: one row per indicator and covariate with its kind,
        number of categories and (ordinal) the observed values in order."""
        rows = [{"column": v, "role": "indicator",
                 "kind": "ordinal" if v in self.ordinal else "continuous",
                 "categories": len(self.levels[v]) if v in self.ordinal else None,
                 "values": self.levels.get(v)} for v in self.indicators]
        rows += [{"column": v, "role": "covariate", "kind": "continuous", "categories": None,
                  "values": None} for v in self.covariates]
        if self.group_column:
            rows.append({"column": self.group_column, "role": "group", "kind": "nominal",
                         "categories": len(self.groups), "values": list(self.groups)})
        return pd.DataFrame(rows)


def _rows(index: pd.Index, mask: np.ndarray) -> str:
    bad = list(index[mask])
    return f"{bad[:10]}{' ...' if len(bad) > 10 else ''} ({len(bad)} rows)"


def prepare_latent(model: ModelSyntax, data: pd.DataFrame, ordered: list[str] | None = None,
                   group: str | None = None, weights: str | None = None) -> LatentData:
    """Read the model's variables from the data.

    Indicators listed in ``ordered`` are ordinal (recoded 0 .. K - 1 by the order of their
    observed values, kept in ``levels``), the others continuous. Observed variables that
    only predict latent variables (``f ~ x``) are covariates.

    Raises
    ------
    SpecError
        An absent column, an ``ordered`` name that is no indicator, an observed outcome, or
        an equality constraint.
    SurveyDataError
        Non-numeric indicators or covariates, missing covariates, group or weight values, an
        ordinal item with one observed value, or a respondent who answered no item; each
        message names the column and the rows.
    """
    lat = model.latent
    if not lat:
        raise SpecError("model syntax: no latent variable (=~); nothing to fit")
    if model.constraints:
        raise SpecError(f"model syntax: equality constraints {list(model.constraints)} are not "
                        "supported yet; give the parameters the same label instead")
    indicators = [v for v in model.observed if any(v in model.indicators(f) for f in lat)]
    covariates = [v for v in model.observed if v not in indicators]
    for p in model.regressions:
        if p.lhs not in lat:
            raise SpecError(f"model syntax line {p.line}: {p.lhs} ~ {p.rhs}: an observed outcome; "
                            f"measure it by a latent variable ({p.lhs}_ =~ 1*{p.lhs}) or regress "
                            "latent variables only")
    used = {p.rhs for p in model.regressions}
    stray = [v for v in covariates if v not in used]
    if stray:
        raise SpecError(f"model syntax: {stray} are observed but neither indicators nor "
                        "predictors of a latent variable")
    ordered = list(ordered or [])
    unknown = [v for v in ordered if v not in indicators]
    if unknown:
        raise SpecError(f"ordered={unknown}: not indicators of the model (indicators: "
                        f"{indicators})")
    need = indicators + covariates + ([group] if group else []) + ([weights] if weights else [])
    absent = [v for v in need if v not in data.columns]
    if absent:
        raise SpecError(f"model syntax: {absent} are not columns of the data; columns: "
                        f"{list(data.columns)}")
    for c in indicators + covariates + ([weights] if weights else []):
        if not pd.api.types.is_numeric_dtype(data[c]):
            raise SurveyDataError(f"column {c!r} is not numeric (dtype {data[c].dtype}); "
                                  "recode it (ordinal items as ordered codes)")
    for c in covariates + ([group] if group else []) + ([weights] if weights else []):
        miss = data[c].isna().to_numpy()
        if miss.any():
            raise SurveyDataError(f"column {c!r} has missing values in rows "
                                  f"{_rows(data.index, miss)}; a covariate, group or weight "
                                  "must be known for every respondent")
    frame = data[indicators]
    empty = frame.isna().all(axis=1).to_numpy()
    if empty.any():
        raise SurveyDataError(f"respondent rows {_rows(data.index, empty)} answered none of the "
                              f"items {indicators}")
    ordinal = [v for v in indicators if v in ordered]
    continuous = [v for v in indicators if v not in ordered]
    levels = {}
    for v in ordinal:
        vals = sorted(frame[v].dropna().unique().tolist())
        if len(vals) < 2:
            raise SurveyDataError(f"ordinal item {v!r} has a single observed value {vals}; "
                                  "it carries no information")
        levels[v] = vals
    n = len(frame)

    def long(cols, recode):
        if not cols:
            e = np.zeros(0, int)
            return e, e, np.zeros(0)
        vals = np.column_stack([recode(c) for c in cols])
        obs = ~np.isnan(vals)
        r, j = np.nonzero(obs)
        return r, j, vals[obs]

    o_r, o_j, o_y = long(ordinal, lambda c: frame[c].map(
        {v: k for k, v in enumerate(levels[c])}).to_numpy(float, copy=True))
    c_r, c_j, c_y = long(continuous, lambda c: frame[c].to_numpy(float, copy=True))
    c_mean = np.array([frame[c].mean() for c in continuous])
    c_sd = np.array([frame[c].std() for c in continuous])
    flat = [c for c, s in zip(continuous, c_sd, strict=True) if not s > 0]
    if flat:
        raise SurveyDataError(f"continuous indicator(s) {flat} do not vary")
    if group:
        col = data[group]
        groups = (list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype)
                  else list(dict.fromkeys(sorted(col.unique().tolist()))))
        groups = [lv for lv in groups if (col == lv).any()]
        g = col.map({lv: k for k, lv in enumerate(groups)}).to_numpy(int)
    else:
        groups, g = ["all"], np.zeros(n, int)
    x = data[covariates].to_numpy(float, copy=True) if covariates else np.zeros((n, 0))
    x_mean = x.mean(0)
    w = None
    if weights:
        w = data[weights].to_numpy(float, copy=True)
        bad = ~(w > 0)
        if bad.any():
            raise SurveyDataError(f"weight column {weights!r} is not positive in rows "
                                  f"{_rows(data.index, bad)}: values {sorted(set(w[bad]))[:5]}")
    return LatentData(lat, indicators, ordinal, continuous, covariates, levels, n, data.index,
                      groups, g, x - x_mean, x_mean, o_r, o_j, o_y.astype(int), c_r, c_j, c_y,
                      c_mean, c_sd, group, w)


class _RaggedOrdered(Transform):
    """Ordered within consecutive segments of the last axis (the thresholds of one item):
    the first value of a segment as is, the others as log increments."""

    name = "ragged_ordered"

    def __init__(self, first: np.ndarray):
        self.first = np.asarray(first, bool)
        self.segment = np.cumsum(self.first) - 1
        self.starts = np.flatnonzero(self.first)

    def backward(self, value, *inputs):
        e = pt.where(self.first, value, pt.exp(value))
        c = pt.cumsum(e, axis=-1)
        before = c[..., self.starts] - e[..., self.starts]
        return c - before[..., self.segment]

    def forward(self, value, *inputs):
        prev = pt.concatenate([value[..., :1], value[..., :-1]], axis=-1)
        return pt.where(self.first, value, pt.log(value - prev))

    def log_jac_det(self, value, *inputs):
        return pt.sum(pt.where(self.first, 0.0, value), axis=-1)


def _orthogonal(model: ModelSyntax, li: dict[str, int], yi: dict[str, int], exo: list[str],
                ordinal: Collection[str]) -> set[str]:
    """The exogenous latent variables that the syntax fixes uncorrelated with every other
    exogenous one (``f ~~ 0*g`` for each g, as lavaan's ``orthogonal = TRUE``), after
    checking every covariance statement against what this engine fits.

    Free covariances of exogenous latent variables (``f ~~ g``) are the engine's default
    and accepted; (residual) variances are checked by ``structure``.

    Raises
    ------
    SpecError
        Naming the line, for a statement the engine would otherwise ignore: a residual
        covariance of two indicators, a covariance involving a latent variable regressed on
        other latent ones (their residuals are independent), a covariance fixed at a value
        other than 0, a zero covariance of two latent variables that stay correlated with
        others, a free residual variance of an ordinal item (fixed by the link), or a
        covariance with a variable that is neither latent nor an indicator.
    """
    zero: list = []
    for q in model.covariances:
        where = f"model syntax line {q.line}: {q.lhs} ~~ {q.rhs}"
        if q.lhs == q.rhs:
            if q.lhs in ordinal:
                raise SpecError(f"{where}: the residual variance of an ordinal item's latent "
                                "response is fixed by the link (pi^2/3 for logit, 1 for "
                                "probit), not estimated; leave the statement out")
            continue  # latent variances (1*f) and continuous residual variances: structure
        if q.lhs in yi and q.rhs in yi:
            raise SpecError(f"{where}: residual covariances of indicators are not fitted by "
                            "the latent-score engine; model the shared part as a factor of "
                            f"its own, uncorrelated with the others (m =~ {q.lhs} + {q.rhs} "
                            "+ ..., with m ~~ 0*f for every other latent f)")
        if q.lhs not in li or q.rhs not in li:
            other = [v for v in (q.lhs, q.rhs) if v not in li and v not in yi]
            what = (f"{other[0]} is neither" if other
                    else "this pairs an indicator with a latent variable")
            raise SpecError(f"{where}: covariances are between two latent variables or two "
                            f"indicators; {what}")
        endo = [v for v in (q.lhs, q.rhs) if v not in exo]
        if endo:
            raise SpecError(f"{where}: {endo[0]} is regressed on latent variables, and their "
                            "residuals are independent in this engine (residual covariances "
                            "of latent outcomes are not fitted)")
        if q.fixed is not None and q.fixed != 0:
            raise SpecError(f"{where}: a latent covariance fixed at {q.fixed:g}; this engine "
                            "estimates latent correlations or fixes them at 0")
        if q.fixed == 0:
            zero.append(q)
    pairs = {frozenset((q.lhs, q.rhs)) for q in zero}
    orthogonal = {f for f in exo
                  if all(frozenset((f, g)) in pairs for g in exo if g != f)}
    for q in zero:
        if q.lhs not in orthogonal and q.rhs not in orthogonal:
            raise SpecError(f"model syntax line {q.line}: {q.lhs} ~~ 0*{q.rhs}: this engine "
                            "fixes a latent correlation at 0 only for a latent variable "
                            "uncorrelated with every other exogenous one (write f ~~ 0*g for "
                            f"each g); {q.lhs} and {q.rhs} stay correlated with others")
    return orthogonal


def _depths(model: ModelSyntax, li: dict[str, int]) -> dict[str, int] | None:
    """Per latent variable the length of the longest chain of latent regressions ending in
    it (0 for one regressed on no latent variable), or None when the latent regressions
    have a cycle (a non-recursive model)."""
    parents = {f: {p.rhs for p in model.regressions if p.lhs == f and p.rhs in li} for f in li}
    depth: dict[str, int] = {}

    def visit(f, stack):
        if f in stack:
            return None
        if f not in depth:
            ds = [visit(r, stack | {f}) for r in parents[f]]
            if any(d is None for d in ds):
                return None
            depth[f] = 1 + max(ds) if ds else 0
        return depth[f]

    ds = [visit(f, frozenset()) for f in li]
    return None if any(d is None for d in ds) else depth


def _path_depth(model: ModelSyntax, li: dict[str, int]) -> int | None:
    """The length of the longest chain of latent regressions (0 without any), or None when
    the latent regressions have a cycle (a non-recursive model)."""
    depth = _depths(model, li)
    return None if depth is None else max(depth.values(), default=0)


def _full_rank(columns: list) -> np.ndarray:
    """Which of a group's regressors to keep: every latent one (``None``: scores, which vary)
    and the covariate columns that add rank to those kept before them."""
    keep = np.zeros(len(columns), bool)
    kept: list[np.ndarray] = []
    for j, c in enumerate(columns):
        if c is None:
            keep[j] = True
            continue
        trial = np.column_stack([*kept, c])
        if np.linalg.matrix_rank(trial, tol=1e-8 * max(1.0, np.abs(trial).max())) > len(kept):
            kept.append(c)
            keep[j] = True
    return keep


def _cdf_pdf(u, link: str):
    """The error distribution's CDF and density at u (logistic or standard normal)."""
    if link == "logit":
        F = pt.sigmoid(u)
        return F, F * (1 - F)
    return 0.5 * pt.erfc(-u / np.sqrt(2.0)), pt.exp(-0.5 * u**2) / np.sqrt(2 * np.pi)


def _informed_scores(data, innov, bounds, xs, xbar, chol, sds, mean, B, Gam, depth, where,
                     Lam_g, ordinal, continuous, link):
    """The informed parametrisation of the standard scores z (an exact change of variables).

    Group g's latent variables are eta_i = E_g + H_i + M_g z_i: E_g = A_g (alpha_g + Gamma_g
    xbar_g) the group's mean, H_i = A_g Gamma_g (x_i - xbar_g), M_g = A_g S_g C_g, A_g = (I -
    B_g)^-1 and z_i ~ Normal(0, I). Each response's likelihood, as a function of its linear
    predictor l = lambda_j' eta_i, is replaced by a Gaussian, its expansion at the group's
    mean l0 = lambda_j' E_g (one Fisher-scoring step, as in IRLS): working response l0 +
    u_ij / I_jg, u the score d log p(y_ij) / dl at l0 and I_jg its expected information there
    (a continuous item: exactly its Normal(nu + l, theta)). With these, z_i has a Gaussian
    conditional posterior Normal(a_i, V_g), V_g = (I + M' Lam' W_g Lam M)^-1 (W_g the items'
    information, times the share of the group answering each) and a_i = V_g M' Lam' r_i,
    r_ij = u_ij - I_jg lambda_j' H_i (u_ij = 0 for an item i did not answer). The sampler sees
    e_i with z_i = a_i + T_g e_i, T_g T_g' = V_g: when a loading, threshold, correlation, SD
    or slope moves, the respondents' scores move with it to where their answers put them,
    instead of the parameter waiting for a thousand scores to drift (the slow direction of
    data augmentation). The prior stays z ~ Normal(0, I): a Potential adds -|z|^2/2 +
    |e|^2/2 (e carries a Normal(0, 1) of its own) and log|T_g| per respondent. The
    approximation decides only how well the chains mix, never the posterior: any a_i and T_g
    give the same one. ``innov`` (e) has its rows in group order. Returns each group's
    latent variables eta (n_g, m) and stores z (respondent order) as ``z``."""
    G, m, n = len(bounds) - 1, len(data.latent), data.n
    J = len(data.indicators)
    As = [_through_inverse(B, k, depth, m) for k in range(G)]    # (I - B_g)^-1
    E = pt.stack([pt.dot(As[k], mean[k] + (pt.dot(Gam[k], xbar[k]) if Gam is not None
                                          else 0.0)) for k in range(G)])   # (G, m)
    # per item and group the information I_jg. An ordinal item's score u_ij depends on the
    # respondent only through the category answered, so sum_j u_ij c_j over respondent i's
    # items is a product of a constant 0/1 matrix (respondent x item-category, rows in group
    # order) with the group's table of scores times c_j: no gather of n x J scores and no
    # scatter-add in the gradient. A continuous item's residual is per respondent (dense n x
    # Jc, 0 where not answered).
    info = pt.zeros((G, J))
    onehot = U_cont = None
    answered = np.zeros((n, J))
    if ordinal is not None:
        Vb, pos, oi = ordinal
        Jo, Kmax = pos.shape[1], pos.shape[2] - 1
        l0 = (Lam_g[:, oi, :] * E[:, None, :]).sum(-1)             # (G, Jo)
        lo = Vb[pos[:, :, :-1]] - l0[:, :, None]                    # (G, Jo, Kmax)
        up = Vb[pos[:, :, 1:]] - l0[:, :, None]
        F_up, f_up = _cdf_pdf(up, link)
        F_lo, f_lo = _cdf_pdf(lo, link)
        # categories beyond an item's own K_j have both boundaries at +BOUND: probability
        # 1e-12, density difference 0, no part in I or u
        prob = pt.maximum(F_up - F_lo, 1e-12)
        score = -(f_up - f_lo) / prob                              # (G, Jo, Kmax)
        info = pt.set_subtensor(info[:, oi], ((f_up - f_lo) ** 2 / prob).sum(-1))
        row = where[data.o_resp]
        onehot = np.zeros((n, Jo * Kmax))
        onehot[row, data.o_item * Kmax + data.o_y] = 1.0
        answered[row, oi[data.o_item]] = 1.0
    if continuous is not None:
        nu, theta, ci = continuous
        Jc = len(ci)
        l0 = (Lam_g[:, ci, :] * E[:, None, :]).sum(-1)             # (G, Jc)
        w = 1.0 / theta**2
        info = pt.set_subtensor(info[:, ci], w)
        row = where[data.c_resp]
        at = data.g[data.c_resp] * Jc + data.c_item
        resid = (data.c_y - nu.reshape((-1,))[at] - l0.reshape((-1,))[at]) * w.reshape((-1,))[at]
        U_cont = pt.set_subtensor(pt.zeros(n * Jc)[row * Jc + data.c_item], resid)
        U_cont = U_cont.reshape((n, Jc))
        answered[row, ci[data.c_item]] = 1.0
    Ms, LMs, Ws, Ps = [], [], [], []
    for k in range(G):
        Ms.append(pt.dot(As[k], sds[k][:, None] * chol[k]))
        LMs.append(pt.dot(Lam_g[k], Ms[-1]))                          # Lam M (J, m)
        # the items' information times the share of the group answering each
        Ws.append(info[k] * answered[bounds[k]:bounds[k + 1]].mean(0))
        Ps.append(pt.eye(m) + pt.dot(LMs[-1].T, Ws[-1][:, None] * LMs[-1]))
    Lp, Linv = _small_cholesky_inverse(pt.stack(Ps), m)          # (G, m, m) each
    zs, etas = [], []
    for k in range(G):
        lo_, hi_ = bounds[k], bounds[k + 1]
        LMV = pt.dot(LMs[k], pt.dot(Linv[k].T, Linv[k]))           # Lam M V (J, m)
        zk = pt.dot(innov[lo_:hi_], Linv[k])
        if onehot is not None:
            table = (score[k][:, :, None] * LMV[oi][:, None, :]).reshape((Jo * Kmax, m))
            zk = zk + pt.dot(onehot[lo_:hi_], table)
        if U_cont is not None:
            zk = zk + pt.dot(U_cont[lo_:hi_], LMV[ci])
        eta = E[k]
        if Gam is not None:
            # the covariates' part of r, - I_jg lambda_j' H_i, with the group's share of
            # answers for every respondent (a choice of the approximation only)
            Hk = pt.dot(xs[lo_:hi_] - xbar[k], pt.dot(As[k], Gam[k]).T)   # (n_g, m)
            zk = zk - pt.dot(Hk, pt.dot((Lam_g[k] * Ws[k][:, None]).T, LMV))
            eta = eta + Hk
        zs.append(zk)
        etas.append(eta + pt.dot(zk, Ms[k].T))
    diag = pt.stack([Lp[:, i, i] for i in range(m)], axis=1)     # (G, m)
    sizes = np.diff(bounds).astype(float)
    zall = pt.concatenate(zs) if G > 1 else zs[0]
    pm.Deterministic("z", zall[where] if G > 1 else zall, dims=("respondent", "latent"))
    pm.Potential("z_informed", -0.5 * pt.sum(zall**2) + 0.5 * pt.sum(innov**2)
                 - pt.sum(sizes[:, None] * pt.log(diag)))
    return etas


def _through(B, a, depth):
    """(I - B)^-1 a: by substitution for acyclic paths (``depth`` their longest chain), by a
    solve for cyclic ones (``depth`` None)."""
    if depth is None:
        return pt.linalg.solve(pt.eye(B.shape[-1]) - B, a)
    e = a
    for _ in range(depth):
        e = a + pt.dot(B, e)
    return e


def _whitened_slopes(pars, averaged, grouped, free_slopes, exo, li, chol, sd_unit, w, r0,
                     log_jac) -> dict:
    """The slopes of one equation on its correlated exogenous latent regressors (the average
    anchor; see "The location and unit the sampler sees"), by an exact change of variables:
    in the sampled unit (``sd_unit``, the groups' SDs over c_f) the slopes beta* are
    sampled as b = L' beta*, where L L' is the regressors' model-implied covariance,
    diag(sd) R_g diag(sd), in each group for slopes free per group (``free(...)``, shape
    group), or its size-weighted average over the groups for a population slope (pooled or
    equal); the slopes collinear regressors share then move apart. Returns {path name: the
    slope in the model's unit}, the log-Jacobian (-log det L plus the unit's) added (the
    caller puts the prior on the slopes); {} where the equation has fewer than two such
    slopes, or they mix free and population slopes."""
    if not averaged:
        return {}
    use = [p for p in pars if p.rhs in exo and p.fixed is None and not p.label]
    if len(use) < 2:
        return {}
    free = {grouped and (p.lhs in free_slopes or p.name in free_slopes) for p in use}
    if len(free) > 1:
        return {}
    free = free.pop()
    idx = np.array([li[p.rhs] for p in use])
    # the regressors' covariance in each group, in the sampled unit
    C = chol[:, idx, :]
    S = pt.matmul(C, C.transpose(0, 2, 1)) * sd_unit[:, idx, None] * sd_unit[:, None, idx]
    unit = r0[li[use[0].lhs]] / r0[idx]          # the model's slope per sampled slope
    G = len(w)
    if free:
        Ls = [pt.linalg.cholesky(S[k]) for k in range(G)]
        bt = pm.Flat("whitened(" + "+".join(p.name for p in use) + ")", shape=(G, len(use)))
        star = pt.stack([solve_triangular(Ls[k].T, bt[k], lower=False) for k in range(G)])
        beta = star * unit[None, :]                  # (group, regressor)
        log_jac.append(-sum(pt.sum(pt.log(pt.diag(L))) for L in Ls)
                       + G * pt.sum(pt.log(unit)))
    else:
        L = pt.linalg.cholesky(pt.tensordot(w, S, axes=1))
        bt = pm.Flat("whitened(" + "+".join(p.name for p in use) + ")", shape=len(use))
        beta = solve_triangular(L.T, bt, lower=False) * unit
        log_jac.append(-pt.sum(pt.log(pt.diag(L))) + pt.sum(pt.log(unit)))
    if free:
        return {p.name: pm.Deterministic(f"free({p.name})", beta[:, j], dims="group")
                for j, p in enumerate(use)}
    return {p.name: beta[j] for j, p in enumerate(use)}


def _total_sd_unit(B, Gam, sds, chol, xs, bounds, depth, w, m: int):
    """Each latent variable's size-weighted geometric mean over the groups of its
    model-implied total SD, sqrt of the diagonal of (I - B_g)^-1 (Gamma_g S_g Gamma_g' +
    D_g C_g C_g' D_g) (I - B_g)^-T (S_g the covariates' covariance in group g, D_g the SDs,
    C_g the correlations' Cholesky factor): the average anchor's unit of the loadings. An
    outcome's items see its total spread, residual and explained, so in the residual's unit
    its loadings trade off against its slopes (their R-squared); (m,)."""
    logs = []
    for k in range(len(w)):
        A = _through_inverse(B, k, depth, m)
        M = pt.dot(A, sds[k][:, None] * chol[k])
        v = pt.sum(M**2, axis=1)
        if Gam is not None:
            x = xs[bounds[k]:bounds[k + 1]]
            S = np.atleast_2d(np.cov(x, rowvar=False, bias=True))   # 0 for one respondent
            N = pt.dot(A, Gam[k])
            v = v + pt.sum(pt.dot(N, S) * N, axis=1)
        logs.append(0.5 * pt.log(v))
    return pt.exp(pt.dot(w, pt.stack(logs)))


def _mean_first_basis(G: int) -> np.ndarray:
    """An orthonormal basis of R^G (rows) whose first vector is the mean direction,
    1 / sqrt(G): Helmert's."""
    H = np.zeros((G, G))
    H[0] = 1.0 / np.sqrt(G)
    for k in range(1, G):
        H[k, :k] = 1.0 / np.sqrt(k * (k + 1))
        H[k, k] = -k / np.sqrt(k * (k + 1))
    return H


def _small_cholesky_inverse(P, m: int):
    """The Cholesky factors L of a stack of small positive definite matrices P (batch, m, m)
    and their inverses L^-1, entry by entry (elementwise over the batch: a graph of scalar
    operations compiles and differentiates far faster than batched LAPACK calls)."""
    L = [[None] * m for _ in range(m)]
    zero = pt.zeros_like(P[:, 0, 0])
    for j in range(m):
        d = P[:, j, j] - sum((L[j][k] ** 2 for k in range(j)), zero)
        L[j][j] = pt.sqrt(d)
        for i in range(j + 1, m):
            L[i][j] = (P[:, i, j] - sum((L[i][k] * L[j][k] for k in range(j)), zero)) / L[j][j]
    # forward substitution: L X = I, X lower triangular
    X = [[zero] * m for _ in range(m)]
    for i in range(m):
        X[i][i] = 1.0 / L[i][i]
        for j in range(i):
            X[i][j] = -sum((L[i][k] * X[k][j] for k in range(j, i)), zero) / L[i][i]
    full = lambda T: pt.stack([pt.stack([T[i][j] if T[i][j] is not None else zero  # noqa: E731
                                         for j in range(m)], axis=-1) for i in range(m)], axis=-2)
    return full(L), full(X)


def _through_inverse(B, k: int, depth, m: int):
    """(I - B_k)^-1: by substitution for acyclic paths, the identity without paths."""
    if B is None:
        return pt.eye(m)
    if depth is None:
        return pt.linalg.inv(pt.eye(m) - B[k])
    A = pt.eye(m)
    for _ in range(depth):
        A = pt.eye(m) + pt.dot(B[k], A)
    return A


def _ordinal_logp(upper, lower, lin, link: str):
    """log P(lower < y* <= upper) for y* = lin + error (logistic or normal): the log of a
    difference of two CDFs, three transcendental calls per response (the category
    probabilities of real items are far above where the difference loses precision)."""
    if link == "logit":
        return pt.log(pt.sigmoid(upper - lin) - pt.sigmoid(lower - lin))
    b, a = upper - lin, lower - lin
    lb, la = normal_lcdf(0.0, 1.0, b), normal_lcdf(0.0, 1.0, a)
    return lb + pt.log1mexp(pt.minimum(la - lb, -1e-12))


def build_latent_model(model: ModelSyntax, data: LatentData, invariance: str = "scalar",
                       link: str = "logit", vary_slopes: bool | Collection[str] = True,
                       free_slopes: Collection[str] = (),
                       origin: str = "population", pooling: str = "noncentred",
                       sd_prior: str = "gamma", correlations: str = "group",
                       scores: str = "noncentred", anchor: str = "average") -> pm.Model:
    """The PyMC model of the module docstring.

    Stored (besides the free parameters under lavaan's names): ``loadings`` (group, item,
    latent), ``thresholds`` (group, threshold) for ordinal items, ``intercepts`` and
    ``residual_sd`` (group, citem) for continuous ones, ``latent_mean`` and ``latent_sd``
    (group, latent), ``latent_chol`` (group, latent, latent), ``paths`` (group, latent, latent) and
    ``effects`` (group, latent, covariate) when there are regressions, and the item
    deviations ``threshold_shift``/``intercept_shift`` and ``loading_ratio`` (item, group)
    under approximate invariance.

    ``origin="sample"`` samples thresholds, group means, loadings, SDs and slopes relative
    to the groups' sample means and scales of the scores (see "The origin and scale the
    sampler sees" in the module docstring): an exact change of variables, the same
    posterior as ``origin="population"`` (the default: the parameters as written above).

    ``scores="informed"`` (with the population origin; refused with ``origin="sample"``)
    samples each respondent's standard scores around a Gaussian approximation of their
    conditional posterior given the parameters (see ``_informed_scores``): an exact change
    of variables, ``z`` stored as with ``scores="noncentred"``, the default.
    ``correlations="shared"`` gives the groups one correlation matrix of the exogenous latent
    variables (their SDs stay free per group) instead of one each.
    """
    if origin not in ORIGINS:
        raise SpecError(f"origin={origin!r}: choose one of {ORIGINS}")
    if pooling not in POOLING:
        raise SpecError(f"pooling={pooling!r}: choose one of {POOLING}")
    if sd_prior not in SD_PRIORS:
        raise SpecError(f"sd_prior={sd_prior!r}: choose one of {SD_PRIORS}")
    if invariance not in INVARIANCE:
        raise SpecError(f"invariance={invariance!r}: choose one of {INVARIANCE}")
    if link not in LINKS:
        raise SpecError(f"link={link!r}: choose one of {LINKS}")
    if scores not in SCORES:
        raise SpecError(f"scores={scores!r}: choose one of {SCORES}")
    if scores == "informed" and origin == "sample":
        raise SpecError("scores='informed' moves the scores with the population parameters; "
                        "use it with origin='population' (origin='sample' rescales them "
                        "itself)")
    if correlations not in CORRELATIONS:
        raise SpecError(f"correlations={correlations!r}: choose one of {CORRELATIONS}")
    if anchor not in ANCHORS:
        raise SpecError(f"anchor={anchor!r}: choose one of {ANCHORS}")
    lat, ind = data.latent, data.indicators
    li, yi, endogenous = structure(model, lat, ind, data.covariates)
    cov_i = {v: k for k, v in enumerate(data.covariates)}
    m, J, G, q = len(lat), len(ind), len(data.groups), len(data.covariates)
    grouped = G > 1
    approximate = grouped and invariance == "approximate"
    configural = grouped and invariance == "configural"
    thr_names = data.threshold_names
    coords = {"latent": lat, "item": ind, "group": [str(x) for x in data.groups],
              "respondent": np.arange(data.n), "oitem": data.ordinal,
              "citem": data.continuous, "threshold": thr_names, "covariate": data.covariates,
              "predictor": lat}
    with pm.Model(coords=coords) as pmodel:
        # Respondents are taken group by group (z gathered once into group order, a
        # one-dimensional gather with static indices: PyTensor's multi-index gathers are far
        # slower, in value and gradient); each group's block is then plain matrix products
        # with that group's correlations, means, SDs, effects, paths and loadings.
        order = np.argsort(data.g, kind="stable")
        where = np.empty(data.n, int)
        where[order] = np.arange(data.n)       # respondent -> row in group order
        bounds = np.r_[0, np.cumsum(np.bincount(data.g, minlength=G))]
        xs = data.x[order]
        depth = _path_depth(model, li)
        # the sample origin and scale need acyclic paths (det(I - B) = 1 keeps the change
        # of variables of the group means volume-preserving)
        sample_origin = origin == "sample" and depth is not None
        free_means = grouped and not configural
        # latent variables not regressed on other latent ones (but perhaps on covariates)
        # have correlated (residual) scores; those regressed on latent ones independent
        exo = [f for f in lat
               if not any(p.lhs == f and p.rhs in li for p in model.regressions)]
        # ... except those fixed uncorrelated with every other one (f ~~ 0*g): scores of
        # their own, in every group
        orthogonal = _orthogonal(model, li, yi, exo, data.ordinal)
        exo = [f for f in exo if f not in orthogonal]
        # one correlation matrix per group (as lavaan's multi-group models); the named
        # covariances f1~~f2 are the reference group's
        named: dict[str, pt.TensorVariable] = {}
        chol = pt.broadcast_to(pt.eye(m), (G, m, m))
        if len(exo) > 1:
            if correlations == "shared" and grouped:
                W = pt.broadcast_to(_correlation_cholesky(len(exo)), (G, len(exo), len(exo)))
            else:
                W = _correlation_cholesky(len(exo), (G,))
            idx = np.array([li[f] for f in exo])
            rest = [i for i in range(m) if i not in set(idx)]
            P = np.eye(m)[:, np.r_[idx, rest].astype(int)]  # block (exo, rest) -> model order
            if rest:
                W = pt.concatenate([pt.concatenate([W, pt.zeros((G, len(exo), len(rest)))], 2),
                                    pt.broadcast_to(np.eye(m)[len(exo):], (G, len(rest), m))],
                                   1)
            chol = pt.matmul(pt.matmul(P, W), P.T)
            R = pt.dot(W[0], W[0].T)
            for a in range(len(exo)):
                for b in range(a + 1, len(exo)):
                    named[f"{exo[a]}~~{exo[b]}"] = R[a, b]
        chol = pm.Deterministic("latent_chol", chol, dims=("group", "latent", "predictor"))
        # the sample form starts off zero: the sample scale (the scores' RMS) is 0 at z = 0,
        # and PyMC's NUTS with init="adapt_diag" does not jitter (the population form keeps
        # the default start, which nutpie's JAX backend needs)
        informed = scores == "informed"
        if informed:
            # z_i = a_i + T_g e_i (see _informed_scores): built once the structural part
            # is known; e is the free variable
            # (rows in group order: no gather of the scores into group order)
            innov = pm.Normal("z_innovation", 0.0, 1.0, shape=(data.n, m))
            U = ubar = None
        else:
            z = pm.Normal("z", 0.0, 1.0, dims=("respondent", "latent"),
                          initval=(np.random.default_rng(0).standard_normal((data.n, m))
                                   if sample_origin else None))
            zs = z[order] if G > 1 else z
            # each group's correlated standard scores, C_g z_i, and their and the
            # covariates' group means (the sample origin's)
            U = [pt.dot(zs[bounds[k]:bounds[k + 1]], chol[k].T) for k in range(G)]
            ubar = [u.mean(0) for u in U]
        xbar = np.stack([xs[bounds[k]:bounds[k + 1]].mean(0) for k in range(G)])
        # Sample scale: latent f's unit is the RMS of the reference group's centred C z
        # (r0), group g's scores are measured by their own RMS (rg). The average anchor
        # (population origin; see "The location and unit the sampler sees" in the module
        # docstring): latent f's unit r0 is instead c_f, the groups' size-weighted geometric
        # mean SD, and its SDs are sampled as log deviations from it. Either way latent
        # variables with a fixed or labelled loading keep their scale (the marker sets it).
        averaged = free_means and anchor == "average" and origin == "population"
        sizes = np.diff(bounds)
        scalable = np.array([
            bool(sample_origin or averaged) and all(p.fixed is None and not p.label
                                                    for p in model.parameters
                                                    if p.op == "=~" and p.lhs == f)
            for f in lat])
        # (a group of one respondent has no sample scale: unit 1)
        if sample_origin and sizes[0] < 2:
            scalable[:] = False
        w = sizes / sizes.sum()
        basis = _mean_first_basis(G)
        if averaged:
            # log sd_g = d_g - d_0 (g > 0), d_0 = -sum_g>0 w_g d_g / w_0, so that
            # sum_g w_g log sd_g = -d_0 = log c_f
            sdev = pm.Flat("latent_sd_dev", shape=(G - 1, m), initval=np.zeros((G - 1, m)))
            d0 = -pt.dot(w[1:], sdev) / w[0]
            log_sfree = sdev - d0[None, :]
            rg, r0 = pt.ones((G, m)), pt.where(scalable, pt.exp(-d0), 1.0)
        elif scalable.any():
            rms = pt.stack([pt.sqrt(pt.mean((u - ub) ** 2, axis=0)) for u, ub in zip(U, ubar,
                                                                                       strict=True)])
            rg = pt.where(scalable[None, :] & (sizes[:, None] >= 2), rms, 1.0)
            r0 = rg[0]
        else:
            rg, r0 = pt.ones((G, m)), pt.ones(m)
        log_jac = []

        def on_sample_scale(name, prior, c, positive=False, offset=0.0, **kwargs):
            """A parameter sampled as (value + offset) / c, c and offset functions of the
            scores: the free variable ``name_rel``, the value (prior ``prior`` on it, or
            none: the caller's) and the log-Jacobian (of the rescaling; the shift by
            ``offset`` has none)."""
            star = (pm.HalfFlat if positive else pm.Flat)(f"{name}_rel", **kwargs)
            value = star * c - offset
            if prior is not None:
                pm.Potential(f"{name}_prior", pm.logp(prior, value).sum())
            log_jac.append(pt.sum(pt.log(pt.broadcast_to(c, value.shape))))
            return value

        # loadings ------------------------------------------------------------------------
        Lam = pt.zeros((J, m))
        labelled: dict[str, pt.TensorVariable] = {}
        for c in model.covariances:  # labelled latent correlations, for := definitions
            key = next((k for k in (f"{c.lhs}~~{c.rhs}", f"{c.rhs}~~{c.lhs}") if k in named),
                       None)
            if c.label and key:
                labelled.setdefault(c.label, named[key])
        scale = np.array([2.5 if v in data.ordinal else data.c_sd[data.continuous.index(v)]
                          for v in ind])
        # the average anchor: loadings in the unit of the latent variable's total SD (their
        # values are set once the structural part is built; see _total_sd_unit)
        in_total_unit = []
        for par in [p for p in model.parameters if p.op == "=~"]:
            i, f = yi[par.rhs], li[par.lhs]
            if par.fixed is not None:
                value = pt.as_tensor(float(par.fixed))
            elif par.label and par.label in labelled:
                value = labelled[par.label]
            elif scalable[f] and averaged:
                in_total_unit.append((par, i, f, pm.HalfFlat(f"{par.name}_rel",
                                                             initval=0.4 * scale[i])))
                continue
            elif scalable[f]:
                value = on_sample_scale(par.name, pm.HalfNormal.dist(scale[i]), 1.0 / r0[f],
                                        positive=True, initval=0.4 * scale[i])
                named[par.name] = value
            else:
                value = pm.HalfNormal(par.name, scale[i], initval=0.4 * scale[i])
            if par.label:
                labelled.setdefault(par.label, value)
            Lam = pt.set_subtensor(Lam[i, f], value)
        ratio = pt.ones((J, G))
        if configural:
            dev = pm.Normal("loading_log_ratio", 0.0, 1.0, shape=(J, G - 1))
            ratio = pt.concatenate([pt.ones((J, 1)), pt.exp(dev)], axis=1)
        elif approximate:
            omega = pm.LogNormal("loading_width", np.log(0.05), 1.0, dims="item")
            eps = pm.ZeroSumNormal("loading_dev", 1.0, dims=("item", "group"))
            ratio = pm.Deterministic("loading_ratio", pt.exp(omega[:, None] * eps),
                                     dims=("item", "group"))
        sds = pt.ones((G, m))
        if averaged:
            # the prior on the SDs, with the Jacobian of exp (the map from the deviations
            # to log sd is linear: a constant Jacobian, left out)
            sfree = pm.Deterministic("latent_sd_free", pt.exp(log_sfree))
            pm.Potential("latent_sd_prior", pm.logp(pm.LogNormal.dist(0.0, 0.5), sfree).sum()
                         + log_sfree.sum())
            sds = pt.concatenate([pt.ones((1, m)), sfree], axis=0)
        elif free_means:
            if scalable.any():
                # group g's SD in the reference group's sample unit, per its own sample RMS
                sfree = on_sample_scale("latent_sd_free", pm.LogNormal.dist(0.0, 0.5),
                                        r0[None, :] / rg[1:], positive=True, shape=(G - 1, m))
                sfree = pm.Deterministic("latent_sd_free", sfree)
            else:
                sfree = pm.LogNormal("latent_sd_free", 0.0, 0.5, shape=(G - 1, m))
            sds = pt.concatenate([pt.ones((1, m)), sfree], axis=0)
        # structural part -------------------------------------------------------------------
        # With the sample origin the latent variables are built in topological order, each
        # group's centred scores eta~ column by column, and the slopes of every equation are
        # sampled as the *effective* slopes the likelihood sees: slope + the sample
        # regression of that equation's residual scores on its regressors in the group
        # (b-hat, a function of the scores). The residual's sample correlation with its
        # regressors otherwise trades off against the slope (errors in variables).
        B = pt.zeros((G, m, m))
        Gam = pt.zeros((G, m, q))
        if sample_origin:
            Ut = [u - ub for u, ub in zip(U, ubar, strict=True)]
            xt = [xs[bounds[k]:bounds[k + 1]] - xbar[k] for k in range(G)]
            eta_t: list[dict] = [{} for _ in range(G)]
            depths = _depths(model, li)
            topo = sorted(lat, key=depths.__getitem__)
        else:
            topo = list(dict.fromkeys(p.lhs for p in model.regressions))
        for f in topo:
            fi = li[f]
            pars = [p for p in model.regressions if p.lhs == f]
            sheared = [p for p in pars if p.fixed is None and not p.label]
            offset = {}
            if sample_origin and sheared and (sizes > len(sheared) + 1).all():
                cols = []
                for k in range(G):
                    # the group's regressors: covariates that do not vary in the group (or
                    # are collinear with the others there) are left out, their b-hat 0
                    use = _full_rank([None if p.rhs in li else xt[k][:, cov_i[p.rhs]]
                                      for p in sheared])
                    if not use.any():
                        cols.append(pt.zeros(len(sheared)))
                        continue
                    M = pt.stack([eta_t[k][p.rhs] if p.rhs in li else
                                  pt.as_tensor(xt[k][:, cov_i[p.rhs]])
                                  for p, u in zip(sheared, use, strict=True) if u], axis=1)
                    w = sds[k, fi] * Ut[k][:, fi]
                    b = pt.linalg.solve(pt.dot(M.T, M), pt.dot(M.T, w))
                    cols.append(pt.set_subtensor(pt.zeros(len(sheared))[np.flatnonzero(use)], b))
                bhat = pt.stack(cols)                      # (G, regressors)
                offset = {p.name: bhat[:, j] for j, p in enumerate(sheared)}
            # the average anchor's whitened slopes: an equation's slopes on two or more
            # correlated exogenous latent variables (all free per group, or all population
            # slopes) sampled as L' beta, L L' their model-implied covariance
            whitened = _whitened_slopes(pars, averaged, grouped, free_slopes, exo, li, chol,
                                        sds / r0[None, :], w, r0, log_jac)
            for par in pars:
                free = (grouped and (par.lhs in free_slopes or par.name in free_slopes)
                        and par.fixed is None and not par.label)
                # in sample units: lhs per unit of rhs
                c = r0[li[par.lhs]] / (r0[li[par.rhs]] if par.rhs in li else 1.0)
                off = offset.get(par.name)
                shear = off is not None or bool(
                    scalable[li[par.lhs]] or (par.rhs in li and scalable[li[par.rhs]]))
                if off is None:
                    off = pt.zeros(G)
                vary = grouped and not free and par.fixed is None and (
                    vary_slopes is True or (vary_slopes and (par.lhs in vary_slopes
                                                             or par.name in vary_slopes)))
                # the average anchor, partially pooled slopes (non-centred): the free
                # variable is the groups' mean slope, the population slope a function of it
                # (see "The location and unit the sampler sees")
                rotate = vary and averaged and pooling != "centred" and not par.label
                if par.fixed is not None:
                    value = pt.as_tensor(float(par.fixed))
                elif par.label and par.label in labelled:
                    value = labelled[par.label]
                elif par.name in whitened:
                    value = whitened[par.name]
                    named[par.name] = value[0] if free else value
                    if not rotate:
                        pm.Potential(f"{par.name}_prior",
                                     pm.logp(pm.Normal.dist(0.0, 1.0), value).sum())
                elif free:
                    if shear:
                        value = pm.Deterministic(f"free({par.name})", on_sample_scale(
                            f"free({par.name})", pm.Normal.dist(0.0, 1.0), c, offset=off,
                            dims="group"), dims="group")
                    else:
                        value = pm.Normal(f"free({par.name})", 0.0, 1.0, dims="group")
                    named[par.name] = value[0]  # the reference group's, under lavaan's name
                elif shear and not par.label:
                    # equal or partially pooled slopes: the (population) slope shifted by
                    # the groups' b-hat averaged by size
                    value = on_sample_scale(par.name, None if rotate else pm.Normal.dist(0.0, 1.0),
                                            c, offset=pt.dot(off, sizes / sizes.sum()))
                    named[par.name] = value
                elif rotate:
                    value = on_sample_scale(par.name, None, 1.0)
                    named[par.name] = value
                else:
                    value = pm.Normal(par.name, 0.0, 1.0)
                if par.label:
                    labelled.setdefault(par.label, value)
                if vary:
                    # the deviations stay non-centred and unshifted: shifting each group's
                    # slope by its own b-hat (dev = dev_rel - b-hat / sd) ties dev_rel to
                    # the scores by 1 / sd, a funnel where the between-group SD is small
                    # (29 divergences on the four-area nudge experiment)
                    sd_cls, sd_args = ((pm.Gamma, (SD_SHAPE, SD_RATE)) if sd_prior == "gamma"
                                       else (pm.HalfNormal, (0.1,)))
                    sd = (pm.Deterministic(f"sd({par.name})", on_sample_scale(
                        f"sd({par.name})", sd_cls.dist(*sd_args), c, positive=True))
                        if shear and not par.label else sd_cls(f"sd({par.name})", *sd_args))
                    if pooling == "centred":
                        value = pm.Normal(f"slope({par.name})", value, sd, dims="group")
                    elif rotate:
                        # value is the groups' mean slope; the deviations' mean rot_0 is
                        # marginalised and sampled as its conditional's standard normal
                        # (dev_mean), which the groups' slopes do not involve (module
                        # docstring, the partially pooled slope)
                        rot = pm.Normal(f"dev_rot({par.name})", 0.0, 1.0, shape=G - 1)
                        u_mean = pm.Normal(f"dev_mean({par.name})", 0.0, 1.0)
                        k = sd**2 / G
                        mean_rot = (value * sd / np.sqrt(G) + u_mean * pt.sqrt(1.0 + k)) / (1.0 + k)
                        within = pt.dot(basis[1:].T, rot)
                        pm.Deterministic(f"dev({par.name})", mean_rot / np.sqrt(G) + within,
                                         dims="group")
                        mu = value - sd * mean_rot / np.sqrt(G)
                        pm.Potential(f"{par.name}_prior",
                                     pm.logp(pm.Normal.dist(0.0, pt.sqrt(1.0 + k)), value))
                        named[par.name] = mu
                        value = value + sd * within
                    else:
                        value = value + sd * pm.Normal(f"dev({par.name})", 0.0, 1.0,
                                                       dims="group")
                if par.rhs in li:
                    B = pt.set_subtensor(B[:, fi, li[par.rhs]], value)
                else:
                    Gam = pt.set_subtensor(Gam[:, fi, cov_i[par.rhs]], value)
            if sample_origin:
                for k in range(G):
                    e = sds[k, fi] * Ut[k][:, fi]
                    for par in pars:
                        if par.rhs in li:
                            e = e + B[k, fi, li[par.rhs]] * eta_t[k][par.rhs]
                        else:
                            e = e + Gam[k, fi, cov_i[par.rhs]] * xt[k][:, cov_i[par.rhs]]
                    eta_t[k][f] = e
        if model.regressions:
            B = pm.Deterministic("paths", B, dims=("group", "latent", "predictor"))
            if q:
                Gam = pm.Deterministic("effects", Gam, dims=("group", "latent", "covariate"))
        sds = pm.Deterministic("latent_sd", sds, dims=("group", "latent"))
        if in_total_unit:
            unit = _total_sd_unit(B if model.regressions else None, Gam if q else None, sds,
                                  chol, xs, bounds, depth, w, m)
            for par, i, f, star in in_total_unit:
                value = star / unit[f]
                pm.Potential(f"{par.name}_prior",
                             pm.logp(pm.HalfNormal.dist(scale[i]), value))
                log_jac.append(-pt.log(unit[f]))
                named[par.name] = value
                Lam = pt.set_subtensor(Lam[i, f], value)
        Lam_g = pm.Deterministic("loadings", Lam[None, :, :] * ratio.T[:, :, None],
                                 dims=("group", "item", "latent"))
        # the origin: each group's sample mean of the latent variables, E_g (see the module
        # docstring)
        if sample_origin:
            # c_g: what the scores' and covariates' sample means add to zeta's mean
            cg = sds * pt.stack(ubar)
            if q:
                cg = cg + (Gam * xbar[:, None, :]).sum(-1)

            def through(a, k):
                """(I - B_k)^-1 a by substitution."""
                return _through(B[k], a, depth) if model.regressions else a

            if free_means:
                E0 = through(cg[0], 0)
                diff = on_sample_scale("latent_mean_diff", pm.Flat.dist(), r0[None, :],
                                       shape=(G - 1, m), initval=np.zeros((G - 1, m)))
                E = pt.concatenate([E0[None, :], E0[None, :] + diff], axis=0)
                rest = [E[k] - (pt.dot(B[k], E[k]) if model.regressions else 0) - cg[k]
                        for k in range(1, G)]
                mfree = pm.Deterministic("latent_mean_free", pt.stack(rest))
                pm.Potential("latent_mean_prior",
                             pm.logp(pm.Normal.dist(0.0, 1.0), mfree).sum())
                mean = pt.concatenate([pt.zeros((1, m)), mfree], axis=0)
            else:
                E = pt.stack([through(cg[k], k) for k in range(G)])
                mean = pt.zeros((G, m))
            # the shift of item j's thresholds (intercepts) in the groups whose origin they
            # are measured from: the reference group's, or each group's own (configural)
            origin_lin = pt.stack([pt.dot(Lam_g[0 if free_means else k], E[0 if free_means
                                                                            else k])
                                   for k in range(G if configural else 1)])
        else:
            mean = pt.zeros((G, m))
            # the average anchor (see "The location and unit the sampler sees" in the module
            # docstring): the free means as deviations from the size-weighted average
            if averaged:
                # in the unit c_f (a linear map of constant Jacobian, left out, times c_f)
                dev = pm.Flat("latent_mean_dev", shape=(G - 1, m), initval=np.zeros((G - 1, m)))
                mfree = pm.Deterministic("latent_mean_free",
                                         r0[None, :] * (dev + pt.dot(w[1:], dev) / w[0]))
                log_jac.append((G - 1) * pt.sum(pt.log(r0)))
                pm.Potential("latent_mean_prior", pm.logp(pm.Normal.dist(0.0, 1.0), mfree).sum())
            elif free_means:
                mfree = pm.Normal("latent_mean_free", 0.0, 1.0, shape=(G - 1, m))
            if free_means:
                mean = pt.concatenate([pt.zeros((1, m)), mfree], axis=0)
            if averaged:
                # the size-weighted average of the groups' model-implied latent means,
                # (I - B_g)^-1 (alpha_g + Gamma_g xbar_g), and its linear predictor per item
                cg = mean + (Gam * xbar[:, None, :]).sum(-1) if q else mean
                Eg = [_through(B[k], cg[k], depth) if model.regressions else cg[k]
                      for k in range(G)]
                origin_lin = pt.dot(Lam, pt.dot(w, pt.stack(Eg)))[None, :]
        mean = pm.Deterministic("latent_mean", mean, dims=("group", "latent"))
        if log_jac:
            pm.Potential("sample_scale_jacobian", pt.sum(pt.stack(log_jac)))
        # ordinal items ------------------------------------------------------------------
        if data.ordinal:
            K = np.array([len(data.levels[v]) for v in data.ordinal])
            T = int((K - 1).sum())
            first = np.concatenate([np.r_[True, np.zeros(k - 2, bool)] for k in K])
            init = np.concatenate([np.linspace(-1.5, 1.5, k - 1) if k > 2 else [0.0] for k in K])
            tshape = (G, T) if configural else (T,)
            tname = "thresholds_free" if configural else "thresholds_base"
            oi = np.array([yi[v] for v in data.ordinal])
            seg = np.cumsum(first) - 1
            if sample_origin or averaged:
                rel = pm.Flat(tname + "_rel", shape=tshape, transform=_RaggedOrdered(first),
                              initval=np.broadcast_to(init, tshape).copy())
                shift0 = origin_lin[:, oi][:, seg]
                raw = pm.Deterministic(tname, rel + (shift0 if configural else shift0[0]))
                pm.Potential("thresholds_prior", pm.logp(pm.Normal.dist(0.0, 3.0), raw).sum())
            else:
                raw = pm.Normal(tname, 0.0, 3.0, shape=tshape, transform=_RaggedOrdered(first),
                                initval=np.broadcast_to(init, tshape).copy())
            cuts = raw if configural else pt.broadcast_to(raw, (G, T))
            if approximate:
                tau = pm.LogNormal("threshold_width", np.log(0.15), 1.0, dims="oitem")
                delta = pm.ZeroSumNormal("threshold_dev", 1.0, dims=("oitem", "group"))
                shift = pm.Deterministic("threshold_shift", tau[:, None] * delta,
                                         dims=("oitem", "group"))
                cuts = cuts + shift.T[:, seg]
            cuts = pm.Deterministic("thresholds", cuts, dims=("group", "threshold"))
            # V = (every group's thresholds, -BOUND, +BOUND); pos[g, j, k] the position in V
            # of the k-th boundary (k = 0 .. K_j) of item j in group g
            V = pt.concatenate([cuts.reshape((-1,)), pt.as_tensor([-_BOUND, _BOUND])])
            offset = np.r_[0, np.cumsum(K - 1)[:-1]]
            pos = np.full((G, len(K), K.max() + 1), G * T + 1)
            pos[:, :, 0] = G * T
            for k, kk in enumerate(K):
                pos[:, k, 1:kk] = np.arange(G)[:, None] * T + offset[k] + np.arange(kk - 1)
        # continuous items -------------------------------------------------------------------
        if data.continuous:
            Jc = len(data.continuous)
            ci = np.array([yi[v] for v in data.continuous])
            nshape = (G, Jc) if configural else (Jc,)
            nname = "intercepts_free" if configural else "intercepts_base"
            if sample_origin or averaged:
                rel = pm.Flat(nname + "_rel", shape=nshape,
                              initval=np.broadcast_to(data.c_mean, nshape).copy())
                shift0 = origin_lin[:, ci]
                nu = pm.Deterministic(nname, rel - (shift0 if configural else shift0[0]))
                pm.Potential("intercepts_prior",
                             pm.logp(pm.Normal.dist(data.c_mean, data.c_sd), nu).sum())
            else:
                nu = pm.Normal(nname, data.c_mean, data.c_sd, shape=nshape)
            if not configural:
                nu = pt.broadcast_to(nu, (G, Jc))
                if approximate:
                    tau = pm.LogNormal("intercept_width", np.log(0.15), 1.0, dims="citem")
                    delta = pm.ZeroSumNormal("intercept_dev", 1.0, dims=("citem", "group"))
                    sh = pm.Deterministic("intercept_shift", data.c_sd[:, None] * tau[:, None]
                                          * delta, dims=("citem", "group"))
                    nu = nu + sh.T
            nu = pm.Deterministic("intercepts", nu, dims=("group", "citem"))
            theta = pm.HalfNormal("residual_sd", np.broadcast_to(data.c_sd, (G, Jc)),
                                  dims=("group", "citem"))
        # the latent scores and the likelihood ------------------------------------------------
        if informed:
            etas = _informed_scores(
                data, innov, bounds, xs, xbar, chol,
                sds if grouped and not configural else pt.ones((G, m)),
                mean if grouped and not configural else pt.zeros((G, m)),
                B if model.regressions else None, Gam if q else None, depth, where, Lam_g,
                (V, pos, oi) if data.ordinal else None,
                (nu, theta, ci) if data.continuous else None, link)
        blocks = []
        for k in range(G):
            if sample_origin:
                eta = E[k][None, :] + pt.stack([eta_t[k][f] for f in lat], axis=1)
                blocks.append(pt.dot(eta, Lam_g[k].T))
                continue
            if informed:
                blocks.append(pt.dot(etas[k], Lam_g[k].T))
                continue
            zeta = U[k]
            if grouped and not configural:
                zeta = mean[k] + zeta * sds[k]
            if q:
                zeta = zeta + pt.dot(xs[bounds[k]:bounds[k + 1]], Gam[k].T)
            if not model.regressions:
                eta = zeta
            elif depth is not None:
                # acyclic paths: (I - B)^-1 = I + B + ... + B^depth, applied by
                # substitution (a matrix inverse's LU solves cost a fifth of the gradient)
                eta = zeta
                for _ in range(depth):
                    eta = zeta + pt.dot(eta, B[k].T)
            else:
                eta = pt.dot(zeta, pt.linalg.inv(pt.eye(m) - B[k]).T)
            blocks.append(pt.dot(eta, Lam_g[k].T))
        LIN = (pt.concatenate(blocks) if G > 1 else blocks[0]).reshape((-1,))
        lin_at = lambda resp, item: where[resp] * J + item  # noqa: E731
        if data.ordinal:
            gr, it, y = data.g[data.o_resp], data.o_item, data.o_y
            lin = LIN[lin_at(data.o_resp, oi[it])]
            pm.Potential("loglik_ordinal", _ordinal_logp(V[pos[gr, it, y + 1]], V[pos[gr, it, y]],
                                                         lin, link).sum())
        if data.continuous:
            at = data.g[data.c_resp] * Jc + data.c_item
            mu = nu.reshape((-1,))[at] + LIN[lin_at(data.c_resp, ci[data.c_item])]
            pm.Potential("loglik_continuous",
                         pm.logp(pm.Normal.dist(mu, theta.reshape((-1,))[at]), data.c_y).sum())
        store_named(pmodel, model, named, labelled)
    return pmodel


def judged_variables(pmodel: pm.Model) -> list[str]:
    """The variables a latent-score model's convergence verdict covers: its free variables
    except the respondents' scores ``z``, and, where the free variables are on the sample
    origin and scale (``..._rel``), the model's own parameters they stand for."""
    free = [v.name for v in pmodel.free_RVs if v.name not in ("z", "z_innovation")]
    free += [n for n in ("thresholds_base", "thresholds_free", "intercepts_base",
                         "intercepts_free", "latent_mean_free", "latent_sd_free")
             if n in pmodel.named_vars and n not in free]
    free += [f"dev({n[len('dev_rot('):]}" for n in free if n.startswith("dev_rot(")]
    for n in [n for n in free if n.startswith("whitened(")]:
        for path in n[len("whitened("):-1].split("+"):
            free.append(f"free({path})" if f"free({path})" in pmodel.named_vars else path)
    return free + [n[:-4] for n in free if n.endswith("_rel") and n[:-4] in pmodel.named_vars]


def redraw_independent(idata, pmodel: pm.Model, seed: int | None):
    """Replace the draws of the variables that are independent standard normals in the
    posterior (``dev_mean(...)`` of a partially pooled slope: the standard normal of the
    mean deviation's conditional, which the likelihood does not see; see the module
    docstring) by exact, seeded draws, and recompute the Deterministics built on them (the
    deviations ``dev(...)``, the population slope and what is defined from it). The
    sampler's draws of such a variable are valid but, with trajectories tuned to the hard
    directions, anticorrelated in x and correlated in |x| (lag-1 -0.5 and +0.55 in
    latent_individual), so their folded R-hat is noisy; exact draws carry no such noise.
    Returns ``idata`` (its posterior changed in place)."""
    from pytensor.graph.traversal import ancestors

    rvs = [v for v in pmodel.free_RVs if v.name.startswith("dev_mean(")]
    post = idata.posterior
    if not rvs or any(v.name not in post for v in rvs):
        return idata
    rng = np.random.default_rng([0 if seed is None else int(seed), 0x5EED])
    for v in rvs:
        post[v.name] = (post[v.name].dims, rng.standard_normal(post[v.name].shape))
    touched = set(rvs)
    dets = [d.name for d in pmodel.deterministics
            if d.name in post and touched & set(ancestors([d]))]
    if dets:
        fresh = pm.compute_deterministics(post, var_names=dets, model=pmodel,
                                          progressbar=False)
        for name in dets:
            post[name] = (post[name].dims, fresh[name].values)
    return idata


def latent_scores(post, data: LatentData, draws: np.ndarray | None = None,
                  z: np.ndarray | None = None) -> np.ndarray:
    """Latent scores eta (draws, n, m) from posterior draws (chain and draw stacked),
    optionally only the draws at positions ``draws``; with ``z`` (draws, n, m) given,
    new respondents' scores (replications from the population) instead of the fitted ones."""
    def get(name):
        v = post[name].values
        v = v.reshape(-1, *v.shape[2:])
        return v if draws is None else v[draws]

    z = get("z") if z is None else z
    chol, mean, sds = get("latent_chol"), get("latent_mean"), get("latent_sd")
    effects = get("effects") if "effects" in post else None
    inv = np.linalg.inv(np.eye(z.shape[-1]) - get("paths")) if "paths" in post else None
    out = np.empty(z.shape)
    for k in range(len(data.groups)):
        rows = np.flatnonzero(data.g == k)
        zeta = (mean[:, k, None]
                + np.einsum("snk,smk->snm", z[:, rows], chol[:, k]) * sds[:, k, None])
        if effects is not None:
            zeta += np.einsum("smq,nq->snm", effects[:, k], data.x[rows])
        if inv is not None:
            zeta = np.einsum("sij,snj->sni", inv[:, k], zeta)
        out[:, rows] = zeta
    return out


def padded_thresholds(thresholds: np.ndarray, data: LatentData) -> np.ndarray:
    """One draw's ``thresholds`` (group, threshold) as category boundaries (group, ordinal
    item, max K + 1): -inf, the item's thresholds, then +inf up to the widest item."""
    K = np.array([len(data.levels[v]) for v in data.ordinal])
    pad = np.full((thresholds.shape[0], len(K), K.max() + 1), np.inf)
    pad[:, :, 0] = -np.inf
    offset = np.r_[0, np.cumsum(K - 1)[:-1]]
    for k, kk in enumerate(K):
        pad[:, k, 1:kk] = thresholds[:, offset[k]:offset[k] + kk - 1]
    return pad


def ordinal_probabilities(eta: np.ndarray, data: LatentData, loadings: np.ndarray,
                          thresholds: np.ndarray, link: str = "logit") -> np.ndarray:
    """P(y_ij = k) (n, ordinal items, max K) for latent scores ``eta`` (n, m), one draw's
    ``loadings`` (group, item, latent) and ``thresholds`` (group, threshold); categories
    beyond an item's own K have probability 0."""
    from scipy.special import expit, ndtr

    oi = [data.indicators.index(v) for v in data.ordinal]
    pad = padded_thresholds(thresholds, data)
    lin = np.einsum("nm,njm->nj", eta, loadings[data.g][:, oi])
    cdf = expit if link == "logit" else ndtr
    return np.diff(cdf(pad[data.g] - lin[:, :, None]), axis=-1)
