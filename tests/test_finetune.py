
import orjson
import pandas as pd
import pytest

from tests.helpers import chat_template, read_lines, results_table, reviews
from zenbatch.defaults import config_path, sample_dataset
from zenbatch.errors import ConfigError, DatasetError, InputValidationError
from zenbatch.finetune import FinetuneConfig, FinetuneDataset, build_finetune, validate_finetune_file, write_finetune
from zenbatch.labeling import LabelConfig, label_results
from zenbatch.requests import build_requests
from zenbatch.templates import RequestTemplate
from zenbatch.tokens import TokenCounter
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


def test_a_valid_file_is_counted_and_a_small_one_warned_about(tmp_path):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello"}]
    path = write_finetune(FinetuneDataset(train=[{"messages": messages}] * 3, validation=[]), tmp_path)["train"]
    report = validate_finetune_file(path, strict=True)
    assert (report.examples, report.problems) == (3, [])
    assert report.tokens == 3 * TokenCounter("gpt-4o-mini").count_messages(messages)
    assert report.warnings == ["only 3 examples; OpenAI needs at least 10 in a training file"]


def test_every_problem_is_reported_with_its_line(tmp_path):
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 1}]}
    lines = [
        orjson.dumps(good),
        b"not json",
        orjson.dumps({"messages": [{"role": "user", "content": "q"}], "extra": 1}),
        orjson.dumps({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]}),
        orjson.dumps({"messages": [{"role": "robot", "content": ""}, {"role": "assistant", "content": ["a"], "weight": 2}]}),
        orjson.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0}]}),
        orjson.dumps({"prompt": "q", "completion": "a"}),
    ]  # fmt: skip
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = validate_finetune_file(path)
    assert report.examples == 1
    assert [(p.line, p.code) for p in report.problems] == [
        (2, "invalid_json_line"),
        (3, "unknown_key"), (3, "no_assistant_message"),
        (4, "last_not_assistant"),
        (5, "unknown_role"), (5, "empty_content"), (5, "invalid_content"), (5, "invalid_weight"),
        (6, "no_trained_message"),
        (7, "unknown_key"), (7, "missing_messages"),
    ]  # fmt: skip
    with pytest.raises(InputValidationError) as raised:
        validate_finetune_file(path, strict=True)
    assert raised.value.problems == report.problems and "line 5" in str(raised.value)


def test_an_empty_or_absent_file_is_refused(tmp_path):
    empty = tmp_path / "train.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(InputValidationError, match="no examples"):
        validate_finetune_file(empty, strict=True)
    with pytest.raises(DatasetError, match="no such file"):
        validate_finetune_file(tmp_path / "absent.jsonl")


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


def test_examples_are_checked_in_memory_exactly_as_their_file_would_be(tmp_path):
    from zenbatch.finetune import check_examples

    good = {"messages": [{"role": "user", "content": "Review: fine"}, {"role": "assistant", "content": "neutral"}]}
    bad = {"messages": [{"role": "user", "content": "no answer"}]}
    for examples in ([good] * 12, [good, bad, good]):
        dataset = FinetuneDataset(train=examples, validation=[])
        on_disk = validate_finetune_file(write_finetune(dataset, tmp_path / str(len(examples)))["train"])
        in_memory = check_examples(examples, "train.jsonl")
        assert (in_memory.examples, in_memory.tokens, in_memory.warnings) == (on_disk.examples, on_disk.tokens, on_disk.warnings)
        assert [(p.line, p.code) for p in in_memory.problems] == [(p.line, p.code) for p in on_disk.problems]
    with pytest.raises(InputValidationError, match="train.jsonl"):
        check_examples([good, bad], "train.jsonl", strict=True)
