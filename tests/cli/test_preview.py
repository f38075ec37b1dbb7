"""``zenbatch preview`` as a user runs it: a job config, a running local server, a table and the cost."""

from __future__ import annotations

import yaml

from zenbatch.cli import main
from zenbatch.server import LocalBatchServer


def test_preview_prints_each_rows_answer_and_the_realtime_cost_and_writes_the_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: the table's cells are not wrapped
    (tmp_path / "rows.csv").write_text("id,text\na,great blender\nb,broke in a week\nc,fine\n")
    with LocalBatchServer(tmp_path / "server", engine="echo") as server:
        (tmp_path / "job.yaml").write_text(yaml.safe_dump({
            "name": "cli-preview", "dataset": {"path": "rows.csv"},
            "provider": {"kind": "local", "base_url": server.base_url},
            "template": {"model": "gpt-4o-mini", "user_template": "Review: {text}", "id_column": "id", "parameters": {"max_tokens": 10}},
        }))  # fmt: skip
        code = main(["preview", "--config", str(tmp_path / "job.yaml"), "--rows", "2", "--out", str(tmp_path / "p.csv")])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "cli-preview: 2 row(s) through the realtime endpoint" in out and "great blender" in out
    assert "2 of 2 succeeded; realtime cost $" in out and "the same rows in the batch $" in out
    assert "broke in a week" in out and "fine" not in out.split("succeeded")[0].split("cli-preview")[1]
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 3
