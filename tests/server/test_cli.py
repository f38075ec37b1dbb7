"""``zenbatch serve`` on the command line: help, and settings refused before anything starts."""

from __future__ import annotations

import pytest

from zenbatch.cli import main


def test_serve_help_lists_engines_and_faults(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    for flag in (
        "--engine",
        "--forward-url",
        "--api-key",
        "--workers",
        "--data-dir",
        "--fail-rate",
        "--fail-status",
        "--seed",
        "--line-delay-ms",
        "--expire-after",
        "--validate-delay",
    ):
        assert flag in out


@pytest.mark.parametrize("argv, says", [
    (["--engine", "forward"], "--forward-url"),
    (["--engine", "echo", "--fail-rate", "2"], "fail-rate"),
    (["--engine", "echo", "--workers", "0"], "workers"),
])  # fmt: skip
def test_bad_settings_exit_2_with_a_message_and_write_nothing(tmp_path, capsys, argv, says):
    data = tmp_path / "data"
    assert main(["serve", "--data-dir", str(data), *argv]) == 2
    assert says in capsys.readouterr().err
    assert not data.exists()


def test_missing_model_file_is_named(tmp_path, capsys):
    code = main(["serve", "--data-dir", str(tmp_path / "d"), "--model-path", str(tmp_path / "none.gguf")])
    assert code == 2 and "none.gguf" in capsys.readouterr().err
