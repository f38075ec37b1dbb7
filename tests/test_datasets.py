import pandas as pd
import pytest

from zenbatch.datasets import read_dataset
from zenbatch.errors import DatasetError


def test_reads_csv_with_a_bom_parquet_and_jsonl(tmp_path):
    (tmp_path / "a.csv").write_bytes("\ufefftext,label\nhello,pos\n".encode("utf-8"))
    assert list(read_dataset(tmp_path / "a.csv").columns) == ["text", "label"]
    pd.DataFrame({"text": ["x"]}).to_parquet(tmp_path / "b.parquet")
    assert read_dataset(tmp_path / "b.parquet")["text"].tolist() == ["x"]
    (tmp_path / "c.jsonl").write_text('{"text": "x"}\n\n{"text": "y"}\n')
    assert read_dataset(tmp_path / "c.jsonl")["text"].tolist() == ["x", "y"]


def test_non_utf8_names_the_line_and_byte(tmp_path):
    (tmp_path / "latin.csv").write_bytes("text\nok\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"line 3: not UTF-8 \(byte 0xe9"):
        read_dataset(tmp_path / "latin.csv")


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("x.txt", "a", "unknown dataset format"),
        ("bad.jsonl", '{"a": 1}\n{oops\n', "line 2: not valid JSON"),
        ("list.jsonl", "[1, 2]\n", "must be a JSON object"),
        ("empty.csv", "", "empty"),
    ],
)
def test_bad_files_are_named(tmp_path, name, content, fragment):
    (tmp_path / name).write_text(content)
    with pytest.raises(DatasetError, match=fragment):
        read_dataset(tmp_path / name)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset file"):
        read_dataset(tmp_path / "nope.csv")
