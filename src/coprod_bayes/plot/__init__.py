"""Figures, each a function that reads a fit and returns a matplotlib Figure."""

from .figures import country_means, rankings, slopes, slopes_grid

__all__ = ["country_means", "rankings", "slopes", "slopes_grid"]
