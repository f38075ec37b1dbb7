import pytest

from tests.helpers import read_lines
from zenbatch.config import JobConfig
from zenbatch.errors import BudgetExceededError, ConfigError, InputValidationError
from zenbatch.estimate import estimate_job


def job(tmp_path, rows, **extra):
    data = tmp_path / "data.csv"
    data.write_text("id,text\n" + "".join(f"r{i},{t}\n" for i, t in enumerate(rows)))
    return JobConfig.model_validate({
        "name": "t", "dataset": {"path": str(data)},
        "template": {"model": "gpt-4o-mini", "system_prompt": "Be brief.", "user_template": "{text}", "id_column": "id",
                     "parameters": {"max_tokens": 7}},
        **extra,
    })  # fmt: skip


def test_estimate_counts_every_request_like_openai_and_prices_it(tmp_path):
    config = job(tmp_path, ["hello there", "general kenobi"], provider={"kind": "openai", "limits": {"max_requests": 1}})
    estimate = estimate_job(config, per_request=True)
    # OpenAI's count for gpt-4o's o200k_base: 3 per message, plus its role and content tokens, plus 3 priming the reply.
    # "system" 1, "Be brief." 3 ("Be", " brief", "."); "user" 1; "hello there" 2; "general kenobi" 3 ("general", " ken", "obi").
    expected = {"r0": (3 + 1 + 3) + (3 + 1 + 2) + 3, "r1": (3 + 1 + 3) + (3 + 1 + 3) + 3}
    assert estimate.per_request == expected == {"r0": 16, "r1": 17}
    assert [s.prompt_tokens for s in estimate.shards] == [expected["r0"], expected["r1"]]
    assert estimate.output_tokens == 14
    price = (sum(expected.values()) * 0.15 + 14 * 0.60) / 1e6
    assert estimate.total.realtime == pytest.approx(price)
    assert estimate.total.batch == pytest.approx(price / 2)


def test_estimate_writes_shards_only_when_asked(tmp_path):
    config = job(tmp_path, ["a", "b", "c"])
    estimate_job(config)
    assert not (tmp_path / "out").exists()
    estimate = estimate_job(config, out_dir=tmp_path / "out")
    assert [line["custom_id"] for line in read_lines(estimate.shards[0].path)] == ["r0", "r1", "r2"]


def test_budget_and_validation_stop_before_writing(tmp_path):
    with pytest.raises(BudgetExceededError):
        estimate_job(job(tmp_path, ["a"], budget_usd=0.0), out_dir=None)
    bad = job(tmp_path, ["a", ""])
    with pytest.raises(InputValidationError, match="row 1"):
        estimate_job(bad, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_config_without_dataset_says_what_to_add():
    config = JobConfig.model_validate({"template": {"model": "gpt-4o-mini", "user_template": "{t}"}})
    with pytest.raises(ConfigError, match="dataset.path"):
        estimate_job(config)


def test_config_refuses_unknown_keys(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("template: {model: m, user_template: '{t}'}\nprovider: {kind: openai, api_key: sk-123}\n")
    with pytest.raises(ConfigError) as info:
        JobConfig.from_yaml(path)
    assert "provider.api_key" in str(info.value)
    assert "sk-123" not in str(info.value)


def test_job_config_takes_a_provider_yaml_by_path_or_override(tmp_path):
    from zenbatch.defaults import config_path

    job_file = config_path("jobs", "reviews")
    assert JobConfig.from_yaml(job_file).provider.kind == "local"  # the sample runs on the local server
    azure = JobConfig.from_yaml(job_file, provider=config_path("providers", "azure"))
    assert azure.provider.kind == "azure" and azure.provider.dialect().line_model("gpt-4o-mini") == "gpt-4o-mini-batch"
    for name in ("local", "openai", "azure"):
        text = config_path("providers", name).read_text()
        assert "sk-" not in text  # keys never sit in YAML


def test_a_dataset_in_an_object_store_is_estimated_and_its_problems_name_the_uri(s3):
    s3.client.put_object(Bucket=s3.bucket, Key="rows.csv", Body=b"id,text\nr0,hello there\nr1,\n")
    config = JobConfig.model_validate({
        "name": "t", "dataset": {"path": f"{s3.url}/rows.csv"}, "base_dir": "/nonexistent",
        "template": {"model": "gpt-4o-mini", "user_template": "{text}", "id_column": "id", "parameters": {"max_tokens": 7}},
    })  # fmt: skip
    with pytest.raises(InputValidationError) as info:
        estimate_job(config)
    assert info.value.source == f"{s3.url}/rows.csv"
    assert [(p.row, p.column) for p in info.value.problems] == [(1, "text")]
    s3.client.put_object(Bucket=s3.bucket, Key="rows.csv", Body=b"id,text\nr0,hello there\nr1,general kenobi\n")
    assert estimate_job(config).requests == 2
