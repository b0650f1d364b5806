"""The papers' classical analyses: indexes, alphas, group means, standardised OLS tables."""

from .indexes import index_items, index_scores, indexes
from .means import group_means, weighted_mean
from .ols import analysis_frame, ols_by_area, ols_table, standardized_ols, stars
from .reliability import alphas, cronbach_alpha
from .tables import PAPER_TABLES, paper_layout, paper_predictors, tables

__all__ = [
    "index_items", "index_scores", "indexes", "group_means", "weighted_mean", "analysis_frame",
    "ols_by_area", "ols_table", "standardized_ols", "stars", "alphas", "cronbach_alpha",
    "PAPER_TABLES",
    "paper_layout", "paper_predictors", "tables",
]
