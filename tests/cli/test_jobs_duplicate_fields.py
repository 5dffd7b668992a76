"""A jobs-file line that names one field twice is refused, as a CSV's repeated column is.

JSON readers keep the last value silently: a billed job whose text says two
things must not be sent on a guess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import RunMivid
from imagefactory import make_png
from mivid.sandbox import EmulatorServer


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"images": ["front.png"], "prompt": "a", "prompt": "b"}', "prompt"),
        ('{"images": ["front.png"], "prompt": "a", "mode": "std", "mode": "pro"}', "mode"),
        ('{"images": ["front.png"], "prompt": "a", "video": {"url": "x", "url": "y"}}', "url"),
    ],
)
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_field_given_twice_is_refused_before_sending(
    mivid: RunMivid,
    kling_env: EmulatorServer,
    tmp_path: Path,
    line: str,
    field: str,
    dry_run: bool,
) -> None:
    make_png(tmp_path / "front.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"images": ["front.png"], "prompt": "fine"}\n' + line + "\n")
    result = mivid("batch", str(jobs), *(["--dry-run"] if dry_run else []))
    assert result.exit_code == 2, result
    assert f"jobs.jsonl:2: field `{field}` appears twice" in result.stderr
    assert result.stdout == ""
    assert kling_env.emulator.received == []
