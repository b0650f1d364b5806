"""Recovery study of the nudge experiment: 2011 panels simulated with the design's planted
nudge effects (small, differing by area), fitted with the built-in ``nudge_experiment``
spec, and compared with the truth (the expected index of every area x arm, computed on a
large simulated population), over several seeds; beside it OLS per area with HC3 SEs.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/nudge.py [--seeds 5]
        [--latent [--first-seed 3]]

Prints per seed: wall time of the fit, the verdict, the share of the 24 area contrasts
(2 outcomes x 4 areas x A, B, A x B) within 2 posterior SDs of the truth, the coverage of
the 90% intervals (posterior) and 95% intervals (OLS), and the root mean squared error of
the posterior means and of OLS. Goal (issue 7): the planted effects recovered within 2
posterior SDs by area.

With ``--latent``: the latent version (``measurement = "latent"``: each outcome measured by
its ordinal items) on seeds ``--first-seed``, ``--first-seed + 1``, ...; per seed the wall
time, the share of the 24 area contrasts within 2 posterior SDs of the planted contrasts in
the model's units (:func:`coprod_bayes.experiment.planted_latent_contrasts`), the largest
|z|, the coverage of the 90% intervals and the verdict.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

import coprod_bayes as cb
from coprod_bayes.experiment import planted_contrasts, planted_latent_contrasts
from coprod_bayes.spec import load_spec

BASIC = ["A (B absent)", "B (A absent)", "A x B"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--latent", action="store_true", help="the latent version instead")
    ap.add_argument("--first-seed", type=int, default=3, help="with --latent: the first seed")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    if args.latent:
        latent(args.seeds, args.first_seed)
        return
    print(f"{'seed':>4s} {'fit s':>6s} {'within 2SD':>10s} {'cover90':>8s} {'ols cover95':>11s} "
          f"{'rmse post':>9s} {'rmse ols':>8s}  verdict")
    allrows = []
    for seed in range(args.seeds):
        s = cb.simulate("uk_panels_2011", seed=100 + seed)
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = cb.fit("nudge_experiment", s)
            cmp = fit.compare(cb.ols_experiment(s, "nudge_experiment"))
        wall = time.time() - t0
        truth = planted_contrasts(s)
        truth = truth[truth["contrast"].isin(BASIC) & (truth["level"] != "all")]
        m = truth.merge(cmp, on=["outcome", "level", "contrast"])
        z = (m["mean"] - m["truth"]) / m["sd"]
        cover = ((m["lower"] <= m["truth"]) & (m["truth"] <= m["upper"])).mean()
        ols_cover = ((m["ols_lower"] <= m["truth"]) & (m["truth"] <= m["ols_upper"])).mean()
        rmse = np.sqrt(((m["mean"] - m["truth"]) ** 2).mean())
        rmse_ols = np.sqrt(((m["ols"] - m["truth"]) ** 2).mean())
        print(f"{seed:4d} {wall:6.0f} {(z.abs() < 2).mean():10.1%} {cover:8.1%} "
              f"{ols_cover:11.1%} {rmse:9.2f} {rmse_ols:8.2f}  {fit.verdict.headline}", flush=True)
        allrows.append(m.assign(seed=seed, z=z))
    a = pd.concat(allrows)
    print(f"all seeds: {len(a)} contrasts, within 2 SD {(a['z'].abs() < 2).mean():.1%}, "
          f"90% coverage {((a['lower'] <= a['truth']) & (a['truth'] <= a['upper'])).mean():.1%}, "
          f"mean z {a['z'].mean():+.2f}, RMSE posterior "
          f"{np.sqrt(((a['mean'] - a['truth']) ** 2).mean()):.2f} vs OLS "
          f"{np.sqrt(((a['ols'] - a['truth']) ** 2).mean()):.2f} index points")


def latent(seeds: int, first: int) -> None:
    spec = replace(load_spec("nudge_experiment"), measurement="latent")
    print(f"{'seed':>4s} {'fit s':>6s} {'within 2SD':>10s} {'max |z|':>7s} {'cover90':>8s}  "
          "verdict")
    for seed in range(first, first + seeds):
        s = cb.simulate("uk_panels_2011", seed=seed)
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = cb.fit_experiment(spec, s)
        wall = time.time() - t0
        truth = planted_latent_contrasts(s, reference=fit.groups[0])
        truth = truth[truth["contrast"].isin(BASIC)]
        m = truth.merge(fit.contrasts(), on=["outcome", "level", "contrast"])
        z = (m["mean"] - m["truth"]) / m["sd"]
        cover = ((m["lower"] <= m["truth"]) & (m["truth"] <= m["upper"])).mean()
        print(f"{seed:4d} {wall:6.0f} {(z.abs() < 2).mean():10.1%} {z.abs().max():7.2f} "
              f"{cover:8.1%}  {fit.verdict.headline}", flush=True)
        for o, v in fit.verdicts.items():
            print(f"     {o}: {v.headline}")


if __name__ == "__main__":
    main()
