"""Gates that refuse nonsense: ``regress`` and ``compare --strict`` take only finite,
non-negative tolerances, fail when they compared nothing, name a missing baseline, and document
their exit codes; on synthetic results written with mteb's TaskResult."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support import cli, save_results, synthetic_result

from harness.errors import UsageError
from harness.report.gates import check_tolerance

MODEL = "org/model-a"


def _run(folder: Path, score: float) -> Path:
    """A results folder with MODEL's BIOSSES at ``score``."""
    result = synthetic_result("BIOSSES", {"default": {"cosine_spearman": score,
                                                      "main_score": score}})
    return save_results([result], folder, MODEL)


@pytest.fixture
def drop(tmp_path: Path) -> tuple[Path, Path]:
    """(results, baseline): BIOSSES 5 points below the baseline."""
    return _run(tmp_path / "now", 0.75), _run(tmp_path / "baseline", 0.80)


@pytest.mark.parametrize("tolerance", ["nan", "inf", "-inf", "-0.01", "NaN"])
def test_regress_refuses_a_tolerance_that_is_not_finite_and_non_negative(
        tolerance: str, drop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance 3: nan and inf would pass a 5-point drop, a negative tolerance fails an
    unchanged score: all are exit 2, one line."""
    now, baseline = drop
    code, out, err = cli(capsys, "regress", str(now), "--baseline", str(baseline),
                         f"--tolerance={tolerance}")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "--tolerance must be a finite number >= 0" in err and tolerance.lower() in err


def test_regress_fails_the_drop_and_passes_within_a_valid_tolerance(
        drop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    now, baseline = drop
    assert cli(capsys, "regress", str(now), "--baseline", str(baseline))[0] == 1
    assert cli(capsys, "regress", str(now), "--baseline", str(baseline),
               "--tolerance", "0.0501")[0] == 0
    assert cli(capsys, "regress", str(baseline), "--baseline", str(baseline),
               "--tolerance", "0")[0] == 0


@pytest.mark.parametrize("tolerance", ["nan", "inf", "-0.01"])
def test_compare_strict_refuses_a_tolerance_that_is_not_finite(
        tolerance: str, drop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    now, baseline = drop
    code, out, err = cli(capsys, "compare", str(now), "--reference", str(baseline), "--strict",
                         f"--tolerance={tolerance}")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "--tolerance must be a finite number >= 0" in err
    code, out, _ = cli(capsys, "compare", str(now), "--reference", str(baseline), "--strict")
    assert code == 1 and "**0 within tolerance of 1 compared**" in out


def test_a_large_tolerance_warns_of_the_scale(drop: tuple[Path, Path],
                                              capsys: pytest.CaptureFixture[str],
                                              caplog: pytest.LogCaptureFixture) -> None:
    now, baseline = drop
    with caplog.at_level(logging.WARNING, logger="harness"):
        code, _, _ = cli(capsys, "regress", str(now), "--baseline", str(baseline),
                         "--tolerance", "0.5")
    assert code == 0
    (warning,) = [r.getMessage() for r in caplog.records if "--tolerance" in r.getMessage()]
    assert "0.5 is above 0.1 on mteb's 0-1 scale" in warning
    caplog.clear()
    assert check_tolerance(0.1) == 0.1 and not caplog.records
    with pytest.raises(UsageError, match="must be a number"):
        check_tolerance("x")  # type: ignore[arg-type]


def test_strict_with_nothing_compared_fails(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The reference has the model but none of our tasks: nothing was checked, exit 1."""
    ours = _run(tmp_path / "ours", 0.8)
    other = synthetic_result("STS12", {"default": {"cosine_spearman": 0.7, "main_score": 0.7}})
    reference = save_results([other], tmp_path / "reference", MODEL)
    code, out, err = cli(capsys, "compare", str(ours), "--reference", str(reference))
    assert code == 0 and "0 within tolerance of 0 compared" in out, err
    code, out, err = cli(capsys, "compare", str(ours), "--reference", str(reference), "--strict")
    assert code == 1 and err.count("\n") == 1 and "nothing was checked" in err


def test_a_missing_baseline_is_named_as_the_baseline(drop: tuple[Path, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    now, _ = drop
    code, _, err = cli(capsys, "regress", str(now), "--baseline", str(tmp_path / "gone"))
    assert code == 2 and err.count("\n") == 1
    assert f"baseline folder {str(tmp_path / 'gone')!r} does not exist" in err
    code, _, err = cli(capsys, "regress", str(tmp_path / "gone"), "--baseline", str(now))
    assert code == 2 and "results folder" in err


@pytest.mark.parametrize("command", ["regress", "compare"])
def test_help_documents_every_exit_code(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli(capsys, command, "--help")
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for code in ("Exit codes: 0", "; 1 ", "; 2 usage error"):
        assert code in text, (command, text)
    assert "finite number >= 0" in text
