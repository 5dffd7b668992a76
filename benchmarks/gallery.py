"""`mivid gallery` on big folders: does its cost grow with the work, and is a rerun cheap?

    python benchmarks/gallery.py              # 100, 300 and 1000 cards
    python benchmarks/gallery.py --sizes 300

For each size it builds a folder of N videos with their sidecars, four
reference images per card drawn from a pool of N/3 distinct ~1.5 MB JPEGs
(variations share images, as they do in practice), and times, each as a
separate process of this interpreter:

- `gallery` cold: no previews yet (every distinct image hashed and previewed);
- `gallery` warm: previews cached, nothing changed (every image hashed again:
  a file edited since must not be shown as the reference);
- the floor: a process that only reads and hashes the distinct images once.

What to look for: cold runs grow with the distinct images (one preview each,
never one per card); warm runs grow with the work too, staying within a small
multiple of the floor (mivid's start-up, reading the sidecars and drawing the
cards come on top of the hashing). Measured on a 2-CPU VM: 300 cards warm in
0.42 s (floor 0.11 s), 3000 cards in 2.5 s (floor 1.0 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

FLOOR = """
import hashlib, sys
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        hashlib.sha256(handle.read()).hexdigest()
"""


def make_pool(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    pool = []
    for number in range(count):
        path = folder / f"ref-{number:04d}.jpg"
        noise = Image.frombytes("RGB", (400, 300), rng.randbytes(400 * 300 * 3))
        noise.resize((1600, 1200)).save(path, "JPEG", quality=95)
        pool.append(path)
    return pool


def make_folder(folder: Path, cards: int, pool: list[Path]) -> None:
    import hashlib

    folder.mkdir(parents=True)
    hashes = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in pool}
    rng = random.Random(cards)
    for number in range(cards):
        task_id = f"{800000000000000000 + number}"
        images = rng.sample(pool, 4)
        (folder / f"{task_id}.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + task_id.encode())
        record = {
            "schema": "mivid.sidecar/1",
            "source": "journal",
            "task_id": task_id,
            "external_task_id": f"bench-{number}",
            "prompt": f"variation {number}: the boat sails past the lighthouse",
            "negative_prompt": None,
            "model_name": "kling-v1-6",
            "mode": "std",
            "duration": "5",
            "aspect_ratio": "16:9",
            "images": [
                {
                    "name": path.name,
                    "path": str(path),
                    "sha256": hashes[path],
                    "bytes": path.stat().st_size,
                    "width": 1600,
                    "height": 1200,
                    "format": "JPEG",
                }
                for path in images
            ],
            "task_status": "succeed",
            "created_at": f"2026-11-{1 + number % 28:02d}T{number % 24:02d}:00:00Z",
            "final_unit_deduction": "1",
            "video": {"file": f"{task_id}.mp4"},
        }
        (folder / f"{task_id}.json").write_text(json.dumps(record))


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'cards':>6} {'images':>6} {'cold':>8} {'warm':>8} {'floor':>8} {'warm/floor':>10}")
    with tempfile.TemporaryDirectory(prefix="mivid-gallery-bench-") as scratch:
        root = Path(scratch)
        env = {**os.environ, "HOME": str(root / "home"), "XDG_STATE_HOME": str(root / "state")}
        for cards in sizes:
            pool = make_pool(root / f"pool-{cards}", max(4, cards // 3))
            folder = root / f"videos-{cards}"
            make_folder(folder, cards, pool)
            gallery = [sys.executable, "-m", "mivid", "gallery", str(folder)]
            cold = timed(gallery, env)
            warm = min(timed(gallery, env) for _ in range(3))
            floor = min(
                timed([sys.executable, "-c", FLOOR, *map(str, pool)], env) for _ in range(3)
            )
            print(
                f"{cards:>6} {len(pool):>6} {cold:>7.2f}s {warm:>7.2f}s {floor:>7.2f}s "
                f"{warm / floor:>9.2f}x",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
