"""Comparisons -> report folders: a CSV for every table, charts (PNG) and a self-contained HTML page.

``write_report(folder, ...)`` writes::

    articles.csv    the article table (mixes per article, see ``scoring``)
    passages.csv    the passage table
    mixes.csv       mixes per unit with bootstrap intervals (see ``comparison``)
    distances.csv   pairwise Jensen-Shannon distances, with interval and permutation p-value
    evidence.csv    the strongest passages per unit and frame
    trend.csv       (with ``over``) mixes per group and period of publication
    chart.png       stacked bars of the mixes, and each share with its interval
    trend.png       (with ``over``) each frame's share over time, a line per group, its interval shaded
    report.html     everything above in one file (the charts embedded), opens in any browser

Past ``MAX_CHART_UNITS`` units the page stays light: the chart shows the groups (the outlets of the
articles, where every article has one, and all units pooled) and the spread of the units' shares
instead of a bar per unit, the page shows the strongest evidence per frame rather than per unit and at
most ``MAX_HTML_ROWS`` distances; the CSVs keep everything.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pandas as pd

from framing.codebook import NONE_LABEL, Codebook
from framing.comparison import ARTICLE, Comparison
from framing.tables import stata_names as stata_safe
from framing.tables import write_table, write_text_atomic

MAX_CHART_UNITS = 40
MAX_HTML_ROWS = 100
_TICK_FORMATS = {"week": "%d %b\n%Y", "month": "%b\n%Y", "year": "%Y"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    _pyplot().close(figure)
    return buffer.getvalue()


def _stacked_bars(axis, mixes: pd.DataFrame, codebook: Codebook, title: str) -> None:
    labels = codebook.frame_names + [NONE_LABEL]
    units = [str(u) for u in mixes["unit"]]
    left = [0.0] * len(units)
    for label in labels:
        values = mixes[f"share_{label}"].tolist()
        axis.barh(units, values, left=left, color=codebook.colors[label], label=label, edgecolor="white", linewidth=0.5)
        for i, value in enumerate(values):
            if value >= 0.07:
                axis.text(left[i] + value / 2, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color="white" if label != NONE_LABEL else "black")
        left = [a + b for a, b in zip(left, values)]
    axis.set_xlim(0, 1)
    axis.invert_yaxis()
    axis.set_xlabel("share of the text (weighted by passage length)")
    axis.set_title(title)


def _frame_legend(figure, axis) -> None:
    """The frames' legend below the whole figure (a constrained layout makes room for it), where it
    covers neither the bars nor the axis label, whatever the number of units."""
    handles, names = axis.get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8, frameon=False)


def mix_chart(comparison: Comparison, codebook: Codebook) -> bytes:
    """PNG: left, each unit's mix as a stacked bar; right, every share with its interval."""
    plt = _pyplot()
    labels = codebook.frame_names + [NONE_LABEL]
    mixes = comparison.mixes
    units = [str(u) for u in mixes["unit"]]
    figure, (bars, intervals) = plt.subplots(1, 2, figsize=(12, max(2.8, 0.55 * len(units) + 1.8)), gridspec_kw={"width_ratios": [1.2, 1]}, layout="constrained")
    _stacked_bars(bars, mixes, codebook, f"Framing mix by {comparison.by}")
    _frame_legend(figure, bars)
    step = 0.8 / max(1, len(units))
    for i, unit in enumerate(units):
        row = mixes.iloc[i]
        ys = [k + (i - (len(units) - 1) / 2) * step for k in range(len(labels))]
        xs = [row[f"share_{label}"] for label in labels]
        lows = [row[f"share_{label}"] - row[f"low_{label}"] for label in labels]
        highs = [row[f"high_{label}"] - row[f"share_{label}"] for label in labels]
        intervals.errorbar(xs, ys, xerr=[lows, highs], fmt="o", markersize=4, capsize=2, label=unit)
    intervals.set_yticks(range(len(labels)), labels)
    intervals.invert_yaxis()
    intervals.set_xlim(0, 1)
    intervals.set_xlabel(f"share with {comparison.confidence:.0%} bootstrap interval")
    intervals.legend(fontsize=7, frameon=False, loc="lower right")
    intervals.grid(axis="x", alpha=0.3)
    return _png(figure)


def chart_groups(comparison: Comparison, articles: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The bars of the overview chart (more than MAX_CHART_UNITS units): all units pooled, and, when
    comparing articles that all have an outlet (at most MAX_CHART_UNITS of them), each outlet's pooled
    mix. Columns ``unit`` and ``share_<x>``; a pooled share is the length-weighted mean of the articles'."""
    from framing.comparison import natural_order
    from framing.scoring import share_columns

    shares = share_columns(codebook)
    weighted = articles[shares].mul(articles["n_words"], axis=0)
    rows = [{"unit": f"all {len(comparison.mixes)} {comparison.by}s", **(weighted.sum() / articles["n_words"].sum()).to_dict()}]
    outlets = articles["outlet"].fillna("").astype(str)
    if comparison.by == ARTICLE and (outlets != "").all() and outlets.nunique() <= MAX_CHART_UNITS:
        pooled = weighted.groupby(outlets).sum().div(articles["n_words"].groupby(outlets).sum(), axis=0)
        rows += [{"unit": outlet, **pooled.loc[outlet].to_dict()} for outlet in natural_order(pooled.index)]
    return pd.DataFrame(rows)


def overview_chart(comparison: Comparison, articles: pd.DataFrame, codebook: Codebook) -> bytes:
    """PNG for many units: left, the pooled mixes of ``chart_groups``; right, the spread of the units' shares per frame."""
    plt = _pyplot()
    labels = codebook.frame_names + [NONE_LABEL]
    groups = chart_groups(comparison, articles, codebook)
    figure, (bars, spread) = plt.subplots(1, 2, figsize=(12, max(3.0, 0.45 * len(groups) + 2.0)), gridspec_kw={"width_ratios": [1.2, 1]}, layout="constrained")
    _stacked_bars(bars, groups, codebook, f"Pooled framing mix ({len(comparison.mixes)} {comparison.by}s)")
    _frame_legend(figure, bars)
    boxes = spread.boxplot([comparison.mixes[f"share_{label}"] for label in labels], orientation="horizontal", patch_artist=True, widths=0.6)
    for box, label in zip(boxes["boxes"], labels):
        box.set_facecolor(codebook.colors[label])
        box.set_alpha(0.6)
    spread.set_yticks(range(1, len(labels) + 1), labels)
    spread.invert_yaxis()
    spread.set_xlim(0, 1)
    spread.set_xlabel(f"share in each {comparison.by} (box: middle half, line: median)")
    spread.grid(axis="x", alpha=0.3)
    return _png(figure)


def trend_chart(comparison: Comparison, codebook: Codebook) -> bytes:
    """PNG: a panel per frame (and none), its share over the periods, a line per group with its interval shaded."""
    import matplotlib.dates as mdates

    plt = _pyplot()
    labels = codebook.frame_names + [NONE_LABEL]
    trend = comparison.trend
    group_column = trend.columns[0]
    ticks = pd.to_datetime(pd.Series(sorted(trend["period"].unique())))
    figure, axes = plt.subplots(1, len(labels), figsize=(3.1 * len(labels), 3.6), sharey=True)
    for axis, label in zip(axes, labels):
        for group, rows in trend.groupby(group_column, sort=False):
            when = pd.to_datetime(rows["period"])
            line, = axis.plot(when, rows[f"share_{label}"], marker="o", markersize=3, label=group)
            axis.fill_between(when, rows[f"low_{label}"], rows[f"high_{label}"], color=line.get_color(), alpha=0.15, linewidth=0)
        axis.set_title(label, color=codebook.colors[label], fontsize=10)
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
        axis.set_xticks(ticks[:: max(1, len(ticks) // 4)])
        axis.xaxis.set_major_formatter(mdates.DateFormatter(_TICK_FORMATS[comparison.over]))
        axis.tick_params(axis="x", labelsize=8)
    axes[0].set_ylabel(f"share, {comparison.confidence:.0%} interval shaded")
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="lower center", ncol=min(len(names), 6), fontsize=8, frameon=False)
    figure.suptitle(f"Framing mix by {comparison.over} of publication" + (f", per {group_column}" if group_column != "group" else ""), fontsize=11)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    return _png(figure)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; } th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } .frame { font-weight: 600; } .muted { color: #666; font-size: 0.9em; } img { max-width: 100%; } .warning { color: #a33; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="muted">Generated by <code>framing compare</code> with the {{ model_family }} model (codebook <code>{{ codebook.name }}</code> {{ codebook.version }}).
Shares are weighted by passage length and sum to 1; intervals are {{ "%.0f" % (confidence * 100) }}% bootstrap percentile intervals
({{ n_bootstrap }} resamples{{ " of passages" if by == "article" else ": articles within each group, then passages within each article" }}).</p>
{% for warning in warnings %}<p class="warning">Warning: {{ warning }}</p>{% endfor %}
<img alt="{{ "stacked bar chart of the framing mix of each " ~ by if not large else "pooled framing mixes and the spread of the shares of " ~ mixes|length ~ " " ~ by ~ "s" }}" src="data:image/png;base64,{{ chart }}">
{% if trend_chart %}<h2>Over time</h2>
<img alt="line chart of each frame's share by {{ over }}" src="data:image/png;base64,{{ trend_chart }}">
<p class="muted">Each point is the mix of the articles published in that {{ over }} (trend.csv has the numbers and intervals).</p>{% endif %}
<h2>Mix by {{ by }}</h2>
<table><tr><th>{{ by }}</th><th>articles</th><th>passages</th>{% for label in labels %}<th>{{ label }}</th>{% endfor %}<th>dominant</th></tr>
{% for row in mixes %}<tr><td>{{ row.unit }}</td><td>{{ row.n_articles }}</td><td>{{ row.n_passages }}</td>
{% for label in labels %}<td>{{ "%.2f" % row["share_" ~ label] }} <span class="muted">[{{ "%.2f" % row["low_" ~ label] }}, {{ "%.2f" % row["high_" ~ label] }}]</span></td>{% endfor %}
<td>{{ row.dominant_frame }}</td></tr>{% endfor %}</table>
<h2>Distances between mixes</h2>
<p class="muted">Jensen-Shannon distance, base 2: 0 means identical mixes, 1 means no frame in common; with its {{ "%.0f" % (confidence * 100) }}% bootstrap interval
(a distance is never negative, so the interval of two units that do not differ sits above 0) and{% if n_permutations %} the p-value of a permutation test
({{ n_permutations }} shuffles of the {{ "passages" if by == "article" else "articles" }} between the two; small: the mixes differ more than chance would make them){% else %} no permutation test (0 permutations){% endif %}.</p>
{% if pairs_skipped %}<p>{{ mixes|length }} {{ by }}s make {{ "{:,}".format(mixes|length * (mixes|length - 1) // 2) }} pairs: distances are computed only with <code>--all-pairs</code>
(or compare groups, such as <code>--by outlet</code>).</p>{% else %}
{% if distances|length > distances_shown|length %}<p class="muted">The {{ distances_shown|length }} largest of {{ distances|length }} distances; all are in distances.csv.</p>{% endif %}
<table><tr><th>a</th><th>b</th><th>distance</th><th>interval</th><th>p</th></tr>{% for row in distances_shown %}<tr><td>{{ row.unit_a }}</td><td>{{ row.unit_b }}</td>
<td>{{ "%.3f" % row.jensen_shannon }}</td><td>[{{ "%.3f" % row.low }}, {{ "%.3f" % row.high }}]</td><td>{{ "%.3f" % row.p_value if row.p_value == row.p_value else "" }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Evidence</h2>
<p class="muted">{% if large %}For each frame, the passages of all {{ mixes|length }} {{ by }}s that carry it most strongly (per {{ by }} in evidence.csv).{% else %}For each {{ by }} and frame, the passages that carry the frame most strongly.{% endif %}</p>
<table><tr><th>{{ by }}</th><th>frame</th><th>p</th><th>passage</th></tr>
{% for row in evidence %}<tr><td>{{ row.unit }}</td><td class="frame" style="color: {{ colors[row.frame] }}">{{ row.frame }}</td><td>{{ "%.2f" % row.probability }}</td>
<td>{{ row.text }} <span class="muted">({{ row.article_id }}, passage {{ row.passage_index }}, characters {{ row.start }}-{{ row.end }})</span></td></tr>{% endfor %}</table>
<h2>Frames</h2>
<dl>{% for frame in codebook.frames %}<dt class="frame" style="color: {{ colors[frame.name] }}">{{ frame.name }}</dt><dd>{{ frame.definition }}</dd>{% endfor %}
<dt class="frame">none</dt><dd>{{ codebook.none_definition }}</dd></dl>
<p class="muted">Tables: {% for name in files %}<a href="{{ name }}">{{ name }}</a> {% endfor %}</p>
</body></html>
"""


def write_report(folder: str | Path, comparison: Comparison, articles: pd.DataFrame, passages: pd.DataFrame, codebook: Codebook, model_family: str,
                 title: str, stata_names: bool = False) -> dict[str, Path]:
    """Write the report folder (see the module docstring). With ``stata_names``, the CSVs' column names are
    ones Stata accepts as they are (``share_ideological_bloc``; see ``tables.stata_names``)."""
    import jinja2

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "articles.csv": articles, "passages.csv": passages, "mixes.csv": comparison.mixes,
        "distances.csv": comparison.distances, "evidence.csv": comparison.evidence,
    }
    if comparison.trend is not None:
        tables["trend.csv"] = comparison.trend
    written = {name: write_table(table.set_axis(stata_safe(table.columns), axis=1) if stata_names else table, folder / name) for name, table in tables.items()}
    large = len(comparison.mixes) > MAX_CHART_UNITS
    charts = {"chart.png": overview_chart(comparison, articles, codebook) if large else mix_chart(comparison, codebook)}
    if comparison.trend is not None:
        charts["trend.png"] = trend_chart(comparison, codebook)
    for name, png in charts.items():
        written[name] = write_text_atomic(folder / name, png)
    evidence = comparison.evidence
    if large:
        evidence = evidence.sort_values("probability", ascending=False, kind="stable").groupby("frame", sort=False).head(evidence["rank"].max() if len(evidence) else 0)
    distances = comparison.distances
    shown = distances.nlargest(MAX_HTML_ROWS, "jensen_shannon") if len(distances) > MAX_HTML_ROWS else distances
    encoded = {name: base64.b64encode(png).decode() for name, png in charts.items()}
    html = jinja2.Environment(autoescape=True).from_string(_TEMPLATE).render(
        title=title, model_family=model_family, codebook=codebook, by=comparison.by, confidence=comparison.confidence,
        n_bootstrap=comparison.n_bootstrap, n_permutations=comparison.n_permutations, chart=encoded["chart.png"], trend_chart=encoded.get("trend.png"),
        over=comparison.over, labels=codebook.frame_names + [NONE_LABEL], mixes=comparison.mixes.to_dict("records"), large=large,
        distances=distances.to_dict("records"), distances_shown=shown.to_dict("records"), pairs_skipped=comparison.pairs_skipped,
        evidence=evidence.to_dict("records"), colors=codebook.colors, files=list(tables), warnings=comparison.warnings,
    )
    written["report.html"] = write_text_atomic(folder / "report.html", html)
    return written
