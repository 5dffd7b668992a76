"""The floor for a scripted task list: the least any Python client can do.

One authenticated `GET /v1/videos/multi-image2video?pageNum=1&pageSize=30`
with httpx and a PyJWT token, the body printed as is. `mivid list --json`
is measured against this script (benchmarks/run.py).

    KLING_BASE_URL=http://127.0.0.1:8787 KLING_ACCESS_KEY=… KLING_SECRET_KEY=… python floor_list.py
"""

import os
import sys
import time

import httpx
import jwt

now = int(time.time())
token = jwt.encode(
    {"iss": os.environ["KLING_ACCESS_KEY"], "exp": now + 1800, "nbf": now - 5},
    os.environ["KLING_SECRET_KEY"],
    algorithm="HS256",
    headers={"typ": "JWT"},
)
response = httpx.get(
    os.environ["KLING_BASE_URL"].rstrip("/") + "/v1/videos/multi-image2video",
    params={"pageNum": 1, "pageSize": 30},
    headers={"Authorization": f"Bearer {token}"},
)
sys.stdout.write(response.text + "\n")
sys.exit(0 if response.status_code == 200 else 1)
