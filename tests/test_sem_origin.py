"""The latent-score engine's sample origin and scale are an exact change of variables.

``origin="sample"`` samples thresholds and intercepts relative to the reference group's sample
mean of the latent variables, the other groups' means as differences of sample means,
loadings, paths, effects, pooling SDs, group SDs and mean differences in units of the groups'
sample RMS of the scores, and every slope as the effective slope (plus the sample regression
of the equation's residual scores on its regressors in the group). The posterior must be the
one of ``origin="population"`` (the parameters as the model is written): at a random point u
of the new model's unconstrained space, mapped to the old model's unconstrained space v(u)
through the new model's own deterministic originals and the old model's transforms,
``logp_new(u) = logp_old(v(u)) + log|det dv/du|``, with the Jacobian determinant taken by
central finite differences of that map (not from the code's own accounting).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest
import xarray as xr

import coprod_bayes as cb
from coprod_bayes.engines.sem_latent import (
    build_latent_model,
    judged_variables,
    prepare_latent,
    redraw_independent,
)
from coprod_bayes.errors import SpecError
from coprod_bayes.spec.syntax import parse_model

SYNTAX = """
f1 =~ a0 + a1 + a2
f2 =~ b0 + b1 + b2 + c0
f3 =~ d0 + d1 + d2
f2 ~ f1 + x
f1 ~ x
f3 ~ x
"""
# a chain of depth 2, three regressors, a marker loading and a labelled (equal) pair
CHAIN = """
f1 =~ 1*a0 + a1 + a2
f2 =~ b0 + b1 + b2 + c0
f3 =~ d0 + d1 + d2 + c1
f2 ~ f1 + x
f3 ~ f2 + f1 + x2
f1 ~ q*x + q*x2
"""

# an outcome on two correlated exogenous latent variables (the average anchor whitens its
# slopes) and a covariate
WIDE = """
f1 =~ a0 + a1 + a2
f2 =~ b0 + b1 + b2 + c0
f3 =~ d0 + d1 + d2
f3 ~ f1 + f2 + x
f1 ~ x
"""


# an outcome with a marker loading (its slope on the covariate neither rescaled nor
# whitened) and one without covariates
MARKER = """
f1 =~ a0 + a1 + a2
f2 =~ 1*b0 + b1 + b2 + c0
f2 ~ f1 + x
"""
BARE = """
f1 =~ a0 + a1 + a2
f2 =~ b0 + b1 + b2 + c0
f2 ~ f1
"""


def _frame(n=150, groups=3, seed=1):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    x = rng.normal(size=n)
    f1 = 0.5 * g + 0.3 * x + rng.normal(size=n)
    f2 = 0.6 * f1 + rng.normal(size=n)
    f3 = 0.5 * f2 + rng.normal(size=n)
    df = pd.DataFrame({"grp": g, "x": x, "x2": rng.normal(size=n)})
    for j in range(3):
        df[f"a{j}"] = np.digitize(f1 + rng.logistic(size=n), [-1, 0.5, 1.5])
        df[f"b{j}"] = np.digitize(f2 + rng.logistic(size=n), [-0.5, 1.0])
        df[f"d{j}"] = np.digitize(f3 + rng.logistic(size=n), [0.0])
    df["c0"] = f2 + rng.normal(size=n)
    df["c1"] = f3 + rng.normal(size=n)
    df.loc[rng.random(n) < 0.1, "a1"] = np.nan
    return df


def _degenerate(df):
    """A covariate constant within group 2 and a group (3) of one respondent."""
    df = df.copy()
    df.loc[df["grp"] == 2, "x"] = 0.5
    df.loc[df.index[df["grp"] == 1][0], "grp"] = 3
    return df


def _models(text, df, group="grp", **kw):
    syntax = parse_model(text)
    ordered = [c for c in df if c[0] in "abd" and c[1:].isdigit() and c in syntax.observed]
    data = prepare_latent(syntax, df, ordered, group)
    return (build_latent_model(syntax, data, origin="population", anchor="reference", **kw),
            build_latent_model(syntax, data, origin="sample", **kw))


def _original(name: str) -> str:
    """The model parameter a sample-scale free variable stands for."""
    for suffix in ("_log__", "_ragged_ordered__"):
        name = name.removesuffix(suffix)
    name = name.removesuffix("_rel")
    return "latent_mean_free" if name == "latent_mean_diff" else name


def _check(old, new, seed=3, original=_original):
    """(logp_new(u) - logp_old(v(u)), log|det dv/du|, number of new variables)."""
    old_vals = {v.name for v in old.value_vars}
    rel = [v for v in new.value_vars if v.name not in old_vals]
    assert rel, "the sample origin added no variables"
    # a new variable stands for one old variable or (a list) several
    targets = [t for v in rel for t in np.atleast_1d(original(v.name))]
    outs = []
    for t, graph in zip(targets, new.replace_rvs_by_values([new[t] for t in targets]),
                        strict=True):
        rv = old[t]
        tr = old.rvs_to_transforms.get(rv)
        outs.append(tr.forward(graph, *rv.owner.inputs) if tr is not None else graph)
    old_names = [old.rvs_to_values[old[t]].name for t in targets]
    fmap = pytensor.function(new.value_vars, outs, on_unused_input="ignore")
    rng = np.random.default_rng(seed)
    u = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in new.initial_point().items()}

    def to_old(point):
        p = {k: v for k, v in point.items() if k in old_vals}
        p.update({n: np.asarray(v) for n, v in zip(old_names, fmap(**point), strict=True)})
        return p

    v = to_old(u)
    assert set(v) == old_vals
    diff = new.compile_logp()(u) - old.compile_logp()(v)
    shapes = [np.shape(u[r.name]) for r in rel]
    cuts = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    th0 = np.concatenate([np.ravel(u[r.name]) for r in rel])

    def F(th):
        q = dict(u)
        for r, s, a, b in zip(rel, shapes, cuts[:-1], cuts[1:], strict=True):
            q[r.name] = th[a:b].reshape(s)
        p = to_old(q)
        return np.concatenate([np.ravel(p[n]) for n in old_names])

    h = 1e-5
    jac = np.stack([(F(th0 + h * e) - F(th0 - h * e)) / (2 * h) for e in np.eye(len(th0))], 1)
    sign, logdet = np.linalg.slogdet(jac)
    assert sign != 0
    return diff, logdet, len(th0)


@pytest.mark.parametrize("text,kw", [
    (SYNTAX, {"invariance": "scalar", "free_slopes": ("f1",)}),
    (SYNTAX, {"invariance": "scalar", "vary_slopes": False}),
    (SYNTAX, {"invariance": "configural"}),
    (SYNTAX, {"invariance": "approximate", "link": "probit"}),
    (CHAIN, {"invariance": "scalar", "vary_slopes": ["f3"], "free_slopes": ("f2",)}),
], ids=["free-slopes", "equal-slopes", "configural", "approximate", "chain-marker-labels"])
def test_sample_origin_and_scale_are_an_exact_change_of_variables(text, kw):
    old, new = _models(text, _frame(), **kw)
    diff, logdet, _ = _check(old, new)
    assert diff == pytest.approx(logdet, abs=1e-6)


def test_exact_without_groups():
    old, new = _models(SYNTAX, _frame(), group=None)
    diff, logdet, _ = _check(old, new)
    assert diff == pytest.approx(logdet, abs=1e-6)


def test_degenerate_groups_keep_a_finite_density():
    """A covariate constant within one group (its regression on the residual scores is
    left out there) and a group of one respondent (no sample scale): the density stays
    finite and exact; so does the model's own initial point."""
    old, new = _models(SYNTAX, _degenerate(_frame()))
    diff, logdet, _ = _check(old, new)
    assert np.isfinite(diff)
    assert diff == pytest.approx(logdet, abs=1e-6)
    assert np.isfinite(new.compile_logp()(new.initial_point()))


@pytest.mark.parametrize("text,kw", [
    (SYNTAX, {"invariance": "scalar", "free_slopes": ("f1",)}),
    (SYNTAX, {"invariance": "approximate", "link": "probit"}),
    (CHAIN, {"invariance": "scalar", "vary_slopes": ["f3"], "free_slopes": ("f2",)}),
    (CHAIN, {"invariance": "scalar", "scores": "informed"}),
    (WIDE, {"invariance": "scalar"}),
    (WIDE, {"invariance": "scalar", "free_slopes": ("f3",), "scores": "informed"}),
    (WIDE, {"invariance": "approximate", "vary_slopes": False}),
    (MARKER, {"invariance": "scalar", "degenerate": True}),
    (BARE, {"invariance": "scalar", "groups": 2}),
], ids=["free-slopes", "approximate-probit", "chain-marker-labels", "informed",
        "whitened-pooled", "whitened-free-informed", "whitened-equal",
        "marker-degenerate-groups", "no-covariates-two-groups"])
def test_average_anchor_is_an_exact_change_of_variables(text, kw):
    """anchor="average" samples the thresholds (intercepts) relative to the size-weighted
    average of the groups' model-implied latent means, the other groups' means and log SDs
    as deviations from their size-weighted average, loadings, means and slopes in the unit
    of the groups' geometric mean SD, and an outcome's slopes on correlated exogenous latent
    variables whitened. The linear maps of the means and log SDs have a constant Jacobian,
    which the model leaves out, so at every point
    logp_new(u) - logp_old(v(u)) = log|det dv/du| - (that constant)."""
    kw = dict(kw)
    df = _frame(groups=kw.pop("groups", 3))
    if kw.pop("degenerate", False):
        df = _degenerate(df)
    syntax = parse_model(text)
    ordered = [c for c in df if c[0] in "abd" and c[1:].isdigit() and c in syntax.observed]
    data = prepare_latent(syntax, df, ordered, "grp")
    old = build_latent_model(syntax, data, anchor="reference", **kw)
    new = build_latent_model(syntax, data, anchor="average", **kw)
    names = {"latent_mean_dev": "latent_mean_free", "latent_sd_dev": "latent_sd_free"}
    whitened = [v.name for v in new.value_vars if v.name.startswith("whitened(")]
    for v in whitened:  # one variable for an equation's slopes, free or population ones
        paths = v[len("whitened("):-1].split("+")
        names[v] = [f"free({p})" if f"free({p})" in old.named_vars else p for p in paths]
    for v in new.value_vars:  # pooled slopes' deviations, in the mean-first basis: the
        if v.name.startswith("dev_rot("):  # other coordinates and (dev_mean) the mean's
            names[v.name] = "dev(" + v.name[len("dev_rot("):]
        if v.name.startswith("dev_mean("):
            names[v.name] = []
    # the sampler's variables: the deviations, and every free loading and slope rescaled
    sampled = {v.name for v in new.value_vars}
    assert {"latent_mean_dev", "latent_sd_dev", "thresholds_base_rel_ragged_ordered__"} <= sampled
    assert any("=~" in v and v.endswith("_rel_log__") for v in sampled)
    # a marker keeps its latent variable's scale
    assert ("f2=~b1_rel_log__" in sampled) == (text != MARKER)

    # partially pooled slopes: their deviations in the mean-first basis
    rotated = [v[len("dev_rot("):-1] for v in sampled if v.startswith("dev_rot(")]
    assert bool(rotated) == (kw.get("vary_slopes") is not False)
    # the verdict covers the sampled coordinates and the parameters they stand for
    judged = set(judged_variables(new))
    assert {f"{v}({p})" for p in rotated for v in ("dev_rot", "dev_mean", "dev")} <= judged
    assert set(rotated) <= judged

    def original(v):
        return names[v] if v in names else names.get(_original(v), _original(v))

    sizes = np.bincount(data.g)
    # log det of the linear maps of the means and of the log SDs
    const = 2 * len(data.latent) * np.log(sizes.sum() / sizes[0])
    assert bool(whitened) == (text == WIDE)
    for seed in (3, 4):
        diff, logdet, n = _check(old, new, seed=seed, original=original)
        assert n > 2 * (len(data.groups) - 1) * len(data.latent) + len(data.threshold_names)
        # the model leaves out the constant: the same posterior
        assert diff == pytest.approx(logdet - const, abs=1e-6)
        assert abs(logdet) > 1.0


def _fake_posterior(pmodel, draws, seed):
    """Random draws (one chain) of every free variable in its constrained space, with the
    deterministics computed from them."""
    rng = np.random.default_rng(seed)
    data = {}
    for v in pmodel.free_RVs:
        shape = tuple(int(n) for n in v.shape.eval())
        x = rng.normal(size=(1, draws) + shape)
        if v.owner.op.name in ("half_flat", "halfnormal"):
            x = np.exp(0.3 * x)
        elif v.owner.op.name == "beta":
            x = 1 / (1 + np.exp(-x))
        dims = pmodel.named_vars_to_dims.get(v.name) or tuple(
            f"{v.name}_dim_{i}" for i in range(len(shape)))
        data[v.name] = (("chain", "draw") + tuple(dims), x)
    post = xr.Dataset(data, coords={k: list(c) for k, c in pmodel.coords.items()})
    dets = pm.compute_deterministics(post, model=pmodel, progressbar=False)
    return az.InferenceData(posterior=xr.merge([post, dets]))


def test_redraw_independent_replaces_only_the_marginalised_coordinate():
    """The mean of a pooled slope's deviations (rot_0) is marginalised: the sampler sees its
    conditional's standard normal u (``dev_mean``), which the likelihood does not see.
    Redrawing u must leave every other free variable and every group's slope
    b_g = B + sd d_g (all the likelihood sees) as they were, give u exact iid N(0, 1)
    draws (seeded), and rebuild B and d by the conditional
    rot_0 | V, sd ~ N(V sd / sqrt(G) / (1 + k), 1 / sqrt(1 + k)), k = sd^2 / G, where
    V = B + sd mean(d) is the groups' mean slope."""
    syntax = parse_model(SYNTAX)
    df = _frame()
    ordered = [c for c in df if c[0] in "abd" and c[1:].isdigit()]
    data = prepare_latent(syntax, df, ordered, "grp")
    pmodel = build_latent_model(syntax, data, anchor="average", invariance="scalar")
    pooled = [v.name[len("dev_mean("):-1] for v in pmodel.free_RVs
              if v.name.startswith("dev_mean(")]
    assert len(pooled) == 4
    G = len(data.groups)
    before = _fake_posterior(pmodel, 400, seed=2).posterior

    def redrawn(seed):
        return redraw_independent(az.InferenceData(posterior=before.copy(deep=True)),
                                  pmodel, seed=seed).posterior

    after, again, other = redrawn(5), redrawn(5), redrawn(6)
    for v in pmodel.free_RVs:
        old, new = before[v.name].values, after[v.name].values
        if v.name.startswith("dev_mean("):
            assert not np.isclose(new, old).any()
            np.testing.assert_array_equal(new, again[v.name].values)
            assert not np.isclose(new, other[v.name].values).any()
        else:
            np.testing.assert_array_equal(new, old)
    us = np.concatenate([after[f"dev_mean({p})"].values.ravel() for p in pooled])
    assert abs(us.mean()) < 4 / np.sqrt(us.size)
    assert abs(us.std() - 1) < 4 / np.sqrt(2 * us.size)
    # the likelihood's quantities are unchanged
    for name in ("paths", "effects", "thresholds", "loadings", "latent_mean"):
        np.testing.assert_allclose(after[name].values, before[name].values, atol=1e-10)
    for p in pooled:
        B0, B1 = before[p].values, after[p].values
        sd = before[f"sd({p})"].values
        d0, d1 = before[f"dev({p})"].values, after[f"dev({p})"].values
        np.testing.assert_allclose(B1[..., None] + sd[..., None] * d1,
                                   B0[..., None] + sd[..., None] * d0, atol=1e-10)
        assert not np.isclose(B1, B0).any()
        # the conditional, computed here from V, sd and the new u
        V = B0 + sd * d0.mean(-1)
        k = sd**2 / G
        u = after[f"dev_mean({p})"].values
        rot0 = (V * sd / np.sqrt(G) + u * np.sqrt(1 + k)) / (1 + k)
        np.testing.assert_allclose(np.sqrt(G) * d1.mean(-1), rot0, atol=1e-10)
        np.testing.assert_allclose(B1, V - sd * rot0 / np.sqrt(G), atol=1e-10)


def test_unknown_origin_is_refused():
    df = _frame()
    syntax = parse_model("f1 =~ a0 + a1 + a2")
    data = prepare_latent(syntax, df, ["a0", "a1", "a2"])
    with pytest.raises(SpecError, match="origin='mean'"):
        build_latent_model(syntax, data, origin="mean")
    with pytest.raises(SpecError, match="origin='mean'"):
        cb.sem("f1 =~ a0 + a1 + a2", df, ordered=["a0", "a1", "a2"], origin="mean")
    with pytest.raises(SpecError, match="scores='informed'.*origin='population'"):
        build_latent_model(syntax, data, origin="sample", scores="informed")
    with pytest.raises(SpecError, match="scores='centred'"):
        build_latent_model(syntax, data, scores="centred")
    with pytest.raises(SpecError, match="correlations='pooled'"):
        build_latent_model(syntax, data, correlations="pooled")
    with pytest.raises(SpecError, match="anchor='first'"):
        build_latent_model(syntax, data, anchor="first")
    with pytest.raises(SpecError, match="anchor='first'"):
        cb.sem("f1 =~ a0 + a1 + a2", df, ordered=["a0", "a1", "a2"], anchor="first")


# The informed parametrisation of the scores (scores="informed"): z_i = a_i + T_g e_i, a_i
# and T_g functions of the parameters and of data-only proxies of the scores. The sampler's
# variable e ("z_innovation") stands for z; the Jacobian is again taken by finite differences.
@pytest.mark.parametrize("text,kw", [
    (SYNTAX, {"invariance": "configural"}),
    (SYNTAX, {"invariance": "approximate", "link": "probit", "correlations": "shared"}),
    (CHAIN, {"invariance": "scalar", "vary_slopes": ["f3"], "free_slopes": ("f2",)}),
], ids=["configural", "approximate-probit-shared", "chain-marker-labels-free-slopes"])
def test_informed_scores_are_an_exact_change_of_variables(text, kw):
    df = _frame(n=45)
    syntax = parse_model(text)
    ordered = [c for c in df if c[0] in "abd" and c[1:].isdigit() and c in syntax.observed]
    data = prepare_latent(syntax, df, ordered, "grp")
    old = build_latent_model(syntax, data, **kw)
    new = build_latent_model(syntax, data, scores="informed", **kw)
    diff, logdet, n = _check(old, new, original=lambda v: "z" if v == "z_innovation" else v)
    assert n == data.n * len(data.latent)
    assert diff == pytest.approx(logdet, abs=1e-6)
    # the map is not the identity: the proxies move the scores
    assert abs(logdet) > 1.0


def test_informed_scores_centre_on_the_conditional_posterior():
    """With continuous items the working responses are exact: at e = 0 each respondent's z
    is the mean of its conditional posterior given the parameters, computed here by hand
    (one factor, std.lv: precision 1 + sum lambda^2 / theta^2, mean V sum lambda (y - nu) /
    theta^2)."""
    rng = np.random.default_rng(5)
    n = 40
    f = rng.normal(size=n)
    df = pd.DataFrame({f"y{j}": 0.3 * j + (0.6 + 0.2 * j) * f + rng.normal(scale=0.7, size=n)
                       for j in range(3)})
    syntax = parse_model("f =~ y0 + y1 + y2")
    data = prepare_latent(syntax, df, [])
    model = build_latent_model(syntax, data, scores="informed")
    point = model.initial_point()
    point = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in point.items()}
    point["z_innovation"] = np.zeros_like(point["z_innovation"])
    names = ["z", "f=~y0", "f=~y1", "f=~y2", "intercepts", "residual_sd"]
    graphs = model.replace_rvs_by_values([model[v] for v in names])
    out = pytensor.function(model.value_vars, graphs, on_unused_input="ignore")(**point)
    z, lam, nu, theta = out[0][:, 0], np.array(out[1:4]), out[4][0], out[5][0]
    y = df.to_numpy()
    v = 1 / (1 + np.sum(lam**2 / theta**2))
    expected = v * ((y - nu) * lam / theta**2).sum(1)
    np.testing.assert_allclose(z, expected, rtol=1e-10, atol=1e-12)


def test_informed_scores_take_the_ordinal_items_fisher_scoring_step():
    """With ordinal items, at e = 0 each respondent's z is one Fisher-scoring step from the
    group mean (here 0), computed here by hand for one factor with std.lv and ordered-logit
    items (one response missing): u_ij = -(f(k_y - l0) - f(k_(y-1) - l0)) / P(y), the
    items' expected information I_j = sum_k (f_k - f_(k-1))^2 / P_k times the share
    answering, V = 1 / (1 + sum_j lambda_j^2 I_j share_j), z_i = V sum_j lambda_j u_ij."""
    from scipy.special import expit

    rng = np.random.default_rng(11)
    n = 30
    f = rng.normal(size=n)
    df = pd.DataFrame({f"y{j}": np.digitize((1.0 + 0.3 * j) * f + rng.logistic(size=n),
                                            [-1.0, 0.2, 1.2]) for j in range(3)})
    df = df.astype(float)
    df.loc[4, "y1"] = np.nan
    syntax = parse_model("f =~ y0 + y1 + y2")
    data = prepare_latent(syntax, df, ["y0", "y1", "y2"])
    model = build_latent_model(syntax, data, scores="informed")
    point = model.initial_point()
    point = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in point.items()}
    point["z_innovation"] = np.zeros_like(point["z_innovation"])
    names = ["z", "f=~y0", "f=~y1", "f=~y2", "thresholds"]
    graphs = model.replace_rvs_by_values([model[v] for v in names])
    out = pytensor.function(model.value_vars, graphs, on_unused_input="ignore")(**point)
    z, lam, cuts = out[0][:, 0], np.array(out[1:4]), np.asarray(out[4]).reshape(3, 3)
    y = df.to_numpy()
    expected_num = np.zeros(n)
    prec = 1.0
    for j in range(3):
        k = np.concatenate([[-np.inf], cuts[j], [np.inf]])
        F = expit(k)
        dens = np.nan_to_num(F * (1 - F))
        P = np.diff(F)
        info = np.sum(np.diff(dens) ** 2 / P)
        ok = ~np.isnan(y[:, j])
        yj = y[ok, j].astype(int)
        u = -(dens[yj + 1] - dens[yj]) / P[yj]
        expected_num[ok] += lam[j] * u
        prec += lam[j] ** 2 * info * ok.mean()
    np.testing.assert_allclose(z, expected_num / prec, rtol=1e-8, atol=1e-10)
