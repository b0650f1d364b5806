"""Latent specs: the generated model syntax and data (no sampling)."""

from __future__ import annotations

import numpy as np
import pytest

import coprod_bayes as cb
from coprod_bayes.latent import latent_frame, latent_syntax
from coprod_bayes.spec import Spec, load_spec
from coprod_bayes.spec.syntax import parse_model


@pytest.fixture(scope="module")
def survey():
    return cb.simulate(n_per_country=120, seed=17)


def test_latent_specs_load_and_round_trip():
    for name in ("latent_individual", "latent_collective"):
        spec = load_spec(name)
        assert spec.measurement == "latent" and spec.invariance == "scalar"
        assert Spec.from_dict(spec.to_dict()) == spec
    with pytest.raises(cb.SpecError, match=r"invariance = 'partial'; use one of"):
        Spec(name="x", outcome="collective", predictors=("age",), measurement="latent",
             invariance="partial")


def test_latent_syntax_measures_every_construct_by_its_codebook_items(survey):
    cbk = survey.codebook
    model = parse_model(latent_syntax("latent_individual", cbk))
    assert model.latent == ["individual", "efficacy", "gov_performance", "gov_information",
                            "gov_consultation"]
    for f in model.latent:
        assert model.indicators(f) == [it.column for it in cbk.items_of(f)]
    outcome = {p.rhs for p in model.regressions if p.lhs == "individual"}
    assert outcome == set(load_spec("latent_individual").predictors)
    # the latent predictors on the demographics, so they may correlate with them as in OLS
    assert {p.rhs for p in model.regressions if p.lhs == "efficacy"} == set(
        cbk.demographic_columns)


def test_latent_frame_lists_respondents_without_demographics_and_standardises(survey):
    frame, excluded = latent_frame("latent_collective", survey)
    missing_age = survey.frame["age"].isna()
    assert len(excluded) == int(missing_age.sum()) > 0
    assert set(excluded["respondent_id"]) == set(survey.frame.loc[missing_age, "respondent_id"])
    assert set(excluded["missing"]) == {"age"}
    assert len(frame) + len(excluded) == survey.n_respondents  # nobody lost unlisted
    by = frame.groupby("country")["age"]
    np.testing.assert_allclose(by.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(by.std(), 1)
    # items scored as the codebook says: missing codes missing, nothing else recoded
    item = "collective_safety_1"
    kept = survey.frame.loc[~missing_age, item]
    np.testing.assert_array_equal(frame[item].isna(), kept.isna())


@pytest.mark.parametrize("scores", ["noncentred", "informed"])
def test_fit_latent_passes_the_specs_engine_settings_to_sem(survey, monkeypatch, scores):
    """fit_latent hands the spec's invariance, scores and sampler to cb.sem (the spec's
    settings are used as written, not replaced by sem's defaults)."""
    import sys
    from dataclasses import replace

    from coprod_bayes.latent import fit_latent

    sem_module = sys.modules["coprod_bayes.sem"]   # the module (cb.sem is the function)

    seen = {}

    class Stop(Exception):
        pass

    def fake_sem(model, data, **kw):
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(sem_module, "sem", fake_sem)
    spec = replace(load_spec("latent_collective"), scores=scores, invariance="configural")
    with pytest.raises(Stop):
        fit_latent(spec, survey)
    assert seen["scores"] == scores and seen["invariance"] == "configural"
    assert seen["sampler"] == spec.sampler
