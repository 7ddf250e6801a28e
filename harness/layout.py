"""Where a run's results go: ``<org__name>/<revision>/`` for the model's default dim, the rest
under ``experiments/`` (see :mod:`harness.results`); the revision is the one the loaded weights
can be shown to be (:mod:`harness.models.revision`).

Results of two different models never share a folder: a manifest records the weights it was
written from, and a run whose weights differ stops before writing anything.
"""

from __future__ import annotations

from pathlib import Path

from harness.config import run_variants
from harness.errors import UsageError
from harness.models.loading import resolve_model_path, weights_fingerprint
from harness.models.revision import results_revision
from harness.results import read_manifest, run_folder
from harness.schema import RunConfig

Variant = tuple[int | None, str]


def run_folders(cfg: RunConfig) -> dict[Variant, Path]:
    """The folder of every (dim, storage precision) the run scores."""
    model = cfg.model
    revision, _ = results_revision(model.name, model.revision, resolve_model_path(model))
    return {(dim, quantize): run_folder(
        cfg.output_dir, model.name, revision,
        None if dim == model.default_dim and model.dim_mode != "none" else dim, quantize,
        model.experiment) for dim, quantize in run_variants(cfg)}


def check_same_model(folders: list[Path], model_dir: str) -> str:
    """The weights fingerprint of ``model_dir``; UsageError when a folder's manifest records
    results of other weights (another model under the same name and revision)."""
    weights = weights_fingerprint(model_dir)
    for folder in folders:
        recorded = read_manifest(folder).get("weights")
        if recorded and recorded != weights:
            raise UsageError(
                f"{folder} holds results of other weights (fingerprint {recorded}, not "
                f"{weights} of {model_dir}): results of two models never share a folder; name "
                "this one with model.name=ORG/NAME or write elsewhere with output_dir=DIR")
    return weights
