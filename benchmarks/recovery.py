"""Recovery study: outcomes drawn from the regression engines' own models with known
parameters, on the calibrated survey's predictors, over several seeds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/recovery.py [--seeds 10] [--areas 3]

For the Table 2-3 model (nine predictors, slopes varying by country, partial pooling) and,
with --areas N > 0, the policy-area model (nine predictors, 15 contexts): per seed, the share
of population and country (context) slopes whose posterior mean lies within 2 posterior SDs
of the truth, the largest |z|, and the verdict; then the totals. Goal (issue 4): every
population slope within 2 posterior SDs in about 95% of cases, and the coverage of all
slopes near 95%.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import pandas as pd

import coprod_bayes as cb
from coprod_bayes.recovery import area_recovery, regression_recovery


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--areas", type=int, default=3, help="seeds for the policy-area model")
    ap.add_argument("--n", type=int, default=600, help="respondents per country")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{args.n} respondents per country")
    runs = [("table3_collective", regression_recovery, s) for s in range(args.seeds)]
    runs += [("policy_areas", area_recovery, s) for s in range(args.areas)]
    print(f"{'model':18s} {'seed':>4s} {'mu in 2sd':>9s} {'beta in 2sd':>11s} {'max |z|':>7s} "
          f"{'s':>5s}  verdict")
    all_rows = []
    for name, fn, seed in runs:
        survey = cb.simulate(n_per_country=args.n, seed=1000 + seed)
        spec = cb.load_spec(name).with_sampler(seed=seed + 1)
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table, verdict = fn(spec, survey, seed=seed)
        table["model"], table["seed"] = name, seed
        all_rows.append(table)
        mu, beta = table[table.parameter == "mu"], table[table.parameter == "beta"]
        print(f"{name:18s} {seed:4d} {mu.within_2sd.mean():9.2f} {beta.within_2sd.mean():11.2f} "
              f"{table.z.abs().max():7.2f} {time.time() - t0:5.0f}  "
              f"{'converged' if verdict.converged else verdict.headline}", flush=True)
    every = pd.concat(all_rows)
    print("\ntotals (share within 2 posterior SDs; nominal 0.954; mean z; SD of z, nominal 1):")
    for (model, par), t in every.groupby(["model", "parameter"]):
        print(f"  {model:18s} {par:5s} n={len(t):4d}  within 2 SD {t.within_2sd.mean():.3f}  "
              f"mean z {t.z.mean():+.2f}  SD z {t.z.std():.2f}")


if __name__ == "__main__":
    main()
