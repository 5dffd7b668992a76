"""The floor for waiting on many tasks: the least a Python client can do to poll them.

    python floor_wait.py TASK_ID...

One httpx client (one keep-alive connection) and one PyJWT token; every
round queries each unfinished task in turn (`GET /v1/videos/multi-image2video/{id}`)
and prints a tab-separated line (task id, status, first video URL) for each
that has ended. Rounds start 1 s apart, the pause growing 1.2× a round up
to 12 s, each counted from the round's start: `mivid wait`'s default
schedule, so both ask about the same tasks as often. `mivid wait` on the
same number of tasks is measured against this script (benchmarks/scale.py).
Reads KLING_BASE_URL, KLING_ACCESS_KEY, KLING_SECRET_KEY.
"""

import sys
import time

import httpx
from floor_auth import bearer, collection

url = collection() + "/"
pending = sys.argv[1:]
pause = 1.0
with httpx.Client(headers=bearer(), timeout=30) as http:
    while pending:
        started = time.monotonic()
        running = []
        for task_id in pending:
            envelope = http.get(url + task_id).json()
            if envelope.get("code") != 0:
                sys.exit(f"{task_id}: {envelope}")
            task = envelope["data"]
            if task["task_status"] in ("succeed", "failed"):
                videos = (task.get("task_result") or {}).get("videos") or [{}]
                print(f"{task_id}\t{task['task_status']}\t{videos[0].get('url') or ''}")
            else:
                running.append(task_id)
        pending = running
        if pending:
            time.sleep(max(0.0, started + pause - time.monotonic()))
            pause = min(pause * 1.2, 12.0)
