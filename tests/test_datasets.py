import re

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


def test_object_store_datasets_read_like_files(s3):
    frame = pd.DataFrame({"review_id": ["r1", "r2"], "text": ["good", "bad"]})
    s3.client.put_object(Bucket=s3.bucket, Key="in/reviews.csv", Body=frame.to_csv(index=False).encode())
    s3.client.put_object(Bucket=s3.bucket, Key="in/reviews.jsonl", Body=frame.to_json(orient="records", lines=True).encode())
    s3.client.put_object(Bucket=s3.bucket, Key="in/reviews.parquet", Body=frame.to_parquet(index=False))
    for name in ("reviews.csv", "reviews.jsonl", "reviews.parquet"):
        assert read_dataset(f"{s3.url}/in/{name}").to_dict("list") == frame.to_dict("list"), name


@pytest.mark.parametrize(
    "key, body, fragment",
    [
        ("bad.jsonl", b'{"a": 1}\n{oops\n', "bad.jsonl, line 2: not valid JSON"),
        ("latin.csv", "text\ncaf\xe9\n".encode("latin-1"), "latin.csv, line 2: not UTF-8"),
        (None, None, "no such object; check dataset.path and the bucket"),
    ],
)
def test_object_store_problems_name_the_uri(s3, key, body, fragment):
    if key is not None:
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=body)
    uri = f"{s3.url}/{key or 'missing.csv'}"
    with pytest.raises(DatasetError, match=re.escape(fragment)) as info:
        read_dataset(uri)
    assert str(info.value).startswith(uri)


def test_an_unknown_scheme_is_named():
    with pytest.raises(DatasetError, match=r"no reader for nope://"):
        read_dataset("nope://bucket/rows.csv")
