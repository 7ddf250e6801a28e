"""`compare` against published scores, on real published JSONs: a results-repo folder (the metric
each side reports, historic key names, subsets) and the model cards' tables
(tests/unit/test_reports_small.py: compare, regress, table and report on synthetic results)."""

from __future__ import annotations

from pathlib import Path

import mteb
import pytest
from mteb import TaskResult
from support import SHARED_DATA, save_results, synthetic_result

from harness.errors import HarnessError
from harness.report.compare import compare
from harness.results import read_task_result

PUBLISHED = SHARED_DATA / "mteb-results"
GTE = "thenlper/gte-small"
GTE_REVISION = "17e1f347d17fe144873b1201da91788898c639cd"


@pytest.fixture(scope="module", autouse=True)
def _published_present() -> None:
    if not PUBLISHED.is_dir():
        pytest.fail(f"published results not found at {PUBLISHED}")


def published(task: str, model: str = GTE) -> TaskResult:
    """The published TaskResult of ``task`` (whichever revision folder holds it)."""
    paths = sorted((PUBLISHED / model.replace("/", "__")).glob(f"*/{task}.json"))
    result = read_task_result(paths[0])
    assert result is not None
    return result


def entry(result: TaskResult, split: str = "test", subset: str = "default") -> dict:
    return next(e for e in result.scores[split] if e["hf_subset"] == subset)


def with_score(result: TaskResult, key: str, value: float) -> TaskResult:
    """``result`` with ``key`` and the main score of every entry set to ``value``."""
    for entries in result.scores.values():
        for e in entries:
            e[key] = e["main_score"] = value
    return result


def save(results: list[TaskResult], out: Path, model: str = GTE, dim: int | None = None) -> Path:
    return save_results(results, out, model, dim)


def test_compare_with_a_results_folder(tmp_path: Path) -> None:
    sts12 = published("STS12")  # external, pre-1.11 keys beside the new ones
    sts12_pub = entry(sts12)["cosine_spearman"]
    scifact_pub = entry(published("SciFact"))["ndcg_at_10"]
    banking_pub = entry(published("Banking77Classification"))["accuracy"]
    ubuntu_pub = entry(published("AskUbuntuDupQuestions"))["map"]
    twitter_pub = entry(published("TwitterSemEval2015"))["cos_sim_ap"]
    counter_pub = entry(published("AmazonCounterfactualClassification"), subset="en")["accuracy"]
    near = round(scifact_pub + 0.0004, 6)
    ours = [
        sts12,
        with_score(published("SciFact"), "ndcg_at_10", near),
        with_score(published("Banking77Classification"), "accuracy", 0.5),
        synthetic_result("AskUbuntuDupQuestions",
                         {"default": {"map_at_1000": round(ubuntu_pub, 6), "main_score": 0.1}}),
        synthetic_result("TwitterSemEval2015", {"default": {"cosine_ap": 0.7, "main_score": 0.7}}),
        synthetic_result("AmazonCounterfactualClassification",
                         {"en": {"accuracy": 0.8, "main_score": 0.8}}),
        synthetic_result("NanoSciFactRetrieval",
                         {"default": {"ndcg_at_10": 0.6, "main_score": 0.6}}),
    ]
    report = compare(save(ours, tmp_path), str(PUBLISHED))
    rows = {r.task: r for r in report.rows}
    assert set(rows) == {"STS12", "SciFact", "Banking77Classification", "AskUbuntuDupQuestions",
                         "TwitterSemEval2015", "AmazonCounterfactualClassification"}
    # saving rounds to mteb's 6 decimals; the delta is that rounding, exactly
    assert rows["STS12"].delta == round(sts12_pub, 6) - sts12_pub
    assert rows["STS12"].metric == "cosine_spearman"
    assert rows["SciFact"].delta == near - scifact_pub
    assert rows["SciFact"].verdict == "within tolerance"
    assert rows["Banking77Classification"].delta == 0.5 - banking_pub
    assert rows["Banking77Classification"].verdict == "off"
    assert rows["AskUbuntuDupQuestions"].metric == "map_at_1000 vs map"
    assert rows["AskUbuntuDupQuestions"].delta == round(ubuntu_pub, 6) - ubuntu_pub
    assert rows["TwitterSemEval2015"].metric == "cosine_ap vs cos_sim_ap"
    assert rows["TwitterSemEval2015"].delta == 0.7 - twitter_pub
    assert rows["AmazonCounterfactualClassification"].metric == "accuracy [test: en]"
    assert rows["AmazonCounterfactualClassification"].delta == 0.8 - counter_pub
    assert rows["AmazonCounterfactualClassification"].source == GTE_REVISION
    assert rows["STS12"].source == "external"

    within = sum(r.verdict == "within tolerance" for r in report.rows)
    assert report.summary == f"{within} within tolerance of 6 compared"
    assert not report.ok and {r.task for r in report.off} >= {"Banking77Classification"}
    (section,) = report.sections
    assert section.ours_only == ["NanoSciFactRetrieval"]
    assert "ArguAna" in section.published_only and "STS12" not in section.published_only
    markdown = report.to_markdown()
    assert f"| Banking77Classification | 50.00 | {banking_pub * 100:.2f} |" in markdown
    assert "Only in our results: 1 task (--show-missing lists them)" in markdown
    assert "Only in the published reference: " in markdown and "ArguAna" not in markdown
    assert "Only in our results (1): NanoSciFactRetrieval" in report.to_markdown(True)
    assert report.summary in markdown


def test_compare_matches_models_by_name_and_rejects_unknown(tmp_path: Path) -> None:
    bge = "BAAI/bge-small-en-v1.5"
    out = save([published("STS12")], tmp_path, model="THENLPER/GTE-Small")
    save([published("SciFact", model=bge)], tmp_path, model=bge)
    both = compare(out, str(PUBLISHED))
    assert [s.reference.split(" in ")[0] for s in both.sections] == [bge, GTE]
    assert both.summary == "2 within tolerance of 2 compared"
    report = compare(out, str(PUBLISHED), model="gte-small")
    assert report.ok and report.summary == "1 within tolerance of 1 compared"
    assert report.sections[0].reference.startswith(f"{GTE} in ")
    with pytest.raises(HarnessError, match="neither 'cards', 'hub' nor"):
        compare(out, "card")
    with pytest.raises(HarnessError, match="unknown model 'bge-small'"):
        compare(out, str(PUBLISHED), model="bge-small")
    with pytest.raises(HarnessError, match="no published scores"):
        compare(save([published("STS12")], tmp_path / "other", model="me/mine"), str(PUBLISHED))


def test_compare_with_the_card_table(tmp_path: Path) -> None:
    """gte-small's published JSONs against its card row: categories from our per-task scores."""
    tasks = [t.metadata.name for t in mteb.get_benchmark("MTEB(eng, v1)").tasks]
    report = compare(save([published(t) for t in tasks], tmp_path), "cards")
    rows = {r.task: r for r in report.rows}
    assert rows["Average (56)"].tasks == (56, 56)
    assert rows["Clustering (11)"].verdict == "within tolerance"
    assert rows["Clustering (11)"].delta == pytest.approx(44.8896 / 100 - 0.4489, abs=1e-4)
    # the card's PairClassification is the mean cos_sim_ap (max_ap would be 83.66)
    assert rows["Pair Classification (3)"].metric == "cos_sim_ap"
    assert rows["Pair Classification (3)"].verdict == "within tolerance"
    # mteb 1.18 re-runs of the multilingual classification tasks: 70.02 vs the card's 72.31
    assert rows["Classification (12)"].verdict == "off"
    assert not report.ok and report.sections[0].published_only == []


def test_compare_card_lists_incomplete_and_missing_categories(tmp_path: Path) -> None:
    report = compare(save([published("STS12"), published("NFCorpus")], tmp_path), "cards")
    rows = {r.task: r for r in report.rows}
    assert rows["STS (10)"].verdict == "incomplete (1/10 tasks)"
    assert rows["Average (56)"].tasks == (2, 56)
    assert report.summary == "0 within tolerance of 0 compared" and report.ok
    assert "Clustering (11) [gte-small/mteb (card 004)]" in report.sections[0].published_only
