import hashlib
from pathlib import Path

import pytest

from tests.helpers import chat_template, read_lines, reviews
from zenbatch.errors import InputValidationError, LimitError
from zenbatch.providers.profile import ProviderLimits
from zenbatch.requests import build_requests
from zenbatch.shards import plan_shards
from zenbatch.tokens import TokenCounter


def plan(frame, limits, **kwargs):
    requests = build_requests(frame, chat_template(id_column="id"))
    counter = TokenCounter("gpt-4o-mini")
    return plan_shards(requests.iter_chunks(chunk_rows=7, counter=counter), limits, **kwargs)


def test_shards_split_by_request_count_and_keep_every_row_in_order(tmp_path):
    result = plan(reviews(25), ProviderLimits(max_requests=10, max_bytes=10**9), out_dir=tmp_path / "s")
    assert [s.requests for s in result.shards] == [10, 10, 5]
    ids = [line["custom_id"] for s in result.shards for line in read_lines(s.path)]
    assert ids == [f"r{i}" for i in range(25)]
    for shard in result.shards:
        data = open(shard.path, "rb").read()
        assert hashlib.sha256(data).hexdigest() == shard.sha256
        assert len(data) == shard.bytes


def test_shards_split_by_bytes_and_by_token_budget():
    one_line = len(build_requests(reviews(1), chat_template(id_column="id")).line(0))
    by_bytes = plan(reviews(10), ProviderLimits(max_requests=100, max_bytes=one_line * 3 + 1))
    assert [s.requests for s in by_bytes.shards] == [3, 3, 3, 1]
    tokens_each = plan(reviews(1), ProviderLimits(max_requests=100, max_bytes=10**9)).prompt_tokens
    by_tokens = plan(reviews(10), ProviderLimits(max_requests=100, max_bytes=10**9, max_enqueued_tokens=tokens_each * 4))
    assert all(s.prompt_tokens <= tokens_each * 4 for s in by_tokens.shards)
    assert sum(s.requests for s in by_tokens.shards) == 10


def test_plans_are_deterministic(tmp_path):
    limits = ProviderLimits(max_requests=4, max_bytes=10**9)
    a = plan(reviews(10), limits, out_dir=tmp_path / "a")
    b = plan(reviews(10), limits, out_dir=tmp_path / "b")
    assert [s.sha256 for s in a.shards] == [s.sha256 for s in b.shards]
    assert [Path(s.path).read_bytes() for s in a.shards] == [Path(s.path).read_bytes() for s in b.shards]


def test_sharding_off_refuses_what_needs_two_files_and_writes_nothing(tmp_path):
    with pytest.raises(LimitError, match="sharding is off"):
        plan(reviews(11), ProviderLimits(max_requests=10, max_bytes=10**9), out_dir=tmp_path / "s", sharding=False)
    assert list(tmp_path.iterdir()) == []


def test_a_request_larger_than_a_file_is_a_problem_and_nothing_is_written(tmp_path):
    with pytest.raises(InputValidationError) as info:
        plan(reviews(3), ProviderLimits(max_requests=10, max_bytes=50), out_dir=tmp_path / "s")
    assert [p.row for p in info.value.problems] == [0, 1, 2]
    assert "more than a whole batch file" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_embedding_inputs_limit_splits_shards():
    from zenbatch.templates import RequestTemplate

    template = RequestTemplate(model="text-embedding-3-small", endpoint="/v1/embeddings", text_column="text")
    requests = build_requests(reviews(5), template)
    limits = ProviderLimits(max_requests=100, max_bytes=10**9, max_embedding_inputs=2)
    result = plan_shards(requests.iter_chunks(), limits, embeddings=True)
    assert [s.requests for s in result.shards] == [2, 2, 1]


def reference_greedy(sizes, tokens, limits):
    shards, current = [], None
    for i, (size, cost) in enumerate(zip(sizes, tokens)):
        if current is None or (
            len(current) + 1 > limits.max_requests
            or sum(sizes[j] for j in current) + size > limits.max_bytes
            or (limits.max_enqueued_tokens and sum(tokens[j] for j in current) + cost > limits.max_enqueued_tokens)
        ):
            current = []
            shards.append(current)
        current.append(i)
    return [len(s) for s in shards]


def test_run_based_planner_matches_a_line_by_line_greedy_split():
    import random

    from zenbatch.requests import RequestChunk

    rng = random.Random(3)
    for trial in range(40):
        count = rng.randint(1, 300)
        sizes = [rng.randint(5, 60) for _ in range(count)]
        tokens = [rng.randint(1, 30) for _ in range(count)]
        limits = ProviderLimits(
            max_requests=rng.randint(1, 50), max_bytes=rng.randint(60, 900),
            max_enqueued_tokens=rng.choice([None, rng.randint(30, 400)]),
        )  # fmt: skip
        lines = [b"x" * (s - 1) + b"\n" for s in sizes]
        ids = [f"c{i}" for i in range(count)]
        step = rng.randint(1, 40)
        chunks = [RequestChunk(s, ids[s : s + step], lines[s : s + step], tokens[s : s + step]) for s in range(0, count, step)]
        result = plan_shards(chunks, limits)
        assert [s.requests for s in result.shards] == reference_greedy(sizes, tokens, limits), trial
        assert [s.first_custom_id for s in result.shards] == [ids[s.first_row] for s in result.shards]
        assert all(s.bytes <= limits.max_bytes for s in result.shards)
