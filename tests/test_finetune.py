import orjson
import pandas as pd
import pytest

from tests.helpers import chat_template, read_lines, results_table, reviews
from zenbatch.defaults import config_path, sample_dataset
from zenbatch.errors import ConfigError, InputValidationError
from zenbatch.finetune import FinetuneConfig, FinetuneDataset, build_finetune, write_finetune
from zenbatch.finetune_files import validate_finetune_file
from zenbatch.labeling import LabelConfig, label_results
from zenbatch.requests import build_requests
from zenbatch.templates import RequestTemplate
from zenbatch.yaml_config import load_yaml

LABELS = ["positive", "negative", "neutral"]
CORRECT_AS_JSON = FinetuneConfig(only_correct=True, truth_column="label", assistant="label_json", label_field="sentiment", validation_fraction=0)


def request_lines(inputs: pd.DataFrame, template: RequestTemplate | None = None) -> list[dict]:
    request_set = build_requests(inputs, template or chat_template(id_column="id"))
    return [orjson.loads(line) for chunk in request_set.iter_chunks() for line in chunk.lines]


def labeled(answers: list, truth: list[str]) -> tuple[pd.DataFrame, list[dict]]:
    """A labeled results table over reviews r0, r1, ... and the requests that produced it."""
    inputs = reviews(len(answers)).assign(label=truth)
    frame = label_results(results_table(answers, inputs), LabelConfig(field="sentiment", labels=LABELS)).frame
    return frame, request_lines(inputs)


def sentiments(*labels: str) -> list[str]:
    return [f'{{"sentiment": "{label}"}}' for label in labels]


def test_only_succeeded_valid_correct_rows_become_examples_and_the_rest_are_counted():
    answers = [*sentiments("positive", "positive", "neutral", "awful"), None, *sentiments("negative")]
    frame, requests = labeled(answers, ["positive", "negative", "neutral", "neutral", "neutral", "negative"])
    dataset = build_finetune(frame, requests, CORRECT_AS_JSON)
    assert dataset.rows_used == 3 and dataset.validation == []
    assert dataset.skipped == {"invalid label": 1, "label differs from the truth": 1, "request missing": 1}
    assert dataset.train[0] == {"messages": [
        {"role": "system", "content": "Label the sentiment."},
        {"role": "user", "content": "Review: review number 0"},
        {"role": "assistant", "content": '{"sentiment":"positive"}'},
    ]}  # fmt: skip
    assert [e["messages"][1]["content"] for e in dataset.train] == ["Review: review number 0", "Review: review number 2", "Review: review number 5"]


def test_when_no_row_can_become_an_example_the_error_says_why_each_was_left_out():
    frame, requests = labeled([*sentiments("awful", "negative"), None], ["positive", "positive", "neutral"])
    nothing = r"no row can become an example \(1 invalid label, 1 label differs from the truth, 1 request missing\).*only_correct: false"
    with pytest.raises(InputValidationError, match=nothing):
        build_finetune(frame, requests, CORRECT_AS_JSON)


def test_the_assistant_turn_is_the_raw_answer_or_the_bare_label_and_system_can_be_left_out():
    frame, requests = labeled(['  {"sentiment": "Positive"}'], ["positive"])
    raw = build_finetune(frame, requests, FinetuneConfig(validation_fraction=0)).train[0]["messages"]
    assert raw[-1] == {"role": "assistant", "content": '  {"sentiment": "Positive"}'}
    bare = build_finetune(frame, requests, FinetuneConfig(assistant="label", include_system=False, validation_fraction=0))
    assert bare.train[0]["messages"] == [{"role": "user", "content": "Review: review number 0"}, {"role": "assistant", "content": "positive"}]


def test_few_shot_answers_in_the_prompt_are_not_trained_on():
    inputs = reviews(1)
    template = chat_template(id_column="id", few_shot=[{"role": "user", "content": "ex"}, {"role": "assistant", "content": "neutral"}])
    dataset = build_finetune(results_table(["positive"], inputs), request_lines(inputs, template), FinetuneConfig(validation_fraction=0))
    messages = dataset.train[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[2]["weight"] == 0 and "weight" not in messages[-1]


def test_the_split_follows_seed_and_custom_id_not_row_order():
    rows = 400
    inputs = reviews(rows)
    results, requests = results_table(["positive"] * rows, inputs), request_lines(inputs)
    config = FinetuneConfig(validation_fraction=0.1, seed=7)
    first = build_finetune(results, requests, config)
    shuffled = build_finetune(results.sample(frac=1, random_state=3), list(reversed(requests)), config)
    held_out = {e["messages"][-2]["content"] for e in first.validation}
    assert held_out == {e["messages"][-2]["content"] for e in shuffled.validation}
    assert 0.05 * rows < len(held_out) < 0.15 * rows
    again = build_finetune(results, requests, config)
    assert (again.train, again.validation) == (first.train, first.validation)
    other_seed = build_finetune(results, requests, config.model_copy(update={"seed": 8}))
    assert {e["messages"][-2]["content"] for e in other_seed.validation} != held_out


def test_a_prompt_with_an_image_is_left_out_and_text_parts_are_joined():
    results = results_table(["positive", "negative"])
    parts = [{"type": "text", "text": "Review:"}, {"type": "text", "text": "great"}]
    requests = [
        {"custom_id": "r0", "body": {"model": "m", "messages": [{"role": "user", "content": parts}]}},
        {"custom_id": "r1", "body": {"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]}]}},
    ]  # fmt: skip
    dataset = build_finetune(results, requests, FinetuneConfig(validation_fraction=0))
    assert dataset.train == [{"messages": [{"role": "user", "content": "Review:\ngreat"}, {"role": "assistant", "content": "positive"}]}]
    assert dataset.skipped == {"image or other non-text input in the prompt": 1}


def test_requests_that_are_not_chat_or_absent_are_all_named():
    results = results_table(["a", "b", "c"])
    requests = [
        {"custom_id": "r0", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m", "input": "text"}},
        {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}},
    ]  # fmt: skip
    with pytest.raises(InputValidationError) as raised:
        build_finetune(results, requests, FinetuneConfig())
    assert [(p.custom_id, p.code) for p in raised.value.problems] == [("r0", "not_chat_request"), ("r2", "missing_request")]


def test_a_column_the_config_names_must_exist():
    frame, requests = labeled(sentiments("positive"), ["positive"])
    with pytest.raises(ConfigError, match="'truth'"):
        build_finetune(frame, requests, CORRECT_AS_JSON.model_copy(update={"truth_column": "truth"}))


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"validation_fraction": 1.0}, "`validation_fraction`"),
        ({"validation_fraction": -0.1}, "`validation_fraction`"),
        ({"only_correct": True}, "`truth_column`"),
        ({"assistant": "label_json"}, "`label_field`"),
    ],
)
def test_invalid_settings_name_the_key(settings, key):
    with pytest.raises(ConfigError, match=key):
        FinetuneConfig.model_validate(settings)


def test_files_are_written_one_example_per_line_and_an_empty_validation_is_not_written(tmp_path):
    example = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    paths = write_finetune(FinetuneDataset(train=[example] * 2, validation=[example]), tmp_path)
    assert set(paths) == {"train", "validation"}
    assert read_lines(paths["train"]) == [example, example]
    again = write_finetune(FinetuneDataset(train=[example], validation=[]), tmp_path)
    assert set(again) == {"train"} and not (tmp_path / "validation.jsonl").exists()  # no stale file from the first export


def test_the_sample_job_exports_files_that_pass_the_check(tmp_path):
    sample = pd.read_csv(sample_dataset())
    template = RequestTemplate.model_validate(load_yaml(config_path("jobs", "reviews"))["template"])
    requests = [orjson.loads(line) for chunk in build_requests(sample, template).iter_chunks() for line in chunk.lines]
    results = results_table(sentiments(*sample["label"]), sample)
    results["custom_id"] = sample["review_id"]  # the job's custom_ids come from its id column
    frame = label_results(results, LabelConfig(field="sentiment", labels=LABELS)).frame
    dataset = build_finetune(frame, requests, CORRECT_AS_JSON.model_copy(update={"validation_fraction": 0.1}))
    assert dataset.rows_used == len(sample) and dataset.skipped == {}
    reports = {name: validate_finetune_file(path, strict=True) for name, path in write_finetune(dataset, tmp_path).items()}
    assert reports["train"].examples + reports["validation"].examples == len(sample)
    assert reports["train"].warnings == [] and reports["train"].tokens > 0
