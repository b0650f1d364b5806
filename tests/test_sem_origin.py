"""The latent-score engine's sample origin and scale are an exact change of variables.

``origin="sample"`` samples thresholds and intercepts relative to the reference group's sample
mean of the latent variables, the other groups' means as differences of sample means,
loadings, paths, effects, pooling SDs, group SDs and mean differences in units of the groups'
sample RMS of the scores, and every slope as the effective slope (plus the sample regression
of the equation's residual scores on its regressors in the group). The posterior must be the
one of ``origin="population"`` (the parameters as the model is written): at corresponding
points the two log densities differ by exactly the log-Jacobian of the rescaling, which is
computed here independently from the scores (numpy), not read from the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.optimize as so

from coprod_bayes.engines.sem_latent import build_latent_model, prepare_latent
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


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(1)
    n = 240
    g = rng.integers(0, 3, n)
    x = rng.normal(size=n)
    f1 = 0.5 * g + 0.3 * x + rng.normal(size=n)
    f2 = 0.6 * f1 + rng.normal(size=n)
    f3 = 0.5 * f1 + rng.normal(size=n)
    df = pd.DataFrame({"grp": g, "x": x})
    for j in range(3):
        df[f"a{j}"] = np.digitize(f1 + rng.logistic(size=n), [-1, 0.5, 1.5])
        df[f"b{j}"] = np.digitize(f2 + rng.logistic(size=n), [-0.5, 1.0])
        df[f"d{j}"] = np.digitize(f3 + rng.logistic(size=n), [0.0])
    df["c0"] = f2 + rng.normal(size=n)
    df.loc[rng.random(n) < 0.1, "a1"] = np.nan
    return df


def _values(model, names, point):
    fn = model.compile_fn(model.replace_rvs_by_values([model[n] for n in names]),
                          inputs=model.value_vars, on_unused_input="ignore")
    return [np.asarray(v) for v in fn(point)]


def _original(name: str) -> str:
    """The model parameter a sample-scale free variable stands for."""
    for suffix in ("_log__", "_ragged_ordered__"):
        name = name.removesuffix(suffix)
    name = name.removesuffix("_rel")
    return "latent_mean_free" if name == "latent_mean_diff" else name


@pytest.mark.parametrize("invariance,free_slopes,vary", [
    ("scalar", ("f1",), True), ("scalar", (), False), ("configural", (), True),
    ("approximate", (), True)])
def test_sample_origin_and_scale_are_an_exact_change_of_variables(frame, invariance,
                                                                  free_slopes, vary):
    syntax = parse_model(SYNTAX)
    ordered = [c for c in frame if c[0] in "abd" and c[1:].isdigit()]
    data = prepare_latent(syntax, frame, ordered, "grp")
    old = build_latent_model(syntax, data, invariance, free_slopes=free_slopes,
                             vary_slopes=vary, origin="population")
    new = build_latent_model(syntax, data, invariance, free_slopes=free_slopes,
                             vary_slopes=vary)
    rng = np.random.default_rng(7)
    point = {k: v + rng.normal(scale=0.3, size=np.shape(v))
             for k, v in old.initial_point().items()}
    old_names = {v.name for v in old.value_vars}
    relative = [v for v in new.value_vars if v.name not in old_names]
    assert relative, "the sample origin added no variables"
    targets = [_original(v.name) for v in relative]
    want = _values(old, targets, point)
    # solve for the new model's free variables that give the old model's parameters
    shared = {k: v for k, v in point.items() if k in {v.name for v in new.value_vars}}
    init = new.initial_point()
    shapes = [init[v.name].shape for v in relative]
    cuts = np.cumsum([0] + [int(np.prod(s)) for s in shapes])

    def unpack(theta):
        p = dict(shared)
        for v, s, a, b in zip(relative, shapes, cuts[:-1], cuts[1:], strict=True):
            p[v.name] = theta[a:b].reshape(s)
        return p

    got = new.compile_fn(new.replace_rvs_by_values([new[t] for t in targets]),
                         inputs=new.value_vars, on_unused_input="ignore")
    sol = so.least_squares(
        lambda th: np.concatenate([(np.asarray(a) - b).ravel()
                                   for a, b in zip(got(unpack(th)), want, strict=True)]),
        np.concatenate([init[v.name].ravel() for v in relative]), xtol=1e-15, ftol=1e-15,
        gtol=1e-15)
    assert np.abs(sol.fun).max() < 1e-10
    # the log-Jacobian, independently: every unbounded rescaled parameter contributes
    # log c (positive ones are log-transformed: a shift, no Jacobian; the shifts by the
    # sample regressions of the residual scores have none either)
    z = point["z"]
    chol = _values(old, ["latent_chol"], point)[0]
    ref = data.g == 0
    u = (z[ref] - z[ref].mean(0)) @ chol[0].T
    r0 = np.sqrt((u ** 2).mean(0))
    li = {f: k for k, f in enumerate(data.latent)}
    G = len(data.groups)
    jac = 0.0
    for p in syntax.regressions:
        c = r0[li[p.lhs]] / (r0[li[p.rhs]] if p.rhs in li else 1.0)
        jac += np.log(c) * (G if p.lhs in free_slopes else 1)
    if invariance != "configural":
        jac += (G - 1) * np.log(r0).sum()
    diff = new.compile_logp()(unpack(sol.x)) - old.compile_logp()(point)
    assert diff == pytest.approx(jac, abs=1e-8)


def test_unknown_origin_is_refused(frame):
    syntax = parse_model("f1 =~ a0 + a1 + a2")
    data = prepare_latent(syntax, frame, ["a0", "a1", "a2"])
    with pytest.raises(SpecError, match="origin='mean'"):
        build_latent_model(syntax, data, origin="mean")
