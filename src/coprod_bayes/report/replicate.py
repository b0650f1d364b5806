"""``coprod-bayes replicate``: classical tables, every built-in spec, comparisons, plots, report."""

from __future__ import annotations

import logging
import time
import warnings
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt

from .. import plot
from ..checks import compare_models, pooling_variants, posterior_predictive, prior_predictive
from ..classical.ols import ols_by_area
from ..classical.tables import paper_layout, tables
from ..country import country_means
from ..errors import ConvergenceWarning
from ..fit import data_fingerprint, fit
from ..spec.spec import Sampler, Spec, load_spec
from ..summaries.tables import compare_layout
from ..survey.survey import Survey
from .html import HtmlReport

__all__ = ["replicate", "REGRESSION_SPECS", "LATENT_SPECS"]

#: Seed of the mediation bootstrap in the report.
BOOT_SEED = 20080401

log = logging.getLogger("coprod_bayes")

#: The built-in regression specs the main job fits, in report order.
REGRESSION_SPECS = ["table2_individual", "table3_collective", "pooled_individual",
                    "pooled_collective", "policy_areas"]
MEAN_INDEXES = ["individual", "collective", "coproduction"]
#: Tables 2-3 on the latent scale (``replicate(latent=True)``).
LATENT_SPECS = ["latent_individual", "latent_collective"]
#: The specs whose model checks (prior and posterior predictive, LOO of pooling) are reported.
CHECKED_SPECS = ["table2_individual", "table3_collective"]


def _versions() -> str:
    names = ["coprod_bayes", "pymc", "pytensor", "nutpie", "arviz", "bambi", "numpy", "pandas"]
    out = []
    for n in names:
        try:
            out.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(out)


@contextmanager
def _timed_and_logged(timings: dict, key: str):
    """Time the block into ``timings[key]``; its warnings (an unconverged fit's, above all)
    go to the log instead of stopping or cluttering the run: the report states each verdict."""
    t0 = time.time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    for w in caught:
        log.warning("%s", w.message)
    timings[key] = time.time() - t0


def _rows_used(rows, by_area: bool) -> str:
    """One sentence: how many respondents (or respondent x area rows) a fit used, by group."""
    if by_area:
        return (f"Respondent x area rows used: {int(rows['used'].sum())} of "
                f"{int(rows['rows'].sum())} (rows with a missing item score not used; by "
                "context: " + "; ".join(f"{r.country}:{r.area} {r.used}/{r.rows}"
                                        for r in rows.itertuples()) + ").")
    return (f"Respondents used: {int(rows['used'].sum())} of {int(rows['respondents'].sum())} "
            "(incomplete cases not used; by group: "
            + "; ".join(f"{r.group} {r.used}/{r.respondents}" for r in rows.itertuples()) + ").")


def replicate(survey: Survey, out: str | Path, quick: bool = False,
              specs: list[str] | None = None, mediation: bool = True,
              panels: Survey | bool | None = None, latent_mediation: bool = False,
              latent: bool = False) -> dict:
    """Run every built-in analysis on ``survey`` and write ``out/report.html``.

    Parameters
    ----------
    survey : Survey
    out : str or Path
        Folder for ``report.html``, the fits (``fits/*.nc``), figures (``figures/*.png``) and
        tidy tables (``tables/*.csv``).
    quick : bool, default False
        Shorter chains (400 draws, 400 tuning steps): for trying the pipeline, not for
        reading; the report's verdicts say whether the chains converged.
    specs : list of str, optional
        Regression specs to fit (default: :data:`REGRESSION_SPECS`).
    mediation : bool, default True
        Fit the ``mediation`` spec (the self-efficacy pathway in the 15 contexts) with its
        bootstrap table, counts, sensitivity and figures.
    latent_mediation : bool, default False
        Also fit ``mediation_latent`` (conditions, efficacy and co-production as person-level
        latent variables measured by their items, one context per country) beside OLS on
        the person-level indexes, and set it beside the index version
        (:func:`coprod_bayes.mediation_latent.compare_versions`). Off by default for its
        time: on the embedded survey at the spec's 4,000 draws per chain 1,221 s for the
        collective and 1,614 s for the individual outcome on 2 cores (both converged;
        docs/mediation.md).
    latent : bool, default False
        Also fit the latent specs (:data:`LATENT_SPECS`: Tables 2-3 with every construct a
        latent variable measured by its items) and set their standardised slopes beside
        OLS on the indexes and the index-based Bayesian betas (the attenuation), table and
        figure. Off by default for its time: on the embedded survey 625 s for
        latent_collective and 1,040 s for latent_individual on 2 cores (docs/sem.md).
    panels : Survey or bool, optional
        The 2011 UK panels wave for the nudge experiment and the combined-waves section. By
        default (None) the simulated 2011 wave (seed 0) when ``survey`` is simulated, else
        none; ``False`` leaves the section out.

    Returns
    -------
    dict
        ``report`` (path), ``fits`` (name -> Fit), ``means`` (index -> MeansFit),
        ``timings`` (name -> seconds).
    """
    out = Path(out)
    for sub in ("fits", "figures", "tables"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    sampler_opts = {"draws": 400, "tune": 400} if quick else {}
    rep = HtmlReport("coprod_bayes: the co-production papers' analyses, classical and Bayesian")
    rep.heading("Data")
    synthetic = survey.truth is not None
    rep.paragraph(f"{survey!r}; source: {survey.source or 'unknown'}; data fingerprint "
                  f"{data_fingerprint(survey)}.")
    if synthetic:
        rep.paragraph("These data are synthetic: a simulation calibrated to the published figures "
                      "of the 2008 five-country survey (whose microdata are not public). The "
                      "calibration is documented in docs/simulator.md and checked by "
                      "benchmarks/calibration.py.", "note")
    rep.paragraph(f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with {_versions()}"
                  f"{'; quick mode (short chains)' if quick else ''}.")

    classical = tables(survey)
    for name, frame in classical.items():
        frame.to_csv(out / "tables" / f"classical_{name}.csv", index=False)
    rep.heading("Classical tables (the papers' analyses)")
    for name in ("table2_individual", "table3_collective"):
        rep.heading(f"{name}: standardised OLS betas (* p<0.10, ** p<0.05, *** p<0.01)", 3)
        rep.table(paper_layout(classical[name]))
    rep.heading("Cronbach's alpha", 3)
    rep.table(classical["alphas"], index=False)

    fits, means, timings = {}, {}, {}
    rep.heading("Bayesian regressions beside OLS")
    for name in specs or REGRESSION_SPECS:
        spec = load_spec(name)
        with _timed_and_logged(timings, name):
            f = fit(spec, survey, **sampler_opts)
        fits[name] = f
        f.save(out / "fits" / f"{name}.nc")
        by_area = spec.level == "area"
        ols = (ols_by_area(survey, spec.outcome, list(spec.predictors)) if by_area
               else classical)
        cmp = f.compare(ols)
        cmp.to_csv(out / "tables" / f"{name}_compare.csv", index=False)
        rep.heading(name, 3)
        rep.paragraph(spec.description)
        rep.verdict(f.verdict.headline)
        rep.paragraph(_rows_used(f.rows, by_area) + f" Fitted in {timings[name]:.0f} s.")
        if by_area:
            rep.paragraph("Beside each context's own OLS beta (the area's index on the area's "
                          "items, within country x area). The Bayesian model also uses the "
                          "respondent intercept, so its slopes mix within- and "
                          "between-respondent contrasts; see docs/areas.md.", "note")
        rep.table(compare_layout(cmp))
        fig = plot.area_slopes(f, ols) if by_area else plot.slopes_grid(f, classical)
        fig.savefig(out / "figures" / f"{name}_slopes.png", dpi=90)
        rep.figure(fig, f"{name} slopes")
        plt.close(fig)

    if mediation:
        _mediation_section(rep, survey, out, sampler_opts, timings, fits)
    if latent:
        _latent_section(rep, survey, out, sampler_opts, timings, fits, classical)
    if latent_mediation:
        _latent_mediation_section(rep, survey, out, sampler_opts, timings, fits)

    if panels is None and synthetic:
        from ..survey.simulate import simulate

        panels = simulate("uk_panels_2011", seed=0)
    if isinstance(panels, Survey):
        _nudge_section(rep, survey, panels, out, sampler_opts, timings, fits)

    rep.heading("Country means of the indexes (Figures 3-4) and ranking probabilities")
    cb = survey.codebook
    for index in [i for i in MEAN_INDEXES if i in cb.constructs or i in cb.indexes]:
        with _timed_and_logged(timings, f"means_{index}"):
            m = country_means(survey, index, sampler=Sampler(target_accept=0.95, **sampler_opts))
        means[index] = m
        m.summary().to_csv(out / "tables" / f"means_{index}.csv", index=False)
        m.rankings().to_csv(out / "tables" / f"rankings_{index}.csv", index=False)
        rep.heading(index, 3)
        rep.verdict(m.verdict.headline)
        rep.table(m.summary().drop(columns="index"), index=False, floatfmt="{:.2f}")
        for kind, fig in (("means", plot.country_means(m)), ("rankings", plot.rankings(m))):
            fig.savefig(out / "figures" / f"{kind}_{index}.png", dpi=90)
            rep.figure(fig, f"{kind} of {index}")
            plt.close(fig)

    checked = [n for n in CHECKED_SPECS if n in fits]
    if checked:
        rep.heading("Model checks")
        rep.paragraph("Prior predictive: the R-squared and largest slope the priors imply on "
                      "these predictors (red lines: the OLS R-squared per country). Posterior "
                      "predictive: each country's index beside data sets replicated from the "
                      "fit. LOO: complete, no and partial pooling of the slopes compared by "
                      "PSIS-LOO (higher ELPD predicts better; a Pareto k above 0.7 marks a "
                      "respondent whose LOO term is unreliable).")
    for name in checked:
        f = fits[name]
        rep.heading(f"{name}: checks", 3)
        ols_r2 = classical[name].drop_duplicates("country")
        ols_r2 = ols_r2.loc[ols_r2["country"] != "pooled", "r2"].to_numpy()
        figs = {"prior_predictive": plot.prior_predictive(
                    prior_predictive(f.spec, survey, draws=2000, seed=1), name, ols_r2),
                "posterior_predictive": plot.posterior_predictive(
                    posterior_predictive(f, survey, n_draws=40, seed=1), name)}
        variants = pooling_variants(f.spec)
        with _timed_and_logged(timings, f"{name}_pooling"):
            others = {k: fit(v, survey, **sampler_opts) for k, v in variants.items()
                      if k != "partial pooling"}
        models = {**others, "partial pooling": f}
        loo, ks = compare_models(models, survey)
        loo.to_csv(out / "tables" / f"{name}_loo.csv")
        ks.to_csv(out / "tables" / f"{name}_pareto_k.csv", index=False)
        figs["loo"] = plot.model_comparison(loo, name)
        for k, m in models.items():
            rep.verdict(f"{k}: {m.verdict.headline}")
        rep.table(loo.drop(columns=["scale"], errors="ignore"), floatfmt="{:.2f}")
        rep.table(ks, index=False, floatfmt="{:.2f}")
        for kind, fig in figs.items():
            fig.savefig(out / "figures" / f"{name}_{kind}.png", dpi=90)
            rep.figure(fig, f"{name} {kind}")
            plt.close(fig)

    path = out / "report.html"
    path.write_text(rep.render(), encoding="utf-8")
    return {"report": path, "fits": fits, "means": means, "timings": timings}


def _mediation_fit(rep, name, spec, survey, out, sampler_opts, timings, fits, heading):
    """Fit a mediation spec (timed, into ``fits[name]``), its bootstrap table beside it
    (saved as ``tables/<name>_compare.csv``), and the section's heading, description and
    verdict. Returns the spec, the fit, the OLS table and the comparison."""
    from ..mediation import fit_mediation, ols_mediation

    with _timed_and_logged(timings, name):
        f = fit_mediation(spec, survey, **sampler_opts)
    fits[name] = f
    ols = ols_mediation(survey, spec, n_boot=2000, seed=BOOT_SEED)
    cmp = f.compare(ols)
    cmp.to_csv(out / "tables" / f"{name}_compare.csv", index=False)
    rep.heading(heading)
    rep.paragraph(spec.description)
    rep.verdict(f.verdict.headline)
    return spec, f, ols, cmp


def _mediation_section(rep, survey, out, sampler_opts, timings, fits) -> None:
    """The self-efficacy pathway: fit, table beside the bootstrap, counts, sensitivity."""
    from ..mediation import mediation_layout
    from ..published import published_figures

    spec, f, ols, cmp = _mediation_fit(
        rep, "mediation", load_spec("mediation"), survey, out, sampler_opts, timings, fits,
        "Mediation: conditions -> efficacy -> co-production, 15 contexts")
    rows = f.rows
    rep.paragraph(f"Respondent x area rows used: {int(rows['used'].sum())} of "
                  f"{int(rows['rows'].sum())} (rows missing any variable of the two equations "
                  "not used, the same rows for both outcomes). "
                  f"Fitted in {timings['mediation']:.0f} s. "
                  "Beside each posterior: OLS in the context, product of coefficients, "
                  "percentile bootstrap (2,000 resamples, seed "
                  f"{BOOT_SEED}); all intervals 90%.")
    rep.table(mediation_layout(cmp, spec.group))
    pub = published_figures().get("mediation", {})
    for o in f.outcomes:
        dist, summ = f.positive_counts(o, "a")
        n_ols = int(((ols["outcome"] == o) & (ols["path"] == "a") & (ols["estimate"] > 0)
                     & (ols["p"] < 0.05)).sum())
        rep.heading(f"How many contexts have a positive a-path? ({o} sample)", 3)
        rep.paragraph(f"Posterior mean number of contexts with a > 0: {summ['mean_positive']:.1f} "
                      f"of {summ['contexts']} (90% interval {summ['positive_90'][0]}-"
                      f"{summ['positive_90'][1]}); credibly positive (P(a > 0) > "
                      f"{summ['level']}, the one-sided counterpart of p < 0.05): "
                      f"{summ['credibly_positive']}; OLS a > 0 with p < 0.05: {n_ols}; the "
                      f"papers: {pub.get('conditions_to_efficacy', '10 of 15')}.")
        rep.table(dist.set_index("count").T, floatfmt="{:.3f}")
        sens = f.sensitivity(o)
        sens.to_csv(out / "tables" / f"mediation_sensitivity_{o}.csv", index=False)
        rep.paragraph("Sensitivity: the residual correlation of efficacy and co-production (an "
                      "unmeasured confounder) at which each context's indirect effect would "
                      "vanish (Imai, Keele and Tingley 2010), posterior mean and 90% interval:")
        rep.table(sens.attrs["vanishes_at"], index=False)
    figs = {"mediation_paths": plot.mediation_paths(f),
            "mediation_forest": plot.mediation_forest(f, ols),
            **{f"mediation_shrinkage_{o}": plot.mediation_shrinkage(f, ols, outcome=o)
               for o in f.outcomes}}
    for name, fig in figs.items():
        fig.savefig(out / "figures" / f"{name}.png", dpi=90)
        rep.figure(fig, name)
        plt.close(fig)


def _latent_mediation_section(rep, survey, out, sampler_opts, timings, fits,
                              spec="mediation_latent") -> None:
    """The latent version of the pathway beside OLS on the person-level indexes and beside
    the index version (when the report has it)."""
    from ..mediation import mediation_layout
    from ..mediation_latent import compare_versions

    spec, f, ols, cmp = _mediation_fit(
        rep, "mediation_latent", load_spec(spec), survey, out, sampler_opts, timings, fits,
        "Mediation, latent version: person-level constructs, one context per country")
    rows = f.rows
    rep.paragraph(f"Respondents used: {int(rows['used'].sum())} of {int(rows['rows'].sum())} "
                  "(respondents missing a demographic not used; gaps in the items kept). "
                  f"Fitted in {timings['mediation_latent']:.0f} s. Beside each posterior: OLS "
                  "in the country on the person-level indexes (each construct's items "
                  "averaged over the areas), product of coefficients, percentile bootstrap "
                  f"(2,000 resamples, seed {BOOT_SEED}); all intervals 90%.")
    rep.table(mediation_layout(cmp, spec.group))
    if "mediation" in fits:
        both = compare_versions(fits["mediation"], f)
        both.to_csv(out / "tables" / "mediation_versions.csv", index=False)
        rep.paragraph("The two versions side by side: the index version's effect averaged over "
                      "the country's three areas (single four-point items for conditions and "
                      "efficacy, attenuated by their unreliability) beside the latent effect; "
                      "ratio = latent / index.")
        rep.table(both.round(3), index=False)


def _index_twin(spec, fits: dict):
    """The index-based fit in ``fits`` that a latent spec answers on the latent scale: the
    same outcome, group and predictors, person level (None if the report has none)."""
    for f in fits.values():
        other = getattr(f, "spec", None)
        if (isinstance(other, Spec) and other.measurement != "latent"
                and other.level != "area" and other.outcome == spec.outcome
                and other.group == spec.group
                and set(other.predictors) == set(spec.predictors)):
            return f
    return None


def _latent_section(rep, survey, out, sampler_opts, timings, fits, classical,
                    specs=LATENT_SPECS) -> None:
    """Tables 2-3 on the latent scale: each latent spec's standardised slopes beside OLS on
    the indexes and the index-based Bayesian betas, with the attenuation, table and figure."""
    rep.heading("Tables 2-3 on the latent scale: the attenuation of the sum scores")
    rep.paragraph("Each construct a latent variable measured by its ordinal items (graded "
                  "response, ordered logit, scalar invariance across countries), slopes "
                  "varying by country with partial pooling; standardised slopes (latent "
                  "variables at unit variance, demographics z-scored within country) beside "
                  "OLS on the sum-score indexes and the index-based Bayesian betas. "
                  "attenuation = sign(latent) x (latent - OLS): positive where OLS on the "
                  "indexes is nearer zero (docs/sem.md).")
    for spec in specs:
        spec = load_spec(spec)
        with _timed_and_logged(timings, spec.name):
            f = fit(spec, survey, **sampler_opts)
        fits[spec.name] = f
        f.save(out / "fits" / f"{spec.name}.nc")
        cmp = f.compare(classical, index_fit=_index_twin(spec, fits))
        cmp.to_csv(out / "tables" / f"{spec.name}_compare.csv", index=False)
        rep.heading(spec.name, 3)
        rep.paragraph(spec.description)
        rep.verdict(f.verdict.headline)
        rep.paragraph(f"Respondents used: {f.n} ({f.n_excluded} without every demographic "
                      f"not used; gaps in the items kept). Fitted in {timings[spec.name]:.0f} s.")
        cols = [c for c in ("group", "predictor", "latent_mean", "latent_lower",
                            "latent_upper", "index_mean", "ols_beta", "attenuation")
                if c in cmp.columns]
        rep.table(cmp[cols].round(3), index=False)
        fig = plot.attenuation(cmp, title=f"{spec.name}: latent (blue) beside the indexes",
                               verdict=f.verdict.headline)
        fig.savefig(out / "figures" / f"{spec.name}_attenuation.png", dpi=90)
        rep.figure(fig, f"{spec.name} attenuation")
        plt.close(fig)


def _nudge_section(rep, survey, panels, out, sampler_opts, timings, fits) -> None:
    """The 2011 UK panels: the 2x2 nudge experiment beside OLS, and the waves combined."""
    from ..experiment import experiment_layout, fit_experiment, ols_experiment, planted_contrasts
    from ..survey.combine import combine

    spec = load_spec("nudge_experiment")
    if "nudge_experiment" not in fits:  # (a test passes its own fit)
        with _timed_and_logged(timings, "nudge_experiment"):
            fits["nudge_experiment"] = fit_experiment(spec, panels, **sampler_opts)
    f = fits["nudge_experiment"]
    spec = f.spec
    ols = ols_experiment(panels, spec)
    cmp = f.compare(ols)
    if panels.truth is not None and "arm_indexes" in panels.truth:
        cmp = cmp.merge(planted_contrasts(panels), on=["outcome", "level", "contrast"],
                        how="left")
    cmp.to_csv(out / "tables" / "nudge_compare.csv", index=False)
    ols["anova"].to_csv(out / "tables" / "nudge_anova.csv", index=False)
    f.arms().to_csv(out / "tables" / "nudge_arms.csv", index=False)
    rep.heading("The 2011 UK panels: the nudge experiment")
    rep.paragraph(f"{panels!r}; source: {panels.source or 'unknown'}.")
    if panels.truth is not None:
        rep.paragraph("Synthetic: the 2011 wave is simulated (its design file states the model; "
                      "shared items keep the 2008 item parameters). 'planted' is the simulator's "
                      "true contrast in index points.", "note")
    arms = panels.frame.groupby([spec.group, *spec.treatments], observed=True).size()
    rep.table(arms.unstack(list(spec.treatments)))
    rep.paragraph(spec.description)
    rep.verdict(f.verdict.headline)
    rows = f.rows
    rep.paragraph(f"Respondents used: {int(rows['used'].sum())} of "
                  f"{int(rows['respondents'].sum())} over the outcomes (a respondent without "
                  f"an outcome index is not used for it). Fitted in "
                  f"{timings.get('nudge_experiment', float('nan')):.0f} s. Contrasts in index "
                  "points (0-100); "
                  "posterior 90% intervals; 'all' is the respondent-weighted average over the "
                  "areas (beside it OLS pooled over areas with area fixed effects), "
                  "'population' the expected effect in a new area; sesoi = "
                  f"{spec.smallest_effect:g} points, the smallest effect of interest.")
    rep.table(experiment_layout(cmp), index=False)
    anova = ols["anova"]
    rep.heading("Two-way ANOVA (type II), pooled over areas", 3)
    rep.table(anova[anova["level"] == "pooled"].drop(columns="level"), index=False,
              floatfmt="{:.3f}")
    for o in spec.outcomes:
        fig = plot.nudge_effects(f, ols, outcome=o)
        fig.savefig(out / "figures" / f"nudge_{o}.png", dpi=90)
        rep.figure(fig, f"nudge effects on {o}")
        plt.close(fig)
    try:
        both = combine(survey, panels)
    except Exception as e:  # the report says why rather than stopping
        rep.paragraph(f"The waves could not be combined: {e}", "note")
        return
    rep.heading("The waves combined", 3)
    w08, w11 = (both.waves[w] for w in both.levels("wave"))
    shared = [c for c in w11.item_columns if c in set(w08.item_columns)]
    rep.paragraph(f"{both!r}. Items shared by name ({len(shared)}): {', '.join(shared)}. "
                  "Recoded onto the earlier wave's scale by the codebook's harmonise mapping: "
                  + (", ".join(f"{h['item']} ({h['recoded']} responses)"
                               for h in both.harmonised) or "none") + ".")
