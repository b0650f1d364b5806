"""Posterior tables beside the classical ones, in tidy form and in the papers' layout."""

from .tables import compare_layout, to_latex, to_markdown

__all__ = ["compare_layout", "to_latex", "to_markdown"]
