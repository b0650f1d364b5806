"""Make the figures of the model pages from the embedded data, with the package.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python docs/figures.py [--report DIR]

Runs ``coprod-bayes replicate`` on ``cb.simulate()`` (the embedded, calibrated 2008 survey,
and the simulated 2011 panels) into ``--report`` (default ``report/``; an existing report of
the same data is reused), fits a latent model of the collective co-production items for
the item characteristic curves, copies the figures the pages show into ``docs/figures/``
and writes ``docs/figures/manifest.json``: for every figure the function that drew it and
the fingerprint of the data it was drawn from. ``tests/test_docs.py`` checks that every
image on a page is in the manifest, drawn from the embedded data. About 15 minutes on 2
cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import warnings
from importlib import metadata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import coprod_bayes as cb  # noqa: E402
from coprod_bayes.fit import data_fingerprint  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "figures"

#: report figure -> (page figure name, what drew it)
FROM_REPORT = {
    "table3_collective_slopes.png": ("table3_collective_slopes.png", "cb.plot.slopes_grid"),
    "policy_areas_slopes.png": ("policy_areas_slopes.png", "cb.plot.area_slopes"),
    "means_collective.png": ("means_collective.png", "cb.plot.country_means"),
    "rankings_collective.png": ("rankings_collective.png", "cb.plot.rankings"),
    "table3_collective_prior_predictive.png": ("table3_collective_prior_predictive.png",
                                               "cb.plot.prior_predictive"),
    "table3_collective_posterior_predictive.png": ("table3_collective_posterior_predictive.png",
                                                   "cb.plot.posterior_predictive"),
    "table3_collective_loo.png": ("table3_collective_loo.png", "cb.plot.model_comparison"),
    "mediation_paths.png": ("mediation_paths.png", "cb.plot.mediation_paths"),
    "mediation_forest.png": ("mediation_forest.png", "cb.plot.mediation_forest"),
    "mediation_shrinkage_collective.png": ("mediation_shrinkage_collective.png",
                                           "cb.plot.mediation_shrinkage"),
    "nudge_collective.png": ("nudge_collective.png", "cb.plot.nudge_effects"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", default="report", help="replicate's output folder")
    args = ap.parse_args()
    report = Path(args.report)
    survey = cb.simulate()
    fp = data_fingerprint(survey)
    OUT.mkdir(exist_ok=True)
    html = report / "report.html"
    reused = html.exists() and fp in html.read_text() and "NOT CONVERGED" not in html.read_text()
    if not reused:
        from coprod_bayes.report.replicate import replicate

        replicate(survey, report)
    manifest = {"data": "cb.simulate() (the embedded 2008 wave) and its 2011 panels",
                "fingerprint": fp, "coprod_bayes": metadata.version("coprod_bayes"),
                "figures": {}}
    for src, (dst, fn) in FROM_REPORT.items():
        path = report / "figures" / src
        if not path.exists():
            raise SystemExit(f"{path} is missing: replicate did not draw it")
        shutil.copyfile(path, OUT / dst)
        manifest["figures"][dst] = {"drawn_by": fn, "via": "coprod-bayes replicate"}
    # item characteristic curves of the collective items (a one-factor model per country)
    items = [it.column for it in survey.codebook.items_of("collective")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        fit = cb.cfa("collective =~ " + " + ".join(items), survey, group="country", seed=1,
                     draws=2000)
    if not fit.verdict.converged:
        raise SystemExit(f"the item-curve fit did not converge: {fit.verdict.headline}")
    fig = cb.plot.item_curves(fit)
    fig.savefig(OUT / "item_curves_collective.png", dpi=90)
    manifest["figures"]["item_curves_collective.png"] = {
        "drawn_by": "cb.plot.item_curves", "via": "cb.cfa on the collective items",
        "verdict": fit.verdict.headline}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest['figures'])} figures in {OUT} (data {fp}; report "
          f"{'reused' if reused else 'made'})")


if __name__ == "__main__":
    main()
