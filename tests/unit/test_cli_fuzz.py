"""A CLI fuzz test: every subcommand driven in-process with generated arguments and overrides.

Hypothesis draws a subcommand (from the parser itself, so a new one is fuzzed too), its
positional arguments, a subset of its options with values, and for ``run``/``explain`` Hydra
overrides with random keys (schema keys, their ``model.``/``tasks.`` forms, random text; with
``+``/``++``/``~``) and values: paths in and around a scratch root (files, folders, missing,
``..``, ``~``), numbers at the edges (``nan``, ``inf``, ``-0.0``, ``1e308``, 30 digits), unicode
text, recipe, task and model names. Every command must exit 0, 1 (a documented runtime failure,
one ``harness: error:`` line) or 2 (usage error), with no Python traceback and no "unexpected"
error on stderr, and write nothing outside the scratch root (the working directory and
``$HOME`` point into it; the checkout's ``git status`` must not change).

No command loads weights: the hub is offline and the root holds no importable release, so a
``run`` that gets past validation fails loading its first task's data. ``-v`` is never drawn (it
asks for the traceback). The examples are derandomized (the same ones every time, in about
15 s); ``HARNESS_FUZZ_EXAMPLES=N`` runs N random ones instead, to explore.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import time
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import REPO, save_results, synthetic_result, write_files

from harness.cli import build_parser, main
from harness.config import CONFIG_PATH_ENV
from harness.schema import ModelConfig, RunConfig, TasksConfig

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

EXPLORE = int(os.environ.get("HARNESS_FUZZ_EXAMPLES", "0"))
EXAMPLES = EXPLORE or 200
BUDGET_S = 600.0 if EXPLORE else 18.0  # later examples are skipped once it is spent
UNEXPECTED = re.compile(r"error: unexpected \w+")
NUMBERS = ["nan", "inf", "-inf", "-1", "0", "1", "-0.0", "1e308", "1e-320", "9" * 30, "0x10",
           "1/2", "0/0", "3/2", "2.5", "-0.01", "0.5", "1000000"]
NAMES = ["BIOSSES", "STS12", "[BIOSSES]", "[BIOSSES,STS12]", "quick", "ci", "minilm",
         "gte-small", "org/model-a", "cards", "mteb", "longtext", "md", "csv", "models",
         "tasks", "both", "significant", "squad", "cail", "token", "char", "1:2", "30m",
         "null", "true", "false", "[]", "{}", "'a b'", "a,b", "${oops}", "=", "..", "local"]
KEYS = ([f.name for f in fields(RunConfig)] + [f"model.{f.name}" for f in fields(ModelConfig)]
        + [f"tasks.{f.name}" for f in fields(TasksConfig)]
        + ["model", "tasks", "model.prompts.query", "hydra.job.name", "unknown_key"])


def command_paths() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every leaf subcommand of the ``harness`` parser (``data import``, ``cache clear``...)."""
    found = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found[path] = parser
        for action in subs:
            for name, child in action.choices.items():
                walk(child, (*path, name))

    walk(build_parser(), ())
    return found


COMMANDS = command_paths()


def scratch_root(root: Path) -> dict[str, Path]:
    """The folders and files the generated paths point at."""
    results = root / "results"
    for task, score in (("BIOSSES", 0.8), ("STS12", 0.7)):
        result = synthetic_result(task, {"default": {"cosine_spearman": score,
                                                     "main_score": score}})
        save_results([result], results, "org/model-a")
    write_files(root, {
        "files/plain.txt": "just text\n",
        "files/biosses.tsv": "id\tsentence1\n1\tonly one column\n",
        "files/bad.json": "{not json",
        "configs/model/broken.yaml": "name: org/x\npooling: [mean\n",
        "configs/model/nameless.yaml": "pooling: cls\n",
        "configs/tasks/empty.yaml": "names: []\n",
        "cwd/.keep": "", "home/.keep": "", "empty/.keep": "",
    })
    return {"root": root, "results": results, "run": results / "org__model-a" / "local",
            "file": root / "files" / "plain.txt", "files": root / "files",
            "configs": root / "configs", "empty": root / "empty"}


CHOSEN = {"model": ["org/model-a", "model-a", "minilm", "gte-small"],
          "task": ["BIOSSES", "STS12", "SciFact"], "tasks": ["quick", "ci", "empty"],
          "name": ["LongTextSQuADDev", "LongTextCAIL2019Dev"]}
RESULT_ARGS = {"results_dir", "a", "b", "other", "baseline", "reference"}
WRITE_ARGS = {"out", "output_dir", "cache_dir", "data_root", "src", "model.path"}


def paths(places: dict[str, Path]) -> st.SearchStrategy[str]:
    return st.sampled_from([str(p) for p in places.values()]
                           + [str(places["root"] / "missing" / "x"), "out", "x/y", ".", "..",
                              "~", "~/x", "../results", "../files/plain.txt"])


def text() -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   max_size=12).filter(lambda t: t.strip().lower() != "hub")


def values(places: dict[str, Path], name: str = "", kind: object = None
           ) -> st.SearchStrategy[str]:
    """A value for argument or key ``name`` of type ``kind``: mostly a results folder, a
    folder to write, or a number, where that is what it takes."""
    anything = st.one_of(paths(places), st.sampled_from(NUMBERS), st.sampled_from(NAMES), text())
    name = name.lstrip("-+~").replace("-", "_")
    if name in RESULT_ARGS:
        return st.one_of(st.sampled_from([str(places["results"]), str(places["run"])]),
                         anything)
    if name in WRITE_ARGS:
        return st.one_of(st.sampled_from(["out", str(places["root"] / "new" / "x"),
                                          str(places["empty"])]), paths(places), anything)
    if name in CHOSEN:
        return st.one_of(st.sampled_from(CHOSEN[name]), anything)
    if kind in (int, float):
        return st.one_of(st.sampled_from(NUMBERS), st.sampled_from(NUMBERS), anything)
    return anything


@st.composite
def overrides(draw: st.DrawFn, places: dict[str, Path]) -> str:
    key = draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(KEYS),
                         st.from_regex(r"[a-z_.]{1,12}", fullmatch=True)))
    prefix = draw(st.sampled_from(["", "", "", "", "+", "++", "~"]))
    value = draw(st.one_of(values(places, key), st.lists(
        st.sampled_from(NAMES[:2] + NUMBERS[:6]), max_size=3).map(",".join)))
    return f"{prefix}{key}={value}" if prefix != "~" else f"~{key}"


@st.composite
def command_line(draw: st.DrawFn, places: dict[str, Path]) -> tuple[tuple[str, ...], list[str]]:
    """(subcommand, the whole command line)."""
    path = draw(st.sampled_from(sorted(COMMANDS)))
    parser = COMMANDS[path]
    argv = []
    if not draw(st.integers(0, 3)):
        argv += ["--config-dir", draw(st.sampled_from([str(places["configs"])] * 4
                                                      + [str(places["file"]), "nowhere"]))]
    argv += list(path)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:  # a positional
            if action.nargs == argparse.REMAINDER:
                argv += draw(st.lists(overrides(places), max_size=4))
            elif action.choices:
                argv.append(draw(st.one_of(st.sampled_from(sorted(action.choices)),
                                           values(places))))
            elif action.nargs != "?" or draw(st.booleans()):
                argv.append(draw(values(places, action.dest)))
            continue
        if action.required or not draw(st.integers(0, 2)):  # about a third of the others
            flag = action.option_strings[-1]
            if action.nargs == 0:
                argv.append(flag)
            elif action.choices and draw(st.integers(0, 3)):
                argv += [flag, str(draw(st.sampled_from(list(action.choices))))]
            else:
                argv.append(f"{flag}={draw(values(places, flag, action.type))}")
    if path == ("run",) and draw(st.integers(0, 3)) == 0:
        argv.append(draw(st.sampled_from(["-m", "--cfg=job", "--info=config", "--resolve"])))
    return path, argv


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout


def test_no_command_line_ends_in_a_traceback_or_writes_outside_its_root(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance 6."""
    places = scratch_root(tmp_path / "root")
    monkeypatch.chdir(places["root"] / "cwd")
    monkeypatch.setenv("HOME", str(places["root"] / "home"))
    monkeypatch.setenv(CONFIG_PATH_ENV, "")
    before = (_git_status(), sorted(tmp_path.iterdir()))
    started = time.monotonic()
    seen: list[tuple[tuple[str, ...], int]] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not EXPLORE, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        path, argv = data.draw(command_line(places), label="argv")
        if time.monotonic() - started > BUDGET_S:
            return
        os.environ[CONFIG_PATH_ENV] = ""  # --config-dir extends it for the process
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse: --help (0) or a malformed command line (2)
            code = stop.code
        out, err = capsys.readouterr()
        seen.append((path, code))
        assert code in (0, 1, 2), (argv, code, err[-2000:])
        assert "Traceback" not in err and "Traceback" not in out, (argv, err[-3000:])
        assert not UNEXPECTED.search(err), (argv, err[-2000:])
        if code == 1 and path not in (("regress",), ("compare",)):  # their verdict: a drop
            assert "harness: error: " in err, (argv, err[-2000:])

    fuzz()
    assert (_git_status(), sorted(tmp_path.iterdir())) == before
    assert len({path for path, _ in seen}) >= 10, seen  # most subcommands were run
    assert {code for _, code in seen} >= {0, 2}


@pytest.mark.parametrize(("flags", "named"), [
    (["--resolve"], "--resolve needs --cfg"),
    (["--cfg", "hydra", "--resolve"], "use --cfg all --resolve"),
    (["--cfg", "job", "--info", "config"], "--cfg and --info cannot be combined"),
    (["--cfg", "job", "--package", "nope"], "--package 'nope' is not in the config"),
    (["--cfg", "job", "--package", "hydra.run"], "--package 'hydra.run' is not in the config"),
    (["--package", "model"], "--package needs --cfg"),
])
def test_hydra_flags_that_do_not_go_together_are_one_line(
        flags: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzz test: Hydra raised a bare ValueError, a traceback or its own exit."""
    code = main(["run", *flags])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and named in err, err


def test_a_failing_sweep_job_is_one_line_naming_the_job(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzz test: Hydra printed a failing job's error with a traceback."""
    code = main(["run", "-m", "tasks.names=[BIOSSES]", "batch_size=1,2", f"output_dir={tmp_path}",
                 "cache_dir=null", "show_progress=false"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err + out, err
    (line,) = [line for line in err.splitlines() if line.startswith("harness: error:")]
    assert line.startswith("harness: error: sweep job tasks.names=[BIOSSES] batch_size=1 ")
    assert "no offline data for task BIOSSES" in line and "batch_size=2" not in line
