"""Mediation benchmark (issue 6): wall time, ESS and divergences of the built-in ``mediation``
spec on the embedded simulated survey, and a recovery study from the model's own class.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/mediation.py [--seeds 3]
        [--n-per-group 400] [--skip-survey] [--skip-index-recovery] [--latent
        [--latent-seeds 2] [--latent-n 300] [--latent-outcome collective]
        [--latent-draws 2000]] [--latent-survey [--latent-outcome collective]
        [--latent-draws 4000]]

Prints:
1. For the default survey (``cb.simulate()``, 4,951 respondents): wall time of the fit (all
   equations, compile included) and of the bootstrap table (2,000 resamples), the verdict per
   equation (R-hat, bulk and tail ESS, divergences). Beside the posterior of the a-path, the
   simulator's latent a-path: the index version uses single four-point items for efficacy and
   conditions, so its standardised a is attenuated by their unreliability (not an error of
   the fit; the latent version below is not).
2. Over ``--seeds`` data sets from :func:`coprod_bayes.mediation.simulate_mediation` (5 groups
   x 3 areas, two outcomes): the share of a, b, c' within 2 posterior SDs of the truth (goal
   >= 90%) and the coverage of the indirect effect's 90% interval (goal >= 80%).
3. With ``--latent``: the latent version (``mediation_latent``) over ``--latent-seeds`` person-level
   simulated surveys: a, b, c' per country against the oracle truth, with OLS on the
   person-level indexes and the index version beside them.
4. With ``--latent-survey``: the latent version on the default survey (``cb.simulate()``),
   one outcome (``--latent-outcome``, or ``all``), ``--latent-draws`` draws per chain: wall
   time, the verdict, and the posterior means of a, b, c' and the indirect effect per
   country (``replicate --latent-mediation`` sets them beside OLS and the index version).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

import coprod_bayes as cb
from coprod_bayes.mediation import (
    MediationSpec,
    fit_mediation,
    ols_mediation,
    simulate_mediation,
)
from coprod_bayes.spec import load_spec


def _verdicts(fit) -> None:
    for name, (_, v, _) in fit.equations.items():
        print(f"    {name:12s} R-hat {v.max_rhat:.3f}  bulk ESS {v.min_ess_bulk:.0f}  tail ESS "
              f"{v.min_ess_tail:.0f}  divergences {v.divergences}  "
              f"{'converged' if v.converged else 'NOT CONVERGED'}")


def survey_run() -> None:
    survey = cb.simulate()
    spec = load_spec("mediation")
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_mediation(spec, survey)
    t1 = time.time()
    ols = ols_mediation(survey, spec)
    t2 = time.time()
    print(f"default survey ({len(survey.frame)} respondents, "
          f"{int(fit.rows['used'].sum())} respondent x area rows used): fit {t1 - t0:.0f} s "
          f"(3 equations, compile included), bootstrap table {t2 - t1:.1f} s")
    _verdicts(fit)
    tab = fit.compare(ols)
    truth = survey.truth["paths"]
    a = tab[(tab["path"] == "a") & (tab["outcome"] == spec.outcomes[0])]
    a = a.merge(truth[truth["outcome"] == spec.outcomes[0]][["country", "area", "a"]]
                .rename(columns={"a": "latent_truth"}), on=["country", "area"])
    print(a[["country", "area", "mean", "lo", "hi", "ols", "ols_p", "latent_truth"]]
          .round(3).to_string(index=False))
    dist, summ = fit.positive_counts(spec.outcomes[0])
    print(f"contexts with a > 0: posterior mean {summ['mean_positive']:.1f} "
          f"(90% {summ['positive_90']}); credibly positive {summ['credibly_positive']}; "
          f"OLS a > 0 with p < 0.05: {int(((a['ols'] > 0) & (a['ols_p'] < 0.05)).sum())} "
          "(the papers: 10 of 15)")


def recovery(seeds: int, n: int) -> None:
    base = load_spec("mediation")
    spec = MediationSpec(name="sim", outcomes=("individual", "collective"),
                         priors=base.priors, sampler=base.sampler,
                         syntax="efficacy ~ a*conditions + w1 + w2\n"
                                "{outcome} ~ b*efficacy + c*conditions + w1 + w2\n")
    within, cover = [], []
    for seed in range(seeds):
        data, truth = simulate_mediation(n_per_group=n, seed=100 + seed)
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_mediation(spec, data)
        long = truth.melt(id_vars=["outcome", "country", "area"], var_name="path",
                          value_name="truth")
        t = fit.table().merge(long, on=["outcome", "country", "area", "path"])
        t["z"] = (t["mean"] - t["truth"]) / t["sd"]
        abc = t[t["path"].isin(["a", "b", "direct"])].drop_duplicates(
            ["country", "area", "path", "truth"])
        ind = t[t["path"] == "indirect"]
        w = (abc["z"].abs() < 2).mean()
        c = ((ind["lo"] <= ind["truth"]) & (ind["truth"] <= ind["hi"])).mean()
        within.append(w)
        cover.append(c)
        by = (abc["z"].abs() < 2).groupby(abc["path"]).mean()
        print(f"seed {seed}: {time.time() - t0:.0f} s; a, b, c' within 2 SD {w:.1%} of "
              f"{len(abc)} ({', '.join(f'{k} {v:.0%}' for k, v in by.items())}); indirect 90% "
              f"interval covers {c:.1%} of {len(ind)}; mean z {abc['z'].mean():+.2f}; "
              f"{fit.verdict.headline}")
    print(f"all seeds: within 2 SD {np.mean(within):.1%} (goal >= 90%); indirect coverage "
          f"{np.mean(cover):.1%} (goal >= 80%)")


def latent_recovery(seeds: int, n: int, outcome: str, draws: int) -> None:
    """The latent version on person-level simulated surveys (every construct one latent
    variable per respondent): a, b, c' per country against the oracle truth
    (recovery.latent_truth), the indirect interval's coverage, time and verdict; beside them
    OLS on the person-level indexes and the index version's country averages."""
    from dataclasses import replace

    from coprod_bayes.mediation_latent import compare_versions
    from coprod_bayes.recovery import latent_truth

    spec = replace(load_spec("mediation_latent"), outcomes=(outcome,)).with_sampler(draws=draws)
    keys = {"a": "efficacy~conditions", "b": f"{outcome}~efficacy",
            "direct": f"{outcome}~conditions"}
    within, cover = [], []
    for seed in range(seeds):
        survey = cb.simulate(n_per_country=n, seed=500 + seed, person_level=True)
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_mediation(spec, survey)
        wall = time.time() - t0
        truth = latent_truth(fit.sem_fits[outcome], survey)
        truth = truth[truth["kind"] == "std_path"].set_index(["group", "parameter"])["truth"]
        tab = fit.table().set_index(["country", "path"])
        ols = ols_mediation(survey, spec).set_index(["country", "path"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            index = fit_mediation(replace(load_spec("mediation"), outcomes=(outcome,)), survey)
        versions = compare_versions(index, fit).set_index(["country", "path"])
        rows = []
        for g in fit.groups:
            for path, key in keys.items():
                r = tab.loc[(g, path)]
                rows.append({"country": g, "path": path, "truth": truth[(g, key)],
                             "mean": r["mean"], "sd": r["sd"],
                             "ols": ols.loc[(g, path), "estimate"],
                             "index": versions.loc[(g, path), "index_mean"]})
            ind = truth[(g, keys["a"])] * truth[(g, keys["b"])]
            r = tab.loc[(g, "indirect")]
            cover.append(r["lo"] <= ind <= r["hi"])
        t = pd.DataFrame(rows)
        t["z"] = (t["mean"] - t["truth"]) / t["sd"]
        within += list(t["z"].abs() <= 2)
        print(f"seed {seed} ({n} per country, {outcome}): {wall:.0f} s; {fit.verdict.headline}")
        print(t.round(3).to_string(index=False))
    print(f"latent version, all seeds: within 2 SD {np.mean(within):.1%} of {len(within)} "
          f"(goal >= 90%); indirect 90% interval covers {np.mean(cover):.1%} of {len(cover)} "
          "(goal >= 80%)")


def latent_survey(outcome: str, draws: int) -> None:
    """The latent version on the embedded survey: time and verdict per outcome."""
    from dataclasses import replace

    from coprod_bayes.spec import load_spec

    survey = cb.simulate()
    spec = load_spec("mediation_latent").with_sampler(draws=draws)
    outcomes = spec.outcomes if outcome == "all" else (outcome,)
    for o in outcomes:
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cb.ConvergenceWarning)
            fit = fit_mediation(replace(spec, outcomes=(o,)), survey)
        print(f"latent version, default survey, {o}, {draws} draws x 2 chains: "
              f"{time.time() - t0:.0f} s; {fit.verdict.headline}", flush=True)
        t = fit.table().query("path in ['a', 'b', 'direct', 'indirect']")
        print(t.pivot_table(index="country", columns="path", values="mean").round(3)
              .to_string(), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-per-group", type=int, default=400)
    ap.add_argument("--skip-survey", action="store_true")
    ap.add_argument("--latent", action="store_true",
                    help="also the latent version on person-level simulated surveys")
    ap.add_argument("--latent-n", type=int, default=300, help="respondents per country")
    ap.add_argument("--latent-outcome", default="collective")
    ap.add_argument("--latent-draws", type=int, default=2000)
    ap.add_argument("--latent-seeds", type=int, default=2)
    ap.add_argument("--skip-index-recovery", action="store_true")
    ap.add_argument("--latent-survey", action="store_true",
                    help="the latent version on the default survey (--latent-outcome, or all)")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    pd.set_option("display.width", 160)
    if not args.skip_survey:
        survey_run()
    if not args.skip_index_recovery:
        recovery(args.seeds, args.n_per_group)
    if args.latent:
        latent_recovery(args.latent_seeds, args.latent_n, args.latent_outcome,
                        args.latent_draws)
    if args.latent_survey:
        latent_survey(args.latent_outcome, args.latent_draws)


if __name__ == "__main__":
    main()
