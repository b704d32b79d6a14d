"""Nodes of the ``evaluation`` pipeline: the champion chosen on the backtest, every model scored
on the test window by the same engine (:func:`retail_forecasting.forecasting.backtest.score`).
"""

from __future__ import annotations

import logging
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.aws.quality_gate import GateConfig
from retail_forecasting.forecasting import zoo
from retail_forecasting.forecasting.backtest import KEY_COLUMNS, overall, score
from retail_forecasting.forecasting.baselines import COMPONENTS, BaselineParams
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.forecasting.contract import KEYS
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import FittedLearner
from retail_forecasting.metrics import to_mlflow_metrics
from retail_forecasting.model_registry import ChampionPyfunc

# Figures are only saved (MatplotlibDataset), never shown: no GUI backend, also headless.
matplotlib.use("Agg")

logger = logging.getLogger(__name__)

SALES_UNIT = 1e6  # figures show millions of USD


def assemble_test_forecasts(
    baseline_forecasts: pd.DataFrame, *learner_forecasts: pd.DataFrame
) -> pd.DataFrame:
    """One row per test (store, dept, date) with every model's forecast; every model must cover
    exactly the same rows (a missing or extra row is an error, not a silent subset)."""
    frame = baseline_forecasts
    for forecasts in learner_forecasts:
        merged = frame.merge(forecasts, on=KEYS, how="outer", validate="one_to_one", indicator=True)
        unmatched = merged["_merge"] != "both"
        if unmatched.any():
            counts = merged.loc[unmatched, "_merge"].value_counts().to_dict()
            raise ValueError(f"models do not cover the same test rows: {counts}")
        frame = merged.drop(columns="_merge")
    return frame.sort_values(KEYS, ignore_index=True)


def select_champion(
    baseline_summary: dict[str, Any], *learner_summaries: dict[str, Any]
) -> dict[str, Any]:
    """The original project's rule (the pre-Kedro ETL and models this project re-implements,
    docs/architecture.md), on the backtest (never on the test window): the best learner
    (lowest backtest WMAE, the ensemble included) is champion only if it beats the best baseline
    on both WMAE and RMSE; otherwise the best baseline is."""
    baselines = baseline_summary["models"]
    best_baseline = baseline_summary["best_baseline"]
    learners = {name: m for summary in learner_summaries for name, m in summary.items()}
    best_learner = min(learners, key=lambda name: learners[name]["wmae"]) if learners else None
    reference = baselines[best_baseline]
    beats = best_learner is not None and all(
        learners[best_learner][metric] < reference[metric] for metric in ("wmae", "rmse")
    )
    champion = best_learner if beats else best_baseline
    decision = {
        "champion": champion,
        "best_baseline": best_baseline,
        "best_learner": best_learner,
        "learner_beats_baseline": bool(beats),
        "families": {**{n: "baseline" for n in baselines}, **{n: _family(n) for n in learners}},
        "backtest": {**{n: baselines[n] for n in baselines}, **learners},
    }
    if "backtest_design" in baseline_summary:  # the design every model was backtested on
        decision["backtest_design"] = baseline_summary["backtest_design"]
    if beats:
        logger.info("Champion %s: beats %s on backtest WMAE and RMSE", champion, best_baseline)
    else:
        logger.warning(
            "Champion is the baseline %s: the best learner %s does not beat it on both backtest "
            "WMAE and RMSE",
            best_baseline,
            best_learner,
        )
    return decision


def _family(model: str) -> str:
    if model == "ensemble":
        return "ensemble"
    return "statistical" if model in zoo.names("statistical") else "learner"


def evaluate_test_window(
    mo_test_forecasts: pd.DataFrame, champion: dict[str, Any], horizon_weeks: int
) -> tuple[dict[str, Any], pd.DataFrame, dict]:
    """Score every model on every row of the test window, overall and by segment.

    Returns ``metrics.json`` (``horizon_weeks``, ``test_start``, ``test_end``, ``champion``,
    ``models: {name: {wmae, mae, rmse}}`` — the champion also listed as ``champion`` — and the
    ``backtest_design`` the champion was chosen on), the
    segmented report table and the metrics in MLflow's format.
    """
    start, end = mo_test_forecasts["date"].min(), mo_test_forecasts["date"].max()
    span = (end - start).days // 7 + 1
    if span > horizon_weeks:
        raise ValueError(
            f"the test window spans {span} weeks, more than horizon_weeks={horizon_weeks}"
        )
    models = [c for c in mo_test_forecasts.columns if c not in KEY_COLUMNS]
    scores = score(mo_test_forecasts, models)
    totals = {name: {k: v for k, v in m.items() if k != "n"} for name, m in overall(scores).items()}
    totals["champion"] = dict(totals[champion["champion"]])
    metrics = {
        "horizon_weeks": int(horizon_weeks),
        "test_start": f"{start:%Y-%m-%d}",
        "test_end": f"{end:%Y-%m-%d}",
        "champion": champion["champion"],
        "models": totals,
    }
    if (
        "backtest_design" in champion
    ):  # how the champion was chosen (forecasting.backtest.design_backtest)
        metrics["backtest_design"] = champion["backtest_design"]
    logger.info(
        "Test window %s..%s: champion %s WMAE %.1f",
        metrics["test_start"],
        metrics["test_end"],
        champion["champion"],
        totals["champion"]["wmae"],
    )
    return metrics, scores, to_mlflow_metrics({"test": totals})


def plot_test_forecast(mo_test_forecasts: pd.DataFrame, champion: dict[str, Any]) -> Figure:
    """Total weekly sales over the test window: actual, the best baseline and the champion."""
    shown = list(
        dict.fromkeys([champion["best_baseline"], champion["champion"], champion["best_learner"]])
    )
    shown = [m for m in shown if m]
    totals = mo_test_forecasts.groupby("date")[["actual", *shown]].sum() / SALES_UNIT
    holidays = sorted(mo_test_forecasts.loc[mo_test_forecasts["is_holiday"], "date"].unique())

    fig, ax = plt.subplots(figsize=(11, 5))
    ax.plot(totals.index, totals["actual"], color="black", linewidth=2, label="Actual")
    for style, model in zip(("--", "-.", ":"), shown, strict=False):
        suffix = " (champion)" if model == champion["champion"] else ""
        ax.plot(totals.index, totals[model], linestyle=style, label=f"{model}{suffix}")
    for i, holiday in enumerate(holidays):
        ax.axvline(holiday, color="grey", linestyle=":", label="Holiday week" if i == 0 else None)
    ax.set_title("Total weekly sales over the test window: actual vs forecasts")
    ax.set_xlabel("Week ending (Friday)")
    ax.set_ylabel("Total weekly sales (million USD)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


class QualityGateParams(BaseModel):
    """``evaluation.quality_gate``: the gate before the alias ``challenger`` moves
    (:func:`retail_forecasting.aws.quality_gate.check_registration`, applied by
    ``retail_forecasting.hooks.ChallengerAliasHook``; the SageMaker ConditionStep reads the same
    values)."""

    model_config = ConfigDict(extra="forbid")

    baselines: tuple[str, ...] = Field((*COMPONENTS, "hybrid"), min_length=1)
    metrics: tuple[str, ...] = Field(("wmae",), min_length=1)
    finite_metrics: tuple[str, ...] = ("wmae", "mae", "rmse")
    max_ratio_to_previous: float | None = Field(1.5, ge=1.0, allow_inf_nan=False)

    def gate_config(self) -> GateConfig:
        return GateConfig.from_dict(self.model_dump())


class EvaluationParams(BaseModel):
    """``evaluation`` parameters (``conf/base/parameters_evaluation.yml``)."""

    model_config = ConfigDict(extra="forbid")

    sampled_series: int = Field(
        6, ge=1, description="series shown in the actual-vs-forecast figure"
    )
    top_features: int = Field(15, ge=1)
    seed: int = 0
    quality_gate: QualityGateParams = Field(default_factory=QualityGateParams)


def compare_models(rpt_champion: dict[str, Any], rpt_metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per model: family, backtest and test WMAE/MAE/RMSE side by side, champion flag."""
    rows = []
    for name, family in rpt_champion["families"].items():
        backtest, test = rpt_champion["backtest"][name], rpt_metrics["models"][name]
        rows.append(
            {
                "model": name,
                "family": family,
                **{f"backtest_{k}": backtest[k] for k in ("wmae", "mae", "rmse")},
                **{f"test_{k}": test[k] for k in ("wmae", "mae", "rmse")},
                "champion": name == rpt_champion["champion"],
            }
        )
    return pd.DataFrame(rows).sort_values("backtest_wmae", ignore_index=True)


def extract_champion_forecasts(
    mo_test_forecasts: pd.DataFrame, rpt_champion: dict[str, Any]
) -> pd.DataFrame:
    """The champion's test forecast as a tidy table: store, dept, date, model, forecast, actual."""
    name = rpt_champion["champion"]
    return mo_test_forecasts[[*KEYS, "actual"]].assign(
        model=name, forecast=mo_test_forecasts[name]
    )[[*KEYS, "model", "forecast", "actual"]]


def plot_sampled_series(
    mo_test_forecasts: pd.DataFrame, rpt_champion: dict[str, Any], params: EvaluationParams
) -> Figure:
    """Actual vs the champion and the best baseline for a seeded sample of the larger series."""
    sizes = mo_test_forecasts.groupby(["store", "dept"])["actual"].sum()
    pool = sizes[sizes >= sizes.quantile(0.5)].index
    rng = np.random.default_rng(params.seed)
    chosen = [
        pool[i]
        for i in sorted(rng.choice(len(pool), min(params.sampled_series, len(pool)), replace=False))
    ]
    shown = list(dict.fromkeys([rpt_champion["champion"], rpt_champion["best_baseline"]]))
    cols = 2 if len(chosen) > 1 else 1
    rows = (len(chosen) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3 * rows), squeeze=False)
    for ax, (store, dept) in zip(axes.flat, chosen, strict=False):
        series = mo_test_forecasts[
            (mo_test_forecasts["store"] == store) & (mo_test_forecasts["dept"] == dept)
        ]
        ax.plot(series["date"], series["actual"], color="black", linewidth=2, label="Actual")
        for style, model in zip(("--", ":"), shown, strict=False):
            ax.plot(series["date"], series[model], linestyle=style, label=model)
        ax.set_title(f"Store {store}, dept {dept}")
        ax.set_ylabel("Weekly sales (USD)")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(chosen) :]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="best")
    fig.suptitle("Actual vs forecast over the test window, sampled series")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_error_by_step(report: pd.DataFrame, rpt_champion: dict[str, Any]) -> Figure:
    """Test WMAE by horizon step (weeks after the origin) for the champion, the best baseline
    and every learner."""
    rows = report[(report["segment"] == "step") & (report["cutoff"] == "all")].copy()
    rows["step"] = rows["segment_value"].astype(int)
    shown = [m for m, f in rpt_champion["families"].items() if f != "baseline"] + [
        rpt_champion["best_baseline"]
    ]
    fig, ax = plt.subplots(figsize=(11, 5))
    for model in dict.fromkeys(shown):
        line = rows[rows["model"] == model].sort_values("step")
        ax.plot(
            line["step"],
            line["wmae"],
            linewidth=2.5 if model == rpt_champion["champion"] else 1.2,
            label=model + (" (champion)" if model == rpt_champion["champion"] else ""),
        )
    ax.set_title("Test-window error by horizon step")
    ax.set_xlabel("Step (weeks after the origin)")
    ax.set_ylabel("WMAE (USD)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


#: The champion's colour in the evaluation figures; no other model gets it.
CHAMPION_COLOR = "#d62728"
#: Matplotlib's tab20 without its reds: dark shades first, then the light ones (16 distinct
#: colours, enough for every baseline, learner and the ensemble).
_MODEL_PALETTE = [
    plt.get_cmap("tab20")(i) for i in (0, 2, 4, 8, 10, 12, 14, 16, 18, 1, 3, 5, 9, 11, 17, 19)
]
_SEGMENT_LABELS = {
    "store_type": ("Test WMAE by store type", "Store type", {}),
    "is_holiday": (
        "Test WMAE in holiday and other weeks",
        "",
        {"False": "other weeks", "True": "holiday weeks"},
    ),
}


def model_colors(models: list[str], champion: str | None) -> dict[str, Any]:
    """One distinct colour per model, in the given order; the champion's is red."""
    others = iter(_MODEL_PALETTE * (1 + len(models) // len(_MODEL_PALETTE)))
    return {m: CHAMPION_COLOR if m == champion else next(others) for m in models}


def plot_error_by_segment(report: pd.DataFrame, rpt_champion: dict[str, Any]) -> Figure:
    """Test WMAE by store type and in holiday vs other weeks, one bar per model: every model its
    own colour, the champion red with a black edge and named in the legend."""
    overall_rows = report[(report["cutoff"] == "all")]
    champion = rpt_champion["champion"]
    models = [m for m in rpt_champion["families"] if m in set(overall_rows["model"])]
    colors = model_colors(models, champion)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, segment in zip(axes, ("store_type", "is_holiday"), strict=True):
        table = overall_rows[overall_rows["segment"] == segment].pivot(
            index="segment_value", columns="model", values="wmae"
        )
        table = table[[m for m in models if m in table.columns]]
        title, xlabel, names = _SEGMENT_LABELS[segment]
        table.index = [names.get(str(v), str(v)) for v in table.index]
        table.plot.bar(
            ax=ax, rot=0, legend=False, width=0.85, color=[colors[m] for m in table.columns]
        )
        for container, model in zip(ax.containers, table.columns, strict=True):
            if model == champion:
                for bar in container:
                    bar.set_edgecolor("black")
                    bar.set_linewidth(1.5)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("WMAE (USD)")
        ax.grid(alpha=0.3, axis="y")
    handles = [
        plt.Rectangle(
            (0, 0),
            1,
            1,
            facecolor=colors[m],
            edgecolor="black" if m == champion else "none",
            linewidth=1.5 if m == champion else 0,
        )
        for m in models
    ]
    labels = [f"{m} (champion)" if m == champion else m for m in models]
    rows = -(-len(models) // 4)
    legend = fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9, frameon=False)
    for text in legend.get_texts():
        if text.get_text().endswith("(champion)"):
            text.set_fontweight("bold")
    fig.set_figheight(5.2 + 0.25 * rows)
    fig.tight_layout(rect=(0, 0.05 * rows, 1, 1))
    return fig


def plot_feature_importance(params: EvaluationParams, **models: Any) -> Figure:
    """Normalised importance (share of the total) of the top features of each tree model."""
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 6), squeeze=False)
    for ax, (name, model) in zip(axes.flat, models.items(), strict=True):
        importance = model.feature_importance()
        share = importance / max(importance.sum(), 1e-12)
        top = share[share > 0].sort_values().tail(params.top_features)  # unused features left out
        ax.barh(top.index, top.to_numpy())
        ax.set_title(name)
        target = (
            "sales - decomposition_base"
            if getattr(model, "target", "sales") == "residual"
            else "sales"
        )
        # two lines: one line of this length is wider than a 5-inch panel and was cut off
        ax.set_xlabel(f"Share of total importance\n(target: {target})")
    fig.suptitle("Feature importance of the tree models (final fit on train + validation)")
    fig.tight_layout()
    return fig


def package_champion(
    rpt_champion: dict[str, Any],
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    features: FeatureParams,
    baselines: BaselineParams,
    ensemble_weights: dict[str, Any],
    **models: FittedLearner | DecompositionParams,
) -> ChampionPyfunc:
    """The champion (retrained on train + validation) as an MLflow pyfunc of raw-shaped rows,
    with the history up to the panel's last week: it forecasts the ``horizon_weeks`` after it."""
    name = rpt_champion["champion"]
    family = rpt_champion["families"][name]
    if family == "ensemble":
        weights = {m: w for m, w in ensemble_weights["weights"].items() if w > 0}
    elif family in ("learner", "statistical"):
        weights = {name: 1.0}
    else:
        weights = {}
    forecaster = ChampionForecaster.from_panel(
        feat_panel,
        name,
        family,
        horizon_weeks,
        features,
        models={m: models[m] for m in weights},
        weights=weights,
        baselines=baselines if family == "baseline" else None,
    )
    logger.info(
        "Packaged champion %s (%s) forecasting from %s", name, family, forecaster.origin.date()
    )
    return ChampionPyfunc(forecaster)
