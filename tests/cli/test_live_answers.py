"""The live service's answers (issue 12), each beside the documented one, through the real CLI.

Every test runs against an emulator told which form to answer in: the contract's
"What the live service really answers" differs from its table on not-found codes,
reused external ids, unechoed create answers, retired models, video hosts that
refuse HEAD, and status spellings. mivid must be right with both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from conftest import Serve
from helpers import RunMivid, Sleepless, served_sandbox
from imagefactory import make_jpeg, make_png
from mivid.journal import NOT_CREATED, Journal
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault
from mivid.sandbox.answers import Answers, CreateTaskInfo
from mivid.sandbox.video import video_bytes

COLLECTION = "/v1/videos/multi-image2video"
FORMS: list[Answers] = ["documented", "live"]


@pytest.fixture(params=FORMS)
def answers(request: pytest.FixtureRequest) -> Answers:
    form: Answers = request.param
    return form


@pytest.fixture
def world(serve: Serve, fake_clock: FakeClock) -> Any:
    """`world(answers, **options)`: serve an emulator answering that way, on the fake clock."""

    def start(answers: Answers, **options: Any) -> EmulatorServer:
        options.setdefault("processing_after", 1)
        options.setdefault("succeed_after", 5)
        emulator = Emulator(
            access_keys={"test-ak": "test-sk"},
            clock=fake_clock,
            answers=answers,
            keep_bodies=True,
            **options,
        )
        return serve(emulator)

    return start


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "front.png"))


def posts(server: EmulatorServer) -> list[dict[str, Any]]:
    return [
        json.loads(r.body)
        for r in server.emulator.received
        if r.method == "POST" and r.path == COLLECTION
    ]


def video_requests(server: EmulatorServer) -> list[str]:
    return [
        f"{r.method} {r.headers.get('range')}"
        for r in server.emulator.received
        if r.path.endswith(".mp4")
    ]


def make_task_elsewhere(server: EmulatorServer, external_task_id: str) -> str:
    """A task made by another client (this machine's journal does not know it)."""
    now = int(server.emulator.clock())
    token = jwt.encode({"iss": "test-ak", "exp": now + 1800, "nbf": now - 5}, "test-sk")
    answer = httpx.post(
        server.url + COLLECTION,
        json={
            "image_list": [{"image": "https://example.com/a.png"}],
            "prompt": "made elsewhere",
            "external_task_id": external_task_id,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


# -- 1. "not found" arrives as 400/1201 -----------------------------------------------------


@pytest.mark.parametrize("command", ["get", "wait", "download", "open"])
def test_an_unknown_id_is_no_such_task_for_every_command(
    mivid: RunMivid,
    world: Any,
    answers: Answers,
    command: str,
    tmp_path: Path,
    sleepless: Sleepless,
) -> None:
    world(answers)
    args = {"download": ["-o", str(tmp_path)], "open": ["--dir", str(tmp_path), "--print"]}
    result = mivid(command, "no-such-task", *args.get(command, []), clock=sleepless)
    assert result.exit_code == 4, result
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: no task `no-such-task` at http://127.0.0.1:"), result
    assert "option named in the message" not in result.stderr
    # A base URL of its own (127.0.0.1): the base URL, not a region, is what to check.
    assert "the base URL the task was made at" in result.stderr
    assert "region" not in result.stderr
    assert result.stdout == ""


def test_a_create_whose_answer_was_lost_is_sent_again_with_the_same_external_id(
    mivid: RunMivid, world: Any, answers: Answers, image: str, sleepless: Sleepless
) -> None:
    server = world(answers)
    server.emulator.inject(Fault.error(5002, on="create"))  # refused: nothing was made
    result = mivid("create", image, "--prompt", "waves", "-q", clock=sleepless)
    assert result.exit_code == 0, result
    (task,) = server.emulator.tasks()
    assert result.stdout == f"{task['task_id']}\n"
    first, second = posts(server)
    assert first["external_task_id"] == second["external_task_id"]
    assert "looking the task up by its external id" in result.stderr


def test_recover_settles_a_create_the_service_never_made_as_not_created(
    mivid: RunMivid, world: Any, answers: Answers, image: str, sleepless: Sleepless
) -> None:
    server = world(answers)
    server.emulator.inject(Fault.html(502, on="any", times=None))
    assert mivid("create", image, "--prompt", "waves", clock=sleepless).exit_code == 5
    server.emulator.clear_faults()
    result = mivid("recover", "--json", clock=sleepless)
    assert result.exit_code == 0, result
    (row,) = json.loads(result.stdout)
    assert row["outcome"] == NOT_CREATED
    assert server.emulator.tasks() == []


def test_batch_resumes_jobs_whose_creates_were_lost(
    mivid: RunMivid, world: Any, answers: Answers, tmp_path: Path, sleepless: Sleepless
) -> None:
    server = world(answers)
    make_png(tmp_path / "a.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        '{"images": ["a.png"], "prompt": "one"}\n{"images": ["a.png"], "prompt": "two"}\n'
    )
    server.emulator.inject(Fault.html(502, on="any", times=None))
    assert mivid("batch", str(jobs), clock=sleepless).exit_code == 5
    server.emulator.clear_faults()
    again = mivid("batch", str(jobs), "--json", clock=sleepless)
    assert again.exit_code == 0, again
    assert [job["status"] for job in json.loads(again.stdout)] == ["succeed", "succeed"]
    assert len(server.emulator.tasks()) == 2


# -- 2. a reused external id is refused, and that makes resending safe ------------------------


def test_a_resend_refused_as_a_duplicate_adopts_the_task_the_lost_send_made(
    mivid: RunMivid, world: Any, answers: Answers, image: str, sleepless: Sleepless
) -> None:
    """The lost send made the task, which is not visible at once: the resend is refused."""
    server = world(answers, invisible_for=3)
    server.emulator.inject(Fault.drop_after(on="create"))
    result = mivid("create", image, "--prompt", "waves", "-q", clock=sleepless)
    assert result.exit_code == 0, result
    (task,) = server.emulator.tasks()
    assert result.stdout == f"{task['task_id']}\n"
    assert len(posts(server)) == 2  # the resend was refused, nothing billed twice
    with Journal.open() as journal:
        (entry,) = journal.entries()
    assert entry.task_id == task["task_id"]


@pytest.mark.parametrize("sandbox", [False, True])
def test_an_external_id_the_service_already_has_exits_4_naming_the_task(
    mivid: RunMivid,
    world: Any,
    answers: Answers,
    image: str,
    sleepless: Sleepless,
    sandbox: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = world(answers)
    if sandbox:
        monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0.01")
        made = mivid(
            "--sandbox", "create", image, "--prompt", "a", "--external-task-id", "shot-1", "-q"
        )
        assert made.exit_code == 0, made
        existing = made.stdout.strip()
        Journal.open().path.unlink()  # this machine forgot it: another client made it
        global_words = ["--sandbox"]
    else:
        existing = make_task_elsewhere(server, "shot-1")
        global_words = []
    result = mivid(
        *global_words,
        "create",
        image,
        "--prompt",
        "b",
        "--external-task-id",
        "shot-1",
        clock=sleepless,
    )
    assert result.exit_code == 4, result
    command = " ".join(["mivid", *global_words, "get", "shot-1"])
    assert result.stderr.splitlines()[0].startswith(
        f"error: external id `shot-1` is already used by task {existing}; nothing was created"
        f" — see it with: {command}"
    )
    assert result.stdout == ""
    if not sandbox:
        assert [t["task_id"] for t in server.emulator.tasks()] == [existing]
    seen = mivid(*global_words, "get", "shot-1", "-q" if False else "--json", clock=sleepless)
    assert json.loads(seen.stdout)["task_id"] == existing


# -- 3. create answers that do not echo the external id -----------------------------------------


@pytest.mark.parametrize("task_info", ["echo", "omit", "empty"])
def test_an_unechoed_create_answer_still_links_the_journal_and_the_sidecar(
    mivid: RunMivid,
    world: Any,
    task_info: CreateTaskInfo,
    tmp_path: Path,
    sleepless: Sleepless,
) -> None:
    server = world("live", create_task_info=task_info)
    front, side = make_png(tmp_path / "front.png"), make_jpeg(tmp_path / "side.jpg")
    created = mivid(
        "create",
        str(front),
        str(side),
        "--prompt",
        "a cat",
        "--external-task-id",
        "cat-1",
        "--json",
        clock=sleepless,
    )
    assert created.exit_code == 0, created
    task = json.loads(created.stdout)
    assert task["task_info"]["external_task_id"] == "cat-1"
    with Journal.open() as journal:
        entry = journal.find("cat-1")
    assert entry is not None and entry.task_id == task["task_id"]

    result = mivid("wait", task["task_id"], "--download", str(tmp_path / "v"), clock=sleepless)
    assert result.exit_code == 0, result
    assert "does not know" not in result.stderr
    sidecar = json.loads((tmp_path / "v" / f"{task['task_id']}.json").read_text())
    assert sidecar["source"] == "journal"
    assert sidecar["prompt"] == "a cat"
    assert [image["name"] for image in sidecar["images"]] == [str(front), str(side)]
    assert all(len(image["sha256"]) == 64 for image in sidecar["images"])
    assert sidecar["external_task_id"] == "cat-1"
    assert len(server.emulator.tasks()) == 1


# -- 4. retired models ------------------------------------------------------------------------


def test_a_retired_model_is_refused_with_the_services_sentence_and_a_hint(
    mivid: RunMivid, world: Any, answers: Answers, image: str, sleepless: Sleepless
) -> None:
    server = world(answers, retired_models={"kling-v1-6": "2020-01-01"})
    result = mivid("create", image, "--prompt", "waves", clock=sleepless)
    assert result.exit_code == 4, result
    assert (
        "The model 'kling-v1-6' has been discontinued and is no longer available."
        in result.stderr.splitlines()[0]
    )
    hint = result.stderr.splitlines()[1]
    # QA finding 16: the model refused is not offered again among the choices.
    assert hint.startswith("hint: choose another model with --model NAME (mivid knows kling-")
    assert "kling-v1-6" not in hint.split("(mivid knows ")[1].split(")")[0]
    assert "mivid config set model NAME" in hint
    assert server.emulator.tasks() == []
    # The 1201 was checked by one query by the external id, not read as "already exists".
    lookups = [r for r in server.emulator.received if r.method == "GET"]
    assert len(lookups) == 1 and lookups[0].path.startswith(COLLECTION + "/mivid-")
    with Journal.open() as journal:
        (entry,) = journal.entries()
    assert entry.status == NOT_CREATED


def test_a_retired_omni_model_is_answered_with_the_models_of_its_endpoint(
    mivid: RunMivid, world: Any, answers: Answers, image: str, sleepless: Sleepless
) -> None:
    """A newcomer's Omni refusal offered the multi-image model among the choices: the hint
    names the models mivid knows on the endpoint the create went to."""
    world(answers, retired_models={"kling-video-o1": "2020-01-01"})
    result = mivid(
        "create", image, "--prompt", "waves", "--model", "kling-video-o1", clock=sleepless
    )
    assert result.exit_code == 4, result
    hint = next(line for line in result.stderr.splitlines() if line.startswith("hint: "))
    offered = hint.split("(mivid knows ")[1].split(")")[0]
    assert offered == "kling-v3-omni", hint


def test_sandbox_serve_retires_a_model_and_answers_either_way(
    mivid: RunMivid, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_sandbox("--answers", "documented", "--retire-model", "kling-v1-6") as sandbox:
        assert sandbox.url.startswith("http://127.0.0.1:")
        monkeypatch.setenv("KLING_BASE_URL", sandbox.url)
        monkeypatch.setenv("KLING_API_KEY", "sandbox-api-key")
        refused = mivid("create", image, "--prompt", "waves")
        assert refused.exit_code == 4, refused
        assert "The model 'kling-v1-6' has been discontinued" in refused.stderr
        missing = mivid("get", "nope")
        assert missing.exit_code == 4 and "(code 1203: " in missing.stderr  # documented form


def test_sandbox_serve_checks_its_answer_options(mivid: RunMivid) -> None:
    result = mivid(
        "sandbox",
        "serve",
        "--answers",
        "recorded",
        "--retire-model",
        "x@2026-13-01",
        "--video-head-status",
        "200",
    )
    assert result.exit_code == 2
    assert "--answers: `recorded` is not one of live, documented" in result.stderr
    assert "--retire-model: `x@2026-13-01`" in result.stderr
    assert "--video-head-status: 200" in result.stderr


# -- 5. video hosts that refuse HEAD ----------------------------------------------------------


@pytest.mark.parametrize("head", [403, 405])
@pytest.mark.parametrize("command", ["download", "wait", "batch"])
def test_rerunning_into_a_folder_of_saved_videos_downloads_nothing_again(
    mivid: RunMivid,
    world: Any,
    head: int,
    command: str,
    tmp_path: Path,
    sleepless: Sleepless,
) -> None:
    server = world("live", video_head_status=head)
    out = tmp_path / "videos"
    make_png(tmp_path / "a.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        '{"images": ["a.png"], "prompt": "one"}\n{"images": ["a.png"], "prompt": "two"}\n'
    )
    first = mivid("batch", str(jobs), "--download", str(out), clock=sleepless)
    assert first.exit_code == 0, first
    ids = [task["task_id"] for task in server.emulator.tasks()]
    before = len(video_requests(server))
    again = {
        "download": ["download", *ids, "-o", str(out)],
        "wait": ["wait", *ids, "--download", str(out)],
        "batch": ["batch", str(jobs), "--download", str(out)],
    }[command]
    result = mivid(*again, clock=sleepless)
    assert result.exit_code == 0, result
    assert video_requests(server)[before:] == []  # not even a HEAD: the sidecars know
    if command == "batch":  # one line for the batch; the others name each file
        assert "2 videos saved by an earlier run are already there" in result.stderr
    else:
        assert result.stderr.count("already there") == 2
    for task_id in ids:
        assert (out / f"{task_id}.mp4").read_bytes() == video_bytes(task_id)


def test_a_file_mivid_did_not_save_is_compared_by_a_ranged_get_never_overwritten(
    mivid: RunMivid, world: Any, image: str, tmp_path: Path, sleepless: Sleepless
) -> None:
    server = world("live", video_head_status=405)
    created = mivid("create", image, "--prompt", "waves", "-q", clock=sleepless)
    task_id = created.stdout.strip()
    sleepless.sleep(10)
    mine = tmp_path / f"{task_id}.mp4"
    mine.write_bytes(b"my own video")
    refused = mivid("download", task_id, "-o", str(tmp_path), clock=sleepless)
    assert refused.exit_code == 2, refused
    size = len(video_bytes(task_id))
    assert f"already exists with 12 bytes, the video has {size} bytes" in refused.stderr
    assert video_requests(server) == ["HEAD None", "GET bytes=0-0"]
    assert mine.read_bytes() == b"my own video"

    mine.write_bytes(video_bytes(task_id))  # the same video, saved by other means
    same = mivid("download", task_id, "-o", str(tmp_path), clock=sleepless)
    assert same.exit_code == 0, same
    assert "already there" in same.stderr


# -- 6. status spellings ----------------------------------------------------------------------


def test_succeeded_is_read_as_succeed(
    mivid: RunMivid, world: Any, answers: Answers, image: str, tmp_path: Path, sleepless: Sleepless
) -> None:
    world(answers, succeed_status="succeeded")
    result = mivid(
        "create", image, "--prompt", "waves", "--wait", "--download", str(tmp_path), clock=sleepless
    )
    assert result.exit_code == 0, result
    (saved,) = tmp_path.glob("*.mp4")
    assert result.stdout.split("\t")[3] == str(saved)


def test_an_unknown_status_is_shown_as_is_said_once_and_waited_on(
    mivid: RunMivid, world: Any, answers: Answers, image: str, sleepless: Sleepless
) -> None:
    world(answers, first_status="queued", processing_after=30, succeed_after=40)
    task_id = mivid("create", image, "--prompt", "waves", "-q", clock=sleepless).stdout.strip()
    shown = mivid("get", task_id, clock=sleepless)
    assert shown.stdout.split("\t")[1] == "queued"
    timed_out = mivid("wait", task_id, "--timeout", "5", clock=sleepless)
    assert timed_out.exit_code == 6, timed_out
    result = mivid("wait", task_id, clock=sleepless)
    assert result.exit_code == 0, result
    assert result.stderr.count("`queued`, a status mivid does not know") == 1
    assert f"{task_id}\tsucceed" in result.stdout
