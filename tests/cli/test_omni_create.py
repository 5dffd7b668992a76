"""Omni-Video creates end to end: the model picks the endpoint, the body the emulator receives,
and every rule checked before anything is sent (exit 2, one line per problem, naming the option).
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Serve
from imagefactory import make_jpeg, make_png, make_truncated_png
from mivid.sandbox import Emulator, EmulatorServer

MULTI = "/v1/videos/multi-image2video"
OMNI = "/v1/videos/omni-video"
VIDEO = "https://example.com/clips/walk.mp4"
URL = "https://example.com/pictures/side.jpg"


@pytest.fixture
def api(serve: Serve) -> EmulatorServer:
    """The emulator on a real clock, keeping bodies, with tasks that end as soon as made."""
    emulator = Emulator(
        access_keys={"test-ak": "test-sk"},
        clock=time.time,
        processing_after=0,
        succeed_after=0,
        keep_bodies=True,
    )
    return serve(emulator)


@pytest.fixture
def pictures(tmp_path: Path) -> list[str]:
    """Eight real images (PNG and JPEG), more than any endpoint takes."""
    made = [make_png(tmp_path / f"p{n}.png", (640, 480)) for n in range(4)]
    made += [make_jpeg(tmp_path / f"j{n}.jpg", (480, 640)) for n in range(4)]
    return [str(path) for path in made]


def creates(server: EmulatorServer) -> list[Any]:
    return [r for r in server.emulator.received if r.method == "POST"]


def only_create(server: EmulatorServer) -> Any:
    (request,) = creates(server)
    return request


def error_lines(stderr: str) -> list[str]:
    return [
        line.removeprefix("error: ") for line in stderr.splitlines() if line.startswith("error")
    ]


# -- the model picks the endpoint ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path", "key"),
    [
        (None, MULTI, "image"),
        ("kling-v1-6", MULTI, "image"),
        ("kling-video-o1", OMNI, "image_url"),
        ("kling-v3-omni", OMNI, "image_url"),
    ],
)
def test_the_model_picks_the_endpoint_and_its_image_entries(
    mivid: RunMivid,
    api: EmulatorServer,
    pictures: list[str],
    model: str | None,
    path: str,
    key: str,
) -> None:
    chosen = ["--model", model] if model else []
    prompt = "<<<image_1>>> meets <<<image_2>>>"
    result = mivid("create", pictures[0], URL, "--prompt", prompt, *chosen, "-q")
    assert result.exit_code == 0, result
    request = only_create(api)
    assert request.path == path
    body = request.json
    assert body["model_name"] == (model or "kling-v1-6")
    assert [sorted(entry) for entry in body["image_list"]] == [[key], [key]]
    # Bare Base64 of the file (no data: prefix), and the URL as given.
    assert (
        base64.b64decode(body["image_list"][0][key], validate=True)
        == Path(pictures[0]).read_bytes()
    )
    assert body["image_list"][1][key] == URL
    # The task is where the model sent it, and only there.
    task_id = result.stdout.strip()
    endpoint = "omni-video" if path == OMNI else "multi-image2video"
    assert [t["task_id"] for t in api.emulator.tasks(endpoint)] == [task_id]


def test_the_config_model_picks_the_endpoint(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    assert mivid("config", "set", "model", "kling-video-o1").exit_code == 0
    result = mivid("create", pictures[0], "--prompt", "<<<image_1>>> waves", "-q")
    assert result.exit_code == 0, result
    request = only_create(api)
    assert (request.path, request.json["model_name"]) == (OMNI, "kling-video-o1")


def test_a_model_mivid_does_not_know_is_sent_where_endpoint_says(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    """Never refused locally: it goes out, and the service's answer is the verdict."""
    new = mivid(
        "create", pictures[0], "--model", "kling-v4-omni", "--endpoint", "omni",
        "--prompt", "<<<image_1>>> waves", "-q",
    )  # fmt: skip
    assert new.exit_code == 4, new  # this emulator does not run it: its refusal, exit 4
    assert "not one mivid knows" not in new.stderr  # the user said where
    request = only_create(api)
    assert (request.path, request.json["model_name"]) == (OMNI, "kling-v4-omni")
    assert "mode" in request.json and "image_url" in request.json["image_list"][0]


def test_a_model_mivid_does_not_know_goes_to_the_default_with_a_warning(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    result = mivid("create", pictures[0], "--model", "kling-v9", "--prompt", "waves", "-q")
    assert result.exit_code == 4, result
    assert "warning: model `kling-v9` is not one mivid knows; sending it to multi-image" in (
        result.stderr
    )
    assert "--endpoint omni sends it elsewhere" in result.stderr
    assert only_create(api).path == MULTI


def test_endpoint_alone_takes_that_endpoints_default_model(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    """The configured default (kling-v1-6, a multi-image model) gives way to Omni's own."""
    result = mivid("create", pictures[0], "--endpoint", "omni", "--prompt", "<<<image_1>>>")
    assert result.exit_code == 0, result
    request = only_create(api)
    assert (request.path, request.json["model_name"]) == (OMNI, "kling-video-o1")


def test_endpoint_against_a_known_model_warns_and_obeys(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    result = mivid(
        "create", pictures[0], "--model", "kling-video-o1", "--endpoint", "multi-image",
        "--prompt", "waves", "-q",
    )  # fmt: skip
    assert "mivid knows `kling-video-o1` on omni (Omni-Video); sending it to multi-image" in (
        result.stderr
    )
    assert only_create(api).path == MULTI


# -- the Omni body ----------------------------------------------------------------------------


def test_frames_elements_and_a_video_in_the_body(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    result = mivid(
        "create", "--model", "kling-v3-omni", "--first-frame", pictures[0],
        "--end-frame", pictures[4], "--element", "11", "--element", "12",
        "--prompt", "from <<<image_1>>> to <<<image_2>>> with <<<element_2>>>", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result
    body = only_create(api).json
    assert [entry.get("type") for entry in body["image_list"]] == ["first_frame", "end_frame"]
    assert base64.b64decode(body["image_list"][1]["image_url"]) == Path(pictures[4]).read_bytes()
    assert body["element_list"] == [{"element_id": 11}, {"element_id": 12}]
    assert "aspect_ratio" not in body  # the first frame decides it
    assert body["duration"] == "5" and body["mode"] == "std"
    assert "negative_prompt" not in body and "video_list" not in body


def test_the_reference_images_come_first_so_image_1_is_the_first_argument(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    result = mivid(
        "create", pictures[0], "--first-frame", pictures[4], "--model", "kling-video-o1",
        "--prompt", "<<<image_1>>> in the scene of <<<image_2>>>", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result
    entries = only_create(api).json["image_list"]
    assert [entry.get("type") for entry in entries] == [None, "first_frame"]
    assert base64.b64decode(entries[0]["image_url"]) == Path(pictures[0]).read_bytes()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], {"video_url": VIDEO, "refer_type": "feature"}),
        (["--video-use", "base"], {"video_url": VIDEO, "refer_type": "base"}),
        (
            ["--keep-sound"],
            {"video_url": VIDEO, "refer_type": "feature", "keep_original_sound": "yes"},
        ),
        (
            ["--no-keep-sound", "--video-use", "feature"],
            {"video_url": VIDEO, "refer_type": "feature", "keep_original_sound": "no"},
        ),
    ],
)
def test_a_reference_video(
    mivid: RunMivid,
    api: EmulatorServer,
    pictures: list[str],
    options: list[str],
    expected: dict[str, str],
) -> None:
    result = mivid(
        "create", pictures[0], "--model", "kling-video-o1", "--video", VIDEO, *options,
        "--prompt", "<<<image_1>>> moves like <<<video_1>>>", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result
    body = only_create(api).json
    assert body["video_list"] == [expected]
    base = expected["refer_type"] == "base"
    assert ("aspect_ratio" in body) is not base  # a base video decides the ratio


# -- mode and aspect ratio: mivid's defaults, sent explicitly ---------------------------------


def test_mode_is_always_sent_never_left_to_omnis_dearer_default(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    args = ["create", pictures[0], "--model", "kling-video-o1", "--prompt", "<<<image_1>>>", "-q"]
    assert mivid(*args).exit_code == 0
    assert mivid("config", "set", "mode", "pro").exit_code == 0
    assert mivid(*args).exit_code == 0
    assert mivid(*args, "--mode", "std").exit_code == 0
    assert [request.json["mode"] for request in creates(api)] == ["std", "pro", "std"]
    # The emulator bills what was asked: std 5 s of kling-video-o1 is not the pro price.
    assert [task["task_status"] for task in api.emulator.tasks("omni-video")] == ["succeed"] * 3


@pytest.mark.parametrize(
    ("options", "environment", "ratio"),
    [
        ([], {}, "16:9"),  # references only: required, so mivid sends its default
        (["--aspect-ratio", "1:1"], {}, "1:1"),
        ([], {"MIVID_ASPECT_RATIO": "9:16"}, "9:16"),
        (["--first-frame", "FRAME"], {}, None),  # the frame decides
        (["--first-frame", "FRAME"], {"MIVID_ASPECT_RATIO": "9:16"}, "9:16"),  # the user chose
        (["--video", VIDEO, "--video-use", "base"], {}, None),  # the base video decides
        (["--video", VIDEO], {}, "16:9"),  # a feature video does not
    ],
)
def test_the_aspect_ratio_is_sent_unless_a_frame_or_base_video_decides_it(
    mivid: RunMivid,
    api: EmulatorServer,
    pictures: list[str],
    options: list[str],
    environment: dict[str, str],
    ratio: str | None,
) -> None:
    given = [pictures[4] if word == "FRAME" else word for word in options]
    result = mivid(
        "create", pictures[0], "--model", "kling-video-o1", *given, "--prompt", "<<<image_1>>>",
        "-q", env=environment,
    )  # fmt: skip
    assert result.exit_code == 0, result  # the emulator (strict) took it
    assert only_create(api).json.get("aspect_ratio") == ratio


# -- the rules, before anything is sent --------------------------------------------------------


RULES: list[tuple[list[str], str]] = [
    # counts of images and elements
    (["P0-7"], "got 8 images — at most 7 are allowed"),
    (
        ["P0-4", "--video", VIDEO],
        "--video: got 5 images — at most 4 are allowed with a reference video",
    ),
    (
        ["P0-3", "--element", "1", "--element", "2", "--element", "3", "--element", "4"],
        "--element: 4 images and 4 elements make 8 — at most 7 are allowed",
    ),
    (
        ["P0-2", "--element", "1", "--element", "2", "--video", VIDEO],
        "--element: 3 images and 2 elements make 5 — at most 4 are allowed with a reference video",
    ),
    (
        ["P0", *[w for n in range(1, 8) for w in ("--element", str(n))]],
        "--element: 1 image and 7 elements make 8 — at most 7 are allowed",
    ),
    (
        ["P0-6", "--element", "1"],
        "--element: 7 images and 1 element make 8 — at most 7 are allowed",
    ),
    (["P0", "--element", "x7"], "--element: `x7` is not an element id (a whole number from 1)"),
    (["P0", "--element", "0"], "--element: `0` is not an element id (a whole number from 1)"),
    # frames
    (["--end-frame", "P1"], "--end-frame: needs a first frame too (--first-frame)"),
    (
        ["P0", "--first-frame", "P1", "--end-frame", "P2"],
        "--end-frame: with 3 images — an end frame is allowed with at most 2 "
        "(the first and end frames alone)",
    ),
    # durations
    (["P0", "--duration", "11"], "--duration: `11` is not one of 3, 4, 5, 6, 7, 8, 9, 10"),
    (["--duration", "7"], "--duration: `7` — a text-only video takes 5 or 10"),
    (
        ["--first-frame", "P0", "--duration", "3"],
        "--duration: `3` — a first-frame video takes 5 or 10",
    ),
    # fields Omni does not take
    (
        ["P0", "--negative-prompt", "blur"],
        "--negative-prompt: not accepted by Omni-Video: write what to avoid into --prompt "
        '(e.g. "… no text, no blur")',
    ),
    # the reference video
    (
        ["P0", "--video", "ftp://example.com/a.mp4"],
        "--video: `ftp://example.com/a.mp4` must be an http:// or https:// URL of a video",
    ),
    (
        ["P0", "--video", VIDEO, "--video-use", "edit"],
        "--video-use: `edit` is not one of feature, base",
    ),
    (["P0", "--video-use", "base"], "--video-use: only with --video"),
    (["P0", "--keep-sound"], "--keep-sound: only with --video"),
    (["P0", "--endpoint", "sideways"], "--endpoint: `sideways` is not one of multi-image, omni"),
]


def _expand(words: list[str], pictures: list[str]) -> list[str]:
    """`P0-3` → the first four pictures; `P2` → the third."""
    out: list[str] = []
    for word in words:
        if word.startswith("P") and word[1:2].isdigit():
            first, _, last = word[1:].partition("-")
            out += pictures[int(first) : int(last or first) + 1]
        else:
            out.append(word)
    return out


@pytest.mark.parametrize(("words", "line"), RULES)
def test_each_rule_is_one_line_naming_the_option_and_nothing_is_sent(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str], words: list[str], line: str
) -> None:
    args = _expand(words, pictures)
    result = mivid("create", *args, "--model", "kling-video-o1", "--prompt", "a walk")
    assert result.exit_code == 2, result
    assert error_lines(result.stderr) == [line], result
    assert api.emulator.received == []


def test_every_problem_is_reported_at_once(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str], tmp_path: Path
) -> None:
    broken = make_truncated_png(tmp_path / "broken.png")
    result = mivid(
        "create", *pictures[:5], "--model", "kling-video-o1", "--video", VIDEO,
        "--first-frame", str(broken), "--end-frame", pictures[5],
        "--negative-prompt", "blur", "--duration", "12", "--element", "x",
        "--prompt", "<<<image_9>>> and <<<element_1>>>",
    )  # fmt: skip
    assert result.exit_code == 2, result
    lines = error_lines(result.stderr)
    starts = [line.split(":", 1)[0] for line in lines]
    assert starts == [
        "--negative-prompt", "--duration", "--element", "--video", "--end-frame",
        "--prompt", "--prompt", f"--first-frame {broken}",
    ], lines  # fmt: skip
    assert "Traceback" not in result.stderr
    assert api.emulator.received == []


@pytest.mark.parametrize(
    ("prompt", "line"),
    [
        (
            "<<<image_1>>> and <<<image_4>>>",
            "--prompt: names <<<image_4>>> but 3 images are given (images; numbered from 1)",
        ),
        (
            "<<<image_1>>> holds <<<element_1>>>",
            "--prompt: names <<<element_1>>> but 0 elements are given (--element; numbered from 1)",
        ),
        (
            "<<<image_1>>> moves like <<<video_1>>>",
            "--prompt: names <<<video_1>>> but 0 videos are given (--video; numbered from 1)",
        ),
    ],
)
def test_a_prompt_naming_an_input_that_is_not_there_is_refused(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str], prompt: str, line: str
) -> None:
    result = mivid("create", *pictures[:3], "--model", "kling-video-o1", "--prompt", prompt)
    assert result.exit_code == 2, result
    assert error_lines(result.stderr) == [line]
    assert api.emulator.received == []


def test_a_prompt_naming_no_image_is_sent_with_a_warning_showing_the_syntax(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    result = mivid("create", *pictures[:3], "--model", "kling-video-o1", "--prompt", "a cat", "-q")
    assert result.exit_code == 0, result
    assert (
        "warning: --prompt does not name any of the 3 images: Omni-Video follows a prompt that "
        "refers to them as <<<image_1>>> … <<<image_3>>> (the IMAGE arguments in order, then "
        "--first-frame, then --end-frame)"
    ) in result.stderr
    assert only_create(api).json["prompt"] == "a cat"
    one = mivid("create", pictures[0], "--model", "kling-video-o1", "--prompt", "a cat", "-q")
    assert "refers to it as <<<image_1>>>\n" in one.stderr
    frame_only = mivid(
        "create", "--first-frame", pictures[0], "--model", "kling-video-o1", "--prompt", "sunrise"
    )
    assert frame_only.exit_code == 0 and "warning" not in frame_only.stderr, frame_only


def test_a_frame_is_checked_by_the_same_image_rules(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str], tmp_path: Path
) -> None:
    small = make_png(tmp_path / "small.png", (200, 200))
    result = mivid(
        "create", "--first-frame", str(small), "--model", "kling-video-o1", "--prompt", "x"
    )
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert line == f"--first-frame {small}: 200×200 px — each side must be at least 300 px", line
    assert "--fit" in result.stderr  # the size rules' hint, as for any image
    fitted = mivid(
        "create", "--first-frame", str(small), "--model", "kling-video-o1", "--prompt", "x",
        "--fit", "-q",
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted
    entry = only_create(api).json["image_list"][0]
    assert entry["type"] == "first_frame"


def test_multi_image_takes_no_frames_elements_or_video(
    mivid: RunMivid, api: EmulatorServer, pictures: list[str]
) -> None:
    result = mivid(
        "create", pictures[0], "--first-frame", pictures[1], "--element", "3", "--video", VIDEO,
        "--prompt", "waves",
    )  # fmt: skip
    assert result.exit_code == 2, result
    assert error_lines(result.stderr) == [
        "--element: not accepted by Multi-Image to Video",
        "--video: not accepted by Multi-Image to Video",
        "--first-frame: not accepted by Multi-Image to Video",
    ]
    assert api.emulator.received == []


def test_dry_run_shows_the_omni_body(mivid: RunMivid, pictures: list[str]) -> None:
    result = mivid(
        "--sandbox", "create", pictures[0], "--first-frame", pictures[1], "--model",
        "kling-video-o1", "--prompt", "<<<image_1>>>", "--dry-run", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result
    body = json.loads(result.stdout)
    assert [sorted(entry) for entry in body["image_list"]] == [["image_url"], ["image_url", "type"]]
    assert body["mode"] == "std" and "aspect_ratio" not in body
