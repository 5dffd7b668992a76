#!/usr/bin/env python3
"""Regenerate docs/gallery.png: the README's picture of `mivid gallery`, from the sandbox quick start.

    python scripts/gallery_screenshot.py              # writes docs/gallery.png
    python scripts/gallery_screenshot.py -o shot.png  # somewhere else

Runs the real mivid (this interpreter's) against its built-in sandbox, in a
fresh temporary HOME (no config, no journal, no keys of yours), from the
project's folder so the images are named as the README's quick start names
them: three creates with different prompts, `mivid gallery`, then headless
Chromium (`chromium` on PATH; Debian: `apt-get install chromium`) takes the
screenshot. Nothing is sent anywhere; the temporary folder is removed.

The picture is taken once every video has a frame to show (the suite's
DevTools-pipe driver, tests/browser.py): `chromium --screenshot` takes it at the
load event, before the frames are decoded, and may show black boxes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
WINDOW = (1200, 900)
CREATES = [
    ["examples/lighthouse.jpg", "examples/sailboat.png",
     "--prompt", "the boat sails past the lighthouse at sunset"],
    ["examples/lighthouse.jpg", "examples/sailboat.png",
     "--prompt", "the boat sails past the lighthouse at night, its beam sweeping the waves",
     "--negative-prompt", "blur, text"],
    ["examples/sailboat.png", "--prompt", "the sailboat turns into the wind", "--mode", "pro",
     "--aspect-ratio", "1:1"],
]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "gallery.png")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.stderr.write("error: no chromium on PATH (Debian: apt-get install chromium)\n")
        return 1
    with tempfile.TemporaryDirectory(prefix="mivid-gallery-") as scratch:
        home = Path(scratch) / "home"
        videos = Path(scratch) / "videos"
        home.mkdir()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "MIVID_", "XDG_"))
        }
        env.update(HOME=str(home), MIVID_SANDBOX_TASK_SECONDS="0", NO_COLOR="1")
        for number, arguments in enumerate(CREATES):
            if number:
                time.sleep(1.1)  # the service's times are whole seconds: one apart, in order
            mivid(env, "--sandbox", "create", *arguments, "--wait", "--download", str(videos))
        mivid(env, "gallery", str(videos))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        picture(browser, Path(scratch) / "profile", (videos / "index.html").as_uri()).save(
            args.output
        )
    shrink(args.output)
    print(args.output)
    return 0


def picture(executable: str, profile: Path, url: str) -> Image.Image:
    """The page at WINDOW, once it has loaded and every video has a frame (or 30 s passed)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import Browser

    with Browser(executable, profile, width=WINDOW[0], height=WINDOW[1]) as page:
        page.open(url)
        ready = (
            'document.readyState === "complete" && Array.prototype.every.call('
            'document.querySelectorAll("video"), function (v) { return v.readyState >= 2; })'
        )
        deadline = time.monotonic() + 30
        while not page.evaluate(ready):
            if time.monotonic() > deadline:
                raise SystemExit("error: the page's videos showed no frame within 30 s")
            time.sleep(0.1)
        return page.picture(0, 0, *WINDOW)


def mivid(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mivid", *args], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        raise SystemExit(f"mivid {' '.join(args)}: exit {done.returncode}")


def shrink(path: Path) -> None:
    """Fewer bytes in the repository: the same picture, palette-quantized and optimized."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
