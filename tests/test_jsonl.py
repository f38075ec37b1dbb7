"""One JSONL line reader: a BOM dropped, blank lines skipped (or kept when asked), numbers as a user counts."""

from __future__ import annotations

from zenbatch.jsonl import BOM, numbered_lines


def test_lines_keep_the_numbers_a_user_sees_without_the_bom_and_blank_lines():
    lines = [BOM + b'{"a": 1}\n', b"\n", b"   \n", b'{"b": 2}\n']
    assert list(numbered_lines(lines)) == [(1, b'{"a": 1}\n'), (4, b'{"b": 2}\n')]
    assert [n for n, _ in numbered_lines(lines, blank=True)] == [1, 2, 3, 4]


def test_a_bom_is_dropped_only_before_the_first_line():
    assert list(numbered_lines([b"x\n", BOM + b"y\n"])) == [(1, b"x\n"), (2, BOM + b"y\n")]
