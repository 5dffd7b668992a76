"""Headless Chromium driven through its DevTools pipe (`--remote-debugging-pipe`).

`chromium --screenshot` takes its picture when the page's load event fires, and a
video's first frame is decoded after that, off the page's clock: a picture of a
gallery taken that way shows a black box or a frame by luck (with
`--virtual-time-budget` almost always a black box). This drives the browser as a
user does instead: load the page, pick a sort order, wait until each video says it
has a frame to show, then take a picture of each video where it is drawn.

The pipe carries JSON messages ended by a NUL byte, commands on the browser's fd 3
and answers on its fd 4; no port is opened and nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image


_TRAMPOLINE = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


class Browser:
    """One headless Chromium with one page of `width` × `height` CSS pixels."""

    def __init__(self, executable: str, profile: Path, *, width: int, height: int) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self._log = profile / "chromium.log"  # its stderr: told in an error, else unread
        log = self._log.open("wb")
        to_browser, self._commands = _above_4(os.pipe())
        self._answers, from_browser = _above_4(os.pipe())
        self._process = subprocess.Popen(
            # A Python trampoline puts the pipe's ends where Chromium looks for them (fds 3
            # and 4; dash's `3<&N` takes no N above 9), then becomes Chromium.
            [sys.executable, "-c", _TRAMPOLINE, str(to_browser), str(from_browser), executable,
             "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            pass_fds=(to_browser, from_browser),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )  # fmt: skip
        log.close()
        os.close(to_browser)
        os.close(from_browser)
        self._sent = 0
        self._unread = b""
        target = self._call("Target.createTarget", None, url="about:blank")["targetId"]
        attached = self._call("Target.attachToTarget", None, targetId=target, flatten=True)
        self._session: str = attached["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=1, mobile=False,
        )  # fmt: skip

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        os.close(self._commands)
        self._process.terminate()
        self._process.wait(timeout=30)
        os.close(self._answers)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A DevTools command on the page; its result."""
        return self._call(method, self._session, **params)

    def _call(self, method: str, session: str | None, **params: Any) -> dict[str, Any]:
        self._sent += 1
        message: dict[str, Any] = {"id": self._sent, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            while b"\0" not in self._unread:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                    raise TimeoutError(f"chromium did not answer {method} within 60 s")
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    log = self._log.read_text(errors="replace")[-3000:]
                    raise ConnectionError(f"chromium closed its pipe during {method}:\n{log}")
                self._unread += chunk
            raw, self._unread = self._unread.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._sent:  # anything else is an event: not asked for
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer["result"]
                return result

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """`expression`'s value in the page (JSON-able values only)."""
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def picture(self, x: float, y: float, width: float, height: float) -> Image.Image:
        """What the page draws in that rectangle (page coordinates, CSS pixels)."""
        from PIL import Image

        shot = self.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": x, "y": y, "width": width, "height": height, "scale": 1},
        )
        return Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")


def _above_4(ends: tuple[int, int]) -> tuple[int, int]:
    """The pipe's ends moved to fds above 4: putting one on fd 3 or 4 must not overwrite the
    other."""
    moved = tuple(fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, 5) for end in ends)
    for end in ends:
        os.close(end)
    return moved[0], moved[1]
