"""Speed and convergence of every built-in regression spec on the default simulated survey.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/regression.py [--backend nutpie]

Prints, per spec: wall time (compile + sampling), sampling time, min bulk ESS, bulk ESS per
second of wall time, max R-hat and divergences. Goals (issue 4): every spec converged with 0
divergences; table2_individual and table3_collective under 60 s each, policy_areas under 5
minutes, on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import coprod_bayes as cb
from coprod_bayes.engines import regression
from coprod_bayes.fit import assess, sample
from coprod_bayes.spec import builtin_specs, load_spec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default=None, choices=["nutpie", "pymc"])
    ap.add_argument("--specs", nargs="*", default=None)
    args = ap.parse_args()
    survey = cb.simulate(seed=0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"{'spec':20s} {'backend':7s} {'wall s':>7s} {'sample s':>8s} {'min ESS':>8s} "
          f"{'ESS/s':>7s} {'max Rhat':>8s} {'div':>4s}  verdict")
    names = args.specs or [n for n in builtin_specs() if load_spec(n).measurement == "index"]
    for name in names:
        spec = load_spec(name)
        if args.backend:
            spec = spec.with_sampler(backend=args.backend)
        t0 = time.time()
        if spec.level == "area":
            from coprod_bayes.engines import areas

            data = areas.prepare_areas(spec, survey)
            model = areas.build_area_model(spec, data)
        else:
            data = regression.prepare(spec, survey)
            model = regression.build_model(spec, data)
        t1 = time.time()
        idata = sample(model, spec.sampler)
        t2 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            free = [v for v in ("mu", "tau", "sigma", "gamma", "tau_country", "tau_context",
                                "omega") if v in idata.posterior]
            v = assess(idata, free)
        wall = t2 - t0
        print(f"{name:20s} {spec.sampler.backend:7s} {wall:7.1f} {t2 - t1:8.1f} "
              f"{v.min_ess_bulk:8.0f} {v.min_ess_bulk / wall:7.1f} {v.max_rhat:8.3f} "
              f"{v.divergences:4d}  {'converged' if v.converged else 'NOT CONVERGED'}")


if __name__ == "__main__":
    main()
