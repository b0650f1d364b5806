"""Figures, each a function that reads a fit (or a check's frame) and returns a matplotlib
Figure."""

from .checks import model_comparison, posterior_predictive, prior_predictive
from .experiment import nudge_effects
from .figures import area_slopes, country_means, rankings, slopes, slopes_grid
from .latent import attenuation, item_curves
from .mediation import mediation_forest, mediation_paths, mediation_shrinkage

__all__ = ["area_slopes", "country_means", "rankings", "slopes", "slopes_grid",
           "prior_predictive", "posterior_predictive", "model_comparison", "item_curves",
           "attenuation",
           "mediation_paths", "mediation_forest", "mediation_shrinkage", "nudge_effects"]
