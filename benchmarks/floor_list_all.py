"""The floor for listing every task: the least a Python client can do, page by page.

    python floor_list_all.py [--page-size 30] [--lines]

Follows `GET /v1/videos/multi-image2video?pageNum=N&pageSize=S` with one
httpx client and a PyJWT token until a short page (or page 1000, the
service's limit), writing each page as it arrives and keeping nothing: a
JSON array of the task objects indented as `mivid list --json` prints them,
or with `--lines` the tab-separated line `mivid list` prints in a pipe (task
id, status, created in ISO 8601 UTC, video length, external id, first video
URL, an empty prompt). `mivid list --all` is measured against this script
(benchmarks/scale.py). Reads KLING_BASE_URL, KLING_ACCESS_KEY, KLING_SECRET_KEY.
"""

import argparse
import json
import sys
from datetime import datetime, timezone

import httpx
from floor_auth import bearer, collection

parser = argparse.ArgumentParser()
parser.add_argument("--page-size", type=int, default=30)
parser.add_argument("--lines", action="store_true")
args = parser.parse_args()

url = collection()
out = sys.stdout
first = True
if not args.lines:
    out.write("[")
with httpx.Client(headers=bearer(), timeout=30) as http:
    for page in range(1, 1001):
        response = http.get(url, params={"pageNum": page, "pageSize": args.page_size})
        envelope = response.json()
        if envelope.get("code") != 0:
            sys.exit(f"page {page}: {envelope}")
        tasks = envelope["data"]
        for task in tasks:
            if args.lines:
                videos = (task.get("task_result") or {}).get("videos") or [{}]
                created = datetime.fromtimestamp(task["created_at"] / 1000, timezone.utc)
                cells = [
                    task["task_id"],
                    task["task_status"],
                    created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    videos[0].get("duration") or "",
                    (task.get("task_info") or {}).get("external_task_id") or "",
                    videos[0].get("url") or "",
                    "",
                ]
                out.write("\t".join(cells) + "\n")
            else:
                text = json.dumps(task, ensure_ascii=False, indent=2).replace("\n", "\n  ")
                out.write(("\n  " if first else ",\n  ") + text)
            first = False
        if len(tasks) < args.page_size:
            break
if not args.lines:
    out.write("\n]\n" if not first else "]\n")
