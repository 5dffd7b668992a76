"""The floor for a scripted task list: the least any Python client can do.

One authenticated `GET /v1/videos/multi-image2video?pageNum=1&pageSize=30`
with httpx and a PyJWT token, the body printed as is. `mivid list --json`
is measured against this script (benchmarks/run.py).

    KLING_BASE_URL=http://127.0.0.1:8787 KLING_ACCESS_KEY=… KLING_SECRET_KEY=… python floor_list.py
"""

import sys

import httpx
from floor_auth import bearer, collection

response = httpx.get(collection(), params={"pageNum": 1, "pageSize": 30}, headers=bearer())
sys.stdout.write(response.text + "\n")
sys.exit(0 if response.status_code == 200 else 1)
