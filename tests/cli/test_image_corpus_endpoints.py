"""The real-image corpus behaves the same on both endpoints: the same files accepted, the same
refused with the same lines, and what is accepted is taken by the (strict) emulator on each."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers import RunMivid, Serve
from imagefactory import write_corpus
from mivid.sandbox import Emulator, EmulatorServer

MODELS = {"multi-image": "kling-v1-6", "omni": "kling-video-o1"}


@pytest.fixture
def api(serve: Serve) -> EmulatorServer:
    emulator = Emulator(access_keys={"test-ak": "test-sk"}, clock=time.time, concurrency_limit=100)
    return serve(emulator)


def test_the_image_corpus_is_judged_alike_on_both_endpoints(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    verdicts = write_corpus(corpus)
    seen: dict[str, dict[str, tuple[int, list[str]]]] = {}
    for endpoint, model in MODELS.items():
        for name in sorted(verdicts):
            before = len(api.emulator.received)
            result = mivid(
                "create", str(corpus / name), "--model", model, "--prompt", "<<<image_1>>>", "-q"
            )
            lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
            seen.setdefault(name, {})[endpoint] = (result.exit_code, lines)
            if verdicts[name]:
                assert result.exit_code == 0, (endpoint, name, result)
            else:
                assert result.exit_code == 2, (endpoint, name, result)
                assert lines and all(str(corpus / name) in line for line in lines), lines
                assert len(api.emulator.received) == before  # nothing sent
    for name, outcomes in seen.items():
        assert outcomes["multi-image"] == outcomes["omni"], name
    made = {
        endpoint: len(api.emulator.tasks(endpoint))
        for endpoint in ("multi-image2video", "omni-video")
    }
    accepted = sum(verdicts.values())
    assert made == {"multi-image2video": accepted, "omni-video": accepted}
