import bpe_openai

from zenbatch.tokens import TokenCounter, encoding_for_model


def test_encodings_by_model_family():
    assert encoding_for_model("gpt-4o-mini-2024-07-18") == ("o200k_base", True)
    assert encoding_for_model("gpt-4.1") == ("o200k_base", True)
    assert encoding_for_model("gpt-4") == ("cl100k_base", True)
    assert encoding_for_model("gpt-3.5-turbo") == ("cl100k_base", True)
    assert encoding_for_model("my-azure-deployment") == ("o200k_base", False)


def test_counts_match_the_tiktoken_compatible_encoder():
    text = "Batch APIs cost half as much; tokens 🙂 and <|endoftext|> are counted as text."
    for name in ("o200k_base", "cl100k_base"):
        expected = len(bpe_openai.get_encoding(name).encode(text, disallowed_special=()))
        assert TokenCounter("x", encoding=name).count(text) == expected


def test_chat_prompt_tokens_follow_openai_arithmetic():
    counter = TokenCounter("gpt-4o-mini")
    # 3 per message + "user"(1) + "Hello"(1) + 3 priming
    assert counter.count_messages([{"role": "user", "content": "Hello"}]) == 8
    named = [{"role": "user", "name": "bob", "content": "Hello"}]
    assert counter.count_messages(named) == 8 + counter.count("bob") + 1


def test_image_parts_and_schema_are_counted():
    counter = TokenCounter("gpt-4o")
    low = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "u", "detail": "low"}}]
    high = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "u"}}]
    assert counter.count_content(low) == counter.count("hi") + 85
    assert counter.count_content(high) == counter.count("hi") + 765
    body = {"messages": [{"role": "user", "content": "hi"}]}
    schema = {**body, "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}}
    assert counter.count_body("/v1/chat/completions", schema) > counter.count_body("/v1/chat/completions", body)


def test_embedding_inputs_are_summed():
    counter = TokenCounter("text-embedding-3-small")
    assert counter.count_body("/v1/embeddings", {"input": ["a b", "c"]}) == counter.count("a b") + counter.count("c")


def test_the_public_encoding_counts_as_the_native_counter_does():
    """The fallback used when a bpe_openai release moves its native counter gives the same counts."""
    from zenbatch.tokens import _counter, _public_counter

    texts = ["", "hello", "Review number 7: the battery lasts all day", "émoji 🎉 and 中文", "a" * 5000]
    for encoding in ("o200k_base", "cl100k_base"):
        assert [_public_counter(encoding)(t) for t in texts] == [_counter(encoding)(t) for t in texts]
