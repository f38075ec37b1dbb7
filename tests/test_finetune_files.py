"""Fine-tuning files checked as OpenAI's upload check does: every problem named with its line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from zenbatch.errors import DatasetError, InputValidationError
from zenbatch.finetune_files import check_examples, validate_finetune_file
from zenbatch.tokens import TokenCounter


def write_examples(path: Path, examples: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(example) + b"\n" for example in examples))
    return path


def test_a_valid_file_is_counted_and_a_small_one_warned_about(tmp_path):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello"}]
    path = write_examples(tmp_path / "train.jsonl", [{"messages": messages}] * 3)
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


def test_examples_are_checked_in_memory_exactly_as_their_file_would_be(tmp_path):
    good = {"messages": [{"role": "user", "content": "Review: fine"}, {"role": "assistant", "content": "neutral"}]}
    bad = {"messages": [{"role": "user", "content": "no answer"}]}
    for examples in ([good] * 12, [good, bad, good]):
        on_disk = validate_finetune_file(write_examples(tmp_path / f"{len(examples)}.jsonl", examples))
        in_memory = check_examples(examples, "train.jsonl")
        assert (in_memory.examples, in_memory.tokens, in_memory.warnings) == (on_disk.examples, on_disk.tokens, on_disk.warnings)
        assert [(p.line, p.code) for p in in_memory.problems] == [(p.line, p.code) for p in on_disk.problems]
    with pytest.raises(InputValidationError, match="train.jsonl"):
        check_examples([good, bad], "train.jsonl", strict=True)
