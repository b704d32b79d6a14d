"""The evaluation figures read at a glance: a colour per model with the champion highlighted,
plain-language segment labels, axis labels inside the figure."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pandas as pd

from retail_forecasting.pipelines.evaluation.nodes import (
    CHAMPION_COLOR,
    EvaluationParams,
    plot_error_by_segment,
    plot_feature_importance,
)

MODELS = [
    "naive",
    "seasonal_naive",
    "holiday_aligned_seasonal_naive",
    "moving_average",
    "seasonal_average",
    "hybrid",
    "svd_decomposition",
    "ridge",
    "lightgbm",
    "catboost",
    "xgboost",
    "ensemble",
]


def report() -> pd.DataFrame:
    rows = []
    for i, model in enumerate(MODELS):
        for segment, values in (("store_type", ["A", "B", "C"]), ("is_holiday", [False, True])):
            for j, value in enumerate(values):
                rows.append(
                    {
                        "model": model,
                        "cutoff": "all",
                        "segment": segment,
                        "segment_value": value,
                        "wmae": 1000 + 100 * i + 10 * j,
                    }
                )
    return pd.DataFrame(rows)


def champion(name: str) -> dict:
    families = {m: "baseline" for m in MODELS[:6]} | {m: "learner" for m in MODELS[6:]}
    return {"champion": name, "families": families, "best_baseline": "seasonal_naive"}


def test_error_by_segment_gives_each_model_its_colour_and_highlights_the_champion():
    figure = plot_error_by_segment(report(), champion("ensemble"))
    legend = figure.legends[0]
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [*MODELS[:-1], "ensemble (champion)"]
    colours = [mcolors.to_hex(h.get_facecolor()) for h in legend.legend_handles]
    assert len(set(colours)) == len(MODELS), "12 models, 12 colours"
    assert colours[-1] == mcolors.to_hex(CHAMPION_COLOR) and colours.count(colours[-1]) == 1
    # the seasonal naive is not the champion's colour (both were the same orange)
    assert colours[MODELS.index("seasonal_naive")] != colours[-1]
    for ax in figure.axes:
        bars = [b for c in ax.containers for b in c]
        red = [
            b for b in bars if mcolors.to_hex(b.get_facecolor()) == mcolors.to_hex(CHAMPION_COLOR)
        ]
        assert red and all(mcolors.to_hex(b.get_edgecolor()) == "#000000" for b in red)
        assert len(red) == len(ax.get_xticklabels())  # one champion bar per segment value
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["Test WMAE by store type", "Test WMAE in holiday and other weeks"]
    assert not any("is holiday" in t for t in titles)
    assert [t.get_text() for t in figure.axes[1].get_xticklabels()] == [
        "other weeks",
        "holiday weeks",
    ]


def test_error_by_segment_when_a_baseline_is_champion():
    figure = plot_error_by_segment(report(), champion("seasonal_naive"))
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels[1] == "seasonal_naive (champion)" and "ensemble" in labels


class Residual:
    target = "residual"

    def feature_importance(self) -> pd.Series:
        return pd.Series({"seasonal_effect_52": 5.0, "dept": 3.0, "level_13": 1.0, "unused": 0.0})


def test_feature_importance_keeps_its_axis_labels_inside_the_figure_and_drops_unused_features():
    figure = plot_feature_importance(
        EvaluationParams(), lightgbm=Residual(), catboost=Residual(), xgboost=Residual()
    )
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width = figure.bbox.width
    for ax in figure.axes:
        label = ax.xaxis.label
        assert label.get_text().endswith("(target: sales - decomposition_base)")
        extent = label.get_window_extent(renderer)
        assert extent.x0 >= 0 and extent.x1 <= width, (ax.get_title(), extent, width)
        assert [t.get_text() for t in ax.get_yticklabels()] == [
            "level_13",
            "dept",
            "seasonal_effect_52",
        ]


def test_error_by_segment_legend_fits_in_the_figure():
    figure = plot_error_by_segment(report(), champion("ensemble"))
    figure.canvas.draw()
    extent = figure.legends[0].get_window_extent(figure.canvas.get_renderer())
    assert extent.x0 >= 0 and extent.y0 >= 0
    assert extent.x1 <= figure.bbox.width and extent.y1 <= figure.bbox.height
    for ax in figure.axes:  # the legend does not cover the axes or their labels
        assert ax.get_tightbbox(figure.canvas.get_renderer()).y0 >= extent.y1 - 1
