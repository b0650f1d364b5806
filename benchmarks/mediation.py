"""Mediation benchmark (issue 6): wall time, ESS and divergences of the built-in ``mediation``
spec on the embedded simulated survey, and a recovery study from the model's own class.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/mediation.py [--seeds 3]
        [--n-per-group 400] [--skip-survey]

Prints:
1. For the default survey (``cb.simulate()``, 4,951 respondents): wall time of the fit (all
   equations, compile included) and of the bootstrap table (2,000 resamples), the verdict per
   equation (R-hat, bulk and tail ESS, divergences). Beside the posterior of the a-path, the
   simulator's latent a-path: the index version uses single four-point items for efficacy and
   conditions, so its standardised a is attenuated by their unreliability (not an error of
   the fit; the latent version is issue 6's open item).
2. Over ``--seeds`` data sets from :func:`coprod_bayes.mediation.simulate_mediation` (5 groups
   x 3 areas, two outcomes): the share of a, b, c' within 2 posterior SDs of the truth (goal
   >= 90%) and the coverage of the indirect effect's 90% interval (goal >= 80%).
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-per-group", type=int, default=400)
    ap.add_argument("--skip-survey", action="store_true")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    pd.set_option("display.width", 160)
    if not args.skip_survey:
        survey_run()
    recovery(args.seeds, args.n_per_group)


if __name__ == "__main__":
    main()
