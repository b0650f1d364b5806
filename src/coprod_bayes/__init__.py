"""coprod_bayes: Bayesian multilevel models of citizen co-production surveys.

The bundled 2008 five-country data are synthetic: a simulator calibrated to the published
figures, because the microdata are not public.
"""

from . import classical, plot
from .checks import (
    compare_models,
    fit_pooling_variants,
    pooling_variants,
    posterior_predictive,
    prior_predictive,
)
from .country import country_means
from .errors import ConvergenceWarning, CoprodError, SpecError, SurveyDataError
from .experiment import ExperimentFit, ExperimentSpec, fit_experiment, ols_experiment
from .fit import Fit, fit, load_fit
from .mediation import MediationFit, MediationSpec, fit_mediation, ols_mediation
from .sem import SemFit, cfa, compare_loo, sem
from .spec import Spec, load_spec
from .survey import Codebook, Survey, load_codebook, read_survey
from .survey.combine import combine
from .survey.simulate import simulate
from .waves import wave_effects, wave_invariance

__version__ = "0.1.0"

__all__ = [
    "classical",
    "plot",
    "country_means",
    "cfa",
    "compare_loo",
    "sem",
    "SemFit",
    "compare_models",
    "fit_pooling_variants",
    "pooling_variants",
    "posterior_predictive",
    "prior_predictive",
    "Fit",
    "ExperimentFit",
    "ExperimentSpec",
    "fit_experiment",
    "ols_experiment",
    "MediationFit",
    "MediationSpec",
    "fit_mediation",
    "ols_mediation",
    "Spec",
    "fit",
    "load_fit",
    "load_spec",
    "Codebook",
    "CoprodError",
    "ConvergenceWarning",
    "SpecError",
    "Survey",
    "SurveyDataError",
    "load_codebook",
    "read_survey",
    "simulate",
    "combine",
    "wave_invariance",
    "wave_effects",
]
