import orjson
import pandas as pd

from tests.helpers import http_error_line, output_line, results_table
from zenbatch.blobs import file_digest
from zenbatch.parts import ResultPart, ResultsView, part_statistics, write_part, write_results
from zenbatch.pricing import JobEstimate
from zenbatch.results import summarize


def _view(tmp_path) -> tuple[ResultsView, pd.DataFrame]:
    first = results_table(['{"sentiment": "positive"}', '{"sentiment": "negative"}'], pd.DataFrame({"text": ["a", "b"]}))
    second = results_table([output_line("r0", '{"sentiment": "neutral"}'), http_error_line("r1", 429, "rate_limit_exceeded")],
                           pd.DataFrame({"text": ["c", "d"]}))  # fmt: skip
    second["custom_id"] = ["r2", "r3"]
    first["attempts"] = second["attempts"] = 1
    paths, parts = [], []
    for home, frame in enumerate((first, second)):
        path = tmp_path / f"part-{home}.parquet"
        write_part(frame, path)
        paths.append(str(path))
        parts.append(ResultPart(home=home, sha256=file_digest(path), **part_statistics(frame, frame["retryable"])))
    return ResultsView(paths, parts, estimate=JobEstimate(batch_cost=1.0)), pd.concat([first, second], ignore_index=True)


def test_a_view_reads_its_parts_lazily_and_counts_from_their_statistics(tmp_path):
    view, whole = _view(tmp_path)

    assert len(view) == 4 and view.summary == summarize(whole)
    assert [len(f) for f in view.iter_frames()] == [2, 2]
    frame = view.to_pandas()
    assert frame["custom_id"].tolist() == ["r0", "r1", "r2", "r3"]
    assert frame["parsed"].tolist()[:3] == [{"sentiment": "positive"}, {"sentiment": "negative"}, {"sentiment": "neutral"}]
    table = view.dataset().to_table(filter=__import__("pyarrow.dataset").dataset.field("status") == "failed")
    assert table.column("custom_id").to_pylist() == ["r3"]
    assert view.samples(succeeded=False)["error_code"].tolist() == ["rate_limit_exceeded"]
    assert view.parts[1].error_codes == {"rate_limit_exceeded": 1} and view.parts[1].retry_candidates == 1


def test_results_are_written_a_part_at_a_time_in_each_format(tmp_path):
    view, whole = _view(tmp_path)
    for suffix in (".parquet", ".csv", ".jsonl"):
        out = tmp_path / f"rows{suffix}"
        assert write_results(view.iter_frames(), out) == 4
        back = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out) if suffix == ".csv" else pd.read_json(out, lines=True)
        assert back["custom_id"].tolist() == whole["custom_id"].tolist(), suffix
        parsed = back["parsed"].tolist()[0]
        assert (parsed if suffix == ".jsonl" else orjson.loads(parsed)) == {"sentiment": "positive"}, suffix
