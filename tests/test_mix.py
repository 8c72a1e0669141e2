import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from framing.codebook import load_codebook
from framing.comparison import compare
from framing.uncertainty import two_level_bootstrap
from framing.scoring import dominant, mix, passage_weights

CODEBOOK = load_codebook()
FRAMES = CODEBOOK.frame_names


def test_passage_weights_spread_one_unit_over_frames_and_none():
    p = np.array([[0.9, 0.0, 0.0, 0.0], [0.9, 0.9, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    w = passage_weights(p)
    assert w.shape == (4, 5)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w[0], [0.9, 0, 0, 0, 0.1])
    np.testing.assert_allclose(w[1, :2], [0.9 / 1.81, 0.9 / 1.81])
    np.testing.assert_allclose(w[2], [0, 0, 0, 0, 1])
    np.testing.assert_allclose(w[3], [0.25, 0.25, 0.25, 0.25, 0])


def test_mix_is_weighted_by_passage_length():
    p = np.array([[1.0, 0, 0, 0], [0, 0, 0, 1.0]])
    shares = mix(p, np.array([30, 10]))
    np.testing.assert_allclose(shares, [0.75, 0, 0, 0.25, 0])
    assert dominant(shares, FRAMES) == "sovereignty"


def test_dominant_is_none_only_when_no_frame_has_weight():
    assert dominant(np.array([0, 0, 0, 0, 1.0]), FRAMES) == "none"
    assert dominant(np.array([0.1, 0, 0, 0, 0.9]), FRAMES) == "sovereignty"


def test_mix_of_no_passages_is_an_error():
    with pytest.raises(ValueError):
        mix(np.zeros((0, 4)), np.array([]))


def _passages(rows):
    table = pd.DataFrame(rows, columns=["article_id", "outlet", "passage_index", "n_words", *CODEBOOK.probability_columns])
    table["start"], table["end"], table["text"] = 0, 1, "x"
    return table


def test_compare_intervals_contain_the_estimate_and_distances_are_symmetric_js():
    rows = [("a", "o1", i, 20 + i, 0.9, 0.1, 0.0, 0.2) for i in range(6)] + [("b", "o2", i, 25, 0.1, 0.8, 0.3, 0.0) for i in range(5)]
    comparison = compare(_passages(rows), CODEBOOK, np.full(4, 0.5), n_bootstrap=500)
    for row in comparison.mixes.to_dict("records"):
        total = sum(row[f"share_{x}"] for x in FRAMES + ["none"])
        assert total == pytest.approx(1.0, abs=1e-3)
        for x in FRAMES + ["none"]:
            assert row[f"low_{x}"] - 1e-9 <= row[f"share_{x}"] <= row[f"high_{x}"] + 1e-9
    assert comparison.mixes.set_index("unit").loc["a", "dominant_frame"] == "sovereignty"
    assert comparison.mixes.set_index("unit").loc["b", "dominant_frame"] == "humanitarian"
    shares = comparison.mixes.set_index("unit")[[f"share_{x}" for x in FRAMES + ["none"]]].to_numpy()
    assert comparison.distances["jensen_shannon"].iloc[0] == pytest.approx(jensenshannon(shares[0], shares[1], base=2), abs=1e-3)


def test_evidence_lists_passages_over_threshold_strongest_first():
    rows = [("a", "", 0, 30, 0.95, 0, 0, 0), ("a", "", 1, 30, 0.6, 0, 0, 0), ("a", "", 2, 30, 0.2, 0, 0, 0.7)]
    comparison = compare(_passages(rows), CODEBOOK, np.full(4, 0.5), n_bootstrap=200)
    sov = comparison.evidence[comparison.evidence["frame"] == "sovereignty"]
    assert sov["passage_index"].tolist() == [0, 1]
    assert set(comparison.evidence["frame"]) == {"sovereignty", "economic"}


def test_identical_units_have_zero_distance():
    rows = [("a", "", 0, 30, 0.9, 0, 0, 0), ("b", "", 0, 30, 0.9, 0, 0, 0)]
    comparison = compare(_passages(rows), CODEBOOK, np.full(4, 0.5), n_bootstrap=200)
    assert comparison.distances["jensen_shannon"].iloc[0] == pytest.approx(0.0, abs=1e-6)


def test_outlet_bootstrap_resamples_whole_articles():
    # One outlet with two articles of opposite framing: resampling articles gives a wide interval.
    rows = [("a1", "o", i, 30, 1.0, 0, 0, 0) for i in range(10)] + [("a2", "o", i, 30, 0, 0, 0, 1.0) for i in range(10)]
    comparison = compare(_passages(rows), CODEBOOK, np.full(4, 0.5), by="outlet", n_bootstrap=1000)
    row = comparison.mixes.iloc[0]
    assert row["n_articles"] == 2
    assert row["low_sovereignty"] == pytest.approx(0.0, abs=1e-9) and row["high_sovereignty"] == pytest.approx(1.0, abs=1e-9)


def test_bootstrap_of_identical_articles_of_identical_passages_has_no_width():
    weighted = np.tile([10.0, 0, 0, 0, 0], (6, 1))
    resampled = two_level_bootstrap(weighted, np.full(6, 10.0), np.array([0, 0, 1, 1, 2, 2]), 200, np.random.default_rng(0))
    np.testing.assert_allclose(resampled, np.tile([1.0, 0, 0, 0, 0], (200, 1)))


@pytest.mark.parametrize("n_units", [1, 2, 4, 8])
def test_the_chart_legend_covers_neither_the_bars_nor_the_axis_label(monkeypatch, n_units):
    from framing import reports

    rows = [(f"u{u}", "o", i, 20, 0.2 + 0.05 * u, 0.3, 0.1, 0.2) for u in range(n_units) for i in range(3)]
    comparison = compare(_passages(rows), CODEBOOK, np.full(4, 0.5), n_bootstrap=100)
    figures = []
    monkeypatch.setattr(reports, "_png", lambda figure: figures.append(figure) or b"")
    reports.mix_chart(comparison, CODEBOOK)
    figure = figures[0]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legend = figure.legends[0].get_window_extent(renderer)
    bars = figure.axes[0]
    for covered in (bars.xaxis.label.get_window_extent(renderer), bars.get_window_extent(renderer), *[t.get_window_extent(renderer) for t in bars.get_xticklabels()]):
        assert not legend.overlaps(covered)
    assert legend.y0 >= 0 and legend.x0 >= 0 and legend.x1 <= figure.bbox.width
