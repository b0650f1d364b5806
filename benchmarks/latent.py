"""Speed and convergence of the built-in latent specs on the default simulated survey.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/latent.py \
        [--specs latent_individual] [--samplers nutpie nutpie-jax pymc numpyro]
        [--n-per-country N]
        [--origin sample|population] [--draws N] [--tune N] [--target-accept P]
        [--seed S] [--slowest N] [--save DIR]

Prints, per spec and sampler: respondents, item responses, compile and sampling time,
leapfrog steps per draw (PyMC: tree depth), min bulk and tail ESS over the structural
parameters (paths, their group SDs, latent means and SDs, loadings, thresholds), bulk ESS
per second of wall time, max R-hat, divergences. Goal (issue 5): the full five-country
model converged in 10 minutes or less on 2 cores.

Give the JAX samplers a process each (``--samplers numpyro``, then ``--samplers
nutpie-jax``): JAX fixes its devices and threads when it is first imported, and NumPyro
runs its chains in parallel only on as many XLA devices, which PyMC's JAX bridge asks for
only if it is imported first.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from dataclasses import replace

import arviz as az
import numpy as np

import coprod_bayes as cb
from coprod_bayes.engines.sem_latent import (
    build_latent_model,
    judged_variables,
    prepare_latent,
    redraw_independent,
)
from coprod_bayes.fit import assess, sample
from coprod_bayes.latent import latent_frame, latent_syntax, slope_pooling
from coprod_bayes.spec import load_spec
from coprod_bayes.spec.syntax import parse_model


def run(model, spec, sampler: str, extra: dict | None = None):
    """Sample as the package does (coprod_bayes.fit.sample: nutpie with numba or JAX, PyMC's
    NUTS or NumPyro's, the last two with a diagonal mass matrix); returns (idata, compile
    seconds, sampling seconds, redraw seconds). nutpie compiles before sampling (timed apart
    by compiling once first); PyMC and NumPyro compile inside their sampling time. The last
    value: the seconds of redraw_independent, included in the sampling seconds."""
    s = replace(spec.sampler, backend=sampler,
                mass_matrix=spec.sampler.mass_matrix if sampler.startswith("nutpie") else "diag")
    t0 = time.time()
    if sampler.startswith("nutpie"):
        import nutpie

        from coprod_bayes.fit import _compile_jax

        compiled = (_compile_jax(model, {}) if sampler == "nutpie-jax"
                    else nutpie.compile_pymc_model(model))
        t1 = time.time()
        idata = nutpie.sample(compiled, draws=s.draws, tune=s.tune, chains=s.chains,
                              cores=min(s.chains, os.cpu_count() or 1), seed=s.seed,
                              target_accept=s.target_accept, progress_bar=False,
                              low_rank_modified_mass_matrix=s.mass_matrix == "low_rank",
                              **(extra or {}))
    else:
        t1 = time.time()
        idata = sample(model, s)
    # as coprod_bayes.sem does: the independent coordinates' exact draws (in sampling time)
    t2 = time.time()
    redraw_independent(idata, model, s.seed)
    t3 = time.time()
    return idata, t1 - t0, t3 - t1, t3 - t2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--specs", nargs="*", default=["latent_individual", "latent_collective"])
    ap.add_argument("--samplers", nargs="*", default=None,
                    help="default: the spec's own backend")
    ap.add_argument("--n-per-country", type=int, default=None)
    ap.add_argument("--origin", default="population", choices=["population", "sample"])
    ap.add_argument("--correlations", default="group", choices=["group", "shared"])
    ap.add_argument("--scores", default=None, choices=["noncentred", "informed"],
                    help="default: the spec's own")
    ap.add_argument("--anchor", default="average", choices=["average", "reference"],
                    help="the location and unit the sampler sees (build_latent_model's anchor)")
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None,
                    help="the sampler's seed; default: the spec's own")
    ap.add_argument("--jitter", type=float, default=None,
                    help="nutpie's step_size_jitter (its default 0.1)")
    ap.add_argument("--target-accept", type=float, default=None,
                    help="NUTS's target acceptance rate; default: the spec's own")
    ap.add_argument("--mass-matrix", default=None, choices=["diag", "low_rank"],
                    help="nutpie's mass matrix; default: the spec's own")
    ap.add_argument("--save", default=None, help="a folder: save each run's draws (netCDF)")
    ap.add_argument("--slowest", type=int, default=0,
                    help="print the N parameters with the smallest bulk ESS")
    args = ap.parse_args()
    if args.jitter is not None and not all(s.startswith("nutpie") for s in args.samplers or []):
        ap.error("--jitter is nutpie's step_size_jitter: give --samplers nutpie or nutpie-jax")
    survey = cb.simulate(n_per_country=args.n_per_country, seed=0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"{'spec':18s} {'sampler':10s} {'n':>5s} {'responses':>9s} {'compile s':>9s} "
          f"{'sample s':>8s} {'steps':>5s} {'min ESS':>7s} {'tail':>6s} {'ESS/s':>6s} "
          f"{'max Rhat':>8s} {'div':>4s}  verdict")
    for name in args.specs:
        spec = load_spec(name)
        over = {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                  ("mass_matrix", args.mass_matrix),
                                  ("target_accept", args.target_accept),
                                  ("seed", args.seed)) if v is not None}
        if over:
            spec = spec.with_sampler(**over)
        syntax = parse_model(latent_syntax(spec, survey.codebook))
        frame, _ = latent_frame(spec, survey)
        ordered = [c for c in survey.codebook.item_columns if c in syntax.observed]
        data = prepare_latent(syntax, frame, ordered, spec.group, survey.codebook.weight)
        for sampler in args.samplers or [spec.sampler.backend]:
            vary, free = slope_pooling(spec, survey.codebook)
            model = build_latent_model(syntax, data, spec.invariance, vary_slopes=vary,
                                       free_slopes=free, origin=args.origin,
                                       correlations=args.correlations,
                                       scores=args.scores or spec.scores,
                                       anchor=args.anchor)
            try:
                idata, compile_s, sample_s, redraw_s = run(
                    model, spec, sampler,
                    {"step_size_jitter": args.jitter} if args.jitter is not None else None)
            except Exception as e:  # a sampler that does not install or run here
                print(f"{name:18s} {sampler:10s} failed: {type(e).__name__}: {e}")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = assess(idata, judged_variables(model))
            if args.slowest:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ess = az.ess(idata, var_names=[v for v in judged_variables(model)
                                                   if v in idata.posterior])
                flat = sorted(((float(x), f"{k}{list(i)}") for k in ess.data_vars
                               for i, x in np.ndenumerate(ess[k].values)))
                print("  slowest:", ", ".join(f"{n} {e:.0f}" for e, n in flat[:args.slowest]))
            print(f"  redraw_independent: {redraw_s:.1f} s of the sampling time")
            wall = compile_s + sample_s
            ss = idata.sample_stats
            steps = float((ss["n_steps"] if "n_steps" in ss else ss["tree_depth"]).mean())
            print(f"{name:18s} {sampler:10s} {data.n:5d} {len(data.o_y):9d} {compile_s:9.1f} "
                  f"{sample_s:8.1f} {steps:5.0f} {v.min_ess_bulk:7.0f} {v.min_ess_tail:6.0f} "
                  f"{v.min_ess_bulk / wall:6.2f} {v.max_rhat:8.3f} {v.divergences:4d}  "
                  f"{'converged' if v.converged else 'NOT CONVERGED'}", flush=True)
            if args.save:  # the judged parameters' draws and the sampler's statistics
                os.makedirs(args.save, exist_ok=True)
                keep = [k for k in judged_variables(model) if k in idata.posterior]
                az.InferenceData(posterior=idata.posterior[keep],
                                 sample_stats=idata.sample_stats).to_netcdf(
                    f"{args.save}/{name}-{sampler}-{spec.sampler.mass_matrix}-{args.origin}-"
                    f"{args.scores or spec.scores}-{args.anchor}.nc")
            np.seterr(all="ignore")


if __name__ == "__main__":
    main()
