"""``harness export``: a model's results as a submission to embeddings-benchmark/results.

Writes, under ``out``:

- ``results/<org__model>/<revision>/<Task>.json`` + ``model_meta.json`` + ``run_settings.jsonl``,
  written by mteb's own ``ResultCache.save_to_cache`` (so exactly as ``mteb run`` leaves them);
  MRL-dim and quantised runs go to ``experiments/<name>/`` with the ``experiment_kwargs``
  (``embed_dim``, ``output_dtypes`` as mteb's ``CompressionWrapper`` names it) that mteb derives
  the experiment name from;
- ``model_card.md``: the model card of ``mteb create-model-results`` (tags ``mteb``) with the
  ``model-index`` block built from mteb's ``TaskResult.get_hf_eval_results``;
- ``.eval_results/<Task>.yaml``: the Hugging Face eval-results files mteb's
  ``ModelMeta.push_eval_results`` uploads.

Everything is read back with mteb's loaders (``ResultCache.load_results``, ``TaskResult.from_disk``)
and huggingface_hub's ``ModelCard.load`` before the export is reported done.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import mteb
from huggingface_hub import ModelCard, ModelCardData
from mteb import ResultCache, TaskResult
from mteb.models import ModelMeta

from harness import _compat
from harness.errors import HarnessRuntimeError, UsageError
from harness.fileio import atomic_write_text
from harness.models.quantize import NONE, QUANTIZATIONS
from harness.preflight import check_writable_dir
from harness.report.paired import side_runs
from harness.results import NOT_RESULTS, RunFolder, read_manifest, read_task_result

CARD = "model_card.md"
EVAL_RESULTS = ".eval_results"


@dataclass
class Export:
    """What :func:`export` wrote and read back."""

    folder: Path
    model: str
    revision: str
    tasks: dict[str, list[str]]  # experiment name ("" for the plain run) -> tasks
    card: Path
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per exported run, then the notes."""
        lines = [f"exported {self.model} @ {self.revision} to {self.folder}"]
        lines += [f"  {name or 'default'}: {len(tasks)} tasks ({', '.join(tasks)})"
                  for name, tasks in self.tasks.items()]
        lines += [f"  model card: {self.card}", *[f"  note: {note}" for note in self.notes]]
        return "\n".join(lines)


def experiment_kwargs(run: RunFolder) -> dict | None:
    """The mteb ``experiment_kwargs`` of a dim or quantised run (None for the plain run)."""
    kwargs: dict = {}
    if run.dim is not None:
        kwargs["embed_dim"] = run.dim
    dtype = QUANTIZATIONS[run.quantize]  # named as CompressionWrapper names it
    if dtype is not None:
        kwargs["output_dtypes"] = dtype.value
    return kwargs or None


def model_meta(run: RunFolder) -> tuple[ModelMeta, list[str]]:
    """mteb's ModelMeta of the run's model (its registry entry, at the run's revision), or one
    built from the run's recipe for a model mteb does not know; notes on what differs."""
    notes = []
    config = read_manifest(run.path).get("config", {}).get("model", {})
    try:
        meta = mteb.get_model_meta(run.model)
    except (KeyError, ValueError):
        meta = ModelMeta.create_empty(overwrites={
            "name": run.model, "revision": run.revision, "modalities": ["text"],
            "max_tokens": config.get("max_length"), "similarity_fn_name": config.get(
                "similarity"), "framework": ["Sentence Transformers", "PyTorch"]})
        notes.append(f"{run.model} is not in mteb's model registry: model_meta.json holds only "
                     "what the recipe says; the leaderboard also needs a ModelMeta in mteb")
    if meta.revision != run.revision:
        notes.append(f"the results are filed under revision {run.revision!r}; mteb's ModelMeta "
                     f"has {meta.revision!r}")
        meta = meta.model_copy(update={"revision": run.revision})
    return meta, notes


def _results(run: RunFolder) -> list[TaskResult]:
    found = [read_task_result(p) for p in sorted(run.path.glob("*.json"))
             if p.name not in NOT_RESULTS]
    return [r for r in found if r is not None]


def _card(model: str, results: list[TaskResult], folder: Path) -> Path:
    with warnings.catch_warnings():  # deprecated in mteb for the hub's new eval-results files
        warnings.simplefilter("ignore", DeprecationWarning)
        eval_results = [e for r in results for e in r.get_hf_eval_results()]
    data = ModelCardData(tags=["mteb"], model_name=model, eval_results=eval_results)
    path = folder / CARD
    ModelCard.from_template(card_data=data).save(path)
    return path


def _check(folder: Path, model: str, written: dict[str, list[TaskResult]], card: Path,
           carded: list[TaskResult]) -> None:
    """Read the export back with mteb's loaders; a mismatch is a runtime error."""
    loaded = ResultCache(folder).load_results(
        models=[model], include_remote=False, require_model_meta=True,
        load_experiments="match_name")
    got = {(r.task_name, round(r.get_score(), 12)) for m in loaded.model_results
           for r in m.task_results}
    expected = {(r.task_name, round(r.get_score(), 12)) for rs in written.values() for r in rs}
    if got != expected:
        raise HarnessRuntimeError(f"mteb's ResultCache reads back {sorted(got)} from {folder}, "
                                  f"not the exported {sorted(expected)}")
    n_results = len(ModelCard.load(card).data.eval_results or [])
    if n_results != sum(len(r.scores[s]) for r in carded for s in r.scores):
        raise HarnessRuntimeError(f"{card}: the model-index block holds {n_results} results")


def export(results_dir: str | Path, model: str, out: str | Path) -> Export:
    """Write ``model``'s runs under ``results_dir`` (one revision) as a results-repo
    submission in ``out`` and check it with mteb's loaders."""
    check_writable_dir(out, "--out")
    runs = side_runs(results_dir, model)
    revisions = sorted({r.revision for r in runs})
    if len(revisions) > 1:
        raise UsageError(f"{model} has runs at several revisions ({', '.join(revisions)}) under "
                         f"{str(results_dir)!r}; export one run folder")
    folder = Path(out)
    cache = ResultCache(folder)
    plain = [r for r in runs if r.dim is None and r.quantize == NONE] or runs[:1]
    meta, notes = model_meta(plain[0])
    written: dict[str, list[TaskResult]] = {}
    for run in runs:
        kwargs = experiment_kwargs(run)
        dtype = QUANTIZATIONS[run.quantize]
        run_meta = meta.model_copy(update={"experiment_kwargs": kwargs, **(
            {} if dtype is None else {"output_dtypes": [dtype]})})
        results = _results(run)
        for result in results:
            cache.save_to_cache(result, run_meta)
        written[run_meta.experiment_name or ""] = results
    plain_results = written.get("", next(iter(written.values())))
    card = _card(meta.name, plain_results, folder)
    for result in plain_results:
        atomic_write_text(folder / EVAL_RESULTS / f"{result.task_name}.yaml",
                          _compat.hf_eval_results_yaml(result))
    _check(folder, meta.name, written, card, plain_results)
    return Export(folder, meta.name, meta.revision,
                  {name: [r.task_name for r in rs] for name, rs in written.items()}, card, notes)
