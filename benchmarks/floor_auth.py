"""What every floor script does first, and the least any client must: sign one token.

One PyJWT token (HS256, valid 30 minutes) from KLING_ACCESS_KEY and
KLING_SECRET_KEY, and the Multi-Image to Video collection's URL from
KLING_BASE_URL. The floor scripts (floor_list.py, floor_list_all.py,
floor_wait.py) import it from this folder.
"""

import os
import time

import jwt


def bearer() -> dict[str, str]:
    """The Authorization header of a token signed now."""
    now = int(time.time())
    token = jwt.encode(
        {"iss": os.environ["KLING_ACCESS_KEY"], "exp": now + 1800, "nbf": now - 5},
        os.environ["KLING_SECRET_KEY"],
        algorithm="HS256",
        headers={"typ": "JWT"},
    )
    return {"Authorization": f"Bearer {token}"}


def collection() -> str:
    """`GET` this for the list, `GET` it + `/ID` for one task."""
    return os.environ["KLING_BASE_URL"].rstrip("/") + "/v1/videos/multi-image2video"
