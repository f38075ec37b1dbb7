"""The ``zenbatch`` commands on the session's flow (tests/flow.py), as a user or a script calls them."""

from __future__ import annotations

import orjson
import pandas as pd
import pytest
import yaml

from tests.flow import server_batches
from zenbatch.cli import build_parser, command_modules, main

pytestmark = pytest.mark.pipeline


def _json(capsys) -> object:
    return orjson.loads(capsys.readouterr().out)


def test_every_command_is_listed_and_shows_examples(capsys):
    parser = build_parser()
    help_text = parser.format_help()
    for command in ("serve", "init", "submit", "status", "wait", "collect", "cancel", "results", "estimate", "demo",
                    "label", "evaluate", "finetune"):  # fmt: skip
        assert command in help_text
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        assert "example" in (sub.epilog or ""), f"zenbatch {name} --help shows no example"
    assert len(command_modules()) >= 11


def test_status_lists_both_jobs_as_collected_with_their_rows(flow, capsys):
    assert main(["status", "--json"]) == 0
    jobs = {job["job_id"]: job for job in _json(capsys)}
    for name, job_id in flow.job_ids.items():
        job = jobs[job_id]
        assert job["state"] == "collected" and job["name"] == name
        assert job["results"]["rows"] == job["results"]["succeeded"] == len(flow.frames[name])
        assert job["estimated_batch_cost"] > 0 and job["batch_ids"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_results_export_one_row_per_input_row(flow, tmp_path, capsys, suffix):
    out = tmp_path / f"rows{suffix}"
    assert main(["results", flow.job_ids["alpha"], "--out", str(out)]) == 0
    assert f"30 rows -> {out}" in capsys.readouterr().out
    read = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".jsonl": lambda p: pd.read_json(p, lines=True)}[suffix]
    frame = read(out)
    assert frame["custom_id"].tolist() == flow.frames["alpha"]["review_id"].tolist()
    assert set(frame["status"]) == {"succeeded"}


def test_bad_requests_exit_2_or_1_and_say_what_to_do(flow, tmp_path, capsys):
    assert main(["results", "--out", str(tmp_path / "rows.txt")]) == 2
    assert "use a .csv, .parquet or .jsonl" in capsys.readouterr().err
    assert main(["results", "no-such-job", "--out", str(tmp_path / "rows.csv")]) == 2
    assert "no results yet" in capsys.readouterr().err
    assert main(["cancel", flow.job_ids["beta"]]) == 1
    assert "already collected: nothing to cancel" in capsys.readouterr().err


def test_with_nothing_open_wait_and_collect_have_nothing_to_do(flow, capsys):
    assert main(["wait", "--interval", "0.1", "--timeout", "5"]) == 0
    assert "no open jobs" in capsys.readouterr().out
    assert main(["collect"]) == 0
    assert "collected 0 job(s); 0 still open" in capsys.readouterr().out


def test_a_job_over_budget_is_refused_in_its_step_and_nothing_is_uploaded(flow, tmp_path, capsys):
    config = yaml.safe_load(flow.configs["alpha"].read_text())
    config.update(name="too-dear", budget_usd=0.0000001, dataset={"path": str(flow.configs["alpha"].parent / "alpha.csv")})
    path = tmp_path / "too-dear.yaml"
    path.write_text(yaml.safe_dump(config))
    before = len(list(server_batches(flow.server)))

    # Every row was answered before: with reuse, nothing would be sent or priced, so send them all again.
    assert main(["submit", "--job", str(path), "--provider", str(flow.provider), "--no-reuse"]) == 1
    error = capsys.readouterr().err
    assert "the submit_pipeline pipeline failed" in error and "step plan_batch" in error and "budget" in error
    assert len(list(server_batches(flow.server))) == before


def test_submitting_collected_work_again_says_so(flow, capsys):
    assert main(["submit", "--job", str(flow.configs["beta"]), "--provider", str(flow.provider), "--json"]) == 0
    summary = _json(capsys)
    assert summary["already_collected"] is True and summary["job_id"] == flow.job_ids["beta"]


def test_evaluate_reports_its_artifact_for_scripts(flow, capsys):
    assert main(["evaluate", "--json"]) == 0
    result = _json(capsys)
    assert result["status"] == "completed"
    (report,) = [o for o in result["outputs"] if o["name"] == "evaluation_report"]
    assert 0 < report["metadata"]["accuracy"] < 1


def test_submitting_rows_answered_before_sends_nothing_and_says_so(flow, tmp_path, capsys):
    config = yaml.safe_load(flow.configs["alpha"].read_text())
    config.update(name="alpha-again", dataset={"path": str(flow.configs["alpha"].parent / "alpha.csv")})
    path = tmp_path / "alpha-again.yaml"
    path.write_text(yaml.safe_dump(config))
    before = len(list(server_batches(flow.server)))

    assert main(["submit", "--job", str(path), "--provider", str(flow.provider)]) == 0

    out = capsys.readouterr().out
    assert "30 row(s) answered by earlier jobs are reused" in out and "nothing new to send" in out
    assert len(list(server_batches(flow.server))) == before


def test_an_existing_batch_file_is_submitted_and_collected_by_its_own_custom_ids(flow, tmp_path, capsys):
    import time

    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, newest_of_job

    lines = [{"custom_id": f"file-{i}", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"from a file, line {i}"}], "max_tokens": 9}}
             for i in range(4)]  # fmt: skip
    source = tmp_path / "requests.jsonl"
    source.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))

    assert main(["submit", str(source), "--provider", str(flow.provider), "--json"]) == 0
    summary = _json(capsys)
    assert summary["job"] == "requests" and summary["requests"] == 4 and len(summary["batch_ids"]) == 1
    deadline = time.monotonic() + 60
    while newest_of_job(RESULTS_ARTIFACT, summary["job_id"]) is None:
        assert time.monotonic() < deadline, "the file's job was not collected within 60 s"
        assert main(["collect"]) == 0
        time.sleep(1)

    results = newest_of_job(RESULTS_ARTIFACT, summary["job_id"]).load().to_pandas()
    assert results["custom_id"].tolist() == [f"file-{i}" for i in range(4)] and (results["status"] == "succeeded").all()
    assert results["content"].tolist()[0] == "from a file, line 0"


def test_a_batch_file_with_a_bad_line_is_refused_before_anything_is_uploaded(flow, tmp_path, capsys):
    source = tmp_path / "broken.jsonl"
    source.write_bytes(b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}}\n{oops\n')
    before = len(list(server_batches(flow.server)))

    assert main(["submit", str(source), "--provider", str(flow.provider)]) == 2  # bad input
    error = capsys.readouterr().err
    assert "step plan_batch" in error and "line 2" in error and "not valid JSON" in error, error
    assert len(list(server_batches(flow.server))) == before
