"""`mivid create`: check the images and options, then send one create."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mivid.app import AppState, app, state
from mivid.commands import options
from mivid.endpoints import DEFAULT_ENDPOINT, ENDPOINTS, OMNI, all_choices
from mivid.errors import InputError
from mivid.render import is_tty
from mivid.vocabulary import MAX_PROMPT_CHARS

if TYPE_CHECKING:
    from mivid.client import KlingClient
    from mivid.endpoints import Endpoint
    from mivid.origin import Origin
    from mivid.problems import Problem
    from mivid.render import Form
    from mivid.render.views import Created
    from mivid.settings import Settings
    from mivid.submission import PreparedCreate


DEFAULT = DEFAULT_ENDPOINT


def _either(kind: str) -> str:
    """`5 or 10`, `16:9, 9:16 or 1:1`: the choices for help text."""
    *most, last = all_choices(kind)
    return f"{', '.join(most)} or {last}" if most else last


def read_prompt(value: str | None, images: Sequence[str] = ()) -> str | None:
    """`-` means: read the prompt from stdin (keeps long prompts out of argv)."""
    if value != "-":
        return value
    if sys.stdin is None or is_tty(sys.stdin):
        from mivid import hints

        # The command as pasted into the same shell: its global options, the images given.
        again = hints.command("create", *(images or ["img.png"]), "--prompt", "-")
        raise InputError(
            "--prompt -: reads the prompt from stdin, but stdin is a terminal",
            hint=f"pipe it in: echo 'a cat' | {again}",
        )
    from mivid.files import MAX_STDIN_TEXT_BYTES, read_stdin

    return read_stdin(sys.stdin, subject="--prompt -", limit=MAX_STDIN_TEXT_BYTES).rstrip("\n")


@app.command(
    epilog=options.examples(
        "mivid create front.jpg side.png --prompt 'the cat walks to the window'",
        "mivid create a.png https://example.com/b.jpg --prompt - --json < prompt.txt",
        "mivid --sandbox create mivid-examples/lighthouse.jpg --prompt 'waves' --dry-run",
        "mivid create a.jpg b.jpg --model kling-video-o1 \\",
        "    --prompt '<<<image_1>>> walks into <<<image_2>>>'",
        "mivid create --model kling-v3-omni --first-frame start.png --prompt 'the sun rises'",
        after="The mivid-examples/ folder: mivid sandbox examples. The model picks the endpoint "
        "(mivid models); --endpoint sends a model mivid does not know yet.",
    )
)
def create(
    ctx: typer.Context,
    images: list[str] | None = typer.Argument(
        None,
        help=f"Reference images: JPEG or PNG files, or http(s) URLs; 1 to {DEFAULT.max_images} "
        f"({DEFAULT.title}), 0 to {OMNI.max_images} ({OMNI.title}, named in the prompt as "
        "<<<image_1>>> …).",
        metavar="IMAGE",
        show_default=False,
    ),
    prompt: str | None = options.create_field(
        "prompt",
        "-p",
        help=f"What the video shows (at most {MAX_PROMPT_CHARS} characters); "
        "`-` reads it from stdin.",
    ),
    negative_prompt: str | None = options.create_field(
        "negative_prompt",
        "-n",
        help=f"What the video should avoid (at most {MAX_PROMPT_CHARS} characters).",
    ),
    model: str | None = options.create_field(
        "model_name",
        help=f"Model name; it picks the endpoint (mivid models) "
        f"[default: {DEFAULT.default_model}, or the config's].",
    ),
    endpoint: str | None = typer.Option(
        None,
        "--endpoint",
        metavar="|".join(ENDPOINTS),
        help="Where to send a model mivid does not know yet "
        f"[default: the model's, else {DEFAULT.name}].",
        show_default=False,
    ),
    first_frame: str | None = typer.Option(
        None,
        "--first-frame",
        metavar="IMAGE",
        help=f"The video's first frame, a JPEG or PNG file or a URL ({OMNI.title}).",
        show_default=False,
    ),
    end_frame: str | None = typer.Option(
        None,
        "--end-frame",
        metavar="IMAGE",
        help=f"The video's last frame, with --first-frame ({OMNI.title}).",
        show_default=False,
    ),
    element: list[str] | None = options.create_field(
        "element_list",
        help=f"An element id from your element library, repeatable ({OMNI.title}).",
    ),
    video: str | None = options.create_field(
        "video_list",
        help=f"A reference video's URL: MP4 or MOV, 3 to 10 s ({OMNI.title}).",
    ),
    video_use: str | None = typer.Option(
        None,
        "--video-use",
        metavar="|".join(OMNI.video_uses),
        help="With --video: take its features (style, camera, motion) or edit it as the base "
        "[default: feature].",
        show_default=False,
    ),
    keep_sound: bool | None = typer.Option(
        None,
        "--keep-sound/--no-keep-sound",
        help="With --video: keep the video's own sound, or drop it [default: the service's].",
        show_default=False,
    ),
    mode: str | None = options.create_field(
        "mode", help=f"std (720p, cheaper) or pro (1080p) [default: {DEFAULT.default_mode}]."
    ),
    duration: str | None = options.create_field(
        "duration",
        help=f"Video length in seconds: {' or '.join(DEFAULT.durations)} ({DEFAULT.title}), "
        f"{OMNI.durations[0]} to {OMNI.durations[-1]} ({OMNI.title}; "
        f"{' or '.join(OMNI.short_durations or ())} from text alone or a first frame) "
        f"[default: {DEFAULT.default_duration}].",
    ),
    aspect_ratio: str | None = options.create_field(
        "aspect_ratio",
        help=f"Video width:height: {_either('aspect_ratios')} "
        f"[default: {DEFAULT.default_aspect_ratio}].",
    ),
    watermark: bool | None = typer.Option(
        None,
        "--watermark/--no-watermark",
        help="Also produce a watermarked copy of the video (--no-watermark: not even when "
        "--from's create did) [default: no].",
        show_default=False,
    ),
    callback_url: str | None = options.create_field(
        "callback_url", help="URL the service POSTs the task to on each status change."
    ),
    external_task_id: str | None = options.create_field(
        "external_task_id",
        help="Your own id for the task, unique per account [default: generated].",
    ),
    fit: bool = options.fit(
        "Fix local images that break a size rule (over 10 MB, a side under 300 px, "
        "width:height beyond 2.5:1) in a copy made in memory; the files are never changed. "
        "Conforming images are sent as they are."
    ),
    fit_mode: str | None = options.fit_mode(
        "How --fit fixes the aspect ratio: pad (with the edge colour, or transparency) "
        "or crop (the centre) [default: pad]. Implies --fit."
    ),
    dry_run: bool = options.dry_run("Check everything and print the request body; send nothing."),
    json_output: bool = options.json_output(
        'Print the task object as JSON, with "endpoint" and "local" as `get --json` writes '
        'them; with --wait --download, "files": the paths saved.'
    ),
    quiet: bool = options.quiet("Print the task id alone."),
    wait: bool = typer.Option(
        False, "--wait", "-w", help="Wait for the task to end (exit 1 if it fails)."
    ),
    download_dir: Path | None = options.download_dir(
        "Wait, then save the video into this folder (implies --wait)."
    ),
    watermarked: bool = options.watermarked(),
    gallery: bool = options.gallery(),
    timeout: float | None = options.timeout(
        "With --wait: give up waiting after this many seconds (exit 6)."
    ),
    max_units: str | None = options.max_units(
        "Send nothing (exit 4) when a task of this kind (model, mode, duration) cost more "
        "than N units the last time the journal saw one."
    ),
    from_id: str | None = typer.Option(
        None,
        "--from",
        metavar="ID",
        help="Start from the create of this task (a task id or external id the journal "
        "knows): its images, prompt, negative prompt, model and options; whatever is given "
        "here replaces the part it names. Its images must still be the files it sent.",
        show_default=False,
    ),
    no_journal: bool = options.no_journal(),
) -> None:
    """Create a video task from reference images and a prompt.

    The model picks the endpoint: kling-v1-6 sends to Multi-Image to Video (1 to 4
    images), kling-video-o1 and kling-v3-omni to Omni-Video (up to 7 images, first and
    end frames, elements, a reference video; no --negative-prompt).
    """
    run = state(ctx, quiet=quiet)
    form = run.output.form(json=json_output, quiet=quiet)
    problems = options.form_problems(json_output=json_output, quiet=quiet)
    if prompt is None and from_id is None:
        problems.append("--prompt: required — what the video should show")
    fit_as, fit_problems = options.fit_choice(fit, fit_mode)
    limit, limit_problems = options.max_units_value(max_units)
    problems += fit_problems + limit_problems
    follow = wait or download_dir is not None
    if watermarked and download_dir is None:
        problems.append("--watermarked: only with --download DIR")
    if timeout is not None and not follow:
        problems.append("--timeout: only with --wait")
    else:
        problems += options.timeout_problems(timeout)
    problems += options.folder_problems(download_dir)  # before anything is sent, not after
    problems += options.gallery_problems(gallery, download_dir)
    values = {
        "prompt": read_prompt(prompt, images or ()),
        "negative_prompt": read_prompt(negative_prompt) if negative_prompt != "-" else None,
        "model_name": model,
        "mode": mode,
        "duration": duration,
        "aspect_ratio": aspect_ratio,
        "watermark": watermark,
        "callback_url": callback_url,
        "external_task_id": external_task_id,
        "endpoint": endpoint,
        "first_frame": first_frame,
        "end_frame": end_frame,
        "elements": element,
        "video": video,
        "video_use": video_use,
        "keep_sound": keep_sound,
    }
    origin, origin_hint = _origin_or_problems(from_id, images, values, run.output.warn, problems)
    if origin is not None:
        images, fit_as = images or origin.reference_arguments(), fit_as or origin.fit
    values["prompt"] = values["prompt"] or ""
    given = prompt is not None or from_id is not None  # else said: "--prompt: required"
    prepared = _prepare(run, images or [], values, fit_as, problems, given, origin_hint)
    if origin is not None:
        prepared = replace(prepared, made_from=origin.ident)
    if dry_run:
        from mivid.render.views import dry_run_body

        dry_run_body(run.output, prepared.body, form)
        run.output.note(f"dry run: nothing sent (the body is {prepared.body.content_length} bytes)")
        return
    _send(
        run,
        prepared,
        form=form,
        follow=follow,
        after=_Follow(download_dir, watermarked=watermarked, gallery=gallery, timeout=timeout),
        limit=limit,
        use_journal=not no_journal,
    )


def _origin_or_problems(
    from_id: str | None,
    images: list[str] | None,
    values: dict[str, Any],
    warn: Callable[[str], None],
    problems: list[str],
) -> tuple[Origin | None, str | None]:
    """`--from ID`'s create (`_origin`), or its problems added to `problems` and their hint:
    said with every other problem of the command line, not alone."""
    from mivid.errors import JournalError

    if from_id is None:
        return None, None
    try:
        return _origin(from_id, images, values, warn), None
    except JournalError:
        raise  # the journal itself: nothing else can be judged without it
    except InputError as exc:
        problems += exc.problems
        return None, exc.hint


def _origin(
    from_id: str, images: list[str] | None, values: dict[str, Any], warn: Callable[[str], None]
) -> Origin:
    """`--from ID`: the journal's create, its parts the command line did not name put in `values`.

    What the endpoint of the new create cannot take of what was carried over (the
    origin's negative prompt into Omni-Video, its frames into Multi-Image to Video)
    is dropped, with a warning naming each (`mivid.origin.refit`). Every image
    still used (the references unless IMAGE arguments were given, each frame unless
    its option was) must be the file that create sent: InputError if not.
    """
    from mivid import hints
    from mivid import problems as rules
    from mivid.create_request import choose_endpoint
    from mivid.flows.remaking import find_origin
    from mivid.origin import check_images, refit
    from mivid.problems import Problem
    from mivid.vocabulary import END_FRAME, FIRST_FRAME

    subject = f"--from {from_id}"
    origin = find_origin(from_id)
    if origin is None:
        raise InputError(
            Problem(
                subject,
                rules.NOT_IN_JOURNAL,
                "the journal knows no create of that task id or external id "
                "(only creates sent from this machine can be made again)",
            ),
            hint=f"see what it knows: {hints.command('list', '--local')}",
        )
    used = [] if images else origin.references
    carried = []
    for role in (FIRST_FRAME, END_FRAME):
        frame = origin.frame(role)
        if values.get(role) is None and frame is not None:
            values[role] = frame.argument
            carried.append(role)
    if values.get("model_name") is not None and values.get("endpoint") is None:
        values["endpoint"] = None  # another model picks its own endpoint
    else:
        values["endpoint"] = values.get("endpoint") or origin.values.get("endpoint")
    for name, value in origin.values.items():
        if name != "endpoint" and values.get(name) is None:
            values[name] = value
            carried.append(name)
    model = str(values.get("model_name") or "")
    target, _, _ = choose_endpoint(model, values.get("endpoint"))
    for warning in refit(subject, values, carried, target):
        warn(warning)
    used += [
        frame
        for frame in origin.images
        if frame.role in carried and values.get(frame.role) is not None  # kept, so checked
    ]
    problems = check_images(subject, used)
    if problems:
        raise InputError(problems, hint="put the files back as they were, or name new ones")
    return origin


def _prepare(
    run: AppState,
    images: list[str],
    values: dict[str, Any],
    fit_as: str | None,
    problems: list[str],
    prompt_given: bool,
    origin_hint: str | None = None,
) -> PreparedCreate:
    """Check the options and images (defaults from the settings); say what --fit did.

    `origin_hint`: `--from ID` named no create it can start from (its problem is among
    `problems`), so the images and prompt it would have given are not missing."""
    from mivid import problems as rules
    from mivid.create_request import with_defaults
    from mivid.submission import prepare_create
    from mivid.vocabulary import CREATE_FIELDS

    settings = run.settings
    # Only what the user chose (flag, environment, config): the endpoint's defaults do the rest.
    defaults = {
        spec.setting: settings.chosen(spec.setting) for spec in CREATE_FIELDS if spec.setting
    }
    try:
        prepared = prepare_create(images, fit=fit_as, **with_defaults(values, defaults))
    except InputError as exc:
        found = exc.found
        if not prompt_given:  # already said: "--prompt: required"
            found = [p for p in found if not (p.field == "prompt" and p.rule == rules.EMPTY)]
        if origin_hint is not None:  # what `--from` would have given is not missing
            found = [
                p
                for p in found
                if p.rule != rules.IMAGE_COUNT
                and not (p.field == "prompt" and p.rule == rules.EMPTY)
            ]
        found, hint = _blame_settings(found, settings, values)
        mendable = {problem.subject for problem in found if problem.rule in rules.SIZE_RULES}
        if fit_as is None and mendable and hint is None:
            hint = "add --fit to send " + (
                "a conforming copy of that image (the file stays as it is)"
                if len(mendable) == 1
                else "conforming copies of those images (the files stay as they are)"
            )
        raise InputError([*problems, *found], hint=hint or origin_hint) from exc
    if problems:
        raise InputError(problems, hint=origin_hint)
    for note in prepared.notes:
        run.output.note(note)
    for warning in prepared.warnings:
        run.output.warn(warning)
    return prepared


def _blame_settings(
    found: list[Problem], settings: Settings, values: dict[str, Any]
) -> tuple[list[Problem], str | None]:
    """A problem with a default the user set (`config set duration 7`, `$MIVID_MODE`) names
    where it was set, not the flag that was never given; the hint says how to change it."""
    from mivid import hints
    from mivid.settings import Source
    from mivid.vocabulary import CREATE_FIELDS

    setting = {
        spec.name: (spec, spec.setting)
        for spec in CREATE_FIELDS
        if spec.setting and values.get(spec.in_jobs) is None and settings.chosen(spec.setting)
    }
    blamed: list[Problem] = []
    hint = None
    for problem in found:
        spec, key = setting.get(problem.field or "", (None, None))
        if spec is None or key is None:
            blamed.append(problem)
            continue
        resolved = settings.values[key]
        blamed.append(problem.about(f"{key} (the default from {resolved.where()})"))
        if hint is None and resolved.source is Source.CONFIG:
            # One command, pasteable as it is: a value the endpoint takes, else none at all.
            choices = problem.figures.get("choices") or ()
            change = (
                hints.config_command("set", key, str(choices[0]))
                if choices
                else hints.config_command("unset", key)
            )
            hint = f"give {spec.option} for this create, or change the default: {change}"
        elif hint is None and resolved.source is Source.ENVIRONMENT:
            hint = f"give {spec.option} for this create, or change ${resolved.detail}"
    return blamed, hint


@dataclass(frozen=True)
class _Follow:
    """`--wait`, `--download DIR`, `--watermarked`, `--gallery`, `--timeout`: what to do after
    the create."""

    download_dir: Path | None
    watermarked: bool = False
    gallery: bool = False
    timeout: float | None = None


def _send(
    run: AppState,
    prepared: PreparedCreate,
    *,
    form: Form,
    follow: bool,
    after: _Follow,
    limit: Decimal | None = None,
    use_journal: bool = True,
) -> None:
    """Send the create (not over `limit`, `--max-units`); show the task, or follow it to its end."""
    from mivid import hints
    from mivid.flows import Say
    from mivid.flows.creating import create_task
    from mivid.render.views import CREATED, Created

    out = run.output
    with run.client() as client:
        made = create_task(
            client,
            prepared,
            sandbox=run.settings.sandbox,
            say=Say(out.note, out.warn),
            on_ambiguous=lambda why, external: out.warn(
                f"{why}; looking the task up by its external id before anything is sent "
                f"again (to look yourself: {hints.command('get', external)})"
            ),
            max_units=limit,
            use_journal=use_journal,
        )
        created = Created(made, _follow_command(made.task))
        if follow:
            _wait_after_create(
                run,
                client,
                created,
                after,
                form=form,
                endpoint=prepared.endpoint,
            )
            return
    with out.records(CREATED, form, one=True) as sink:
        sink.add(created)


def _follow_command(task: dict[str, Any]) -> str:
    from mivid import hints

    return hints.command("wait", str(task["task_id"]))


def _wait_after_create(
    run: AppState,
    client: KlingClient,
    created: Created,
    after: _Follow,
    *,
    form: Form,
    endpoint: Endpoint,
) -> None:
    """`create --wait`: show the new task, follow it to its end, save its video."""
    from mivid.commands.following import follow_and_show
    from mivid.errors import TaskFailedError
    from mivid.render.views import created_before_following, created_unfollowed

    out = run.output
    was_the_result = created_before_following(out, created, form)
    try:
        follow_and_show(
            run,
            client,
            [str(created.task["task_id"])],
            timeout=after.timeout,
            download_dir=after.download_dir,
            watermarked=after.watermarked,
            gallery=after.gallery,
            form=form,
            one=True,
            summary=not was_the_result,
            known={str(created.task["task_id"]): endpoint},
        )
    except TaskFailedError:
        raise  # it ended, and its document said so (--json too): nothing is left to follow
    except BaseException:
        created_unfollowed(out, created, form)  # whatever failed, it was paid for
        raise
