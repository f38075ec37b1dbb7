import pytest

from zenbatch.blobs import Blobs, file_digest
from zenbatch.errors import JobStateError


def _file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_file_is_stored_once_compressed_and_comes_back_byte_for_byte(tmp_path):
    blobs = Blobs(str(tmp_path / "store"))
    data = b"".join(b'{"custom_id": "r%d", "body": {"text": "the same words again"}}\n' % i for i in range(2000))
    source = _file(tmp_path, "a.jsonl", data)

    digest = blobs.put(source)
    written = blobs.traffic.written
    assert digest == file_digest(source) and 0 < written < len(data) / 5  # zstd on request lines
    assert Blobs(str(tmp_path / "store")).put(source) == digest
    blobs.put(source)
    assert blobs.traffic.written == written  # stored once: a second put writes nothing

    back = blobs.get(digest, tmp_path / "back" / "a.jsonl")
    assert back.read_bytes() == data and blobs.traffic.read > 0
    read = blobs.traffic.read
    blobs.fetch(digest, back)
    assert blobs.traffic.read == read  # the local copy is this blob: nothing read


def test_a_missing_or_altered_blob_is_named_with_what_to_do(tmp_path):
    blobs = Blobs(str(tmp_path / "store"))
    digest = blobs.put(_file(tmp_path, "a.jsonl", b'{"custom_id": "r1"}\n'))
    with pytest.raises(JobStateError, match=r"is not in .*store.*Submit the job again"):
        blobs.get("0" * 64, tmp_path / "x.jsonl")
    stored = tmp_path / "store" / digest[:2] / f"{digest}.jsonl.zst"
    other = Blobs(str(tmp_path / "other"))
    other.put(_file(tmp_path, "b.jsonl", b'{"custom_id": "r2"}\n'), digest)  # the wrong bytes under this digest
    stored.write_bytes((tmp_path / "other" / digest[:2] / f"{digest}.jsonl.zst").read_bytes())
    with pytest.raises(JobStateError, match="is corrupt"):
        blobs.get(digest, tmp_path / "y.jsonl")
    assert not (tmp_path / "y.jsonl").exists()


def test_parquet_parts_are_kept_as_they_are(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"a": range(10)})
    frame.to_parquet(tmp_path / "p.parquet")
    blobs = Blobs(str(tmp_path / "store"))
    digest = blobs.put(tmp_path / "p.parquet", kind="parquet")
    assert blobs.path(digest, "parquet").endswith(".parquet")
    with blobs.open(digest) as handle:
        assert pd.read_parquet(handle)["a"].tolist() == list(range(10))
    size = (tmp_path / "p.parquet").stat().st_size
    assert size <= blobs.traffic.read < 2 * size  # what was read, the footer twice
