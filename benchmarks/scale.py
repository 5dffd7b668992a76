"""mivid at the sizes users reach (issue 16), beside minimal scripts doing the same work.

Run through run.py (`--scale` for every group, `--only GROUP` for one):

    list     `list --all --json` and `list --all` in a pipe at 1k / 10k / 30k tasks against
             floor_list_all.py (wall, CPU, peak RSS; the growth per task); 50k tasks: what
             `--all` prints when the service's page limit (pageNum ≤ 1000) ends it
    table    `list --all` drawing 10k tasks on a pseudo-terminal
    local    `list --local` on journals of 30 / 1k / 10k / 50k entries
    batch    rerun of a finished 1000-job file vs a finished 1-job file (time, requests);
             `--dry-run` of 100 jobs sharing one 9.7 MB PNG vs 1 job
    batch-schedule
             `batch` of 10 / 100 / 300 jobs of 2 s tasks, 50 at once, against the ideal
             schedule (waves × task time + one poll interval): whole-process wall
    wait     `wait` on 500 tasks against floor_wait.py: just made (mivid reads them on
             the list's first page: whole-process CPU), and buried under 30k newer
             tasks (each queried on its own: CPU per status query)
    sandbox  `mivid sandbox serve`: memory after 100 creates of ~49 MiB bodies; the emulator's
             GET latency with 100 / 10k / 100k stored tasks

Servers run in processes of their own: list_server.py (a purpose-built list
server: the emulator spends more per page than the clients measured) and
emulator_server.py (the emulator over a SQLite file, counting requests).
Big stores are made by copying one real row (written by mivid or the
emulator themselves) with SQL, so a new column in their schemas is carried
along; a renamed one stops the figure with a message naming it.

Every figure is PASS or MISS against the issue's target; a miss here does not
make run.py exit 1 unless --strict (these targets are work in progress).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import random
import re
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    HERE,
    MB,
    MIB,
    BenchmarkError,
    Child,
    Figure,
    client_environment,
    interleaved,
    median,
    print_rows,
    resident_memory,
    run_child,
    run_measured,
    serve,
)

GROUPS = (
    "list",
    "limit",
    "table",
    "local",
    "rerun",
    "dry-run",
    "batch-schedule",
    "wait",
    "sandbox-memory",
    "sandbox-latency",
)
COLLECTION = "/v1/videos/multi-image2video"
ACCESS_KEY = "sandbox-access-key"
SECRET_KEY = "sandbox-secret-key-not-a-real-secret"
LIST_SIZES = (1_000, 10_000, 30_000)
LIST_LIMIT_TASKS = 50_000
MAX_PAGES = 1000
MAX_PAGE_SIZE = 500
TABLE_TASKS = 10_000
JOURNAL_SIZES = (30, 1_000, 10_000, 50_000)
BATCH_JOBS = 1000
DRY_RUN_JOBS = 100
SCHEDULE_JOBS = (10, 100, 300)
#: Tasks this long: on batch's default schedule (queries 1 s, 2.2 s, 3.64 s … after a create)
#: a task is seen ended 0.2 s late, 10 % of it, the middle of the 0–20 % its ×1.2 pauses allow.
SCHEDULE_TASK_SECONDS = 2.0
#: `batch --concurrency` at its most, and the emulator's running-task limit alike.
SCHEDULE_CONCURRENCY = 50
SCHEDULE_TARGET = 1.13
WAIT_TASKS = 500
WAIT_TASK_SECONDS = 5.0
SANDBOX_CREATES = 100
SANDBOX_QUICK_CREATES = 20
#: Past this much growth the sandbox figure has missed anyway: stop before the machine suffers.
SANDBOX_GROWTH_CAP = 512 * MIB
#: After these many creates the sandbox's memory goes into the growth table.
CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100)
STORE_SIZES = (100, 10_000, 100_000)
FLAT_MEMORY = 10 * MB


@dataclass
class ScaleContext:
    mivid: list[str]
    folder: Path
    pngs: list[Path]  # four incompressible ~9.7 MB PNGs
    small_png: bytes
    quick: bool
    strict: bool
    growth: list[str] = field(default_factory=list)
    _templates: tuple[Path, Path] | None = None

    def environment(self, name: str, base_url: str) -> dict[str, str]:
        """A client environment with its own home; bytecode cached for all homes alike."""
        home = self.folder / "homes" / name
        home.mkdir(parents=True, exist_ok=True)
        env = client_environment(home, base_url, ACCESS_KEY, SECRET_KEY)
        env["PYTHONPYCACHEPREFIX"] = str(self.folder / "pycache")
        return env

    def figure(
        self,
        name: str,
        measured: str,
        baseline: str,
        ratio: float | None,
        target: str,
        passed: bool,
        note: str = "",
    ) -> Figure:
        return Figure(name, measured, baseline, ratio, target, passed, note, gating=self.strict)

    def repeat(
        self,
        runs: dict[str, Callable[[], Child]],
        *,
        most: int,
        least: int,
        budget: float,
        quick: int = 1,
        warmup: int = 0,
    ) -> dict[str, list[Child]]:
        """Interleaved runs: `least` rounds, then more (up to `most`) while within `budget` s.

        Slow commands (today's misses) then cost little time, and fast ones (where a
        small difference decides) get more runs; with --quick, `quick` rounds.
        """
        if self.quick:
            return interleaved(runs, repeats=quick, warmup=warmup)
        return interleaved(runs, repeats=most, warmup=warmup, least=least, budget=budget)

    def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A growth table, printed after the figures."""
        import io
        from contextlib import redirect_stdout

        buffer = io.StringIO()
        with redirect_stdout(buffer):
            print(title)
            print_rows(header, rows)
        self.growth.append(buffer.getvalue())


def python() -> str:
    return sys.executable


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def megabytes(value: float) -> str:
    return f"{value / MB:.0f} MB"


def mentions_count(text: str, count: int) -> bool:
    """Whether `text` names `count` (30000, 30,000, 30 000 or 30.000)."""
    digits = str(count)
    head, tail = digits[:-3], digits[-3:]
    pattern = rf"(?<![\d.,]){head}[,. \u202f\u00a0]?{tail}(?![\d])" if head else rf"\b{digits}\b"
    return re.search(pattern, text) is not None


# -- stores made from one real row ---------------------------------------------------


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file (its WAL included), through SQLite's backup."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def clone_rows(
    db: Path, table: str, count: int, overrides: dict[str, str], params: dict[str, Any]
) -> None:
    """Add `count` copies of `table`'s first row, the `overrides` columns computed by SQL.

    An override is an SQL expression over `n` (1 … count), the template row's
    columns as `t.<name>`, and the named `params`. Columns not overridden are
    copied as they are (a column added to the schema is carried along).
    """
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as connection:
        info = connection.execute(f"PRAGMA table_info({table})").fetchall()
        columns = [row[1] for row in info]
        missing = sorted(set(overrides) - set(columns))
        if missing:
            raise BenchmarkError(
                f"{db.name}: table {table} has no column {', '.join(missing)} (has "
                f"{', '.join(columns)}); the schema changed: update benchmarks/scale.py"
            )
        # An INTEGER PRIMARY KEY is the rowid: let SQLite number the copies.
        rowid = {row[1] for row in info if row[5] == 1 and str(row[2]).upper() == "INTEGER"}
        names = [name for name in columns if name not in rowid]
        values = ", ".join(overrides.get(name, f"t.{name}") for name in names)
        connection.execute(
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < :count) "
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} "
            f"FROM k, (SELECT * FROM {table} ORDER BY rowid LIMIT 1) AS t",
            {**params, "count": count},
        )
        connection.commit()


def journal_entries(now: float) -> tuple[dict[str, str], dict[str, Any]]:
    """Overrides for the journal's `creates`: finished tasks, one every 37 s back from now."""
    return (
        {
            "external_task_id": "'bench-j-' || n",
            "task_id": "printf('%d', 400000000000000000 + n)",
            "status": "'succeed'",
            "created": ":now - n * 37.0",
            "updated": ":now - n * 37.0 + 95",
        },
        {"now": now},
    )


def stored_tasks(tag: str, created: str, processing: str, finish: str) -> dict[str, str]:
    """Overrides for the emulator store's `tasks` (ids unique per `tag`)."""
    return {
        "task_id": f"printf('%d', {stored_id_base(tag)} + n)",
        "external_task_id": f"'bench-{tag}-' || n",
        "created": created,
        "processing_at": processing,
        "finish_at": finish,
    }


def stored_id_base(tag: str) -> int:
    """18-digit task ids of one batch of stored copies: base + 1 … base + count."""
    return 300_000_000_000_000_000 + (uuid.uuid5(uuid.NAMESPACE_URL, tag).int % 10**5) * 10**12


def emulator_argv(*extra: str) -> list[str]:
    return [python(), str(HERE / "emulator_server.py"), *extra]


def bench_call(url: str, what: str) -> dict[str, int]:
    """GET /_bench/<what> of a counting server: its counts."""
    import httpx

    counts: dict[str, int] = httpx.get(f"{url}/_bench/{what}", timeout=30).json()
    return counts


def templates(ctx: ScaleContext) -> tuple[Path, Path]:
    """A journal and an emulator store, each holding the one row a real `mivid create` wrote."""
    if ctx._templates is not None:
        return ctx._templates
    folder = ctx.folder / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / "lighthouse.png"
    image.write_bytes(ctx.small_png)
    live = folder / "live-store.sqlite3"
    with serve(emulator_argv("--db", str(live)), ctx.environment("template", "")) as server:
        env = ctx.environment("template", server.url)
        create = [*ctx.mivid, "create", str(image), "--prompt", "waves break at dusk", "--json"]
        run_child(create, env).check("mivid create (the template row)")
        store = folder / "store.sqlite3"
        copy_database(live, store)
    found = sorted(Path(env["HOME"]).rglob("journal.sqlite3"))
    if not found:
        raise BenchmarkError("mivid create wrote no journal.sqlite3 under its home")
    journal = folder / "journal.sqlite3"
    copy_database(found[0], journal)
    ctx._templates = (journal, store)
    return ctx._templates


def journal_location(ctx: ScaleContext, home_env: dict[str, str]) -> Path:
    """Where mivid keeps its journal under that home (the template's path, re-rooted)."""
    template_home = ctx.folder / "homes" / "template"
    found = sorted(template_home.rglob("journal.sqlite3"))
    if not found:
        raise BenchmarkError("no template journal")
    return Path(home_env["HOME"]) / found[0].relative_to(template_home)


# -- list --all ------------------------------------------------------------------------


def _list_runs(ctx: ScaleContext, base: str, size: int) -> dict[str, Callable[[], Child]]:
    env = ctx.environment("list", f"{base}/n/{size}")
    page = ["--page-size", "30"]
    floor = [python(), str(HERE / "floor_list_all.py"), *page]
    return {
        "mivid json": lambda: run_measured([*ctx.mivid, "list", "--all", *page, "--json"], env),
        "floor json": lambda: run_measured(floor, env),
        "mivid lines": lambda: run_measured([*ctx.mivid, "list", "--all", *page], env),
        "floor lines": lambda: run_measured([*floor, "--lines"], env),
    }


def measure_list(ctx: ScaleContext) -> list[Figure]:
    figures: list[Figure] = []
    server_argv = [python(), str(HERE / "list_server.py"), "--tasks", str(LIST_SIZES[-1])]
    with serve(server_argv, ctx.environment("list", "")) as server:
        results: dict[int, dict[str, list[Child]]] = {}
        for size in LIST_SIZES:
            print(f"  list --all: {size} tasks …", file=sys.stderr)
            runs = _list_runs(ctx, server.url, size)
            if size == LIST_SIZES[0]:
                measured = ctx.repeat(runs, most=5, least=5, budget=0, quick=2, warmup=1)
            else:
                budget = 15.0 if size == LIST_SIZES[-1] else 6.0
                measured = ctx.repeat(runs, most=5, least=2, budget=budget)
            for name, children in measured.items():
                for child in children:
                    child.check(f"{name} at {size} tasks")
            _check_same_tasks(measured, size)
            results[size] = measured
        for mode, label in (("json", "list --all --json"), ("lines", "list --all (pipe)")):
            figures += _list_figures(ctx, results, mode, label)
    return figures


def _check_same_tasks(measured: dict[str, list[Child]], size: int) -> None:
    mivid = json.loads(measured["mivid json"][-1].stdout)
    floor = json.loads(measured["floor json"][-1].stdout)
    if len(mivid) != size or [t["task_id"] for t in mivid] != [t["task_id"] for t in floor]:
        raise BenchmarkError(f"mivid and the floor script listed different tasks at {size}")
    for name in ("mivid lines", "floor lines"):
        lines = measured[name][-1].stdout.count(b"\n")
        if lines != size:
            raise BenchmarkError(f"{name} printed {lines} lines for {size} tasks")


def _list_figures(
    ctx: ScaleContext, results: dict[int, dict[str, list[Child]]], mode: str, label: str
) -> list[Figure]:
    stats: dict[tuple[int, str], tuple[float, float, float]] = {}
    for size, measured in results.items():
        for who in ("mivid", "floor"):
            children = measured[f"{who} {mode}"]
            stats[size, who] = (
                median([c.seconds for c in children]),
                median([c.cpu for c in children]),
                median([c.peak_rss for c in children]),
            )
    sizes = list(results)
    steps = {
        who: marginal(sizes, [stats[size, who][0] for size in sizes]) for who in ("mivid", "floor")
    }
    rows = []
    for index, size in enumerate(sizes):
        m, f = stats[size, "mivid"], stats[size, "floor"]
        rows.append(
            [
                f"{size:,}",
                seconds(m[0]),
                seconds(m[1]),
                megabytes(m[2]),
                seconds(f[0]),
                seconds(f[1]),
                megabytes(f[2]),
                f"{m[0] / f[0]:.2f}×",
                f"{m[1] / f[1]:.2f}×",
                f"{steps['mivid'][index - 1] * 1000:.0f} / {steps['floor'][index - 1] * 1000:.0f} ms"
                if index
                else "",
            ]
        )
    small, large = sizes[0], sizes[-1]
    growth = {who: steps[who][-1] / steps[who][0] for who in steps}
    rows.append(
        [
            "growth",
            "",
            "",
            f"+{megabytes(stats[large, 'mivid'][2] - stats[small, 'mivid'][2])}",
            "",
            "",
            f"+{megabytes(stats[large, 'floor'][2] - stats[small, 'floor'][2])}",
            "",
            "",
            f"{growth['mivid']:.2f}× / {growth['floor']:.2f}×",
        ]
    )
    ctx.table(
        f"{label}, page size 30, vs floor_list_all.py (medians of wall, CPU, peak RSS; "
        "last column: wall per 1000 more tasks, mivid / script, and how much that grew "
        "from the first step to the last — linear is 1×)",
        [
            "tasks",
            "mivid wall",
            "cpu",
            "peak",
            "script wall",
            "cpu",
            "peak",
            "wall ×",
            "cpu ×",
            "per 1k more",
        ],
        rows,
    )
    m, f = stats[large, "mivid"], stats[large, "floor"]
    mivid_growth = stats[large, "mivid"][2] - stats[small, "mivid"][2]
    floor_growth = stats[large, "floor"][2] - stats[small, "floor"][2]
    return [
        ctx.figure(
            f"{label}: {large // 1000}k tasks (wall)",
            seconds(m[0]),
            f"{seconds(f[0])} (floor_list_all.py)",
            m[0] / f[0],
            "≤ 1.3×",
            m[0] / f[0] <= 1.3,
            note=f"CPU {seconds(m[1])} vs {seconds(f[1])} ({m[1] / f[1]:.2f}×); both at "
            f"--page-size 30, {large // 30} requests; the cost of 1000 more tasks grows "
            f"{growth['mivid']:.1f}× from {small // 1000}k to {large // 1000}k (script "
            f"{growth['floor']:.1f}×)",
        ),
        ctx.figure(
            f"{label}: peak memory {small // 1000}k → {large // 1000}k tasks",
            f"+{megabytes(mivid_growth)} (to {megabytes(m[2])})",
            f"+{megabytes(floor_growth)} (to {megabytes(f[2])})",
            None,
            f"flat (≤ +{megabytes(FLAT_MEMORY)})",
            mivid_growth <= FLAT_MEMORY,
        ),
    ]


def marginal(sizes: Sequence[int], values: Sequence[float]) -> list[float]:
    """What each step up in size cost per 1000 more units (growth beyond linear shows here)."""
    return [
        (values[i] - values[i - 1]) / (sizes[i] - sizes[i - 1]) * 1000 for i in range(1, len(sizes))
    ]


def measure_limit(ctx: ScaleContext) -> list[Figure]:
    server_argv = [python(), str(HERE / "list_server.py"), "--tasks", str(LIST_LIMIT_TASKS)]
    with serve(server_argv, ctx.environment("list", "")) as server:
        return _page_limit_figures(ctx, server.url)


def _page_limit_figures(ctx: ScaleContext, base: str) -> list[Figure]:
    """50k tasks on the server: `--all` with the default page size, and with 30 a page."""
    tasks = LIST_LIMIT_TASKS
    env = ctx.environment("list", f"{base}/n/{tasks}")
    figures = []
    for page_size in (None, 30):
        print(f"  list --all: {tasks} tasks, page size {page_size or 'default'} …", file=sys.stderr)
        argv = [*ctx.mivid, "list", "--all"]
        if page_size is not None:
            argv += ["--page-size", str(page_size)]
        before = bench_call(base, "requests").get(str(tasks), 0)
        child = run_measured(argv, env)
        requests = bench_call(base, "requests").get(str(tasks), 0) - before
        shown = child.stdout.count(b"\n")
        stderr = child.stderr.decode(errors="replace")
        said = shown < tasks and mentions_count(stderr, shown)
        quoted = stderr.strip().splitlines()[-1][:90] if stderr.strip() else ""
        verdict = "says so" if said else "no count" if quoted else "silent"
        measured = f"{shown:,}, {requests} req., stderr {verdict}"
        heard = f"exit {child.status}; stderr: “{quoted}”" if quoted else f"exit {child.status}"
        if page_size is None:
            most = -(-tasks // MAX_PAGE_SIZE) + 1  # full pages, then the empty one
            figures.append(
                ctx.figure(
                    f"list --all, {tasks // 1000}k tasks, default page size",
                    measured,
                    "—",
                    None,
                    f"{tasks:,} shown (or the limit said), ≤ {most} requests",
                    child.status == 0 and (shown == tasks or said) and requests <= most,
                    note=f"{heard}; {seconds(child.seconds)}, peak {megabytes(child.peak_rss)}",
                )
            )
        else:
            limit = MAX_PAGES * page_size
            figures.append(
                ctx.figure(
                    f"list --all --page-size {page_size}, {tasks // 1000}k tasks (page limit)",
                    measured,
                    "—",
                    None,
                    f"{limit:,} shown, exit 0, said on stderr",
                    child.status == 0 and shown == limit and said,
                    note=f"{heard}; the service stops at pageNum {MAX_PAGES}: {limit:,} of "
                    f"{tasks:,} can be listed this way",
                )
            )
    return figures


# -- the table on a terminal -------------------------------------------------------------


def measure_table(ctx: ScaleContext) -> list[Figure]:
    server_argv = [python(), str(HERE / "list_server.py"), "--tasks", str(TABLE_TASKS)]
    with serve(server_argv, ctx.environment("table", "")) as server:
        env = ctx.environment("table", f"{server.url}/n/{TABLE_TASKS}")
        argv = [*ctx.mivid, "list", "--all", "--page-size", str(MAX_PAGE_SIZE)]
        # Warm (bytecode, page cache) on a short list, not on a full slow run.
        warm = ctx.environment("table", f"{server.url}/n/30")
        run_measured(argv, warm, terminal=(200, 50)).check("mivid list --all on a terminal")
        run_measured([*argv, "--json"], warm).check("mivid list --all --json")
        measured = ctx.repeat(
            {
                "table": lambda: run_measured(argv, env, terminal=(200, 50)),
                "json": lambda: run_measured([*argv, "--json"], env),
            },
            most=5,
            least=2,
            budget=6,
        )
    table = [c.check("mivid list --all on a terminal") for c in measured["table"]]
    json_runs = [c.check("mivid list --all --json") for c in measured["json"]]
    drawn = table[-1].stdout.count(b"\n")
    if drawn < TABLE_TASKS:
        raise BenchmarkError(f"the table drew {drawn} lines for {TABLE_TASKS} tasks")
    wall, base = median([c.seconds for c in table]), median([c.seconds for c in json_runs])
    text = (table[-1].stdout[-4000:] + table[-1].stderr).decode(errors="replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    says = mentions_count(text, TABLE_TASKS)
    return [
        ctx.figure(
            f"table: list --all on a terminal, {TABLE_TASKS // 1000}k tasks",
            seconds(wall),
            f"{seconds(base)} (--json, same pages)",
            wall / base,
            "< 1 s more",
            wall - base < 1.0,
            note=f"200×50 pseudo-terminal, --page-size {MAX_PAGE_SIZE}; drawing costs "
            f"{seconds(wall - base)}, peak {megabytes(median([c.peak_rss for c in table]))} "
            f"(--json: {megabytes(median([c.peak_rss for c in json_runs]))})",
        ),
        ctx.figure(
            "table: says how many tasks",
            "yes" if says else "no",
            "—",
            None,
            f"“{TABLE_TASKS:,}” under the table or on stderr",
            says,
        ),
    ]


# -- list --local -------------------------------------------------------------------------


def measure_local(ctx: ScaleContext) -> list[Figure]:
    journal, _ = templates(ctx)
    runs: dict[str, Callable[[], Child]] = {}
    whole: dict[str, Callable[[], Child]] = {}
    now = time.time()
    for size in JOURNAL_SIZES:
        env = ctx.environment(f"local-{size}", "http://127.0.0.1:9")  # never reached
        target = journal_location(ctx, env)
        copy_database(journal, target)
        overrides, params = journal_entries(now)
        clone_rows(target, "creates", size - 1, overrides, params)
        for mode, extra in (("lines", []), ("json", ["--json"])):
            argv = [*ctx.mivid, "list", "--local", *extra]
            runs[f"{size} {mode}"] = functools.partial(run_measured, argv, env)
        # Every entry (written as read, not held) and the period's sums: work grows with N,
        # memory must not. Peak memory varies little from run to run: one run each.
        for mode, argv in (
            ("all", [*ctx.mivid, "list", "--local", "--all", "--json"]),
            ("spent", [*ctx.mivid, "spent", "--since", "365d", "--json"]),
        ):
            whole[f"{size} {mode}"] = functools.partial(run_measured, argv, env)
    runs[f"{JOURNAL_SIZES[0]} lines"]()  # warm (bytecode, page cache) on the short journal
    measured = ctx.repeat(runs, most=5, least=3, budget=8, quick=2)
    measured.update(ctx.repeat(whole, most=1, least=1, budget=0, quick=1))
    stats: dict[str, tuple[float, float]] = {}
    for name, children in measured.items():
        for child in children:
            child.check(f"mivid list --local ({name})")
        lines = children[-1].stdout.count(b"\n")
        if name.endswith("lines") and lines != 30:
            raise BenchmarkError(f"list --local printed {lines} lines ({name}), not a page of 30")
        size = int(name.split()[0])
        if name.endswith("all") and len(json.loads(children[-1].stdout)) != size:
            raise BenchmarkError(f"list --local --all did not list all {size} entries")
        if name.endswith("spent"):
            sums = json.loads(children[-1].stdout)
            # The template's own create had not ended when it was journaled: running.
            if sums["tasks"] + sums["running"] + sums["unsettled"] != size:
                raise BenchmarkError(f"spent did not count all {size} entries: {sums}")
        stats[name] = (
            median([c.seconds for c in children]),
            median([c.peak_rss for c in children]),
        )
    sizes = list(JOURNAL_SIZES)
    steps = marginal(sizes, [stats[f"{size} lines"][0] for size in sizes])
    rows = [
        [
            f"{size:,}",
            seconds(stats[f"{size} lines"][0]),
            megabytes(stats[f"{size} lines"][1]),
            seconds(stats[f"{size} json"][0]),
            megabytes(stats[f"{size} json"][1]),
            f"{steps[index - 1] * 1000:.1f} ms" if index else "",
            seconds(stats[f"{size} all"][0]),
            megabytes(stats[f"{size} all"][1]),
            seconds(stats[f"{size} spent"][0]),
            megabytes(stats[f"{size} spent"][1]),
        ]
        for index, size in enumerate(sizes)
    ]
    ctx.table(
        "list --local, a page of 30 from journals of growing size (medians; 'per 1k more': "
        "pipe wall per 1000 more entries — an indexed query with a limit costs ~0); then "
        "every entry (`list --local --all --json`) and a year's sums (`spent --since 365d "
        "--json`), whose time grows with the entries and whose memory must not",
        [
            "entries",
            "pipe wall",
            "peak",
            "--json wall",
            "peak",
            "per 1k more",
            "--all wall",
            "peak",
            "spent wall",
            "peak",
        ],
        rows,
    )
    small, large = JOURNAL_SIZES[0], JOURNAL_SIZES[-1]
    figures = []
    for mode, label in (("lines", "list --local (pipe)"), ("json", "list --local --json")):
        big, little = stats[f"{large} {mode}"], stats[f"{small} {mode}"]
        figures.append(
            ctx.figure(
                f"{label}: {large // 1000}k-entry journal",
                seconds(big[0]),
                f"{seconds(little[0])} ({small} entries)",
                big[0] / little[0],
                "≤ 50 ms more",
                big[0] - little[0] <= 0.050,
                note=f"{seconds(big[0] - little[0])} more; peak {megabytes(big[1])} vs "
                f"{megabytes(little[1])}",
            )
        )
    for mode, label in (("all", "list --local --all --json"), ("spent", "spent --json")):
        big, little = stats[f"{large} {mode}"], stats[f"{sizes[1]} {mode}"]
        figures.append(
            ctx.figure(
                f"{label}: peak memory {sizes[1] // 1000}k → {large // 1000}k entries",
                f"+{megabytes(big[1] - little[1])} (to {megabytes(big[1])})",
                f"{megabytes(little[1])} ({sizes[1]:,} entries)",
                None,
                f"flat (≤ +{megabytes(FLAT_MEMORY)})",
                big[1] - little[1] <= FLAT_MEMORY,
                note=f"wall {seconds(little[0])} → {seconds(big[0])}",
            )
        )
    return figures


# -- batch -------------------------------------------------------------------------------


def _batch_images(folder: Path, rng: random.Random) -> list[str]:
    """Four distinct 1024×768 JPEGs of about 120 kB, like photos (smooth, not noise)."""
    from PIL import Image

    names = []
    for index in range(4):
        seed = Image.frombytes("RGB", (64, 48), rng.randbytes(64 * 48 * 3))
        name = f"photo-{index + 1}.jpg"
        seed.resize((1024, 768), Image.Resampling.BILINEAR).save(folder / name, quality=85)
        names.append(name)
    return names


def _jobs_file(path: Path, count: int, images: Callable[[int], list[str]], prompt: str) -> Path:
    with path.open("w") as out:
        for index in range(count):
            job = {"images": images(index), "prompt": f"{prompt} {index + 1}"}
            out.write(json.dumps(job) + "\n")
    return path


class Counted:
    """Runs of mivid against a counting emulator, each with the requests it made."""

    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url = url
        self.env = env
        self.counts: dict[str, list[dict[str, int]]] = {}

    def run(self, name: str, argv: list[str]) -> Callable[[], Child]:
        def run() -> Child:
            bench_call(self.url, "reset")
            child = run_measured(argv, self.env).check(name)
            self.counts.setdefault(name, []).append(bench_call(self.url, "counts"))
            return child

        return run

    def last(self, name: str) -> dict[str, int]:
        return self.counts[name][-1]


def measure_rerun(ctx: ScaleContext) -> list[Figure]:
    folder = ctx.folder / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    photos = _batch_images(folder, random.Random(16))
    kinds = len(photos)
    jobs = {
        BATCH_JOBS: _jobs_file(
            folder / f"jobs-{BATCH_JOBS}.jsonl",
            BATCH_JOBS,
            lambda i: [photos[i % kinds], photos[(i + 1) % kinds]],
            "the camera pans slowly across the bay, take",
        ),
        1: _jobs_file(
            folder / "jobs-1.jsonl", 1, lambda i: photos[:2], "the camera pans slowly, take"
        ),
    }
    # Tasks that end 0.2 s after their creation, so the first runs finish quickly.
    server_argv = emulator_argv(
        "--db",
        str(folder / "store.sqlite3"),
        "--task-seconds",
        "0.2",
        "--processing-seconds",
        "0.1",
    )
    with serve(server_argv, ctx.environment("batch", "")) as server:
        env = ctx.environment("batch", server.url)
        started = time.perf_counter()
        for count, path in jobs.items():
            print(f"  batch: the first run of {count} job(s) …", file=sys.stderr)
            first = [*ctx.mivid, "batch", str(path), "--download", str(folder / f"videos-{count}")]
            run_child([*first, "--concurrency", "50", "--interval", "0.1"], env, timeout=600).check(
                f"the first run of {path.name}"
            )
        setup = time.perf_counter() - started
        counted = Counted(server.url, env)
        print("  batch: reruns …", file=sys.stderr)
        reruns = ctx.repeat(
            {
                str(count): counted.run(
                    f"rerun of {path.name}",
                    [*ctx.mivid, "batch", str(path), "--download", str(folder / f"videos-{count}")],
                )
                for count, path in jobs.items()
            },
            most=5,
            least=2,
            budget=8,
        )
    big, one = (median([c.seconds for c in reruns[str(k)]]) for k in (BATCH_JOBS, 1))
    big_cpu, one_cpu = (median([c.cpu for c in reruns[str(k)]]) for k in (BATCH_JOBS, 1))
    asked = counted.last(f"rerun of {jobs[BATCH_JOBS].name}")
    requests = sum(asked.values())
    ctx.table(
        "batch: reruns of finished files, videos saved (medians)",
        ["jobs", "wall", "cpu", "peak", "requests"],
        [
            [
                str(count),
                seconds(median([c.seconds for c in reruns[str(count)]])),
                seconds(median([c.cpu for c in reruns[str(count)]])),
                megabytes(median([c.peak_rss for c in reruns[str(count)]])),
                _requests(counted.last(f"rerun of {path.name}")),
            ]
            for count, path in jobs.items()
        ],
    )
    return [
        ctx.figure(
            f"batch: rerun of a finished {BATCH_JOBS}-job file",
            seconds(big),
            f"{seconds(one)} (finished 1-job file)",
            big / one,
            "≤ 0.5 s more",
            big - one <= 0.5,
            note=f"{seconds(big - one)} more, CPU {seconds(big_cpu)} vs {seconds(one_cpu)}; "
            f"jobs of two of four 1024×768 JPEGs; the first runs took {setup:.0f} s",
        ),
        ctx.figure(
            f"batch: requests on that rerun ({BATCH_JOBS} jobs ended, videos saved)",
            str(requests),
            "—",
            None,
            "0",
            requests == 0,
            note=_requests(asked),
        ),
    ]


def measure_dry_run(ctx: ScaleContext) -> list[Figure]:
    png = ctx.pngs[0]
    size = f"{png.stat().st_size / MB:.1f} MB"
    dry = {
        count: _jobs_file(
            png.parent / f"dry-{count}.jsonl", count, lambda i: [png.name], "dry run, job"
        )
        for count in (DRY_RUN_JOBS, 1)
    }
    with serve(emulator_argv(), ctx.environment("dry-run", "")) as server:
        counted = Counted(server.url, ctx.environment("dry-run", server.url))
        runs = {
            str(count): counted.run(
                f"dry run of {path.name}", [*ctx.mivid, "batch", str(path), "--dry-run"]
            )
            for count, path in dry.items()
        }
        runs["1"]()  # warm (bytecode, page cache) on the short file
        measured = ctx.repeat(runs, most=5, least=2, budget=6)
    big, one = (median([c.seconds for c in measured[str(k)]]) for k in (DRY_RUN_JOBS, 1))
    asked = sum(counted.last(f"dry run of {dry[DRY_RUN_JOBS].name}").values())
    per_job = (big - one) / (DRY_RUN_JOBS - 1)
    return [
        ctx.figure(
            f"batch --dry-run: {DRY_RUN_JOBS} jobs sharing one {size} PNG",
            seconds(big),
            f"{seconds(one)} (1 job)",
            big / one,
            "≤ 0.5 s more",
            big - one <= 0.5,
            note=f"{seconds(per_job)} per extra job (one check of the PNG per run is the "
            f"target, not one per job); {asked} requests; peak "
            f"{megabytes(median([c.peak_rss for c in measured[str(DRY_RUN_JOBS)]]))}",
        ),
    ]


def _requests(counts: dict[str, int]) -> str:
    parts = [f"{count} {kind}" for kind, count in counts.items() if count]
    return ", ".join(parts) if parts else "none"


# -- batch's schedule ----------------------------------------------------------------------


def seen_ended_after(task_seconds: float) -> float:
    """When batch's default schedule first asks about a task after its create: the first
    query at or past `task_seconds` (the queries go out at the sums of its pauses)."""
    try:
        from mivid.commands.options import DEFAULT_FIRST_INTERVAL
        from mivid.waiting import PollSchedule
    except ImportError as exc:
        raise BenchmarkError(f"cannot read batch's polling schedule: {exc}") from exc

    elapsed = 0.0
    for pause in PollSchedule(first=DEFAULT_FIRST_INTERVAL).intervals():
        elapsed += pause
        if elapsed >= task_seconds:
            return elapsed
    raise AssertionError("unreachable: the schedule never ends")


def first_interval() -> float:
    try:
        from mivid.commands.options import DEFAULT_FIRST_INTERVAL
    except ImportError as exc:
        raise BenchmarkError(f"cannot read batch's polling schedule: {exc}") from exc
    return float(DEFAULT_FIRST_INTERVAL)


def measure_batch_schedule(ctx: ScaleContext) -> list[Figure]:
    """`batch` of 10 / 100 / 300 jobs as a user runs it (no --download), beside the ideal.

    The emulator's tasks last `SCHEDULE_TASK_SECONDS` and it allows as many running at once
    as batch's --concurrency: C = 50 either way, so the ideal is ceil(N / C) waves of
    one task's time, plus one first poll interval (the earliest a polling client can see
    the last wave end is one query after it; the same allowance covers start-up).
    """
    folder = ctx.folder / "schedule"
    folder.mkdir(parents=True, exist_ok=True)
    photos = _batch_images(folder, random.Random(61))
    kinds = len(photos)
    task, limit = SCHEDULE_TASK_SECONDS, SCHEDULE_CONCURRENCY
    server_argv = emulator_argv(
        "--task-seconds",
        f"{task:g}",
        "--processing-seconds",
        f"{task / 4:g}",
        "--concurrency-limit",
        str(limit),
    )
    counts: dict[int, list[dict[str, int]]] = {}
    with serve(server_argv, ctx.environment("schedule", "")) as server:
        env = ctx.environment("schedule", server.url)
        made = [0]

        def batch(count: int) -> Callable[[], Child]:
            def run() -> Child:
                # A file of its own each run: its jobs' external ids are new, so all are sent.
                made[0] += 1
                jobs = _jobs_file(
                    folder / f"jobs-{count}-{made[0]}.jsonl",
                    count,
                    lambda i: [photos[i % kinds]],
                    f"run {made[0]}: the tide comes in, take",
                )
                argv = [*ctx.mivid, "batch", str(jobs), "--concurrency", str(limit)]
                bench_call(server.url, "reset")
                child = run_measured(argv, env).check(f"mivid batch of {count} jobs")
                asked = bench_call(server.url, "counts")
                _check_batch_output(child, count, asked)
                counts.setdefault(count, []).append(asked)
                return child

            return run

        # Warm (bytecode, page cache) with a dry run: it reads and checks, sends nothing.
        warm = _jobs_file(folder / "warm.jsonl", 2, lambda i: [photos[i]], "warm")
        run_measured([*ctx.mivid, "batch", str(warm), "--dry-run"], env).check("batch --dry-run")
        print(
            f"  batch: {', '.join(map(str, SCHEDULE_JOBS))} jobs of {task:g} s tasks, "
            f"{limit} at once …",
            file=sys.stderr,
        )
        measured = ctx.repeat(
            # One run a size: the runs are mostly waiting on the tasks (a second doubled this
            # group's time; the wall-time ratio moved by about 0.02 between the two).
            {str(count): batch(count) for count in SCHEDULE_JOBS},
            most=1,
            least=1,
            budget=0,
        )
    seen = seen_ended_after(task)
    allowance = first_interval()
    rows, ratios = [], {}
    for count in SCHEDULE_JOBS:
        children = measured[str(count)]
        wall = median([c.seconds for c in children])
        waves = -(-count // limit)
        ideal = waves * task + allowance
        ratios[count] = wall / ideal
        rows.append(
            [
                str(count),
                str(waves),
                seconds(wall),
                seconds(median([c.cpu for c in children])),
                seconds(ideal),
                f"{wall / ideal:.2f}×",
                seconds(waves * seen),
                seconds(wall - waves * seen),
                _requests(counts[count][-1]),
            ]
        )
    ctx.table(
        f"batch --concurrency {limit} (emulator limit {limit}), tasks of {task:g} s, no "
        f"--download (medians): whole-process wall vs the ideal, waves × {task:g} s + one "
        f"first poll interval ({allowance:g} s); “seen ended” is waves × {seen:.2f} s, when "
        f"batch's schedule first asks after a task's end; “rest” is the wall beyond it "
        "(start-up, checks, creates)",
        [
            "jobs",
            "waves",
            "mivid wall",
            "cpu",
            "ideal",
            "ratio",
            "seen ended",
            "rest",
            "requests",
        ],
        rows,
    )
    worst = max(ratios, key=lambda count: ratios[count])
    wall = median([c.seconds for c in measured[str(worst)]])
    waves = -(-worst // limit)
    return [
        ctx.figure(
            f"batch: {worst} jobs against the ideal schedule",
            seconds(wall),
            f"{seconds(waves * task + allowance)} ideal ({waves} × {task:g} s + {allowance:g} s)",
            ratios[worst],
            f"within {round((SCHEDULE_TARGET - 1) * 100)} % of ideal",
            ratios[worst] <= SCHEDULE_TARGET,
            note="the worst size; "
            + ", ".join(f"{count} jobs {ratios[count]:.2f}×" for count in SCHEDULE_JOBS)
            + f"; tasks seen ended {seen - task:.2f} s late on batch's default schedule",
        )
    ]


def _check_batch_output(child: Child, count: int, asked: dict[str, int]) -> None:
    """One `LINE TASK STATUS …` line per job, every task succeeded, each job created once."""
    lines = child.stdout.decode(errors="replace").splitlines()
    statuses = {line.split("\t")[2] if line.count("\t") >= 2 else line for line in lines}
    if len(lines) != count or statuses != {"succeed"}:
        raise BenchmarkError(
            f"mivid batch of {count} jobs printed {len(lines)} lines, statuses {sorted(statuses)}"
        )
    if asked.get("create") != count:
        raise BenchmarkError(f"mivid batch of {count} jobs made {asked.get('create')} creates")


# -- wait --------------------------------------------------------------------------------


#: Tasks made after the waited ones in the "list does not show them" case: more pages than
#: 500 waited tasks are worth (mivid asks at most one page per 10 missing), so every
#: round is answered by single queries.
WAIT_BURIED_UNDER = 30_000


def measure_wait(ctx: ScaleContext) -> list[Figure]:
    """`wait` on 500 tasks two ways, each beside floor_wait.py (one GET per task a round).

    Just made: mivid finds them on the list's first page (one request a round).
    Buried under 30k newer tasks: the list is not worth reading that deep, so
    mivid queries each task like the script (plus one list page a round). CPU per
    status query is what the 500 tasks cost beyond a wait on one task that has
    ended (one query): each client's start-up is a fixed cost, not a query's
    (mivid's is its own figure, "start-up: mivid list --json"), and is shown apart.
    """
    _, template_store = templates(ctx)
    store = ctx.folder / "wait" / "store.sqlite3"
    copy_database(template_store, store)
    # Made over the last 8 hours, finished: newer than the buried tasks (made 10 hours ago,
    # yet running), older than the ones just made.
    overrides = stored_tasks("wait-newer", ":now - n", ":now - n", ":now - n")
    clone_rows(store, "tasks", WAIT_BURIED_UNDER, overrides, {"now": time.time()})
    counts: dict[str, list[tuple[int, int]]] = {}
    with serve(emulator_argv("--db", str(store)), ctx.environment("wait", "")) as server:
        env = ctx.environment("wait", server.url)
        runs_so_far = [0]

        def polled(who: str, buried: bool, tasks: int = WAIT_TASKS) -> Callable[[], Child]:
            name = f"{who} {'one' if tasks == 1 else 'buried' if buried else 'new'}"

            def run() -> Child:
                runs_so_far[0] += 1
                tag = f"wait-{who}-{runs_so_far[0]}"
                now = time.time()
                made = ":now - 36000" if buried else ":now"
                # One task: ended already, so a wait on it is start-up and one query.
                ends = f":now + {WAIT_TASK_SECONDS}" if tasks > 1 else ":now - 1"
                processing = ":now + 0.5" if tasks > 1 else ":now - 2"
                overrides = stored_tasks(tag, made, processing, ends)
                clone_rows(store, "tasks", tasks, overrides, {"now": now})
                base = stored_id_base(tag)
                ids = [str(base + n) for n in range(1, tasks + 1)]
                argv = (
                    [*ctx.mivid, "wait", *ids]
                    if who == "mivid"
                    else [python(), str(HERE / "floor_wait.py"), *ids]
                )
                bench_call(server.url, "reset")
                child = run_measured(argv, env, timeout=120).check(f"{name} wait on {tasks}")
                asked = bench_call(server.url, "counts")
                counts.setdefault(name, []).append((asked["get"], asked["list"]))
                return child

            return run

        print(f"  wait: {WAIT_TASKS} tasks of {WAIT_TASK_SECONDS:g} s, two ways …", file=sys.stderr)
        # Just made: a ratio of about 0.2, one run each tells it. Buried: close to the
        # target, two runs each (their median) unless --quick.
        measured = interleaved(
            {f"{who} new": polled(who, False) for who in ("mivid", "floor")},
            repeats=1,
            warmup=0,
        )
        measured |= interleaved(
            {f"{who} buried": polled(who, True) for who in ("mivid", "floor")},
            repeats=1 if ctx.quick else 2,
            warmup=0,
        )
        # Start-up and one query: short runs, so more of them steady the median.
        measured |= interleaved(
            {f"{who} one": polled(who, True, tasks=1) for who in ("mivid", "floor")},
            repeats=3 if ctx.quick else 7,
            warmup=0,
        )
    # No warm-up runs: every run's count belongs to a measured run, in order.
    stats: dict[str, dict[str, float]] = {}
    for name, children in measured.items():
        asked = counts[name]
        stats[name] = {
            "wall": median([c.seconds for c in children]),
            "cpu": median([c.cpu for c in children]),
            "per": median(
                [c.cpu / (g + lists) for c, (g, lists) in zip(children, asked, strict=True)]
            ),
            "gets": asked[-1][0],
            "lists": asked[-1][1],
        }
    ctx.table(
        f"wait on {WAIT_TASKS} tasks ending {WAIT_TASK_SECONDS:g} s after it starts: just made "
        f"(on the list's first page), or with {WAIT_BURIED_UNDER:,} newer tasks above them (medians)",
        ["tasks", "client", "wall", "cpu", "queries", "list pages", "cpu per request"],
        [
            [
                "just made" if name.endswith("new") else "buried",
                "mivid wait" if name.startswith("mivid") else "floor_wait.py",
                seconds(row["wall"]),
                seconds(row["cpu"]),
                str(int(row["gets"])),
                str(int(row["lists"])),
                f"{row['per'] * 1000:.2f} ms",
            ]
            for name, row in stats.items()
            if not name.endswith("one")
        ],
    )
    new, new_floor = stats["mivid new"], stats["floor new"]
    buried, buried_floor = stats["mivid buried"], stats["floor buried"]
    one, one_floor = stats["mivid one"], stats["floor one"]
    whole = new["cpu"] / new_floor["cpu"]

    def per_query(many: dict[str, float], single: dict[str, float]) -> float:
        asked = many["gets"] + many["lists"] - (single["gets"] + single["lists"])
        return (many["cpu"] - single["cpu"]) / asked

    mivid_per, floor_per = per_query(buried, one), per_query(buried_floor, one_floor)
    per = mivid_per / floor_per
    whole_per = buried["per"] / buried_floor["per"]
    return [
        ctx.figure(
            f"wait on {WAIT_TASKS} tasks just made: CPU",
            f"{seconds(new['cpu'])}, {int(new['gets'] + new['lists'])} requests",
            f"{seconds(new_floor['cpu'])}, {int(new_floor['gets'])} requests (floor_wait.py)",
            whole,
            "≤ 1.3×",
            whole <= 1.3,
            note=f"mivid reads them on the list's first page ({int(new['lists'])} list pages, "
            f"{int(new['gets'])} single queries); wall {seconds(new['wall'])} vs "
            f"{seconds(new_floor['wall'])}",
        ),
        ctx.figure(
            f"wait on {WAIT_TASKS} tasks the list does not show: CPU per status query",
            f"{mivid_per * 1000:.2f} ms",
            f"{floor_per * 1000:.2f} ms (floor_wait.py)",
            per,
            "≤ 1.3×",
            per <= 1.3,
            note=f"{WAIT_BURIED_UNDER:,} newer tasks above them: whole-process CPU "
            f"{seconds(buried['cpu'])} for {int(buried['gets'])} queries and "
            f"{int(buried['lists'])} list pages vs {seconds(buried_floor['cpu'])} for "
            f"{int(buried_floor['gets'])} ({whole_per:.2f}× a request, start-up included), "
            f"less a wait on one ended task (start-up and one query: {seconds(one['cpu'])} vs "
            f"{seconds(one_floor['cpu'])}); wall {seconds(buried['wall'])} vs "
            f"{seconds(buried_floor['wall'])}",
        ),
    ]


# -- the sandbox -------------------------------------------------------------------------


def _create_body(pngs: Sequence[Path]) -> bytes:
    """A create body with the four PNGs inline (about 49 MiB of JSON)."""
    images = b",".join(b'{"image":"' + base64.b64encode(path.read_bytes()) + b'"}' for path in pngs)
    return b'{"model_name":"kling-v1-6","prompt":"memory","image_list":[' + images + b"]}"


def _token() -> str:
    import jwt

    now = int(time.time())
    claims = {"iss": ACCESS_KEY, "exp": now + 1800, "nbf": now - 5}
    return str(jwt.encode(claims, SECRET_KEY, algorithm="HS256", headers={"typ": "JWT"}))


def measure_sandbox_memory(ctx: ScaleContext) -> list[Figure]:
    import httpx

    creates = SANDBOX_QUICK_CREATES if ctx.quick else SANDBOX_CREATES
    body = _create_body(ctx.pngs)
    env = ctx.environment("sandbox", "")
    env.update(MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
    argv = [*ctx.mivid, "sandbox", "serve", "--port", "0", "--concurrency-limit", "1000"]
    made, peak, stopped = 0, 0, False
    after: dict[int, tuple[int, float]] = {}  # creates made → (RSS, seconds of creating)
    with serve(argv, env) as server, httpx.Client(timeout=120) as http:
        headers = {"Authorization": f"Bearer {_token()}"}
        http.get(server.url + COLLECTION, headers=headers).raise_for_status()
        time.sleep(0.3)
        start = resident_memory(server.process.pid)
        print(f"  sandbox serve: {creates} creates of {len(body) / MIB:.0f} MiB …", file=sys.stderr)
        working = 0.0  # seconds spent in creates (not in the pauses before sampling)
        for _ in range(creates):
            started = time.perf_counter()
            response = http.post(
                server.url + COLLECTION,
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            working += time.perf_counter() - started
            if response.json().get("code") != 0:
                raise BenchmarkError(f"the sandbox refused a create: {response.text[:200]}")
            made += 1
            peak = max(peak, resident_memory(server.process.pid))
            if made in CHECKPOINTS:
                time.sleep(0.2)  # a moment for the answer's buffers to be freed
                after[made] = (resident_memory(server.process.pid), working)
            if peak - start > SANDBOX_GROWTH_CAP:
                stopped = True
                break
        time.sleep(0.3)
        end = resident_memory(server.process.pid)
        after[made] = (end, working)
    growth = end - start
    note = f"RSS {start / MIB:.0f} → {end / MIB:.0f} MiB (peak {peak / MIB:.0f}); glibc told "
    note += "to return freed memory (MALLOC_MMAP/TRIM_THRESHOLD_=131072)"
    if stopped:
        note += (
            f"; stopped after {made} of {creates} creates, past +{SANDBOX_GROWTH_CAP // MIB} MiB "
            f"(≈ {growth / made / MIB:.0f} MiB a create)"
        )
    figure = ctx.figure(
        f"sandbox serve: memory after {made} creates of {len(body) / MIB:.0f} MiB",
        f"+{growth / MIB:.0f} MiB",
        f"{start / MIB:.0f} MiB at start",
        None,
        f"≤ +50 MiB after {creates}",
        growth <= 50 * MIB and not stopped,
        note=note,
    )
    shown = sorted(after)
    ctx.table(
        f"mivid sandbox serve: RSS after each create of {len(body) / MIB:.0f} MiB "
        "(glibc told to return freed memory)",
        ["creates", "RSS", "above start", "per create", "time creating"],
        [["0", f"{start / MIB:.0f} MiB", "", "", ""]]
        + [
            [
                str(n),
                f"{after[n][0] / MIB:.0f} MiB",
                f"+{(after[n][0] - start) / MIB:.0f} MiB",
                f"{(after[n][0] - start) / n / MIB:.1f} MiB",
                f"{after[n][1]:.1f} s",
            ]
            for n in shown
        ],
    )
    return [figure]


def measure_sandbox_latency(ctx: ScaleContext) -> list[Figure]:
    import httpx

    _, template_store = templates(ctx)
    now = time.time()
    stores = {}
    for size in STORE_SIZES:
        store = ctx.folder / "latency" / f"store-{size}.sqlite3"
        copy_database(template_store, store)
        overrides = stored_tasks(
            "latency", ":now - n * 37.0", ":now - n * 37.0 + 1", ":now - n * 37.0 + 6"
        )
        clone_rows(store, "tasks", size - 1, overrides, {"now": now})
        stores[size] = store
    base = stored_id_base("latency")
    rng = random.Random(16)
    samples: dict[int, list[float]] = {size: [] for size in STORE_SIZES}
    env = ctx.environment("latency", "")
    print("  sandbox: GET latency …", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        urls = {
            size: stack.enter_context(serve(emulator_argv("--plain", "--db", str(store)), env)).url
            for size, store in stores.items()
        }
        http = stack.enter_context(httpx.Client(timeout=30))
        headers = {"Authorization": f"Bearer {_token()}"}
        for round_ in range(6 if ctx.quick else 16):
            for size, url in urls.items():
                for _ in range(25):
                    task_id = base + rng.randint(1, size - 1)
                    started = time.perf_counter()
                    response = http.get(f"{url}{COLLECTION}/{task_id}", headers=headers)
                    elapsed = time.perf_counter() - started
                    if response.json().get("code") != 0:
                        raise BenchmarkError(
                            f"the emulator did not find {task_id}: {response.text}"
                        )
                    if round_:  # the first round warms connections and caches
                        samples[size].append(elapsed)
    latency = {size: median(values) for size, values in samples.items()}
    small, large = STORE_SIZES[0], STORE_SIZES[-1]
    ctx.table(
        "sandbox (emulator, file store): GET of one task by id, keep-alive (medians)",
        ["stored tasks", "latency", f"× at {small}"],
        [
            [
                f"{size:,}",
                f"{latency[size] * 1000:.2f} ms",
                f"{latency[size] / latency[small]:.2f}×",
            ]
            for size in STORE_SIZES
        ],
    )
    ratio = latency[large] / latency[small]
    return [
        ctx.figure(
            f"sandbox: GET latency, {large // 1000}k stored tasks",
            f"{latency[large] * 1000:.2f} ms",
            f"{latency[small] * 1000:.2f} ms ({small} tasks)",
            ratio,
            "flat (≤ 1.3×)",
            ratio <= 1.3,
            note=f"{len(samples[large])} GETs a size, interleaved; "
            + ", ".join(f"{s:,}: {latency[s] * 1000:.2f} ms" for s in STORE_SIZES),
        )
    ]


MEASURES: dict[str, Callable[[ScaleContext], list[Figure]]] = {
    "list": measure_list,
    "limit": measure_limit,
    "table": measure_table,
    "local": measure_local,
    "rerun": measure_rerun,
    "dry-run": measure_dry_run,
    "batch-schedule": measure_batch_schedule,
    "wait": measure_wait,
    "sandbox-memory": measure_sandbox_memory,
    "sandbox-latency": measure_sandbox_latency,
}

#: What a group's figures are called when the group cannot be measured at all.
FALLBACK = {
    "list": ("list --all at 1k/10k/30k tasks", "≤ 1.3×, flat memory"),
    "limit": ("list --all, 50k tasks", "all shown or the limit said"),
    "table": ("table: list --all on a terminal, 10k tasks", "< 1 s more"),
    "local": ("list --local: 50k-entry journal", "≤ 50 ms more"),
    "rerun": ("batch: rerun of a finished 1000-job file", "≤ 0.5 s more, 0 requests"),
    "dry-run": ("batch --dry-run: 100 jobs sharing one PNG", "≤ 0.5 s more"),
    "batch-schedule": ("batch: 300 jobs against the ideal schedule", "within 13 % of ideal"),
    "wait": ("wait on 500 tasks: CPU per status query", "≤ 1.3×"),
    "sandbox-memory": ("sandbox serve: memory after 100 creates", "≤ +50 MiB"),
    "sandbox-latency": ("sandbox: GET latency, 100k stored tasks", "flat (≤ 1.3×)"),
}


def run_groups(ctx: ScaleContext, groups: Sequence[str]) -> Iterator[Figure]:
    """Each group's figures; a group that cannot be measured yields one MISS saying why."""
    for group in groups:
        print(f"measuring {group} (scale) …", file=sys.stderr)
        started = time.perf_counter()
        try:
            yield from MEASURES[group](ctx)
        except BenchmarkError as exc:
            name, target = FALLBACK[group]
            yield Figure(name, "—", "—", None, target, False, note=str(exc), gating=ctx.strict)
        print(f"  {group}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
