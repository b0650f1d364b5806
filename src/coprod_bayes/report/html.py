"""A minimal self-contained HTML document: headings, paragraphs, tables, embedded PNGs."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

__all__ = ["HtmlReport"]

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f2f2f2; }
.ok { color: #1a7f37; font-weight: bold; } .bad { color: #c00; font-weight: bold; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 1em; }
img { max-width: 100%; }
"""


class HtmlReport:
    """Collects sections and writes one HTML file with everything embedded."""

    def __init__(self, title: str):
        self.title = title
        self.parts: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str, css: str | None = None) -> None:
        cls = f' class="{css}"' if css else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def verdict(self, headline: str) -> None:
        css = "ok" if headline.startswith("Converged") else "bad"
        self.paragraph(headline, css)

    def table(self, df: pd.DataFrame, index: bool = True, floatfmt: str = "{:.3f}") -> None:
        self.parts.append(df.to_html(index=index, float_format=floatfmt.format, na_rep="",
                                     border=0))

    def figure(self, fig, alt: str) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self.parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}"
                f"</title><style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"
                f"{body}</body></html>")
