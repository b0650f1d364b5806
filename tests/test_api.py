"""The public API: every exported name resolves and is documented; the set-up found a BLAS."""

from __future__ import annotations

import inspect

import pytest

import coprod_bayes as cb


@pytest.mark.parametrize("name", cb.__all__)
def test_public_name_resolves_and_has_docstring(name):
    obj = getattr(cb, name)
    doc = inspect.getdoc(obj)
    assert doc is not None and len(doc) > 20, f"{name} lacks a docstring"


@pytest.mark.parametrize("name", cb.classical.__all__)
def test_classical_names_documented(name):
    obj = getattr(cb.classical, name)
    if callable(obj):
        assert inspect.getdoc(obj), f"classical.{name} lacks a docstring"


def test_error_family():
    assert issubclass(cb.SurveyDataError, cb.CoprodError)
    assert issubclass(cb.SurveyDataError, ValueError)
    assert issubclass(cb.SpecError, ValueError)
    assert issubclass(cb.ConvergenceWarning, UserWarning)


def test_pytensor_links_a_blas():
    """setup.sh installs a system BLAS; without it PyTensor falls back to slow NumPy calls."""
    import pytensor

    assert pytensor.config.blas__ldflags, (
        "PyTensor found no BLAS: run `bash setup.sh` (Debian/Ubuntu: libopenblas-dev gfortran)"
    )
