"""The ``evaluation_report`` card: accuracy, per-class precision / recall / F1, confusion matrix."""

from __future__ import annotations

from typing import Any

from zenbatch.reports.html import figures, number, page, section, table
from zenbatch.reports.svg import heat_map, paired_bars


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def render_evaluation_card(report: dict[str, Any], title: str = "Evaluation") -> str:
    """One HTML page of an evaluation report (``EvaluationReport.model_dump()``)."""
    headline = figures([
        ("accuracy", _share(report.get("accuracy"))),
        ("accuracy on valid answers", _share(report.get("accuracy_on_valid"))),
        ("coverage (valid answers)", _share(report.get("coverage"))),
        ("macro F1", f"{report.get('macro_f1', 0.0):.3f}"),
        ("weighted F1", f"{report.get('weighted_f1', 0.0):.3f}"),
        ("rows evaluated", number(report.get("evaluated"))),
        ("invalid answers", number(report.get("invalid_predictions"))),
    ])  # fmt: skip
    per_class = table(
        ["label", "precision", "recall", "F1", "support"],
        [(label, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", m["support"])
         for label, m in report.get("per_class", {}).items()],
        numeric=(1, 2, 3, 4),
    )  # fmt: skip
    return page(
        title,
        f"{number(report.get('rows'))} rows; an invalid or missing answer counts as wrong",
        section("Overall", headline),
        section("Per class", per_class),
        section("Confusion matrix (rows: truth, columns: predicted)", _confusion(report)),
        section("Labels: truth against predicted", _distribution(report)),
    )


def _confusion(report: dict[str, Any]) -> str:
    columns = list(report.get("confusion_columns") or report.get("labels", []))
    return heat_map(list(report.get("labels", [])), columns, report.get("confusion", []))


def _distribution(report: dict[str, Any]) -> str:
    """How often each label is the truth, and how often it is predicted."""
    columns = list(report.get("confusion_columns") or report.get("labels", []))
    predicted = [sum(column) for column in zip(*report.get("confusion", []), strict=False)] or [0] * len(columns)
    truth = {label: m.get("support", 0) for label, m in report.get("per_class", {}).items()}
    pairs = [(label, float(truth.get(label, 0)), float(count), "") for label, count in zip(columns, predicted, strict=False)]
    return paired_bars(pairs, "truth", "predicted")
