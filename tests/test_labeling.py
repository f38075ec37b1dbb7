import pandas as pd
import pytest
from pydantic import ValidationError

from tests.helpers import http_error_line, output_line, results_table
from zenbatch.defaults import sample_dataset
from zenbatch.errors import ConfigError
from zenbatch.labeling import LabelConfig, label_results, label_view

SAMPLE = sample_dataset()
SENTIMENT = LabelConfig(field="sentiment", labels=["positive", "negative", "neutral"])


def test_every_row_gets_a_label_or_the_reason_it_has_none():
    results = results_table([
        '{"sentiment": "Positive"}',
        '{"sentiment": "great"}',
        None,
        http_error_line("r3", 400, "content_filter"),
        '{"mood": "positive"}',
        "I think it is positive",
        '{"sentiment": "negative"}',
    ])  # fmt: skip
    labeled = label_results(results, SENTIMENT)
    frame = labeled.frame
    assert frame["custom_id"].tolist() == [f"r{i}" for i in range(7)]
    assert frame["label_predicted"].tolist() == ["positive", None, None, None, None, None, "negative"]
    assert frame["label_valid"].tolist() == [True, False, False, False, False, False, True]
    problems = frame["label_problem"].tolist()
    assert problems[0] is None and problems[6] is None
    assert problems[1] == "'great' is not one of positive, negative, neutral"
    assert problems[2] == "missing: the request never came back"
    assert problems[3] == "failed: content_filter"
    assert problems[4] == "no field 'sentiment' in the answer"
    assert problems[5].startswith("answer is not JSON")
    assert (labeled.rows, labeled.invalid, labeled.missing_or_failed) == (7, 3, 2)
    assert labeled.distribution == {"negative": 1, "positive": 1}


def test_the_results_table_itself_is_left_unchanged():
    results = results_table(['{"sentiment": "positive"}'])
    before = list(results.columns)
    label_results(results, SENTIMENT)
    assert list(results.columns) == before


def test_a_plain_model_s_json_text_is_parsed_even_inside_a_code_fence():
    results = results_table(['{"sentiment": "neutral"}', '```json\n{"sentiment": "negative"}\n```'], structured=False)
    assert results["parsed"].tolist() == [None, None]
    labeled = label_results(results, SENTIMENT)
    assert labeled.frame["label_predicted"].tolist() == ["neutral", "negative"]


def test_a_dotted_field_reaches_a_nested_key_and_numbers_become_text():
    results = results_table(['{"result": {"stars": 4}}', '{"result": {}}'])
    labeled = label_results(results, LabelConfig(field="result.stars", labels=["1", "2", "3", "4", "5"]))
    assert labeled.frame["label_predicted"].tolist() == ["4", None]
    assert labeled.frame["label_problem"].tolist()[1] == "no field 'result.stars' in the answer"


def test_distribution_is_by_count_then_name():
    answers = ["neutral", "positive", "negative", "positive", "neutral", "positive"]
    results = results_table([f'{{"sentiment": "{a}"}}' for a in answers])
    assert list(label_results(results, SENTIMENT).distribution.items()) == [("positive", 3), ("neutral", 2), ("negative", 1)]


def test_without_labels_any_value_is_valid_lower_cased_unless_case_sensitive():
    results = results_table(['{"sentiment": " Mixed "}', '{"sentiment": ""}'])
    assert label_results(results, LabelConfig(field="sentiment")).frame["label_predicted"].tolist() == ["mixed", None]
    sensitive = label_results(results, LabelConfig(field="sentiment", case_sensitive=True))
    assert sensitive.frame["label_predicted"].tolist() == ["Mixed", None]
    assert sensitive.frame["label_problem"].tolist()[1] == "the label is empty"


def test_regex_takes_the_one_group_or_the_group_named_label_ignoring_case():
    results = results_table(["Reasoning... SENTIMENT: Negative", "no verdict here"], structured=False)
    one_group = label_results(results, LabelConfig(source="regex", pattern=r"sentiment:\s*(\w+)", labels=["positive", "negative"]))
    assert one_group.frame["label_predicted"].tolist() == ["negative", None]
    assert "does not match the answer 'no verdict here'" in one_group.frame["label_problem"].iloc[1]
    named = label_results(results, LabelConfig(source="regex", pattern=r"(reasoning).*?:\s*(?P<label>\w+)"))
    assert named.frame["label_predicted"].tolist() == ["negative", None]


def test_text_source_reads_the_whole_answer_without_quotes_or_full_stop():
    results = results_table(["Positive.", '"neutral"', "It is negative"], structured=False)
    labeled = label_results(results, SENTIMENT.model_copy(update={"source": "text", "field": None}))
    assert labeled.frame["label_predicted"].tolist() == ["positive", "neutral", None]
    case_sensitive = LabelConfig(source="text", labels=["positive", "negative", "neutral"], case_sensitive=True)
    assert label_results(results, case_sensitive).frame["label_valid"].tolist() == [False, True, False]


def test_a_cut_off_answer_says_to_raise_max_tokens():
    results = results_table([output_line("r0", '{"sentiment": "posi', finish_reason="length")])
    problem = label_results(results, SENTIMENT).frame["label_problem"].iloc[0]
    assert problem.startswith("answer is not JSON") and "max_tokens" in problem


def test_the_label_column_name_is_configurable_and_relabeling_replaces_it():
    results = results_table(['{"sentiment": "positive"}'])
    first = label_results(results, LabelConfig(field="sentiment", column="sentiment_label")).frame
    assert first["sentiment_label"].tolist() == ["positive"]
    again = label_results(first, LabelConfig(field="sentiment", column="sentiment_label", labels=["negative"])).frame
    assert again["sentiment_label"].tolist() == [None]


def test_writing_over_an_input_column_is_refused():
    results = results_table(['{"sentiment": "positive"}'], pd.DataFrame({"label": ["positive"]}))
    with pytest.raises(ConfigError, match="'label' already exists"):
        label_results(results, LabelConfig(field="sentiment", column="label"))


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"source": "json_field"}, "`field`"),
        ({"source": "regex"}, "`pattern`"),
        ({"source": "regex", "pattern": "(unclosed"}, "`pattern`"),
        ({"source": "regex", "pattern": r"(\w+) (\w+)"}, "(?P<label>"),
        ({"source": "text", "labels": []}, "`labels`"),
        ({"source": "text", "labels": ["Yes", "yes"]}, "`labels`"),
        ({"source": "text", "column": "label_valid"}, "`column`"),
    ],
)
def test_invalid_settings_name_the_key(settings, key):
    with pytest.raises(ConfigError) as raised:
        LabelConfig.model_validate(settings)
    assert key in str(raised.value)


def test_unknown_settings_are_refused():
    with pytest.raises(ValidationError, match="lables"):
        LabelConfig.model_validate({"field": "sentiment", "lables": ["a"]})


def test_sample_answers_that_echo_the_truth_give_its_distribution():
    sample = pd.read_csv(SAMPLE)
    results = results_table([f'{{"sentiment": "{label}"}}' for label in sample["label"]], sample)
    labeled = label_results(results, SENTIMENT)
    assert labeled.invalid == 0 and labeled.missing_or_failed == 0
    assert labeled.distribution == sample["label"].value_counts().to_dict()
    assert labeled.frame["label_predicted"].tolist() == sample["label"].tolist()


def test_a_view_is_labeled_a_part_at_a_time_into_stored_parts(tmp_path):
    from zenbatch.blobs import Blobs
    from zenbatch.parts import stored_view

    first = results_table(['{"sentiment": "positive"}', '{"sentiment": "great"}'])
    second = results_table(['{"sentiment": "negative"}', None, '{"sentiment": "positive"}'])
    blobs = Blobs(str(tmp_path / "store"))
    results = stored_view([first, second], tmp_path / "results", blobs)

    view, counts = label_view(results, SENTIMENT, tmp_path / "labels", blobs)

    assert [p.rows for p in view.parts] == [2, 3] and all(blobs.has(p.sha256, "parquet") for p in view.parts)
    assert counts.distribution == {"positive": 2, "negative": 1} and counts.invalid == 1 and counts.missing_or_failed == 1
    assert counts.rows == 5 == len(view)
    labeled = view.to_pandas()
    assert [v if isinstance(v, str) else None for v in labeled["label_predicted"]] == ["positive", None, "negative", None, "positive"]
