import orjson
import pandas as pd
import pytest

from zenbatch.errors import ResultsError
from zenbatch.pricing import PriceTable
from zenbatch.results import ResultParser, is_retryable, join_results, summarize
from tests.helpers import http_error_line, never_ran_line, output_line


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
    [(429, "rate_limit_exceeded", True), (500, "server_error", True), (503, None, True), (400, "invalid_request", False),
     (400, "content_filter", False), (None, "batch_expired", True), (None, "batch_cancelled", False)],
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
    with pytest.raises(ResultsError, match="out.jsonl, line 2: .*truncated"):
        parse([good, good[:20]])


def test_responses_and_embeddings_bodies():
    response = {"object": "response", "status": "completed", "output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}],
                "usage": {"input_tokens": 7, "output_tokens": 1, "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 3}}}
    embedding = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}], "usage": {"prompt_tokens": 2, "total_tokens": 2}}
    lines = [orjson.dumps({"custom_id": cid, "response": {"status_code": 200, "body": body}, "error": None})
             for cid, body in (("r", response), ("e", embedding))]  # fmt: skip
    frame = parse(lines).set_index("custom_id")
    assert frame.loc["r", "content"] == "hi" and frame.loc["r", "reasoning_tokens"] == 3
    assert frame.loc["e", "embedding"] == [0.1, 0.2] and frame.loc["e", "prompt_tokens"] == 2
