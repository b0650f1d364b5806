"""The latent version of the mediation pathway: person-level conditions, efficacy and
co-production measured by their ordinal items, one context per country. Its model, its
frequentist counterpart (OLS on the person-level indexes) against statsmodels, and recovery
of the simulator's person-level paths."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import statsmodels.api as sm

import coprod_bayes as cb
from coprod_bayes.classical.indexes import index_scores
from coprod_bayes.mediation import MediationSpec, fit_mediation, ols_mediation, simulate_mediation
from coprod_bayes.mediation_latent import compare_versions, latent_mediation_syntax, person_frame
from coprod_bayes.recovery import latent_truth
from coprod_bayes.spec import load_spec
from coprod_bayes.spec.syntax import parse_model


def _latent(outcomes=("collective",), **sampler) -> MediationSpec:
    spec = replace(load_spec("mediation"), measurement="latent", outcomes=outcomes)
    return spec.with_sampler(**sampler) if sampler else spec


def test_builtin_latent_spec_is_the_index_spec_with_latent_measurement():
    spec, index = load_spec("mediation_latent"), load_spec("mediation")
    assert spec.measurement == "latent"
    assert (spec.syntax, spec.outcomes, spec.group) == (index.syntax, index.outcomes, index.group)
    assert MediationSpec.from_dict(spec.to_dict()) == spec


def test_latent_syntax_measures_each_construct_by_all_its_items():
    cb_ = cb.load_codebook("eu5_2008")
    m = parse_model(latent_mediation_syntax(_latent(), "collective", cb_))
    assert m.latent == ["conditions", "efficacy", "collective"]
    for f in m.latent:
        assert m.indicators(f) == [it.column for it in cb_.items_of(f)]
    eq = {(p.lhs, p.rhs) for p in m.regressions}
    demo = ["age", "female", "educated", "inactive", "urban"]
    assert {("efficacy", "conditions"), ("collective", "efficacy"),
            ("collective", "conditions")} <= eq
    for f in m.latent:  # every construct on the demographics; conditions may correlate with them
        assert {(f, d) for d in demo} <= eq
    assert not any(p.label for p in m.regressions)  # each country has its own paths


@pytest.mark.parametrize("syntax, message", [
    ("efficacy ~ a*conditions + age\n{outcome} ~ b*efficacy + c*conditions + respondent_id",
     "covariates must be demographics"),
    ("age ~ a*conditions\n{outcome} ~ b*age + c*conditions", "must be constructs"),
])
def test_latent_version_refuses_what_it_cannot_measure(syntax, message):
    spec = replace(_latent(), syntax=syntax)
    with pytest.raises(cb.SpecError, match=message):
        latent_mediation_syntax(spec, "collective", cb.load_codebook("eu5_2008"))


def test_latent_version_needs_a_survey():
    data, _ = simulate_mediation(n_per_group=20)
    with pytest.raises(cb.SpecError, match="fits the items of a Survey"):
        fit_mediation(_latent(), data)


@pytest.mark.parametrize("change, message", [
    ({"weights": True}, "weights = true, but the latent version is fitted unweighted"),
    ({"priors": {"coefficient": 0.5}}, r"a \[priors\] table .* has no effect"),
])
def test_latent_version_refuses_settings_it_would_ignore(change, message):
    """Weights and the index version's priors would be silently ignored by the latent
    engine: refused before anything is fitted."""
    spec = replace(_latent(), **change)
    survey = cb.simulate(n_per_country=30, seed=1)
    with pytest.raises(cb.SpecError, match=message):
        fit_mediation(spec, survey)


def test_person_level_ols_matches_statsmodels():
    """The latent version's frequentist counterpart: OLS per country on the person-level
    indexes, z-scored within country; a, b, c' equal statsmodels' standardised slopes."""
    s = cb.simulate(n_per_country=150, seed=3)
    spec = _latent()
    pf = person_frame(s, spec)
    assert np.allclose(pf["efficacy"], index_scores(s, "efficacy"), equal_nan=True)
    assert (pf["area"] == "all").all()
    ols = ols_mediation(s, spec, n_boot=50).set_index(["country", "path"])
    demo = ["age", "female", "educated", "inactive", "urban"]
    for g in ("CZ", "GB"):
        d = pf[pf["country"] == g][["conditions", "efficacy", "collective", *demo]].dropna()
        z = (d - d.mean()) / d.std(ddof=0)
        fm = sm.OLS(z["efficacy"], sm.add_constant(z[["conditions", *demo]])).fit()
        fy = sm.OLS(z["collective"],
                    sm.add_constant(z[["efficacy", "conditions", *demo]])).fit()
        assert ols.loc[(g, "a"), "estimate"] == pytest.approx(fm.params["conditions"], abs=1e-8)
        assert ols.loc[(g, "b"), "estimate"] == pytest.approx(fy.params["efficacy"], abs=1e-8)
        assert ols.loc[(g, "direct"), "estimate"] == pytest.approx(fy.params["conditions"],
                                                                   abs=1e-8)
        assert ols.loc[(g, "a"), "n"] == len(d)


@pytest.fixture(scope="module")
def latent_recovered():
    """Person-level simulated survey (every construct one latent variable per respondent),
    5 countries x 300 respondents; the collective outcome, at 2,000 draws (about 6
    minutes on 2 cores; converged with the Gamma(2, 20) prior on the between-country SDs,
    where HalfNormal(0.1) needed 5,000). The verdict is asserted
    by the recovery test, not turned into an error here."""
    import warnings

    s = cb.simulate(n_per_country=300, seed=11, person_level=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        fit = fit_mediation(_latent(draws=2000, tune=1000), s)
    return s, fit


@pytest.mark.slow
def test_latent_mediation_recovers_the_person_level_paths(latent_recovered):
    """a, b and c' of each country, standardised, against the oracle truth (the model's own
    equations fitted by least squares to the true latent values: recovery.latent_truth):
    >= 90% within 2 posterior SDs, and the indirect effect's 90% interval covers a*b in >= 4
    of 5 countries. The fit converges."""
    s, fit = latent_recovered
    assert fit.verdict.converged, fit.verdict.problems
    assert fit.areas == ["all"] and sorted(fit.groups) == ["CZ", "DE", "DK", "FR", "GB"]
    sf = fit.sem_fits["collective"]
    truth = latent_truth(sf, s)
    truth = truth[truth["kind"] == "std_path"].set_index(["group", "parameter"])["truth"]
    tab = fit.table().set_index(["country", "path"])
    keys = {"a": "efficacy~conditions", "b": "collective~efficacy",
            "direct": "collective~conditions"}
    z, covered = [], 0
    for g in fit.groups:
        for path, key in keys.items():
            r = tab.loc[(g, path)]
            z.append((r["mean"] - truth[(g, key)]) / r["sd"])
        ind = truth[(g, keys["a"])] * truth[(g, keys["b"])]
        r = tab.loc[(g, "indirect")]
        covered += r["lo"] <= ind <= r["hi"]
    z = np.abs(z)
    assert (z <= 2).mean() >= 0.9, z
    assert covered >= 4
    # the table's paths are the SEM fit's standardised paths of each country
    std = sf.standardized_paths().set_index(["group", "outcome", "predictor"])
    for g in fit.groups:
        assert tab.loc[(g, "a"), "mean"] == pytest.approx(
            std.loc[(g, "efficacy", "conditions"), "mean"], abs=1e-12)


@pytest.mark.slow
def test_latent_paths_are_larger_than_the_single_item_index_paths(latent_recovered):
    """The index version's a-paths use single four-point items and are attenuated; the
    latent a-path of each country exceeds the index version's average over its areas, and
    compare_versions sets them side by side."""
    s, fit = latent_recovered
    index = fit_mediation(replace(load_spec("mediation"), outcomes=("collective",)), s)
    assert index.verdict.converged, index.verdict.problems
    v = compare_versions(index, fit)
    a = v[v["path"] == "a"]
    assert len(a) == 5 and list(a["country"]) == fit.groups
    assert (a["latent_mean"] > a["index_mean"]).all(), a
    assert np.allclose(a["latent_mean"], fit.table().query("path == 'a'")["mean"])


@pytest.mark.slow
def test_latent_sensitivity_is_a_times_b_at_zero_confounding(latent_recovered):
    """At rho = 0 the sensitivity curve is the fitted indirect effect; it vanishes at the
    correlation rho~ = b s_m / sqrt(b^2 s_m^2 + s_y^2) (standardised residual SDs)."""
    _, fit = latent_recovered
    sens = fit.sensitivity("collective", rho=np.array([0.0]))
    ind = fit.table().query("path == 'indirect'").set_index("country")["mean"]
    assert np.allclose(sens.set_index("country")["mean"].loc[ind.index], ind, atol=1e-12)
    s_m, s_y = fit.residual["collective"]
    assert ((s_m > 0) & (s_m < 1) & (s_y > 0) & (s_y < 1)).all()
