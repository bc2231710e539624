"""Publication figures with matplotlib (the 'analysis' extra): reproducible PNG and SVG files.

Files are byte-identical between runs with the same matplotlib: the Agg backend, no creation date or
software stamp in the metadata, a fixed SVG id salt, glyphs drawn as paths.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from poi_service.analysis.official import OfficialCount, dated_timeline
from poi_service.config import PROJECT_ROOT

FIGURES_DIR = PROJECT_ROOT / "maps" / "figures"
PLOT_CRS = "EPSG:25832"  # ETRS89 / UTM 32N: Germany without the stretch of plain lon/lat
STYLE: dict[str, Any] = {
    "svg.hashsalt": "poi-service",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
CREDIT_DATA = (
    "Data: © GeoBasis-DE / BKG 2021 (dl-de/by-2-0); © Destatis 2023, GV-ISys (dl-de/by-2-0); poi-service"
)


def use_style() -> None:
    """Applies the reproducible figure style to matplotlib's global settings."""
    plt.rcParams.update(cast(Any, STYLE))


def figures_dir() -> Path:
    """Where figures go: $POI_FIGURES_DIR (the tests use a temporary one), else maps/figures/."""
    return Path(os.environ.get("POI_FIGURES_DIR") or FIGURES_DIR)


def save_figure(fig: Figure, stem: str, out_dir: Path | None = None) -> list[Path]:
    """Writes stem.png and stem.svg reproducibly into out_dir (default figures_dir()); returns both paths."""
    out_dir = out_dir or figures_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(cast(Any, STYLE)):
        png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
        fig.savefig(png, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return [png, svg]


def plot_timeline(
    cumulative: pd.DataFrame,
    official: tuple[OfficialCount, ...],
    title: str,
    unknown_until: date | None = None,
) -> Figure:
    """The dataset's cumulative members (band between earliest and latest reading of partial dates)
    against the official counts (points; the undated figure as a mark on the axis). With unknown_until, the
    time from the last dated official count to that day is drawn as unknown (hatched), not carried forward."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    idx = cumulative.index
    ax.fill_between(
        idx,
        cumulative["latest"],
        cumulative["earliest"],
        step="post",
        color="#9ecae1",
        alpha=0.6,
        label="dataset: range from month/year-only join dates",
    )
    ax.step(
        idx,
        cumulative["latest"],
        where="post",
        color="#08519c",
        label="dataset: surely joined (end of the known period)",
    )
    dated = [(np.datetime64(c.when, "D"), c) for c in dated_timeline(official) if c.when is not None]
    ax.plot(
        np.array([d for d, _ in dated]),
        [c.count for _, c in dated],
        "o-",
        color="#cb181d",
        label="official Bündnis count",
    )
    for when, c in dated:
        ax.annotate(
            f"{'~' if c.approximate else ''}{c.count}",
            (when, c.count),  # type: ignore[arg-type]
            textcoords="offset points",
            xytext=(-6, 6),
            fontsize=8,
            color="#cb181d",
        )
    for c in (
        c for c in official if c.when is None
    ):  # a date-less figure: a mark at the axis, no line in time
        ax.axhline(c.count, xmax=0.03, color="#cb181d", linestyle="-", linewidth=2)
        ax.text(
            0.035,
            c.count,
            f"undated: {c.count}",
            color="#cb181d",
            fontsize=8,
            va="center",
            transform=ax.get_yaxis_transform(),
        )
    if unknown_until is not None and dated:
        # matplotlib takes numpy dates on a date axis; its stubs only know floats
        start: Any = dated[-1][0]
        stop: Any = np.datetime64(unknown_until, "D")
        ax.axvspan(
            start,
            stop,
            facecolor="#f0f0f0",
            edgecolor="#999999",
            hatch="//",
            linewidth=0,
            label=f"after {dated[-1][1].when:%Y-%m}: no official count (unknown)",
        )
        ax.set_xlim(right=stop)
    undated = int(cumulative["undated"].iloc[0]) if len(cumulative) else 0
    ax.set(title=title, ylabel="members (cumulative)", xlabel="joined (council decision)")
    ax.text(
        0.99,
        0.02,
        f"{undated} dataset members without a join date (not shown)",
        transform=ax.transAxes,
        ha="right",
        fontsize=8,
        color="#444",
    )
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.92), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_choropleths(states: gpd.GeoDataFrame, columns: dict[str, str], title: str) -> Figure:
    """One choropleth panel per column (column -> panel title) of the state polygons."""
    shown = states.to_crs(PLOT_CRS)
    fig, axes = plt.subplots(1, len(columns), figsize=(5 * len(columns), 6.2))
    axes_list: list[Axes] = list(axes) if len(columns) > 1 else [axes]
    for ax, (column, label) in zip(axes_list, columns.items(), strict=True):
        shown.plot(
            column=column,
            ax=ax,
            cmap="Blues",
            edgecolor="#555",
            linewidth=0.5,
            legend=True,
            legend_kwds={"shrink": 0.6, "label": label},
        )
        top = float(shown[column].max()) or 1.0
        for _, row in shown.iterrows():
            point = row.geometry.representative_point()
            value = float(row[column])
            text = f"{value:g}" if value.is_integer() else f"{value:.2f}"
            colour = "white" if value > 0.6 * top else "black"  # readable on the darkest fills
            ax.annotate(text, (point.x, point.y), ha="center", va="center", fontsize=7, color=colour)
        ax.set_axis_off()
        ax.set_title(label)
    fig.suptitle(title)
    fig.text(0.01, 0.01, CREDIT_DATA, fontsize=6, color="#666")
    fig.tight_layout()
    return fig


def plot_network(
    states: gpd.GeoDataFrame,
    network: gpd.GeoDataFrame,
    members: gpd.GeoDataFrame,
    spokes: gpd.GeoDataFrame,
    title: str,
) -> Figure:
    """State outlines, each member's line to its nearest coordinator (thin), the coordinator network
    (thick) and the member points."""
    fig, ax = plt.subplots(figsize=(6.5, 8))
    states.to_crs(PLOT_CRS).plot(ax=ax, color="#f2efe9", edgecolor="#999", linewidth=0.5)
    gpd.GeoSeries(spokes["line"], crs=spokes.crs).to_crs(PLOT_CRS).plot(ax=ax, color="#9ecae1", linewidth=0.7)
    network.to_crs(PLOT_CRS).plot(ax=ax, color="#cb181d", linewidth=2)
    pts = members.to_crs(PLOT_CRS)
    pts[pts["role"] == "member"].plot(ax=ax, color="#08519c", markersize=10)
    hubs = pts[pts["role"] != "member"]
    hubs.plot(ax=ax, color="#cb181d", markersize=40, marker="s")
    for _, row in hubs.iterrows():
        ax.annotate(
            str(row["name"]),
            (row.geometry.x, row.geometry.y),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
        )
    ax.set_axis_off()
    fig.suptitle(title)
    fig.text(0.01, 0.01, CREDIT_DATA, fontsize=6, color="#666")
    fig.tight_layout()
    return fig


def plot_distance_by_state(summary: pd.DataFrame, near_column: str, title: str) -> Figure:
    """Bars: population-weighted median and 90th-percentile distance to the nearest member, by state."""
    data = summary.drop(index="DE").sort_values("median_km")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    y = range(len(data))
    ax.barh(list(y), data["p90_km"], color="#c6dbef", label="90 % of residents live closer than")
    ax.barh(list(y), data["median_km"], color="#2171b5", label="median (population-weighted)")
    near = near_column.removeprefix("share_within_").replace("km", " km")
    labels = [
        f"{s} ({share:.0%} ≤ {near})" for s, share in zip(data["state"], data[near_column], strict=True)
    ]
    ax.set_yticks(list(y), labels)
    ax.set_xlabel("distance to the nearest member (km, geodesic)")
    fig.suptitle(title)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
