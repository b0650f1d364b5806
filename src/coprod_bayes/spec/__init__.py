"""Specs: frozen, validated descriptions of one analysis (no PyMC here)."""

from .spec import Priors, Sampler, Spec, builtin_specs, load_spec

__all__ = ["Priors", "Sampler", "Spec", "builtin_specs", "load_spec"]
