"""Batch core: reading jobs files, stable ids, and the scheduler on a fake clock.

The scheduler talks to the emulator in-process through a real KlingClient; the
emulator, the client and the scheduler share one FakeClock that only the
injected sleeps move, so no test really sleeps.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagefactory import make_jpeg, make_png
from mivid.auth import JwtCredentials
from mivid.batch import (
    REFUSED,
    SEND,
    SKIP,
    Scheduler,
    canonical_content,
    check_fields,
    derived_external_id,
    job_external_id,
    outcome_error,
    parse_csv,
    plan_jobs,
    read_jobs,
    without_concurrency_retries,
)
from mivid.client import KlingClient
from mivid.errors import ApiError, ExitCode, InputError
from mivid.journal import Journal
from mivid.sandbox import Emulator, EmulatorTransport, FakeClock
from mivid.submission import prepare_create, submit_create
from mivid.waiting import PollSchedule

BASE = "http://kling.test"
IMAGE_URL = "https://example.com/cat.png"


# --- reading ---------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_png(tmp_path / "front.png")
    make_jpeg(tmp_path / "side.jpg")
    return tmp_path


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def job_line(**fields: Any) -> str:
    return json.dumps({"images": ["front.png"], "prompt": "waves", **fields})


def test_jsonl_jobs_resolve_images_beside_the_file_and_take_config_defaults(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    path = write(
        folder / "jobs.jsonl",
        "# a comment",
        job_line(mode="pro", duration=10),
        "",
        json.dumps({"images": ["side.jpg", IMAGE_URL], "prompt": "calm", "watermark": True}),
    )
    found = read_jobs(path, defaults={"mode": "std", "duration": "5", "aspect-ratio": "1:1"})

    first, second = found.jobs
    assert (first.line, second.line) == (2, 4)
    assert first.prepare().request.fields() | {"external_task_id": None} == {
        "model_name": "kling-v1-6",
        "prompt": "waves",
        "mode": "pro",
        "duration": "10",
        "aspect_ratio": "1:1",
        "external_task_id": None,
    }
    assert second.prepare().request.watermark_info == {"enabled": True}
    assert second.prepare().request.mode == "std"
    assert first.external_task_id.startswith("mivid-b-")
    assert len({first.external_task_id, second.external_task_id}) == 2


def test_every_bad_line_is_reported_with_its_number_at_once(folder: Path) -> None:
    path = write(
        folder / "jobs.jsonl",
        job_line(),
        "{not json",
        "[1, 2]",
        job_line(colour="red"),
        json.dumps({"images": ["missing.png"], "prompt": 7}),
        json.dumps({"prompt": "no images"}),
        job_line(duration="7", watermark="yes"),
        job_line(external_task_id="shot-1"),
        job_line(external_task_id="shot-1", prompt="other"),
    )
    with pytest.raises(InputError) as caught:
        read_jobs(path, name="jobs.jsonl")

    problems = caught.value.problems
    numbers = [int(problem.split(":")[1]) for problem in problems]
    assert numbers == sorted(numbers)
    assert set(numbers) == {2, 3, 4, 5, 6, 7, 9}
    text = "\n".join(problems)
    assert "jobs.jsonl:2: not valid JSON" in text
    assert "jobs.jsonl:3: a job must be a JSON object" in text
    assert "jobs.jsonl:4: unknown field `colour`" in text
    assert "jobs.jsonl:5: prompt: must be a string, not 7" in text
    assert "jobs.jsonl:5: missing.png: no such file" in text
    assert "jobs.jsonl:6: images: required" in text
    assert "jobs.jsonl:7: duration: `7` is not one of 5, 10" in text
    assert "jobs.jsonl:7: watermark: must be true or false" in text
    assert "jobs.jsonl:9: external_task_id: `shot-1` is also used on line 8" in text
    assert caught.value.exit_code == ExitCode.BAD_INPUT


def test_csv_jobs_split_images_on_a_pipe_and_count_physical_lines(folder: Path) -> None:
    path = folder / "jobs.csv"
    path.write_text(
        "images,prompt,duration,watermark\n"
        'front.png|side.jpg,"calm, sunny sea",10,true\n'
        "# skipped\n"
        "\n"
        'side.jpg,"a prompt\nover two lines",,\n'
        "front.png,,5,maybe\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_jobs(path, name="jobs.csv")
    assert caught.value.problems == [
        'jobs.csv:7: watermark: must be true or false, not "maybe"',
        "jobs.csv:7: prompt: required — what the video should show",
    ]

    path.write_text(path.read_text().rsplit("front.png,,5", 1)[0], encoding="utf-8")
    first, second = read_jobs(path).jobs
    assert (first.line, second.line) == (2, 5)
    assert [image.argument for image in first.prepare().images] == ["front.png", "side.jpg"]
    assert first.prepare().request.duration == "10"
    assert second.prepare().request.prompt == "a prompt\nover two lines"


def test_csv_unknown_column_is_refused(folder: Path) -> None:
    path = write(folder / "jobs.csv", "images,prompt,colour", "front.png,waves,red")
    with pytest.raises(InputError, match=r"jobs.csv:1: unknown column `colour`"):
        read_jobs(path, name="jobs.csv")


def test_an_empty_file_is_bad_input(folder: Path) -> None:
    path = write(folder / "jobs.jsonl", "# nothing yet", "")
    with pytest.raises(InputError, match="no jobs"):
        read_jobs(path)


def test_ids_are_stable_across_formatting_and_distinct_for_repeated_lines(folder: Path) -> None:
    path = write(
        folder / "jobs.jsonl",
        '{"prompt": "waves", "images": ["front.png"]}',
        '{"images":["front.png"],"prompt":"waves"}',
        job_line(prompt="other"),
    )
    first, repeat, other = read_jobs(path).jobs
    assert len({first.external_task_id, repeat.external_task_id, other.external_task_id}) == 3

    # Moving lines around and adding one keeps every id.
    write(
        folder / "jobs.jsonl",
        job_line(prompt="new"),
        job_line(prompt="other"),
        job_line(),
        job_line(),
    )
    _new, other2, first2, repeat2 = read_jobs(path).jobs
    assert (first2.external_task_id, repeat2.external_task_id, other2.external_task_id) == (
        first.external_task_id,
        repeat.external_task_id,
        other.external_task_id,
    )
    # Another file with the same content makes other tasks.
    copy = write(folder / "copy.jsonl", job_line())
    assert read_jobs(copy).jobs[0].external_task_id != first.external_task_id


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(
        st.sampled_from(["images", "prompt", "duration", "watermark", "x"]), json_values
    )
    | json_values
)
def test_check_fields_never_raises_and_explains_every_refusal(raw: Any) -> None:
    fields, problems = check_fields(raw)
    if fields is None:
        assert problems and not isinstance(raw, dict)
    else:
        assert set(fields) <= {"images", "prompt", "duration", "watermark"}
        if not problems:
            assert isinstance(fields["prompt"], str)
            assert all(isinstance(image, str) for image in fields["images"])


@given(st.dictionaries(st.sampled_from(["prompt", "mode", "negative_prompt"]), st.text()))
def test_the_id_depends_on_content_and_the_files_name_not_key_order(
    fields: dict[str, str],
) -> None:
    reordered = dict(reversed(list(fields.items())))
    ident = job_external_id("jobs.jsonl", canonical_content(fields))
    assert ident == job_external_id("jobs.jsonl", canonical_content(reordered))
    assert ident.startswith("mivid-b-") and len(ident) == len("mivid-b-") + 20
    assert ident != job_external_id("other.jsonl", canonical_content(fields))
    # What mivid 0.x derived from the file's path is another id (kept only to be found).
    assert ident != derived_external_id("/a/jobs.jsonl", canonical_content(fields))


# --- scheduling on a fake clock --------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    import time

    return FakeClock(time.time())  # the client signs JWTs with this clock


def make_emulator(clock: FakeClock, *, limit: int) -> Emulator:
    return Emulator(
        access_keys={"ak": "sk"},
        clock=clock,
        processing_after=2.0,
        succeed_after=30.0,
        concurrency_limit=limit,
    )


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[Emulator]:
    emu = make_emulator(clock, limit=3)
    yield emu
    emu.close()


def client_for(emulator: Emulator, clock: FakeClock) -> KlingClient:
    client = KlingClient(
        BASE,
        JwtCredentials("ak", "sk", clock=clock),
        transport=EmulatorTransport(emulator),
        sleep=clock.advance,
        clock=clock,
    )
    without_concurrency_retries(client)
    return client


def url_jobs(folder: Path, count: int, *, fail: set[int] = frozenset()) -> Path:  # type: ignore[assignment]
    lines = [
        json.dumps(
            {"images": [IMAGE_URL], "prompt": f"shot {n}" + (" [fail]" if n in fail else "")}
        )
        for n in range(count)
    ]
    return write(folder / "jobs.jsonl", *lines)


def most_running_at_once(emulator: Emulator, seconds: float) -> int:
    starts = sorted(task["created_at"] / 1000 for task in emulator.tasks())
    return max(sum(1 for other in starts if start <= other < start + seconds) for start in starts)


def creates(emulator: Emulator) -> int:
    return sum(1 for request in emulator.received if request.method == "POST")


def test_the_scheduler_waits_out_1303_adapts_and_never_fails_a_job_for_it(
    tmp_path: Path, clock: FakeClock, emulator: Emulator
) -> None:
    jobs = read_jobs(url_jobs(tmp_path, 8)).jobs
    sleeps: list[float] = []
    notes: list[str] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    scheduler = Scheduler(
        client_for(emulator, clock),
        plan_jobs(jobs, None, service=BASE),
        concurrency=4,
        schedule=PollSchedule(first=1.0),
        clock=clock,
        sleep=sleep,
        on_note=notes.append,
    )
    states = scheduler.run()

    assert [state.state for state in states] == ["succeed"] * 8
    assert len(emulator.tasks()) == 8
    assert most_running_at_once(emulator, 30.0) == 3
    assert scheduler.refusals >= 1  # the 4th create, at once: waited for, not failed
    assert creates(emulator) == 8 + scheduler.refusals
    assert any("at most 3 at once" in note for note in notes)
    started = states[0].started
    assert started is not None
    assert min(sleeps) > 0 and clock() - started >= 90  # three waves of 30 s
    assert outcome_error(states, name="jobs.jsonl") is None


def test_1303_from_other_tasks_backs_off_exponentially_from_one_second(
    tmp_path: Path, clock: FakeClock
) -> None:
    emulator = make_emulator(clock, limit=1)
    client = client_for(emulator, clock)
    # Another program's task holds the only slot for 30 s.
    other = prepare_create(
        [IMAGE_URL],
        prompt="someone else's",
        model_name="kling-v1-6",
        mode="std",
        duration="5",
        aspect_ratio="16:9",
    )
    submit_create(client, other)
    jobs = read_jobs(url_jobs(tmp_path, 1)).jobs
    attempts: list[float] = []
    scheduler = Scheduler(
        client,
        plan_jobs(jobs, None, service=BASE),
        concurrency=2,
        clock=clock,
        sleep=clock.advance,
        on_change=lambda state: attempts.append(clock()) if state.state == "sending" else None,
    )
    (state,) = scheduler.run()

    assert state.state == "succeed"
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert gaps[:4] == [1.0, 2.0, 4.0, 8.0]
    assert all(gap <= 30.0 for gap in gaps)
    assert scheduler.refusals == len(attempts) - 1
    emulator.close()


def test_a_refused_job_is_reported_and_the_others_finish(
    tmp_path: Path, clock: FakeClock, emulator: Emulator
) -> None:
    path = write(
        tmp_path / "jobs.jsonl",
        json.dumps({"images": [IMAGE_URL], "prompt": "fine"}),
        json.dumps({"images": [IMAGE_URL], "prompt": "not ok", "callback_url": "http://"}),
        json.dumps({"images": [IMAGE_URL], "prompt": "bad [fail]"}),
    )
    jobs = read_jobs(path).jobs
    states = Scheduler(
        client_for(emulator, clock),
        plan_jobs(jobs, None, service=BASE),
        clock=clock,
        sleep=clock.advance,
    ).run()

    assert [state.state for state in states] == ["succeed", REFUSED, "failed"]
    assert "code 1201" in (states[1].reason or "")
    error = outcome_error(states, name="jobs.jsonl")
    assert isinstance(error, ApiError) and error.exit_code == ExitCode.API_REFUSED
    assert error.lines()[0].startswith("jobs.jsonl:2: refused")
    assert error.lines()[1].startswith("jobs.jsonl:3: task ")


def test_a_rerun_skips_finished_jobs_and_resumes_running_ones_without_creating(
    tmp_path: Path, clock: FakeClock, emulator: Emulator
) -> None:
    jobs = read_jobs(url_jobs(tmp_path, 2)).jobs
    journal = Journal.open(tmp_path / "journal.sqlite3")
    client = client_for(emulator, clock)
    first = plan_jobs(jobs, journal, service=BASE)
    Scheduler(client, first[:1], journal=journal, clock=clock, sleep=clock.advance).run()
    # The second job was sent, then the process died before its answer came back.
    journal.record_intent(jobs[1].prepare(), service=BASE)
    submit_create(client, jobs[1].prepare())
    posts = creates(emulator)

    plan = plan_jobs(jobs, journal, service=BASE)
    assert [state.action for state in plan] == [SKIP, "look up"]
    states = Scheduler(client, plan, journal=journal, clock=clock, sleep=clock.advance).run()

    assert [state.state for state in states] == ["succeed", "succeed"]
    assert [state.action for state in states] == [SKIP, "resume"]
    assert creates(emulator) == posts
    assert [state.action for state in plan_jobs(jobs, journal, service=BASE)] == [SKIP, SKIP]
    # Another service's journal entries do not count there.
    assert {state.action for state in plan_jobs(jobs, journal, service="http://other")} == {SEND}
    journal.close()


# -- strict CSV (issue 13.20) ---------------------------------------------------------------

# No CR: Python's csv writer quotes it only when it is part of its line terminator.
_PROMPTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00|\r"), min_size=1, max_size=40
).filter(lambda text: text == text.strip() and not text.startswith("#"))


@given(st.lists(_PROMPTS, min_size=1, max_size=6), st.sampled_from(["\n", "\r\n"]))
def test_well_formed_csv_with_quoted_fields_over_several_lines_reads_back(
    prompts: list[str], newline: str
) -> None:
    import csv
    import io

    written = io.StringIO(newline="")
    writer = csv.writer(written, lineterminator=newline)
    writer.writerow(["images", "prompt"])
    writer.writerows([["a.png", prompt] for prompt in prompts])
    records, problems = parse_csv(written.getvalue())
    assert problems == []
    assert [record["prompt"] for _, record in records] == prompts


@given(st.lists(_PROMPTS, min_size=0, max_size=4), st.lists(_PROMPTS, min_size=0, max_size=4))
def test_a_quote_that_never_closes_is_reported_on_the_line_it_opened(
    before: list[str], after: list[str]
) -> None:
    import csv
    import io

    def rows(prompts: list[str]) -> str:
        written = io.StringIO(newline="")
        csv.writer(written, lineterminator="\n").writerows([["a.png", p] for p in prompts])
        return written.getvalue()

    head = "images,prompt\n" + rows(before)
    text = head + 'b.png,"a quote never closed\n' + rows(after).replace('"', "")
    _, problems = parse_csv(text)
    opened_on = len(io.StringIO(head, newline="").readlines()) + 1
    assert [line for line, _ in problems] == [opened_on]
    assert "is never closed" in problems[0][1]
