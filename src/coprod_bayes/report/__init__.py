"""The main job: every built-in analysis on a survey, written as a self-contained HTML report."""

from .replicate import replicate

__all__ = ["replicate"]
