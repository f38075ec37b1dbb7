"""Predicted labels against ground truth: accuracy, per-class precision / recall / F1, confusion.

A row without a valid prediction (failed, missing, or an answer that gave no allowed label)
counts as wrong, so ``accuracy`` is what the batch delivered; ``accuracy_on_valid`` is what
the model got right when it answered. A metric whose denominator is zero is 0.0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from zenbatch.errors import ConfigError
from zenbatch.tables import label_texts, require_columns

INVALID_COLUMN = "(invalid)"


class ClassMetrics(BaseModel):
    """Metrics of one label; ``support`` is the number of rows whose truth is the label."""

    precision: float
    recall: float
    f1: float
    support: int


class EvaluationReport(BaseModel):
    """Metrics of a predicted-label column against a truth column.

    Attributes:
        rows: all rows of the table.
        evaluated: rows with a truth value; the metrics below are over these rows.
        accuracy: correct predictions / evaluated rows (no valid prediction counts as wrong).
        accuracy_on_valid: correct predictions / evaluated rows that have a valid prediction.
        coverage: rows with a valid prediction / all rows.
        labels: the labels in order: the given ones (then any other truth value, sorted), else
            the sorted union of truth values and predictions.
        per_class: label -> precision, recall, F1 and support.
        macro_f1: the mean F1 over ``labels``.
        weighted_f1: F1 weighted by support.
        confusion: counts, one row per truth label, one column per ``confusion_columns``.
        confusion_columns: ``labels`` then ``(invalid)`` for rows without a valid prediction.
        invalid_predictions: rows (of all rows) without a valid prediction.
    """

    rows: int
    evaluated: int
    accuracy: float
    accuracy_on_valid: float
    coverage: float
    labels: list[str]
    per_class: dict[str, ClassMetrics]
    macro_f1: float
    weighted_f1: float
    confusion: list[list[int]]
    confusion_columns: list[str]
    invalid_predictions: int


def evaluate(frame: pd.DataFrame, predicted: str, truth: str, labels: list[str] | None = None) -> EvaluationReport:
    """Compare the ``predicted`` column with the ``truth`` column.

    Args:
        predicted: the label column written by labeling; an empty value means no valid prediction.
        truth: the ground-truth column; rows where it is empty are not evaluated.
        labels: the allowed labels, in the order to report them; a prediction outside them is
            invalid. Truth values outside them are added after them, so no row goes uncounted.

    Raises:
        ConfigError: a column is absent, or ``labels`` is empty or repeats a label.
    """
    require_columns(frame, [truth, predicted], "evaluation")
    truths = label_texts(frame[truth])
    predictions = label_texts(frame[predicted])
    seen_truth = {t for t in truths if t is not None}
    if labels is None:
        order = sorted(seen_truth | {p for p in predictions if p is not None})
    else:
        if not labels or len(set(labels)) < len(labels):
            raise ConfigError(f"evaluation: `labels` {labels} must be a non-empty list without repeats")
        order = [*labels, *sorted(seen_truth - set(labels))]
    position = {label: i for i, label in enumerate(order)}
    size = len(order)
    truth_at = np.array([-1 if t is None else position[t] for t in truths], dtype=np.int64)
    predicted_at = np.array([position.get(p, size) if p is not None else size for p in predictions], dtype=np.int64)
    has_truth = truth_at >= 0
    valid = predicted_at < size

    confusion = np.zeros((size, size + 1), dtype=np.int64)
    np.add.at(confusion, (truth_at[has_truth], predicted_at[has_truth]), 1)
    hits = np.diag(confusion[:, :size]) if size else np.zeros(0, dtype=np.int64)
    support = confusion.sum(axis=1)
    precision = _ratio(hits, confusion[:, :size].sum(axis=0))
    recall = _ratio(hits, support)
    f1 = _ratio(2 * precision * recall, precision + recall)

    evaluated = int(has_truth.sum())
    correct = int(hits.sum())
    return EvaluationReport(
        rows=len(frame),
        evaluated=evaluated,
        accuracy=_share(correct, evaluated),
        accuracy_on_valid=_share(correct, int((has_truth & valid).sum())),
        coverage=_share(int(valid.sum()), len(frame)),
        labels=order,
        per_class={
            label: ClassMetrics(precision=float(precision[i]), recall=float(recall[i]), f1=float(f1[i]), support=int(support[i]))
            for i, label in enumerate(order)
        },
        macro_f1=float(f1.mean()) if size else 0.0,
        weighted_f1=_share(float((f1 * support).sum()), int(support.sum())),
        confusion=confusion.tolist(),
        confusion_columns=[*order, INVALID_COLUMN],
        invalid_predictions=int((~valid).sum()),
    )


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division with 0.0 where the denominator is 0."""
    out = np.zeros(len(denominator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _share(part: Any, whole: int) -> float:
    return float(part) / whole if whole else 0.0
