"""Survey data: codebooks, reading, validation and the calibrated simulator."""

from .codebook import Codebook, builtin_codebooks, load_codebook
from .read import read_frame, read_survey
from .survey import Survey

__all__ = ["Codebook", "builtin_codebooks", "load_codebook", "read_frame", "read_survey", "Survey"]
