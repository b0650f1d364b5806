"""A lavaan user's first models: a three-factor CFA and a mediated SEM on continuous items,
in lavaan's syntax, with the estimates beside the values the data were simulated from.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python docs/examples/lavaan_first_model.py [--quick]

The data are simulated here with known loadings, factor correlations and paths (a
Holzinger-Swineford-like design: three correlated factors, three items each), so every
estimate can be read against the truth. ``--quick`` (what the test suite runs) uses fewer
respondents and draws; its fits may then be reported as not converged.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

import coprod_bayes as cb

QUICK = "--quick" in sys.argv
N = 300 if QUICK else 1000
DRAWS = dict(draws=300, tune=300) if QUICK else {}

#: the truth: standardised loadings (items have unit variance) and factor correlations
LOADINGS = {"visual": [0.8, 0.6, 0.7], "textual": [0.85, 0.8, 0.75], "speed": [0.6, 0.7, 0.65]}
CORR = np.array([[1.0, 0.45, 0.3], [0.45, 1.0, 0.25], [0.3, 0.25, 1.0]])
#: the mediated model's paths (latent variables with unit variance): x -> m -> y, and x -> y
A, B, C = 0.5, 0.4, 0.2


def cfa_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal(np.zeros(3), CORR, size=n)
    cols = {}
    for k, (f, lams) in enumerate(LOADINGS.items()):
        for j, lam in enumerate(lams):
            cols[f"{f[0]}{j + 1}"] = lam * eta[:, k] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    return pd.DataFrame(cols)


def sem_data(n: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    m = A * x + np.sqrt(1 - A**2) * rng.standard_normal(n)
    # residual variance so that y has variance 1: var(B m + C x) = B^2 + C^2 + 2 A B C
    y = B * m + C * x + np.sqrt(1 - (B**2 + C**2 + 2 * A * B * C)) * rng.standard_normal(n)
    cols = {}
    for name, f in (("x", x), ("m", m), ("y", y)):
        for j, lam in enumerate((0.8, 0.7, 0.6)):
            cols[f"{name}{j + 1}"] = lam * f + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    return pd.DataFrame(cols)


def main() -> dict:
    with warnings.catch_warnings():
        # a quick fit may not converge: its verdict says so below instead of a warning
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        # 1. The confirmatory factor analysis, as in lavaan: cfa(model, data)
        model = """
            visual  =~ v1 + v2 + v3
            textual =~ t1 + t2 + t3
            speed   =~ s1 + s2 + s3
        """
        cfa = cb.cfa(model, cfa_data(N), seed=1, **DRAWS)
        print(cfa.verdict.headline)
        std = cfa.standardized_solution()
        print(std.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        # 2. A mediated path between latent variables, with labels and a defined parameter
        model2 = """
            X =~ x1 + x2 + x3
            M =~ m1 + m2 + m3
            Y =~ y1 + y2 + y3
            M ~ a*X
            Y ~ b*M + c*X
            indirect := a*b
            total := c + a*b
        """
        sem = cb.sem(model2, sem_data(N), seed=2, **DRAWS)
        print(sem.verdict.headline)
        std2 = sem.standardized_solution()
        print(std2.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"truth: a = {A}, b = {B}, c' = {C}, indirect = {A * B:.2f}, total = {C + A * B:.2f}")
    return {"cfa": cfa, "cfa_std": std, "sem": sem, "sem_std": std2}


if __name__ == "__main__":
    main()
