"""The ``evaluation_report`` card: accuracy, per-class precision / recall / F1, confusion matrix."""

from __future__ import annotations

from typing import Any

from zenbatch.reports.html import Raw, figures, number, page, section, table, text


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
    )


def _confusion(report: dict[str, Any]) -> str:
    columns = list(report.get("confusion_columns") or report.get("labels", []))
    matrix = report.get("confusion", [])
    peak = max((max(row) for row in matrix if row), default=0) or 1
    rows = []
    for label, counts in zip(report.get("labels", []), matrix, strict=False):
        cells = [Raw(f"<b>{text(label)}</b>")]
        for position, count in enumerate(counts):
            hit = position < len(columns) and columns[position] == label
            colour = "47,158,68" if hit else "224,49,49"
            cells.append(Raw(f"<span style='display:block;background:rgba({colour},{0.08 + 0.6 * count / peak:.2f});padding:2px 6px'>{count:,}</span>"))
        rows.append(cells)
    return table(["truth \\ predicted", *columns], rows, numeric=tuple(range(1, len(columns) + 1)))
