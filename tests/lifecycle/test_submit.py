import orjson
import pytest

from zenbatch.blobs import Blobs
from zenbatch.jobs import BatchJob, ShardStatus
from zenbatch.lifecycle import Outcome, poll, prepare_job, run_until_done, submit


class Crash(Exception):
    """Stands for the process dying at a checkpoint."""


@pytest.mark.parametrize("stage", ["uploaded", "created", "recorded"])
def test_a_crash_at_any_point_then_a_rerun_leaves_exactly_one_batch(kit, stage):
    job, _ = kit.job(6)
    save = kit.save_to(stage)
    save(job)

    def crash(at, shard):
        if at == stage:
            raise Crash(at)

    provider = kit.provider()
    with pytest.raises(Crash):
        submit(job, provider, save=save, checkpoint=crash)
    # The process died: the next run starts from what was saved, with a new client.
    restored = BatchJob.load(kit.workdir / f"{stage}.json")
    submit(restored, kit.provider(), save=save)
    assert kit.batches_with(restored.shards[0].sha256) == [restored.shards[0].batch_id]
    uploads = [f for f in kit.provider().client.files.list(purpose="batch").data if f.filename.startswith("zenbatch-")]
    assert len(uploads) == 1


def test_submitting_the_same_job_again_reuses_its_batches(kit):
    first, _ = kit.job(5, name="a")
    provider = kit.provider()
    submit(first, provider, save=kit.save_to("a"))
    again, _ = kit.job(5, name="b")
    report = submit(again, provider, save=kit.save_to("b"))
    assert report.reused == [0] and report.submitted == []
    assert again.shards[0].batch_id == first.shards[0].batch_id
    assert provider.calls["create"] == 1


def test_a_reused_batch_that_already_finished_is_collected_not_run_again(kit, tmp_path):
    blobs = Blobs(str(tmp_path / "store"))
    first, frame = kit.job(6, name="a")
    provider = kit.provider()
    run_until_done(first.keep_in(blobs), provider, save=kit.save_to("a"), inputs=frame, poll_interval=0.05, timeout=30)
    assert provider.calls["delete_file"] == 2  # its input and output files: collected, stored, deleted
    again, _ = kit.job(6, name="b")  # the same job prepared again, its first state lost after it finished

    _, collection = run_until_done(again.keep_in(blobs), provider, save=kit.save_to("b"), inputs=frame,
                                         poll_interval=0.05, timeout=30)  # fmt: skip

    assert set(collection.results.to_pandas()["status"]) == {"succeeded"}
    assert len(again.shards) == 1 and provider.calls["create"] == 1
    assert provider.calls["download"] == 1  # the second found the stored file under the provider's file id
    assert set(kit.server.execution_counts().values()) == {1}


def test_the_enqueued_token_budget_is_never_exceeded(server_factory):
    kit = server_factory(line_delay_ms=30)
    probe, _ = kit.job(10, name="probe", limits={"max_requests": 2})
    per_shard = max(s.prompt_tokens for s in probe.shards)
    budget = per_shard * 2
    job, _ = kit.job(10, name="budget", limits={"max_requests": 2}, max_enqueued_tokens=budget)
    provider = kit.provider()
    save = kit.save_to("budget")
    assert len(job.shards) == 5
    seen_open = []
    for _ in range(400):
        report = submit(job, provider, save=save)
        assert job.enqueued_tokens() <= budget, report
        seen_open.append(len(job.open_shards))
        polled = poll(job, provider, save=save)
        assert polled.retrieves == seen_open[-1]  # one retrieve per open shard per poll
        if all(s.status == ShardStatus.COMPLETED for s in job.shards):
            break
    assert all(s.status == ShardStatus.COMPLETED for s in job.shards)
    assert max(seen_open) == 2
    assert provider.calls["retrieve"] == sum(seen_open)


def test_the_same_work_prepared_again_is_the_same_job_and_other_work_is_not(kit):
    first, _ = kit.job(30, name="a")
    again, _ = kit.job(30, name="b")  # another work folder, same rows and settings
    more, _ = kit.job(31, name="c")

    assert first.job_id == again.job_id
    assert more.job_id != first.job_id


def test_the_users_metadata_goes_into_every_batch_next_to_zenbatchs(kit):
    job, _ = kit.job(4)
    job.metadata = {"team": "search", "run": "nightly"}
    submit(job, kit.provider())
    (batch,) = [b for b in kit.provider().iter_batches(100) if b.id == job.shards[0].batch_id]
    assert batch.metadata["team"] == "search" and batch.metadata["run"] == "nightly"
    assert batch.metadata["zenbatch_job_id"] == job.job_id


def _batch_file(path, rows: int, url: str = "/v1/chat/completions", model: str = "gpt-4o-mini"):
    lines = [orjson.dumps({"custom_id": f"mine-{i}", "method": "POST", "url": url,
                           "body": {"model": model, "messages": [{"role": "user", "content": f"Say: line {i}"}], "max_tokens": 5}})
             for i in range(rows)]  # fmt: skip
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_an_existing_batch_file_is_submitted_with_its_own_custom_ids(kit, tmp_path):
    from zenbatch.config import JobConfig

    source = _batch_file(tmp_path / "requests.jsonl", 7)
    config = JobConfig.model_validate({"name": "from-file", "input_file": {"path": str(source)},
                                       "provider": {"kind": "local", "base_url": kit.server.base_url, "limits": {"max_requests": 4}}})  # fmt: skip
    job, estimate = prepare_job(config, tmp_path / "work")
    assert [s.requests for s in job.shards] == [4, 3] and estimate.requests == 7 and job.endpoint == "/v1/chat/completions"

    outcome, collection = run_until_done(job, kit.provider(), poll_interval=0.05, timeout=30)

    results = collection.results.to_pandas()
    assert outcome == Outcome.COMPLETED and results["custom_id"].tolist() == [f"mine-{i}" for i in range(7)]
    assert (results["status"] == "succeeded").all() and results["content"].tolist()[0] == "Say: line 0"


def test_an_openai_style_file_for_azure_is_refused_line_by_line_or_rewritten_when_asked(tmp_path):
    from zenbatch.config import JobConfig
    from zenbatch.errors import InputValidationError

    source = _batch_file(tmp_path / "requests.jsonl", 3)
    azure = {"kind": "azure", "azure_endpoint": "https://example.openai.azure.com", "deployment": "batch-4o-mini"}
    config = {"name": "to-azure", "input_file": {"path": str(source), "base_model": "gpt-4o-mini"}, "provider": azure}
    with pytest.raises(InputValidationError) as refused:
        prepare_job(JobConfig.model_validate(config), tmp_path / "refused")
    text = str(refused.value)
    assert "line 1" in text and "line 3" in text and "'/v1/chat/completions' -> '/chat/completions'" in text
    assert "'gpt-4o-mini' -> 'batch-4o-mini'" in text and "--rewrite-for azure" in text

    config["input_file"]["rewrite_for"] = "azure"
    job, _ = prepare_job(JobConfig.model_validate(config), tmp_path / "rewritten")
    lines = [orjson.loads(line) for line in job.input_file(job.shards[0]).read_bytes().splitlines()]
    assert {(r["url"], r["body"]["model"]) for r in lines} == {("/chat/completions", "batch-4o-mini")}
    assert [r["custom_id"] for r in lines] == ["mine-0", "mine-1", "mine-2"]
    assert job.endpoint == job.batch_endpoint == "/chat/completions" and job.model == "batch-4o-mini"
