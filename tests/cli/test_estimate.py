import subprocess
import sys

import orjson

from zenbatch.cli import main

SAMPLE = "reviews"  # the shipped sample job, by name


def test_estimate_config_prints_shards_and_both_prices(capsys):
    assert main(["estimate", "--config", SAMPLE]) == 0
    out = capsys.readouterr().out
    assert "300 in 1 shard(s)" in out and "batch price" in out and "realtime price" in out


def test_estimate_json_and_per_request(capsys):
    assert main(["estimate", "--config", SAMPLE, "--json", "--per-request"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["ok"] and data["requests"] == 300
    assert len(data["per_request"]) == 300 and data["per_request"]["r0001"] > 0
    assert abs(data["total"]["realtime"] - 2 * data["total"]["batch"]) < 1e-12


def test_estimate_file_with_bad_lines_exits_2_with_problems(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o", "messages": []}}\n{bad\n')
    assert main(["estimate", str(path), "--json"]) == 2
    data = orjson.loads(capsys.readouterr().out)
    assert data["problems"][0]["line"] == 2 and data["problems"][0]["code"] == "invalid_json_line"
    assert main(["estimate", str(path)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_budget_exceeded_exits_1(capsys):
    assert main(["estimate", "--config", SAMPLE, "--budget", "0"]) == 1
    assert "above the budget" in capsys.readouterr().err


def test_runs_as_python_module():
    done = subprocess.run([sys.executable, "-m", "zenbatch", "estimate", "--help"], capture_output=True, text=True, check=True)
    assert "examples:" in done.stdout
