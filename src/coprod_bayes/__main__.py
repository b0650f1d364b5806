"""``python -m coprod_bayes`` runs the command line."""

from .cli import app

app()
