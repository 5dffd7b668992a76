"""The example images and jobs file shipped with mivid, to try it with (`mivid sandbox examples`).

A wheel carries them inside the package (`mivid/examples/`, see pyproject.toml);
a source tree (an editable install, a clone) has them in its `examples/` folder.
Either way `write_samples` copies them into a folder of the user's, so the
help's examples work from any folder after `mivid sandbox examples`.
"""

from __future__ import annotations

from pathlib import Path

from mivid.errors import InputError

#: The files, in the order they are written and printed.
SAMPLE_NAMES = ("lighthouse.jpg", "sailboat.png", "jobs.jsonl")
#: Where `mivid sandbox examples` writes them unless told otherwise (the help's examples use it).
DEFAULT_FOLDER = "mivid-examples"


def sample_folder() -> Path:
    """Where this installation keeps the example files."""
    package = Path(__file__).resolve().parent
    installed = package / "examples"
    if installed.is_dir():
        return installed
    return package.parent.parent / "examples"  # src/mivid → the source tree's examples/


def write_samples(directory: Path) -> list[Path]:
    """Copy the example files into `directory` (made when missing); their paths.

    A file already there with the same bytes is left alone; one with other
    bytes is never replaced (InputError, exit 2, nothing written).
    """
    source = sample_folder()
    contents = {}
    for name in SAMPLE_NAMES:
        try:
            contents[name] = (source / name).read_bytes()
        except OSError as exc:  # a broken installation, not the user's doing
            raise InputError(
                f"{source / name}: the example files are missing from this installation "
                f"({exc.strerror or exc})",
                hint="reinstall mivid (pip install --force-reinstall mivid)",
            ) from exc
    taken = [
        f"DIR {directory}: {name} exists with other content; not replaced"
        for name in SAMPLE_NAMES
        if (directory / name).exists() and _differs(directory / name, contents[name])
    ]
    if taken:
        raise InputError(taken, hint="name another folder: mivid sandbox examples DIR")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in contents.items():
            if not (directory / name).exists():
                (directory / name).write_bytes(data)
    except OSError as exc:
        raise InputError(
            f"DIR {directory}: cannot write the examples there ({exc.strerror or exc})"
        ) from exc
    return [directory / name for name in SAMPLE_NAMES]


def _differs(path: Path, data: bytes) -> bool:
    try:
        return not path.is_file() or path.read_bytes() != data
    except OSError:
        return True
