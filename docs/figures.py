"""Make the figures of the model pages from the embedded data, with the package.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python docs/figures.py [--report DIR]
        [--only report item_curves design]

Runs ``coprod-bayes replicate`` on ``cb.simulate()`` (the embedded, calibrated 2008 survey,
and the simulated 2011 panels) into ``--report`` (default ``report/``; an existing report of
the same data is reused), fits a latent model of the collective co-production items for
the item characteristic curves, runs the assurance study of a planned wave (the design
page: 4 areas, nudge A's effect 0.1 SD, 40 simulated waves per sample size, each analysed
with the ``nudge_experiment`` model), copies the figures the pages show into
``docs/figures/`` and writes ``docs/figures/manifest.json``: for every figure the function
that drew it and the fingerprint of the data it was drawn from. ``--only`` redoes some of
the three steps and keeps the manifest's other entries (when the embedded data are
unchanged). ``tests/test_docs.py`` checks that every image on a page is in the manifest.
About 20 minutes on 2 cores.
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


STEPS = ("report", "item_curves", "design")


def from_report(report: Path, survey, fp: str) -> dict:
    """The replicate report's figures (an existing converged report of the same data is
    reused)."""
    html = report / "report.html"
    reused = html.exists() and fp in html.read_text() and "NOT CONVERGED" not in html.read_text()
    if not reused:
        from coprod_bayes.report.replicate import replicate

        replicate(survey, report)
    out = {}
    for src, (dst, fn) in FROM_REPORT.items():
        path = report / "figures" / src
        if not path.exists():
            raise SystemExit(f"{path} is missing: replicate did not draw it")
        shutil.copyfile(path, OUT / dst)
        out[dst] = {"drawn_by": fn, "via": "coprod-bayes replicate"}
    print(f"report {'reused' if reused else 'made'}: {report}")
    return out


def item_curves(survey) -> dict:
    """Item characteristic curves of the collective items (a one-factor model per country)."""
    items = [it.column for it in survey.codebook.items_of("collective")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        fit = cb.cfa("collective =~ " + " + ".join(items), survey, group="country", seed=1,
                     draws=2000)
    if not fit.verdict.converged:
        raise SystemExit(f"the item-curve fit did not converge: {fit.verdict.headline}")
    cb.plot.item_curves(fit).savefig(OUT / "item_curves_collective.png", dpi=90)
    return {"item_curves_collective.png": {
        "drawn_by": "cb.plot.item_curves", "via": "cb.cfa on the collective items",
        "verdict": fit.verdict.headline}}


#: the design page's planned wave and study
DESIGN_PLAN = {"areas": 4, "per_arm": 100, "effect": 0.1, "area_sd": 0.05}
DESIGN_SIZES, DESIGN_SIMS = [50, 100, 200, 400], 40


def design(report: Path) -> dict:
    """The assurance curve of the design page's planned wave (simulated from the plan; each
    simulated wave analysed with the nudge_experiment model; cached under the report)."""
    from coprod_bayes.design import WavePlan, assurance, plot_assurance

    curve = assurance(WavePlan(**DESIGN_PLAN), per_arm=DESIGN_SIZES, sims=DESIGN_SIMS,
                      cache_dir=report / "design_cache")
    print(curve.to_string(index=False))
    bad = int(curve["not_converged"].sum())
    plot_assurance(curve).savefig(OUT / "design_assurance.png", dpi=90)
    return {"design_assurance.png": {
        "drawn_by": "coprod_bayes.design.plot_assurance",
        "via": f"coprod_bayes.design.assurance(WavePlan(**{DESIGN_PLAN}), per_arm="
               f"{DESIGN_SIZES}, sims={DESIGN_SIMS})",
        "assurance": dict(zip(map(str, curve["per_arm"]), curve["assurance"].round(3))),
        "not_converged": bad}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", default="report", help="replicate's output folder")
    ap.add_argument("--only", nargs="*", choices=STEPS, default=list(STEPS),
                    help="redo these steps only (the manifest keeps the others' entries)")
    args = ap.parse_args()
    report = Path(args.report)
    survey = cb.simulate()
    fp = data_fingerprint(survey)
    OUT.mkdir(exist_ok=True)
    old = OUT / "manifest.json"
    kept = {}
    if set(args.only) != set(STEPS):
        prev = json.loads(old.read_text()) if old.exists() else {}
        if prev.get("fingerprint") != fp:
            raise SystemExit("the embedded data changed since the manifest was written: "
                             "run all steps (no --only)")
        kept = prev["figures"]
    figures = dict(kept)
    if "report" in args.only:
        figures.update(from_report(report, survey, fp))
    if "item_curves" in args.only:
        figures.update(item_curves(survey))
    if "design" in args.only:
        figures.update(design(report))
    manifest = {"data": "cb.simulate() (the embedded 2008 wave) and its 2011 panels; the "
                        "design page: waves simulated from a plan",
                "fingerprint": fp, "coprod_bayes": metadata.version("coprod_bayes"),
                "figures": figures}
    old.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(figures)} figures in {OUT} (data {fp})")


if __name__ == "__main__":
    main()
