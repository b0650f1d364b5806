"""The samplers: nutpie with its JAX backend and NumPyro's NUTS sample the same posterior as
nutpie with numba (on the latent-score engine, whose initial values nutpie's JAX path cannot
take directly)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coprod_bayes as cb


def _ordinal_data(seed=4, n=600):
    rng = np.random.default_rng(seed)
    g = np.repeat(["a", "b"], n // 2)
    eta = rng.standard_normal(n) + np.where(g == "b", 0.5, 0.0)
    cols = {"g": g}
    for k, lam in enumerate((1.5, 1.2, 1.0, 0.8)):
        ystar = lam * eta + rng.logistic(size=n)
        cols[f"y{k + 1}"] = np.searchsorted([-1.0, 0.0, 1.0], ystar)
    return pd.DataFrame(cols)


_JAX_RUN = """
import json, sys
import arviz as az
import coprod_bayes as cb
from coprod_bayes.spec import Sampler
sys.path.insert(0, {tests!r})
from test_backends import _ordinal_data
df = _ordinal_data()
items = ["y1", "y2", "y3", "y4"]
out = {{}}
# 2,000 draws each: NumPyro's diagonal mass matrix gives fewer effective draws per draw
# than nutpie's low-rank one (bulk ESS 385 of 2 x 1,000 once), and nutpie 0.16.8 with
# numba at 1,000 draws had R-hat 1.020 (bulk ESS 410) on this model
for b, mass, n in (("nutpie", "low_rank", 2000), ("nutpie-jax", "low_rank", 2000),
                   ("numpyro", "diag", 2000)):
    f = cb.sem("f =~ y1 + y2 + y3 + y4", df, ordered=items, group="g",
               sampler=Sampler(draws=n, tune=800, seed=9, backend=b, mass_matrix=mass))
    p = f.idata.posterior
    out[b] = {{"converged": bool(f.verdict.converged), "headline": f.verdict.headline,
              **{{v: [p[v].mean(("chain", "draw")).values.ravel().tolist(),
                     az.mcse(p[[v]])[v].values.ravel().tolist()]
                 for v in ("loadings", "latent_mean", "latent_sd")}}}}
print("RESULT" + json.dumps(out))
"""


def test_jax_backends_sample_the_same_posterior():
    """The same model sampled with nutpie's numba and JAX backends and with NumPyro: posterior
    means of the loadings and of the second group's latent mean and SD agree with nutpie's
    (numba) within 4 combined Monte Carlo SEs. Run in a subprocess: JAX's threads in the
    test process would make the forking samplers of later tests unsafe."""
    pytest.importorskip("jax")
    pytest.importorskip("numpyro")
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = _JAX_RUN.format(tests=str(Path(__file__).parent))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.split("RESULT", 1)[1])
    for b, r in out.items():
        assert r["converged"], (b, r["headline"])
    for b in ("nutpie-jax", "numpyro"):
        for v in ("loadings", "latent_mean", "latent_sd"):
            (m1, se1), (m2, se2) = out["nutpie"][v], out[b][v]
            diff = np.abs(np.subtract(m1, m2))
            assert (diff <= 4 * np.hypot(se1, se2) + 1e-12).all(), (b, v, m1, m2)


def test_jax_compile_keeps_the_models_initial_values():
    """Also in a subprocess (see above)."""
    pytest.importorskip("jax")
    import subprocess
    import sys

    code = """
import pymc as pm
from coprod_bayes.fit import _compile_jax
with pm.Model() as m:
    x = pm.HalfNormal("x", 1.0, initval=0.4)
    pm.Normal("y", x, 1.0, observed=[0.1, 0.3])
before = dict(m.rvs_to_initial_values)
compiled = _compile_jax(m, {"jitter_rvs": {x}})
assert m.rvs_to_initial_values == before and before[x] == 0.4
print("OK")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "OK" in run.stdout, run.stderr[-3000:]


def test_jax_backend_without_jax_is_a_clear_error(monkeypatch):
    import builtins
    import sys

    from coprod_bayes.fit import _compile_jax

    monkeypatch.delitem(sys.modules, "jax", raising=False)
    real = builtins.__import__

    def no_jax(name, *a, **k):
        if name == "jax" or name.startswith("jax."):
            raise ImportError("no jax")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_jax)
    import pymc as pm

    with pm.Model() as m:
        pm.Normal("x")
    with pytest.raises(cb.SpecError, match="needs JAX: pip install jax"):
        _compile_jax(m, {})
