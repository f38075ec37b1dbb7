import orjson
import pandas as pd
import pytest

from tests.helpers import http_error_line, never_ran_line, output_line
from zenbatch.errors import ResultsError
from zenbatch.pricing import PriceTable
from zenbatch.results import _OUTCOME_FIELDS, ResultParser, _outcome, is_retryable, join_results, summarize


def parse(lines, structured=False):
    parser = ResultParser(structured=structured)
    parser.feed(lines, "out.jsonl")
    return parser.frame()


def test_one_row_per_input_row_in_input_order_with_missing_kept():
    inputs = pd.DataFrame({"text": ["a", "b", "c", "d", "e"], "status": ["x"] * 5})
    ids = ["c1", "c2", "c3", "c4", "c5"]
    outcomes = parse([
        output_line("c3", '{"label": "pos"}', prompt=100, completion=5, cached=40),
        http_error_line("c2", 400, "context_length_exceeded"),
        output_line("c1", "hello", azure=True),
        never_ran_line("c4"),
    ], structured=True)  # fmt: skip
    table = PriceTable.default()
    results = join_results(inputs, ids, outcomes, table=table, pricing_model="gpt-4o-mini")
    assert results["custom_id"].tolist() == ids
    assert results["status"].tolist() == ["succeeded", "failed", "succeeded", "failed", "missing"]
    assert results["retryable"].tolist() == [False, False, False, True, True]
    assert results.loc[2, "parsed"] == {"label": "pos"}
    assert results.loc[2, "cached_tokens"] == 40
    assert results.loc[1, "error_code"] == "context_length_exceeded"
    assert results.loc[3, "error_code"] == "batch_expired"
    assert results.loc[4, "error_code"] == "missing"
    assert results["input_status"].tolist() == ["x"] * 5  # colliding input column kept, renamed
    assert results["text"].tolist() == ["a", "b", "c", "d", "e"]
    expected = ((60 * 0.15 + 40 * 0.075 + 5 * 0.60) / 1e6) * 0.5
    assert results.loc[2, "cost_usd"] == pytest.approx(expected)
    summary = summarize(results)
    assert (summary["succeeded"], summary["failed"], summary["missing"]) == (2, 2, 1)


@pytest.mark.parametrize(
    "status, code, retryable",
    [
        (429, "rate_limit_exceeded", True),
        (500, "server_error", True),
        (503, None, True),
        (400, "invalid_request", False),
        (400, "content_filter", False),
        (None, "batch_expired", True),
        (None, "batch_cancelled", False),
    ],
)
def test_retry_classification(status, code, retryable):
    assert is_retryable(status, code) is retryable


def test_content_filter_finish_is_a_permanent_failure():
    frame = parse([output_line("a", "", finish_reason="content_filter")])
    assert frame.loc[0, "status"] == "failed" and frame.loc[0, "error_code"] == "content_filter"
    assert not frame.loc[0, "retryable"]


def test_a_later_success_replaces_a_failure_but_not_the_reverse():
    frame = parse([never_ran_line("a"), output_line("a", "second try"), http_error_line("a", 500, "server_error")])
    assert len(frame) == 1
    assert frame.loc[0, "status"] == "succeeded" and frame.loc[0, "content"] == "second try"


def test_invalid_structured_answer_keeps_text_and_says_why():
    frame = parse([output_line("a", "not json")], structured=True)
    assert frame.loc[0, "content"] == "not json"
    assert frame.loc[0, "parsed"] is None
    assert "not valid JSON" in frame.loc[0, "parse_error"]


def test_truncated_file_names_the_line():
    good = output_line("a")
    with pytest.raises(ResultsError, match="out.jsonl, line 2: .*truncated") as raised:
        parse([good, good[:20]])
    assert raised.value.exit_code == 1  # the provider's file is broken, not the user's input


def test_responses_and_embeddings_bodies():
    response = {
        "object": "response",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}],
        "usage": {
            "input_tokens": 7,
            "output_tokens": 1,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 3},
        },
    }
    embedding = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    lines = [orjson.dumps({"custom_id": cid, "response": {"status_code": 200, "body": body}, "error": None})
             for cid, body in (("r", response), ("e", embedding))]  # fmt: skip
    frame = parse(lines).set_index("custom_id")
    assert frame.loc["r", "content"] == "hi" and frame.loc["r", "reasoning_tokens"] == 3
    assert frame.loc["e", "embedding"] == [0.1, 0.2] and frame.loc["e", "prompt_tokens"] == 2


def body_line(custom_id: str, body: dict, status: int | float = 200, azure: bool = False) -> bytes:
    line = {"custom_id": custom_id, "response": {"status_code": status, "request_id": "req_1", "body": body}, "error": None}
    return orjson.dumps(line if azure else {"id": f"batch_req_{custom_id}", **line}) + b"\n"


def chat_body(content="ok", finish_reason="stop", **message) -> dict:
    usage = {"prompt_tokens": 300, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 0},
             "completion_tokens_details": {"reasoning_tokens": 1}}  # fmt: skip
    choice = {"index": 0, "message": {"role": "assistant", "content": content, **message}, "finish_reason": finish_reason}
    return {"object": "chat.completion", "choices": [choice], "usage": usage}


def every_shape() -> list[bytes]:
    """One line of each shape a batch file can hold, custom_ids s0, s1, ..."""
    no_details = chat_body()
    del no_details["usage"]["prompt_tokens_details"]
    responses_usage = {"input_tokens": 7, "output_tokens": 1, "input_tokens_details": {"cached_tokens": 2},
                       "output_tokens_details": {"reasoning_tokens": 3}}  # fmt: skip
    bodies = [
        chat_body('{"label": "pos"}'), chat_body("not json"), chat_body("[1, 2]"), chat_body(finish_reason="length"),
        chat_body(None, refusal="I can't help with that"), chat_body(None, tool_calls=[{"id": "t1", "type": "function"}]),
        chat_body(None), chat_body("", finish_reason="content_filter"), chat_body(finish_reason=None),
        chat_body([{"type": "text", "text": "parts"}]), no_details, {**chat_body(), "usage": None}, {"choices": [], "usage": {}},
        {"object": "text_completion", "choices": [{"text": "hi", "finish_reason": "stop"}], "usage": {"prompt_tokens": 3}},
        {"object": "response", "status": "completed", "usage": responses_usage,
         "output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}, {"type": "output_text", "text": "!"}]}]},
        {"object": "response", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": []},
        {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}], "usage": {"prompt_tokens": 2}},
        {"id": "modr-1", "results": [{"flagged": False, "categories": {}}]},
    ]  # fmt: skip
    lines = [body_line(f"s{i}", body, azure=i % 2 == 1) for i, body in enumerate(bodies)]
    lines += [body_line(f"s{len(lines)}", chat_body(), status=200.0), body_line(f"s{len(lines) + 1}", {"error": {"code": "x"}}, status=503)]
    lines += [http_error_line(f"s{len(lines)}", 400, "context_length_exceeded"), never_ran_line(f"s{len(lines) + 1}")]
    return lines


@pytest.mark.parametrize("structured", [False, True])
def test_every_shape_reads_as_the_general_reading_does(structured):
    lines = every_shape()
    frame = parse(lines, structured=structured)
    assert frame["custom_id"].tolist() == [f"s{i}" for i in range(len(lines))]
    for line, (_, row) in zip(lines, frame.iterrows()):
        expected = dict(zip(_OUTCOME_FIELDS, _outcome(orjson.loads(line), structured)))
        got = {name: row[name] for name in _OUTCOME_FIELDS}
        got["status_code"] = None if pd.isna(got["status_code"]) else got["status_code"]
        assert got == expected, row["custom_id"]


def test_one_outcome_per_custom_id_across_files_and_frames():
    parser = ResultParser()
    parser.feed([never_ran_line("a"), output_line("b", "b first"), http_error_line("c", 500, "server_error")], "one")
    assert parser.frame()["custom_id"].tolist() == ["a", "b", "c"]
    parser.feed([output_line("c", "c retried"), http_error_line("a", 429, "rate_limit_exceeded"), output_line("b", "b again")], "two")
    parser.feed([output_line("d"), never_ran_line("c")], "three")
    frame = parser.frame().set_index("custom_id")
    assert frame.index.tolist() == ["a", "b", "c", "d"]  # where each was first seen
    assert frame.loc["a", "error_code"] == "rate_limit_exceeded"  # the last failure when nothing succeeded
    assert frame.loc["b", "content"] == "b first"  # the first success
    assert frame.loc["c", "content"] == "c retried"
    assert parser.frame().equals(parser.frame())


def test_line_numbers_count_blank_lines_across_batches(monkeypatch):
    monkeypatch.setattr("zenbatch.results._BATCH", 2)
    lines = [output_line("a"), b"\n", output_line("b"), b"  \n", output_line("c"), b'{"custom_id": 7}\n']
    with pytest.raises(ResultsError, match=r"out.jsonl, line 6: not a batch result line \(custom_id 7 is not a string\)"):
        parse(lines)
    assert parse(lines[:5])["custom_id"].tolist() == ["a", "b", "c"]


def test_join_without_outcomes_and_with_repeated_ones():
    ids = ["x", "y"]
    results = join_results(pd.DataFrame({"n": [1, 2]}), ids, ResultParser().frame())
    assert results["status"].tolist() == ["missing", "missing"] and results["retryable"].all()
    assert results["content"].tolist() == [None, None] and results["status_code"].isna().all()
    assert (results["prompt_tokens"] == 0).all() and results["n"].tolist() == [1, 2]
    twice = pd.concat([parse([output_line("x")])] * 2, ignore_index=True)
    with pytest.raises(ValueError, match="duplicate"):
        join_results(pd.DataFrame({"n": [1, 2]}), ids, twice)
