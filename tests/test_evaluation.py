import numpy as np
import orjson
import pandas as pd
import pytest

from tests.helpers import results_table
from zenbatch.defaults import sample_dataset
from zenbatch.errors import ConfigError
from zenbatch.evaluation import EvaluationReport, evaluate
from zenbatch.labeling import LabelConfig, label_results

SAMPLE = sample_dataset()
LABELS = ["positive", "negative", "neutral"]


def frame(truth, predicted):
    return pd.DataFrame({"label": truth, "label_predicted": predicted})


def test_metrics_match_hand_computed_values_with_an_invalid_answer_counted_wrong():
    table = frame(
        ["positive", "positive", "negative", "negative", "negative", "neutral"],
        ["positive", "positive", "positive", "negative", None, "positive"],
    )
    report = evaluate(table, predicted="label_predicted", truth="label", labels=LABELS)
    assert (report.rows, report.evaluated, report.invalid_predictions) == (6, 6, 1)
    assert report.accuracy == pytest.approx(3 / 6)
    assert report.accuracy_on_valid == pytest.approx(3 / 5)
    assert report.coverage == pytest.approx(5 / 6)
    assert report.confusion_columns == [*LABELS, "(invalid)"]
    assert report.confusion == [[2, 0, 0, 0], [1, 1, 0, 1], [1, 0, 0, 0]]
    positive, negative, neutral = (report.per_class[label] for label in LABELS)
    assert (positive.precision, positive.recall, positive.f1, positive.support) == pytest.approx((0.5, 1.0, 2 / 3, 2))
    assert (negative.precision, negative.recall, negative.f1, negative.support) == pytest.approx((1.0, 1 / 3, 0.5, 3))
    assert (neutral.precision, neutral.recall, neutral.f1, neutral.support) == (0.0, 0.0, 0.0, 1)  # never predicted: 0, not an error
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.5 + 0.0) / 3)
    assert report.weighted_f1 == pytest.approx((2 * 2 / 3 + 3 * 0.5) / 6)


def test_rows_without_truth_are_not_evaluated_but_count_in_coverage():
    report = evaluate(frame(["positive", None, ""], ["positive", "negative", None]), "label_predicted", "label")
    assert (report.rows, report.evaluated) == (3, 1)
    assert report.accuracy == 1.0
    assert report.coverage == pytest.approx(2 / 3)
    assert report.labels == ["negative", "positive"]  # sorted union of truth and predictions
    assert report.confusion == [[0, 0, 0], [0, 1, 0]]


def test_a_prediction_outside_the_given_labels_is_invalid_and_an_unknown_truth_is_kept():
    report = evaluate(frame(["positive", "mixed"], ["maybe", "positive"]), "label_predicted", "label", labels=["positive", "negative"])
    assert report.labels == ["positive", "negative", "mixed"]
    assert report.confusion == [[0, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]]
    assert report.invalid_predictions == 1 and report.per_class["mixed"].support == 1


def test_numbers_read_as_floats_meet_labels_given_as_text():
    truth = pd.Series([4.0, 5.0, np.nan])  # a CSV column of stars with a gap
    report = evaluate(pd.DataFrame({"stars": truth, "label_predicted": ["4", "3", "5"]}), "label_predicted", "stars")
    assert report.evaluated == 2 and report.accuracy == 0.5
    assert report.labels == ["3", "4", "5"]


def test_no_evaluable_rows_give_zeros_not_errors():
    report = evaluate(frame([None, None], [None, "positive"]), "label_predicted", "label", labels=LABELS)
    assert (report.evaluated, report.accuracy, report.accuracy_on_valid, report.macro_f1, report.weighted_f1) == (0, 0.0, 0.0, 0.0, 0.0)


def test_a_missing_column_names_it_and_the_columns_that_exist():
    with pytest.raises(ConfigError) as raised:
        evaluate(frame(["positive"], ["positive"]), "label_predicted", "truth")
    assert "'truth'" in str(raised.value) and "label, label_predicted" in str(raised.value)


@pytest.mark.parametrize("labels", [[], ["positive", "positive"]])
def test_empty_or_repeated_labels_are_refused(labels):
    with pytest.raises(ConfigError, match="`labels`"):
        evaluate(frame(["positive"], ["positive"]), "label_predicted", "label", labels=labels)


def test_the_report_survives_a_json_round_trip():
    report = evaluate(frame(["positive", "negative"], ["positive", None]), "label_predicted", "label", labels=LABELS)
    data = orjson.loads(orjson.dumps(report.model_dump(mode="json")))
    assert EvaluationReport.model_validate(data) == report


def test_labeled_results_with_failed_and_invalid_rows():
    inputs = pd.DataFrame({"label": ["positive", "negative", "neutral", "neutral"]})
    results = results_table(['{"sentiment": "positive"}', '{"sentiment": "awful"}', None, '{"sentiment": "neutral"}'], inputs)
    labeled = label_results(results, LabelConfig(field="sentiment", labels=LABELS)).frame
    report = evaluate(labeled, "label_predicted", "label", labels=LABELS)
    assert report.accuracy == 0.5 and report.accuracy_on_valid == 1.0 and report.coverage == 0.5
    assert [row[-1] for row in report.confusion] == [0, 1, 1]


def test_a_perfect_predictor_on_the_sample_scores_one():
    sample = pd.read_csv(SAMPLE)
    report = evaluate(sample.assign(label_predicted=sample["label"]), "label_predicted", "label", labels=LABELS)
    assert report.evaluated == len(sample) == 300
    assert (report.accuracy, report.coverage, report.macro_f1, report.weighted_f1) == (1.0, 1.0, 1.0, 1.0)
    counts = sample["label"].value_counts()
    assert report.confusion == [[int(counts[t]) if p == t else 0 for p in [*LABELS, "(invalid)"]] for t in LABELS]
