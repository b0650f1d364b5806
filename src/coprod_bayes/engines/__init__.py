"""Engines turn a Spec and a Survey into a PyMC model (only engines import PyMC)."""
