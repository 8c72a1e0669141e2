"""Shared fixtures. Tests use the real committed default model (models/DEFAULT), never a mock."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "peru-mexico"
SEEDS = sorted(EXAMPLES.glob("*.txt"))


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def default_model():
    from framing.models import load_model

    return load_model()


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run `framing ARGS...` in-process through the real entry point (exit codes and error handling included)."""
    from framing import cli

    def run(*args: str, stdin: str | None = None) -> CliResult:
        import io

        monkeypatch.setattr(sys, "argv", ["framing", *map(str, args)])
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        cli._state.update(debug=False, quiet=False)
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            cli.main()
        captured = capsys.readouterr()
        return CliResult(int(exit_info.value.code or 0), captured.out, captured.err)

    return run
