"""mteb retrieval tasks (main score Recall@5) over the long-text sets built by `build_longtext`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UsageError
from harness.fileio import read_json
from harness.longtext.build import MANIFEST, BuildManifest, build_longtext, longtext_dir
from harness.longtext.sets import LONGTEXT_SETS

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

def build_set(name: str, data_dir: Path, out: Path, **options: Any) -> BuildManifest:
    """Build the registered set `name` from `data_dir` into `out` (options go to build_longtext)."""
    spec = LONGTEXT_SETS[name]
    return build_longtext([data_dir / s for s in spec.sources], spec.fmt, name, out, **options)


def _read_manifest(name: str, data_root: Path) -> dict[str, Any]:
    """The built set's manifest, after checking every output file still matches its checksum."""
    folder = longtext_dir(data_root, name)
    rebuild = f"run: harness longtext build DATA_DIR --name {name} --out {data_root}"
    if not (folder / MANIFEST).is_file():
        raise UsageError(f"long-text set {name} is not built in {folder}; {rebuild}")
    try:
        manifest = read_json(folder / MANIFEST)
        outputs = manifest["outputs"].items()
    except (ValueError, KeyError, AttributeError) as exc:
        raise UsageError(f"unreadable {folder / MANIFEST}; {rebuild}") from exc
    for filename, digest in outputs:
        path = folder / filename
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise UsageError(f"{path} is missing or changed since it was built; {rebuild}")
    return manifest


def longtext_task(name: str, data_root: Path) -> AbsTask:
    """The mteb retrieval task for the set `name` built under `data_root`."""
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.task_metadata import TaskMetadata

    spec = LONGTEXT_SETS[name]
    m = _read_manifest(name, data_root)
    ratio = ":".join(str(r) for r in m["short_long_ratio"])
    metadata = TaskMetadata(
        name=name,
        description=(
            f"Long-text retrieval from {spec.source_name} (stella model card protocol): "
            f"{m['long_kept']} questions whose answer starts at or after {m['position_unit']} "
            f"{m['threshold']} of the passage plus {m['short_kept']} sampled short ones "
            f"(short:long {ratio}, seed {m['seed']}); retrieve the question's passage among "
            f"all {m['corpus_size']} passages of the split."
        ),
        reference="https://huggingface.co/infgrad/stella-base-en-v2",
        dataset={"path": str(longtext_dir(data_root, name).resolve()), "revision": m["checksum"]},
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=[spec.language],
        main_score="recall_at_5",
        date=spec.date,
        domains=list(spec.domains),
        task_subtypes=["Question answering"],
        license=spec.license,
        annotations_creators="derived",
        dialect=[],
        sample_creation="found",
        bibtex_citation=spec.citation,
    )
    task_class = type(name, (AbsTaskRetrieval,), {"metadata": metadata, "__module__": __name__})
    return task_class()
