"""``deltaflow report``: every experiment on one self-contained HTML page.

Each experiment runs (``experiments.run_experiment``) into ``out/<name>/``; the page
then embeds each figure as a base64 ``data:`` URI and prints the findings and tables,
so the single file opens offline, without the folders beside it.
"""

from __future__ import annotations

import base64
import html
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from deltaflow import experiments
from deltaflow.experiments.base import write_text

__all__ = ["build_report", "render_html"]

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1d2330}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2.2em;border-bottom:1px solid #d8dce4;padding-bottom:.2em}
.meta{color:#5b6475}nav a{margin-right:1em}img{max-width:100%;border:1px solid #e3e6ec;border-radius:4px}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #d8dce4;padding:.25em .6em;text-align:right}
th{background:#f2f4f8}td:first-child,th:first-child{text-align:left}caption{text-align:left;font-weight:600;padding:.3em 0}
li{margin:.2em 0}.time{color:#5b6475;font-size:.85em}
"""


def _cell(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(t: dict) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t["columns"])
    rows = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in t["rows"])
    return f"<table><caption>{html.escape(t.get('title', ''))}</caption><tr>{head}</tr>{rows}</table>"


def _section(result: dict, png: Path, seconds: float) -> str:
    name = html.escape(result["name"])
    img = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    findings = "".join(f"<li>{html.escape(f)}</li>" for f in result["findings"])
    tables = "".join(_table(t) for t in result["tables"])
    return (f'<section id="{name}"><h2>{html.escape(result["title"])}</h2>'
            f'<p class="time">deltaflow experiment {name}: {seconds:.1f} s</p>'
            f"<ul>{findings}</ul>"
            f'<img alt="{name} figure" src="data:image/png;base64,{img}">{tables}</section>')


def render_html(sections: list[tuple[dict, Path, float]], quick: bool, seed: int) -> str:
    """The page for (result, figure path, seconds) triples, figures inlined."""
    from deltaflow import __version__

    nav = "".join(f'<a href="#{html.escape(r["name"])}">{html.escape(r["name"])}</a>' for r, _, _ in sections)
    body = "".join(_section(*s) for s in sections)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    grid = "reduced grids (--quick)" if quick else "full grids"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>deltaflow report</title>'
            f"<style>{_CSS}</style></head><body><h1>deltaflow: the classic results, measured</h1>"
            f'<p class="meta">deltaflow {__version__}, NumPy {np.__version__}, Python {platform.python_version()}, '
            f"{html.escape(platform.machine())}, {os.cpu_count()} cores; seed {seed}, {grid}; {when}</p>"
            f"<nav>{nav}</nav>{body}</body></html>")


def build_report(out: Path, names=experiments.NAMES, quick: bool = False, seed: int = 0,
                 on_start: Callable[[str], None] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Run ``names`` into ``out/<name>/`` and write ``out/report.html``; returns its path.

    ``on_start(name)`` is called before each experiment; ``progress(done, total)`` is the
    running experiment's own progress.
    """
    exps = [experiments.get(n) for n in names]  # an unknown name fails before any work
    out = Path(out)
    sections = []
    for exp in exps:
        if on_start is not None:
            on_start(exp.name)
        t0 = time.perf_counter()
        result, _, png = experiments.run_experiment(exp, out / exp.name, quick=quick, seed=seed, progress=progress)
        sections.append((result, png, time.perf_counter() - t0))
    return write_text(render_html(sections, quick, seed), out / "report.html")
