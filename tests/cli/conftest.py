"""Run the real command line, in-process (fast) or as a subprocess (as a user would).

`mivid(*args, input=..., env=...)` goes through `mivid.cli.run`, the same error
boundary the console script uses, with stdin, stdout and stderr captured
separately. `mivid_process(...)` runs `python -m mivid` for what only a real
process shows (exit on signals, pipes, start-up).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from mivid.cli import run


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


RunMivid = Callable[..., Result]


@pytest.fixture
def mivid() -> RunMivid:
    def invoke(
        *args: str, input: str | bytes | None = None, env: Mapping[str, str | None] | None = None
    ) -> Result:
        runner = CliRunner()
        with runner.isolation(input=input, env=env) as (out, err, _mixed):
            code = run(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
            return Result(code, out.getvalue().decode(), err.getvalue().decode())

    return invoke


@pytest.fixture
def mivid_process() -> RunMivid:
    def invoke(
        *args: str,
        input: str | bytes | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
    ) -> Result:
        environ = dict(os.environ)
        for name, value in (env or {}).items():
            if value is None:
                environ.pop(name, None)
            else:
                environ[name] = value
        data = input.encode() if isinstance(input, str) else input
        completed = subprocess.run(
            [sys.executable, "-m", "mivid", *args],
            input=data if data is not None else b"",
            capture_output=True,
            env=environ,
            timeout=timeout,
            check=False,
        )
        return Result(
            completed.returncode,
            completed.stdout.decode(errors="replace"),
            completed.stderr.decode(errors="replace"),
        )

    return invoke
