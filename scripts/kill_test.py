"""Kill ``harness run`` with SIGKILL at seeded random moments and check that no work is lost.

    python scripts/kill_test.py --kills 10 --seed 0 [--tasks BIOSSES,STS13] [--data-root DIR]

First an uninterrupted run (the reference) gives the scores, the number of texts encoded ``U``,
how much each task encodes and how long start-up takes. Then, in a fresh output and cache
folder, ``harness run`` is started again and again and killed, each time aiming at one phase:

- ``load``: a random moment before the first vector is stored (imports, model and data load);
- ``encode``: a random moment after a drawn number of further vectors were stored;
- ``score``: right after the last vector of a task was stored (mteb scoring);
- ``write``: the moment the task's hidden temporary result file appears (result write).

After the kills a last run finishes the work. The check fails (exit 1) on any violation of:

- final main scores equal the reference's to 1e-6;
- every result JSON that is visible at any time (polled every 20 ms while the runs work) parses
  with ``mteb.TaskResult.from_disk``; the manifest and hidden markers parse as JSON;
- every stored cache record passes its CRC and equals the reference's vector for the same key
  (to 1e-5: batches are packed differently after a resume), and they are the reference's keys;
- cached work is never encoded again: the records stored over all runs number exactly ``U``, no
  key twice, and the finishing run encodes exactly the texts not stored before it. So the texts
  encoded over all runs are at most ``U + kills x batch_size``: a kill loses at most the batch in
  flight, whose vectors were not stored yet (the bound is stated in the summary).
- no temporary file is left in the results folder after the finishing run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
MODEL_FOLDER = "sentence-transformers__all-MiniLM-L6-v2"
PHASES = ("load", "encode", "score", "write")
POLL_S = 0.001
CHECK_EVERY_S = 0.02
DONE_LINE = re.compile(r"evaluated (\d+), already done (\d+), texts encoded (\d+)")


@dataclass
class Layout:
    """Where one sequence of runs writes, and the record size of its cache."""

    out: Path
    cache: Path
    record_bytes: int = 0

    @property
    def results(self) -> Path:
        """The folder of the task JSONs."""
        return self.out / MODEL_FOLDER / "local"

    def shards(self) -> list[Path]:
        """The cache's shard files."""
        return sorted(self.cache.glob("*/shard-*.bin"))

    def records(self, pid: int | None = None) -> int:
        """Complete records in every shard (or only in process ``pid``'s)."""
        if not self.record_bytes:
            return 0
        return sum(_size(p) // self.record_bytes for p in self.shards()
                   if pid is None or f"-{pid}-" in p.name)


@dataclass
class Watch:
    """JSON checks made while runs work: files read and the violations found."""

    seen: dict[Path, tuple[int, int, int]] = field(default_factory=dict)
    reads: int = 0
    violations: list[str] = field(default_factory=list)

    def check(self, layout: Layout) -> None:
        """Parse every JSON under the output folder that changed since the last look."""
        from mteb import TaskResult

        for path in layout.out.rglob("*.json"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if self.seen.get(path) == stamp:
                continue
            hidden = any(p.startswith(".") for p in path.relative_to(layout.out).parts)
            try:
                if hidden or path.name == "run_manifest.json":
                    json.loads(path.read_text(encoding="utf-8"))
                else:
                    TaskResult.from_disk(path)
            except FileNotFoundError:
                continue
            except Exception as exc:  # any failure to parse is the violation we look for
                self.violations.append(f"unreadable {path}: {type(exc).__name__}: {exc}"[:300])
            self.reads += 1
            self.seen[path] = stamp


@dataclass
class Kill:
    """One kill: the phase aimed at, what was seen when it landed."""

    phase: str
    at_s: float
    stored_before: int
    stored_by_run: int
    seen: str


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def harness_cmd(tasks: list[str], data_root: Path, layout: Layout, batch_size: int) -> list[str]:
    """The ``harness run`` command line for ``layout``'s folders."""
    return [sys.executable, "-m", "harness.cli", "run", f"tasks.names=[{','.join(tasks)}]",
            f"data_root={data_root}", f"output_dir={layout.out}", f"cache_dir={layout.cache}",
            f"batch_size={batch_size}", "show_progress=false"]


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    """Start ``cmd`` in its own process group, output to ``log``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    with log.open("w") as handle:
        return subprocess.Popen(cmd, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


def finish(proc: subprocess.Popen, layout: Layout, watch: Watch, log: Path) -> tuple[int, str]:
    """Wait for a run, checking JSONs meanwhile; its exit code and output."""
    while proc.poll() is None:
        watch.check(layout)
        time.sleep(CHECK_EVERY_S)
    watch.check(layout)
    return proc.returncode, log.read_text(errors="replace")


def reference(cmd: list[str], layout: Layout, watch: Watch, log: Path) -> tuple[int, float]:
    """Run uninterrupted: texts encoded and seconds until the first vector was stored."""
    started = time.monotonic()
    proc = start(cmd, log)
    first_store = None
    while proc.poll() is None:
        if first_store is None and any(_size(p) for p in layout.shards()):
            first_store = time.monotonic() - started
        watch.check(layout)
        time.sleep(CHECK_EVERY_S)
    code, output = finish(proc, layout, watch, log)
    match = DONE_LINE.search(output)
    if code != 0 or not match:
        sys.exit(f"reference run failed (exit {code}):\n{output[-2000:]}")
    return int(match[3]), first_store or 1.0


def cumulative_texts(results: Path, tasks: list[str]) -> list[int]:
    """Texts stored once each task is done, in run order, from the reference manifest."""
    entries = json.loads((results / "run_manifest.json").read_text())["tasks"]
    totals, total = [], 0
    for name in tasks:
        total += int(entries[name]["texts_encoded"])
        totals.append(total)
    return totals


def kill_one(cmd: list[str], phase: str, rng: random.Random, layout: Layout, watch: Watch,
             tasks: list[str], cumulative: list[int], load_s: float, encode_share: int,
             log: Path) -> Kill | None:
    """Start a run and SIGKILL it in ``phase``; None if it finished before the kill."""
    stored = layout.records()
    pending = [i for i, t in enumerate(tasks) if not (layout.results / f"{t}.json").exists()]
    if not pending:
        phase, load_s = "load", 3.0  # all done: the run only starts up and checks the results
    elif phase == "encode" and stored >= cumulative[-1]:
        phase = "write"
    elif phase == "score" and stored >= cumulative[pending[0]]:
        phase = "write"  # this task's vectors are all stored: no store marks its scoring
    task = tasks[pending[0]] if pending else ""
    target = stored + rng.randint(1, max(1, encode_share))
    delay = rng.uniform(0.2, load_s)
    jitter = {"encode": rng.uniform(0.0, 0.5), "score": rng.uniform(0.0, 0.01)}.get(phase, 0.0)
    started = time.monotonic()
    proc = start(cmd, log)
    armed_at = None
    next_check = 0.0
    while proc.poll() is None:
        now = time.monotonic()
        if armed_at is None:
            if phase == "load":
                armed = now - started >= delay
            elif phase == "encode":
                armed = layout.records() >= target
            elif phase == "score":
                armed = layout.records() >= cumulative[pending[0]]
            else:
                armed = any(layout.results.glob(f".{task}.json.{proc.pid}@*.tmp")) or (
                    layout.results / f"{task}.json").exists()
            if armed:
                armed_at = now
        if armed_at is not None and now - armed_at >= jitter:
            temp = any(layout.results.glob(f".*.json.{proc.pid}@*.tmp"))
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            by_run = layout.records(proc.pid)
            done = sum((layout.results / f"{t}.json").exists() for t in tasks)
            seen = f"temp result file present, tasks done {done}" if temp else (
                f"tasks done {done}")
            watch.check(layout)
            return Kill(phase, now - started, stored, by_run, seen)
        if now >= next_check:
            watch.check(layout)
            next_check = now + CHECK_EVERY_S
        time.sleep(POLL_S)
    watch.check(layout)
    return None


def kill_plan(kills: int, tasks: int, rng: random.Random) -> list[str]:
    """The phase of each kill: the kills are spread over the tasks in run order; within a task
    loads and encodes come in random order, then scoring, then the result write (a late kill
    that misses its moment lets the task finish, so the task's later phases go last)."""
    plan: list[str] = []
    for task in range(tasks):
        count = kills // tasks + (task >= tasks - kills % tasks)
        phases = [PHASES[(task + i) % len(PHASES)] for i in range(count)]
        early = [p for p in phases if p in ("load", "encode")]
        rng.shuffle(early)
        plan += early + sorted((p for p in phases if p not in early), key=PHASES.index)
    return plan


@dataclass
class CacheScan:
    """Every intact record of a cache folder by key, and what else its shards hold."""

    vectors: dict[bytes, np.ndarray] = field(default_factory=dict)
    records: int = 0
    damaged: int = 0
    duplicates: int = 0
    torn_bytes: int = 0


def read_cache(layout: Layout, dim: int) -> CacheScan:
    """Read every shard of ``layout``'s cache record by record, checking each CRC."""
    dtype = np.dtype([("key", "V16"), ("vec", np.float32, (dim,)), ("crc", "<u4")])
    scan = CacheScan()
    for shard in layout.shards():
        data = shard.read_bytes()
        count, rest = divmod(len(data), dtype.itemsize)
        scan.torn_bytes += rest
        rows = np.frombuffer(data[: count * dtype.itemsize], dtype=dtype)
        for row, raw in zip(rows, rows.view(np.uint8).reshape(count, -1), strict=True):
            scan.records += 1
            if zlib.crc32(raw[:-4].tobytes()) != int(row["crc"]):
                scan.damaged += 1
                continue
            key = bytes(row["key"])
            scan.duplicates += key in scan.vectors
            scan.vectors[key] = np.array(row["vec"])
    return scan


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the test in a scratch folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default="BIOSSES,STS13", help="comma-separated, run order")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--data-root", type=Path, default=None,
                        help="an imported mirror (default: import ../shared/data into --work)")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch folder (default: a temporary one, removed at the end)")
    args = parser.parse_args(argv)
    if args.kills < 1:
        parser.error("--kills must be at least 1")
    tasks = args.tasks.split(",")
    rng = random.Random(args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="kill-test-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run_test(args, tasks, rng, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def run_test(args: argparse.Namespace, tasks: list[str], rng: random.Random, work: Path) -> int:
    """The whole test in ``work``; 0 when every check holds."""
    data_root = args.data_root
    if data_root is None:
        from harness.data.importers import import_dataset

        data_root = work / "data"
        import_dataset(SHARED_DATA, data_root)
    watch = Watch()
    ref = Layout(work / "ref" / "out", work / "ref" / "cache")
    print(f"reference run: {', '.join(tasks)} (batch_size {args.batch_size}) ...", flush=True)
    started = time.monotonic()
    ref_encoded, load_s = reference(harness_cmd(tasks, data_root, ref, args.batch_size), ref,
                                    watch, work / "ref.log")
    identity = json.loads(next(ref.cache.glob("*/identity.json")).read_text())
    dim = int(identity["dim"])
    ref.record_bytes = 16 + 4 * dim + 4
    cumulative = cumulative_texts(ref.results, tasks)
    print(f"  {time.monotonic() - started:.0f}s, {ref_encoded} texts encoded, first vector "
          f"stored after {load_s:.1f}s, texts per task {cumulative}", flush=True)

    test = Layout(work / "test" / "out", work / "test" / "cache", ref.record_bytes)
    cmd = harness_cmd(tasks, data_root, test, args.batch_size)
    plan = kill_plan(args.kills, len(tasks), rng)
    kills: list[Kill] = []
    for number, phase in enumerate(plan, 1):
        # spread this task's encode kills over the texts it has left to encode
        task_end = next((c for c in cumulative if c > test.records()), cumulative[-1])
        rest = plan[number - 1:]
        block = rest[:next((i for i, p in enumerate(rest) if p in ("score", "write")), len(rest))]
        share = (task_end - test.records()) // (block.count("encode") + 1)
        kill = kill_one(cmd, phase, rng, test, watch, tasks, cumulative, load_s, share,
                        work / f"run{number}.log")
        if kill is None:
            print(f"run {number} finished before its {phase} kill: no work left to kill")
            break
        kills.append(kill)
        print(f"kill {number:2d}/{args.kills} {kill.phase:6s} at {kill.at_s:5.1f}s: stored "
              f"{kill.stored_before} before, +{kill.stored_by_run} by this run, {kill.seen}",
              flush=True)

    stored_before_final = test.records()
    code, output = finish(start(cmd, work / "final.log"), test, watch, work / "final.log")
    problems = list(watch.violations)
    if len(kills) < args.kills:
        problems.append(f"only {len(kills)} of {args.kills} kills landed before the work ended")
    match = DONE_LINE.search(output)
    if code != 0 or not match or int(match[1]) + int(match[2]) != len(tasks):
        problems.append(f"finishing run failed (exit {code}): {output[-500:]}")
    final_encoded = int(match[3]) if match else -1
    print(f"\nsummary: {len(kills)} kills "
          f"({', '.join(f'{p} {sum(k.phase == p for k in kills)}' for p in PHASES)}), "
          f"{len(kills) + 1} runs after the reference ({len(kills)} killed, 1 finishing), "
          f"seed {args.seed}")
    problems += compare(ref, test, tasks, dim, ref_encoded)
    if final_encoded != ref_encoded - stored_before_final:
        problems.append(f"the finishing run encoded {final_encoded} texts, but only "
                        f"{ref_encoded - stored_before_final} were not stored yet")
    print(f"  result JSONs parsed while running: {watch.reads}, unreadable "
          f"{len(watch.violations)}")
    print(f"  finishing run encoded {final_encoded} texts (= {ref_encoded} - "
          f"{stored_before_final} stored before it); bound: texts encoded over all runs <= "
          f"{ref_encoded} + {len(kills)} kills x {args.batch_size} (the batch in flight) = "
          f"{ref_encoded + len(kills) * args.batch_size}")
    for problem in problems:
        print(f"VIOLATION: {problem}")
    print("FAIL" if problems else "OK")
    return 1 if problems else 0


def compare(ref: Layout, test: Layout, tasks: list[str], dim: int, encoded: int) -> list[str]:
    """Scores, cache contents and leftovers of the killed sequence vs the reference; prints the
    findings and returns the violations."""
    from harness.results import load_scores

    problems = []
    ours = load_scores(test.out).set_index("task")["main_score"]
    theirs = load_scores(ref.out).set_index("task")["main_score"]
    diff = max(abs(ours.get(t, np.nan) - theirs[t]) for t in tasks)
    if not diff <= 1e-6 + 1e-12:
        problems.append(f"scores differ from the uninterrupted run: max |diff| {diff}")
    ref_scan, scan = read_cache(ref, dim), read_cache(test, dim)
    if scan.damaged or scan.duplicates or ref_scan.duplicates:
        problems.append(f"{scan.damaged} damaged cache records, keys stored twice: "
                        f"{scan.duplicates} (reference run: {ref_scan.duplicates})")
    if set(scan.vectors) != set(ref_scan.vectors) or ref_scan.records != encoded:
        problems.append(f"cache keys differ from the uninterrupted run's ({len(scan.vectors)} vs "
                        f"{len(ref_scan.vectors)}; it stored {ref_scan.records} of {encoded})")
    worst = max((float(np.abs(v - ref_scan.vectors[k]).max()) for k, v in scan.vectors.items()
                 if k in ref_scan.vectors), default=0.0)
    if worst > 1e-5:
        problems.append(f"a cached vector differs from a fresh encode by {worst:.2e}")
    if scan.records != encoded:
        problems.append(f"{scan.records} texts stored over all runs, the uninterrupted run "
                        f"encoded {encoded}: cached work was encoded again")
    leftovers = list(test.results.glob(".*.tmp"))
    if leftovers:
        problems.append(f"temporary files left: {', '.join(p.name for p in leftovers)}")
    print(f"  scores equal to the uninterrupted run (max |diff| {diff:.1e} <= 1e-6): "
          f"{'yes' if diff <= 1e-6 + 1e-12 else 'NO'} ({len(tasks)} tasks)")
    print(f"  cache: {scan.records} records, {scan.damaged} damaged, {scan.torn_bytes} torn "
          f"bytes at shard ends (kills mid-write), max |vector - reference| {worst:.1e}")
    print(f"  texts stored over all runs {scan.records} (uninterrupted run encoded {encoded}), "
          f"re-encoded after being stored {scan.duplicates}")
    print(f"  leftover temporary files: {len(leftovers)}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
