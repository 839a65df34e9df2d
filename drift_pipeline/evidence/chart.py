"""Charts from the store, drawn with matplotlib: `drift trends --chart` and the evidence report.

One line per group over the scanned days; a day whose group was not observed is a gap in its line
(matplotlib draws NaN as a break), never a zero, so "not observed" never reads as "compliant".
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CHART_FORMATS = (".png", ".svg", ".html")
MAX_LINES = 12  # more groups than this: the busiest ones are drawn, the legend says how many were left out


def draw(
    path: Path,
    groups: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    by: str,
    title: str,
    xlabel: str = "scan date (UTC)",
    ylabel: str = "findings",
) -> list[str]:
    """Write the chart to ``path`` (its suffix picks the format); returns the groups drawn."""
    import matplotlib

    matplotlib.use("Agg")  # no display here, nor on CI
    matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text: searchable, readable by screen readers
    import matplotlib.pyplot as plt

    totals = {g: sum(r["counts"][g] or 0 for r in rows) for g in groups}
    drawn = sorted(groups, key=lambda g: (-totals[g], g))[:MAX_LINES]
    days = [r["scan_date"] for r in rows]
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=100)
    try:
        for group in drawn:
            values = [float("nan") if r["counts"][group] is None else r["counts"][group] for r in rows]
            ax.plot(days, values, marker="o", markersize=3, linewidth=1.5, label=group)
        left_out = len(groups) - len(drawn)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if drawn:
            ax.legend(title=f"by {by}" + (f" ({left_out} more not drawn)" if left_out else ""), fontsize="small")
        fig.autofmt_xdate()
        fig.tight_layout()
        suffix = path.suffix.lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".html":
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg")
            page = (
                f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
                f"<body>\n{buffer.getvalue()}\n<p>Gaps: days the domain was not observed.</p></body></html>\n"
            )
            path.write_text(page, encoding="utf-8")
        else:
            fig.savefig(path, format=suffix.lstrip("."))
    finally:
        plt.close(fig)
    return drawn
