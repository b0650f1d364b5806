"""The 2011 nudge experiment and the next wave: the randomised nudges' effects by local area
beside OLS with robust standard errors, then the assurance of a planned wave.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python docs/examples/nudge_and_next_wave.py [--quick]

The panels are simulated (``simulate_panels``: four areas, a 2 x 2 design of nudges A and
B). The next wave's assurance is the share of waves simulated from the plan in which the
``nudge_experiment`` model finds nudge A credibly positive. ``--quick`` (what the test
suite runs) takes 60 respondents per area, collective co-production only, 300 draws per
chain and, instead of the assurance study, analyses one simulated wave; its fits may then be reported as not
converged. The full run (100 simulated waves per sample size) takes about 20 minutes on 2
cores.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import replace

import coprod_bayes as cb
from coprod_bayes.design import WavePlan, analyse, assurance, simulate_plan
from coprod_bayes.survey.panels import simulate_panels

QUICK = "--quick" in sys.argv


def main() -> dict:
    panels = simulate_panels(n_per_area=60 if QUICK else None, seed=2)
    spec = cb.load_spec("nudge_experiment")         # models/nudge_experiment.toml
    if QUICK:
        spec = replace(spec, outcomes=("collective",)).with_sampler(draws=300, tune=300)
    with warnings.catch_warnings():
        # the verdict is printed below; a quick fit may fall short of the convergence rule
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        fit = cb.fit_experiment(spec, panels)
        print(fit.verdict.headline)
        ols = cb.ols_experiment(panels, spec)
        table = fit.compare(ols)
    cols = ["outcome", "level", "contrast", "mean", "lower", "upper", "p_positive", "ols",
            "ols_lower", "ols_upper"]
    print(table.query("level == 'all'")[cols].to_string(
        index=False, float_format=lambda v: f"{v:.2f}"))
    # the next wave: 4 areas, nudge A's effect 0.1 outcome SD, areas differing by 0.05 SD
    plan = WavePlan(areas=4, per_arm=100, effect=0.1, area_sd=0.05)
    if QUICK:
        result = analyse(plan, simulate_plan(plan, seed=1), draws=300, tune=300)
        print("one simulated wave:", result)
    else:
        result = assurance(plan, per_arm=[50, 100, 200, 400], sims=100,
                           cache_dir="design_cache")
        print(result.to_string(index=False))
    return {"fit": fit, "ols": ols, "table": table, "plan": plan, "result": result}


if __name__ == "__main__":
    main()
