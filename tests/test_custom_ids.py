import pandas as pd

from zenbatch import custom_ids


def test_hash_ids_are_stable_safe_and_unique_for_identical_rows():
    frame = pd.DataFrame({"text": ["a", "b", "a"], "other": [1, 2, 3]})
    first = custom_ids.from_content(frame, ["text"])
    again = custom_ids.from_content(frame.copy(), ["text"])
    assert first == again
    assert first[2] == first[0] + "-2"
    assert len(set(first)) == 3
    assert all(custom_ids.is_safe(c) for c in first)


def test_hash_ids_ignore_columns_the_template_does_not_read():
    a = custom_ids.from_content(pd.DataFrame({"text": ["x"], "label": ["p"]}), ["text"])
    b = custom_ids.from_content(pd.DataFrame({"text": ["x"], "label": ["n"]}), ["text"])
    assert a == b


def test_column_ids_are_made_safe_without_collisions():
    ids, problems = custom_ids.from_column(pd.Series(["doc 1/2", "doc_1_2", 7, 8.0]), "id")
    assert problems == []
    assert ids[0] != ids[1]
    assert ids[2:] == ["7", "8"]
    assert all(custom_ids.is_safe(i) for i in ids)


def test_column_ids_report_missing_duplicate_and_too_long():
    _, problems = custom_ids.from_column(pd.Series(["a", None, "a", "x" * 80]), "id")
    codes = {(p.code, p.row) for p in problems}
    assert ("missing_id", 1) in codes
    assert ("duplicate_custom_id", 2) in codes
    assert ("id_too_long", 3) in codes
