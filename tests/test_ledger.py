import orjson
import pandas as pd

from zenbatch.ledger import ANSWER_COLUMNS, REUSED, WAITING, Split, request_key, segment
from zenbatch.requests import RequestChunk


def _line(custom_id: str, text: str, **body: object) -> bytes:
    return orjson.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **body}}) + b"\n"  # fmt: skip


def test_a_key_is_what_is_asked_not_the_custom_id_nor_the_key_order():
    assert request_key(_line("a", "hi")) == request_key(_line("b", "hi"))
    reordered = orjson.dumps({"url": "/v1/chat/completions", "custom_id": "c",
                              "body": {"messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o-mini"}})  # fmt: skip
    assert request_key(reordered) == request_key(_line("a", "hi"))
    assert request_key(_line("a", "hi", temperature=0.5)) != request_key(_line("a", "hi"))
    assert request_key(_line("a", "hello")) != request_key(_line("a", "hi"))


class _Ledger:
    """An earlier job answered "old"; an open job sends "flying"."""

    def answers(self, keys):
        known = request_key(_line("x", "old"))
        rows = [{"request_key": known, "job_id": "job1", "batch_id": "batch_1", "part": "p" * 64, "custom_id": "x", "status": "succeeded"}]
        frame = pd.DataFrame(rows).set_index("request_key")[ANSWER_COLUMNS]
        return frame.loc[frame.index.intersection(keys)]

    def in_flight(self, keys):
        flying = request_key(_line("y", "flying"))
        return {k: "job2" for k in keys if k == flying}


def test_a_split_sends_only_new_requests_and_keeps_the_others_as_riders(tmp_path):
    lines = [_line("r0", "old"), _line("r1", "new"), _line("r2", "flying"), _line("r3", "newer")]
    chunk = RequestChunk(10, ["r0", "r1", "r2", "r3"], lines, [5, 6, 7, 8], [2, 2, 2, 2])
    split = Split(_Ledger(), tmp_path)

    (sent,) = list(split.chunks([chunk]))

    assert sent.custom_ids == ["r1", "r3"] and sent.positions == [11, 13] and sent.prompt_tokens == [6, 8]
    riders = pd.read_parquet(split.riders_path)
    assert riders["custom_id"].tolist() == ["r0", "r2"] and riders["source"].tolist() == [REUSED, WAITING]
    assert riders["job_id"].tolist()[0] == "job1" and riders["waiting_for"].tolist()[1] == "job2"
    assert riders["position"].tolist() == [10, 12] and riders["line"].map(request_key).tolist() == riders["request_key"].tolist()
    assert [k.hex() for k in pd.read_parquet(split.keys_path)["request_key"]] == [request_key(lines[1]), request_key(lines[3])]
    assert split.counts == {"reused": 1, "waiting": 1, "sent": 2} and split.reused_tokens == [5, 2]
    again = Split(None, tmp_path / "again")
    list(again.chunks([chunk]))
    assert again.digest == split.digest and again.counts["sent"] == 4  # the same work, whatever the ledger says


def test_a_segment_holds_the_final_answers_a_job_gave_itself():
    frame = pd.DataFrame({
        "request_key": ["a0" * 16, "a1" * 16, "a2" * 16, "a3" * 16], "custom_id": ["r0", "r1", "r2", "r3"],
        "status": ["succeeded", "failed", "failed", "succeeded"], "retryable": [False, False, True, False],
        "batch_id": ["b", "b", "b", "b0"], "reused_from": [None, None, None, "job0:b0"],
        "attempts": [1, 2, 3, 0], "cost_usd": [0.5, 0.0, 0.0, 0.0],
    })  # fmt: skip
    (found,) = segment([("part-sha", frame)])
    assert [k.hex() for k in found.column("request_key").to_pylist()] == ["a0" * 16, "a1" * 16]  # not the retryable failure, not the reused row
    assert set(found.column("part").to_pylist()) == {"part-sha"}
    assert found.column("attempts").to_pylist() == [1, 2] and found.column("cost_usd").to_pylist() == [0.5, 0.0]
