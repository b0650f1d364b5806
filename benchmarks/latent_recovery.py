"""Recovery study of the latent specs: surveys simulated from the latent specs' own model
class (``simulate(person_level=True)``: every construct one person-level latent variable),
fitted, and compared with the truth (:func:`coprod_bayes.recovery.latent_truth`), over
several seeds; beside them OLS on the indexes.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/latent_recovery.py \
        [--spec latent_collective] [--seeds 3] [--first-seed 0] [--n-per-country N]
        [--draws 1000] [--pooling none] [--save DIR] [--load DIR ...]

Prints, per seed: the share of parameters whose posterior mean is within 2 posterior SDs of
the truth, by kind (loadings, thresholds, group latent means and SDs, correlations, paths,
covariate effects, standardised paths) and in all, the largest |z|, wall time and verdict.
Then, per group and predictor, the true standardised slope, the latent model's posterior
mean (and SD, ``lat_sd``) and OLS on the indexes, averaged over seeds: ``lat_bias`` and
``ols_bias``; over the slopes where OLS is attenuated, how many have a bias beyond 0.03 by
more than 2 Monte Carlo SEs, and their error away from zero (sign(truth) x error, negative
where attenuated) averaged over them in each seed, with its SE over seeds. Goals
(issue 5): >= 90% of parameters within 2 SDs; the latent slopes within 0.03 of the truth
(on average over seeds) wherever OLS is attenuated by 0.05 or more.

``--save DIR`` writes each seed's comparison (``seed-K.csv``: every parameter, and
``slopes-K.csv``: the outcome's standardised slopes beside OLS) so that runs of other
seeds (``--first-seed``) can be pooled: ``--load DIR [DIR ...]`` prints the summary of
every seed saved there without fitting (with ``--seeds 0``). Beside each slope's average
bias the summary prints its Monte Carlo standard error over seeds (``bias_se``, the SD of
the seeds' errors over the square root of their number): a bias is told from noise only
where ``bias_se`` is well below 0.03.
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
from coprod_bayes.classical import tables
from coprod_bayes.latent import fit_latent
from coprod_bayes.recovery import latent_recovery
from coprod_bayes.spec import load_spec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="latent_collective")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-per-country", type=int, default=None)
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--pooling", default=None, choices=["none", "partial", "complete"],
                    help="the outcome's slopes across groups (default: the spec's)")
    ap.add_argument("--save", default=None, help="a folder for each seed's comparison (CSV)")
    ap.add_argument("--load", nargs="*", default=[], help="folders written by --save")
    args = ap.parse_args()
    spec = load_spec(args.spec)
    if args.draws:
        spec = replace(spec, sampler=replace(spec.sampler, draws=args.draws))
    if args.pooling:
        spec = replace(spec, pooling=args.pooling)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"spec {spec.name}, pooling {spec.pooling}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    std_rows, all_rows = [], []
    for d in args.load:
        for f in sorted(os.listdir(d)):
            if f.startswith("seed-"):
                all_rows.append(pd.read_csv(os.path.join(d, f), dtype={"group": str}))
            elif f.startswith("slopes-"):
                std_rows.append(pd.read_csv(os.path.join(d, f), dtype={"group": str}))
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        survey = cb.simulate(n_per_country=args.n_per_country, seed=1000 + seed,
                             person_level=True)
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_latent(spec, survey)
            rec = latent_recovery(fit, survey)
        wall = time.time() - t0
        rec["seed"] = seed
        all_rows.append(rec)
        by = rec.groupby("kind")["within_2sd"].agg(["mean", "size"])
        parts = "  ".join(f"{k} {m:.0%}/{n}" for k, (m, n) in by.iterrows())
        print(f"seed {seed}: within 2 SD {rec['within_2sd'].mean():.1%} of {len(rec)}; "
              f"max |z| {rec['z'].abs().max():.2f}; {wall:.0f} s; "
              f"{'converged' if fit.verdict.converged else 'NOT CONVERGED: ' + str(fit.verdict)}")
        print(f"    {parts}", flush=True)
        ols = tables(survey)
        ols = next(t for t in ols.values() if isinstance(t, pd.DataFrame) and "outcome" in t
                   and (t["outcome"] == spec.outcome).all())
        ols = ols.rename(columns={spec.group: "group"})[["group", "predictor", "beta"]]
        std = rec[rec["kind"] == "std_path"].copy()
        std = std[std["parameter"].str.startswith(f"{spec.outcome}~")]
        std["predictor"] = std["parameter"].str.split("~").str[1]
        std = std.merge(ols.astype({"group": str}), on=["group", "predictor"], how="left")
        std_rows.append(std)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            rec.to_csv(os.path.join(args.save, f"seed-{seed}.csv"), index=False)
            std.to_csv(os.path.join(args.save, f"slopes-{seed}.csv"), index=False)
    rec = pd.concat(all_rows)
    print(f"\nall seeds ({rec['seed'].nunique()}): {rec['within_2sd'].mean():.1%} of {len(rec)} "
          f"parameters within 2 posterior SDs of the truth (goal >= 90%)")
    std = pd.concat(std_rows)
    std["lat_err"] = std["post_mean"] - std["truth"]
    std["ols_err"] = std["beta"] - std["truth"]
    std["ols_att"] = np.sign(std["truth"]) * (std["truth"] - std["beta"])
    std["lat_sq"] = std["lat_err"] ** 2
    std["ols_sq"] = std["ols_err"] ** 2
    agg = std.groupby(["group", "predictor"], sort=False).agg(
        truth=("truth", "mean"), latent=("post_mean", "mean"), lat_sd=("post_sd", "mean"),
        ols=("beta", "mean"),
        lat_bias=("lat_err", "mean"), bias_se=("lat_err", "std"), lat_rmse=("lat_sq", "mean"),
        ols_bias=("ols_err", "mean"), ols_rmse=("ols_sq", "mean"),
        ols_att=("ols_att", "mean"), seeds=("seed", "nunique")).reset_index()
    agg["bias_se"] /= np.sqrt(agg["seeds"])
    agg["lat_rmse"] = np.sqrt(agg["lat_rmse"])
    agg["ols_rmse"] = np.sqrt(agg["ols_rmse"])
    pd.set_option("display.width", 160)
    print(agg.round(3).to_string(index=False))
    att = agg[agg["ols_att"] >= 0.05]
    ok = (att["lat_bias"].abs() <= 0.03).mean() if len(att) else float("nan")
    print(f"\nwhere OLS is attenuated by >= 0.05 ({len(att)} slopes): latent slope within "
          f"0.03 of the truth on average over seeds in {ok:.0%}; mean |bias| latent "
          f"{att['lat_bias'].abs().mean():.3f}, OLS {att['ols_bias'].abs().mean():.3f}; root mean "
          f"square error latent {np.sqrt((att['lat_rmse'] ** 2).mean()):.3f}, OLS "
          f"{np.sqrt((att['ols_rmse'] ** 2).mean()):.3f}; median "
          f"Monte Carlo SE of a slope's bias {att['bias_se'].median():.3f} over "
          f"{int(agg['seeds'].max())} seeds")
    if len(att):
        # a bias told from noise: beyond 0.03 by more than 2 Monte Carlo SEs; and the
        # attenuated slopes' error toward zero (negative: attenuated), pooled over the slopes
        # in each seed, its SE over seeds
        out = (att["lat_bias"].abs() - 2 * att["bias_se"] > 0.03).sum()
        keys = att.set_index(["group", "predictor"]).index
        sel = std.set_index(["group", "predictor"]).index.isin(keys)
        sign = np.sign(std["truth"].to_numpy())
        per_seed = pd.DataFrame({"latent": (sign * std["lat_err"].to_numpy())[sel],
                                 "ols": (sign * std["ols_err"].to_numpy())[sel],
                                 "seed": std["seed"].to_numpy()[sel]}).groupby("seed").mean()
        se = per_seed.std() / np.sqrt(len(per_seed))
        print(f"  slopes whose |bias| exceeds 0.03 by more than 2 Monte Carlo SEs: {out} of "
              f"{len(att)}; error away from zero, averaged over these slopes: latent "
              f"{per_seed['latent'].mean():+.3f} (SE {se['latent']:.3f}), OLS "
              f"{per_seed['ols'].mean():+.3f} (SE {se['ols']:.3f}) over {len(per_seed)} seeds")

    # partial pooling shrinks each group's slope toward the groups' mean: its signature is a
    # bias that falls with the truth's distance above that mean
    dev = agg["truth"] - agg.groupby("predictor")["truth"].transform("mean")
    r = np.corrcoef(dev, agg["lat_bias"])[0, 1]
    print(f"all {len(agg)} slopes: root mean square error latent "
          f"{np.sqrt((agg['lat_rmse'] ** 2).mean()):.3f}, OLS "
          f"{np.sqrt((agg['ols_rmse'] ** 2).mean()):.3f}; correlation of the latent bias with "
          f"the truth's deviation from the groups' mean truth {r:.2f}")


if __name__ == "__main__":
    main()
