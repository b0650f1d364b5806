"""Specs: TOML and Python agree; bad specs give clear errors."""

from __future__ import annotations

import pytest

import coprod_bayes as cb
from coprod_bayes.spec import Priors, Sampler, Spec, builtin_specs, load_spec

NINE = ("age", "female", "educated", "inactive", "urban", "efficacy", "gov_performance",
        "gov_information", "gov_consultation")


def test_builtin_specs_listed():
    assert set(builtin_specs()) >= {"table2_individual", "table3_collective",
                                     "pooled_individual", "pooled_collective"}


def test_toml_and_python_compare_equal():
    from_toml = load_spec("table3_collective")
    built = Spec(name="table3_collective", outcome="collective", predictors=NINE,
                 description=from_toml.description, pooling="partial", varying="all",
                 priors=Priors(coefficient=0.25, coefficient_sd=0.1, intercept=1.0,
                                intercept_sd=0.5, residual_sd=1.0),
                 sampler=Sampler(seed=20080401))
    assert from_toml == built
    assert Spec.from_dict(built.to_dict()) == built


@pytest.mark.parametrize("name", ["table2_individual", "table3_collective",
                                  "pooled_individual", "pooled_collective"])
def test_builtin_specs_validate_against_eu5(name):
    spec = load_spec(name)
    spec.validate_against(cb.load_codebook("eu5_2008"))
    assert spec.predictors == NINE


def test_pooled_specs_share_slopes():
    spec = load_spec("pooled_collective")
    assert (spec.pooling, spec.varying, spec.standardize) == ("complete", "intercept", "all")


@pytest.mark.parametrize(("change", "message"), [
    ({"outcome": "happiness"}, "outcome 'happiness' is not a construct"),
    ({"predictors": ("age", "income")}, r"unknown predictor\(s\) \['income'\]"),
    ({"group": "region"}, "grouping column 'region' is absent"),
])
def test_validation_against_codebook_names_the_culprit(change, message):
    spec = Spec(**{"name": "bad", "outcome": "collective", "predictors": ("age",), **change})
    with pytest.raises(cb.SpecError, match=message):
        spec.validate_against(cb.load_codebook("eu5_2008"))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"predictors": ()}, "lists no predictors"),
    ({"predictors": ("age", "age")}, r"predictor\(s\) \['age'\] listed twice"),
    ({"predictors": ("collective",)}, "is also a predictor"),
    ({"pooling": "some"}, "pooling = 'some'"),
    ({"priors": {"coefficient": -1}}, "must be a positive number"),
    ({"sampler": {"mass_matrix": "dense"}}, "mass_matrix 'dense' unknown"),
    ({"sampler": {"mass_matrix": "low_rank", "backend": "pymc"}}, "needs backend 'nutpie'"),
    ({"sampler": {"mass_matrix": "low_rank", "backend": "numpyro"}},
     "with backend 'numpyro' set mass_matrix='diag'"),
    ({"sampler": {"backend": "stan"}}, "backend 'stan' unknown"),
    # settings the engine would not read are refused, not silently ignored
    ({"level": "area", "pooling": "none"}, "pooling = 'none' would have no effect: the "
                                           "policy-area model pools every coefficient"),
    ({"measurement": "latent", "weights": True, "priors": {"coefficient": 0.5}},
     r"weights = True, priors = .* would have no effect: the latent engine has its own"),
    ({"sampler": {"draws": 0}}, "'draws' must be a positive integer"),
    ({"measurement": "latent", "scores": "centred"}, "scores = 'centred'; use one of"),
    ({"scores": "informed"}, "scores = 'informed' would have no effect: they are settings "
                             "of latent specs"),
    ({"level": "area", "scores": "informed"}, "scores = 'informed' would have no effect: the "
                                              "policy-area model"),
])
def test_bad_spec_raises(kwargs, message):
    with pytest.raises(cb.SpecError, match=message):
        Spec(**{"name": "bad", "outcome": "collective", "predictors": ("age",), **kwargs})


def test_toml_errors_name_file_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[model]\noutcome = "collective"\npredictors = ["age"]\nfoo = 1\n')
    with pytest.raises(cb.SpecError, match=r"bad.toml: unknown key\(s\) \['foo'\] in \[model\]"):
        load_spec(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n[model\n')
    with pytest.raises(cb.SpecError, match=r"broken.toml: .*line 2"):
        load_spec(broken)
    with pytest.raises(cb.SpecError, match="no built-in spec 'nope'"):
        load_spec("nope")


def test_with_sampler_changes_only_the_sampler():
    spec = load_spec("table3_collective")
    short = spec.with_sampler(draws=10, backend="pymc")
    assert short.sampler.draws == 10 and short.sampler.backend == "pymc"
    assert short.predictors == spec.predictors and short.priors == spec.priors
