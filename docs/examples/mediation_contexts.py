"""The self-efficacy pathway in the 15 country x policy-area contexts: conditions ->
efficacy -> co-production, the Bayesian table beside OLS with a percentile bootstrap, and
the number of contexts with a positive a-path beside the papers' "ten out of fifteen".

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python docs/examples/mediation_contexts.py [--quick]

``--quick`` (what the test suite runs) takes 150 respondents per country, collective
co-production only, 300 draws per chain and 200 bootstrap resamples; its fit may then be
reported as not converged. The full
run (the embedded survey, the spec's draws, 2,000 resamples) takes several minutes.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import replace

import coprod_bayes as cb

QUICK = "--quick" in sys.argv


def main() -> dict:
    survey = cb.simulate(n_per_country=150, seed=3) if QUICK else cb.simulate()
    spec = cb.load_spec("mediation")                # models/mediation.toml
    if QUICK:
        spec = replace(spec, outcomes=("collective",)).with_sampler(draws=300, tune=300)
    with warnings.catch_warnings():
        # the verdict is printed below; a quick fit may fall short of the convergence rule
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        fit = cb.fit_mediation(spec, survey)
    print(fit.verdict.headline)
    # the frequentist answer per context: OLS product of coefficients, percentile bootstrap
    ols = cb.ols_mediation(survey, spec, n_boot=200 if QUICK else 2000)
    table = fit.compare(ols)
    indirect = table.query("path == 'indirect'")
    cols = ["outcome", "country", "area", "mean", "lo", "hi", "p_positive", "ols", "ols_lo",
            "ols_hi"]
    print(indirect[[c for c in cols if c in indirect]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))
    # how many contexts have a positive a-path (posterior distribution of the count)
    counts, summary = fit.positive_counts(path="a")
    print("contexts with a positive a-path:", summary)
    return {"fit": fit, "ols": ols, "table": table, "counts": counts, "summary": summary}


if __name__ == "__main__":
    main()
