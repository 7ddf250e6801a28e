"""docs/scale-out.md's worked example (MTEB(eng, v1) for e5-mistral-7b-instruct on Slurm, with
encode shards for the four large corpora and task shards for the rest): bash expands its
commands exactly as a user's shell would (variables, brace expansion, ``$(...)``), and every
``harness run``/``harness encode`` sweep of it composes for the Slurm launcher; the task lists
of its jobs cover MTEB(eng, v1) exactly once."""

from __future__ import annotations

import re
import subprocess

import pytest
from support import REPO, cli

from harness.cli import build_parser
from harness.config import load_config
from harness.sharding import shard_tasks
from harness.tasks import task_objects

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

DOC = REPO / "docs" / "scale-out.md"
BIG = ["MSMARCO", "FEVER", "ClimateFEVER", "HotpotQA"]


def worked_example() -> list[list[str]]:
    """The ``harness`` command lines of the worked example, as bash expands them."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Worked example")[1].split("\n## ")[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    record = 'harness() { printf "%s\\037" "$@"; printf "\\n"; }; pip() { :; }\n'
    out = subprocess.run(["bash", "-c", record + block], capture_output=True, text=True,
                         check=True).stdout
    return [line.rstrip("\x1f").split("\x1f") for line in out.splitlines()]


COMMANDS = worked_example()
SWEEPS = [argv for argv in COMMANDS if argv[0] in ("run", "encode")]


def test_the_worked_example_has_its_steps() -> None:
    assert [argv[0] for argv in COMMANDS] == ["encode", "run", "status", "run", "table"]
    encode = SWEEPS[0]
    assert f"encode_shard={','.join(f'{i}/16' for i in range(16))}" in encode


@pytest.mark.parametrize("argv", SWEEPS, ids=lambda argv: " ".join(argv[:3]))
def test_each_sweep_composes_for_slurm(argv: list[str], capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    code, out, err = cli(capsys, *argv, "--cfg", "hydra")
    assert code == 0, err
    jobs = max(len(o.split("=", 1)[1].split(",")) for o in argv if o.startswith(
        ("encode_shard=", "shard=")))
    assert out.count("SlurmLauncher") == jobs
    assert "partition: gpu" in out


def test_other_commands_parse() -> None:
    for argv in COMMANDS:
        if argv[0] not in ("run", "encode"):
            build_parser().parse_args(argv)


def _overrides(argv: list[str]) -> tuple[list[str], list[str]]:
    """(overrides of one job, its shard values) of a sweep line."""
    fixed = [o for o in argv[1:] if "=" in o and not o.startswith(("hydra", "shard=",
                                                                     "encode_shard="))]
    shards = next(o.split("=", 1)[1].split(",") for o in argv if o.startswith(
        ("shard=", "encode_shard=")))
    return fixed, shards


def test_the_jobs_cover_the_benchmark_once() -> None:
    everything = [t.metadata.name for t in task_objects(load_config(["tasks=mteb_eng_v1"]).tasks)]
    encoded, rest, scored_big = SWEEPS
    fixed, _ = _overrides(encoded)
    assert sorted(t.metadata.name for t in task_objects(load_config(fixed).tasks)) == sorted(BIG)
    fixed, shards = _overrides(rest)
    tasks = task_objects(load_config(fixed).tasks)
    shard_lists = [[t.metadata.name for t in shard_tasks(tasks, s)] for s in shards]
    assert sorted(sum(shard_lists, [])) == sorted(set(everything) - set(BIG))
    fixed, shards = _overrides(scored_big)
    tasks = task_objects(load_config(fixed).tasks)
    assert sorted(n for s in shards for n in (t.metadata.name for t in shard_tasks(tasks, s))) \
        == sorted(BIG)
