"""mteb retrieval tasks (main score Recall@5) over the long-text sets built by `build_longtext`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError, unknown_choice
from harness.longtext.build import MANIFEST, BuildManifest, build_longtext, longtext_dir
from harness.longtext.source import Fmt

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

_CMRC = r"""
@inproceedings{cui-emnlp2019-cmrc2018,
  author = {Cui, Yiming and Liu, Ting and Che, Wanxiang and Xiao, Li and Chen, Zhipeng and Ma, Wentao and Wang, Shijin and Hu, Guoping},
  booktitle = {Proceedings of the 2019 Conference on Empirical Methods in Natural Language Processing and the 9th International Joint Conference on Natural Language Processing (EMNLP-IJCNLP)},
  doi = {10.18653/v1/D19-1600},
  pages = {5886--5891},
  publisher = {Association for Computational Linguistics},
  title = {A Span-Extraction Dataset for {C}hinese Machine Reading Comprehension},
  year = {2019},
}
"""  # noqa: E501
_DRCD = r"""
@article{shao2018drcd,
  author = {Shao, Chih Chieh and Liu, Trois and Lai, Yuting and Tseng, Yiying and Tsai, Sam},
  journal = {arXiv preprint arXiv:1806.00920},
  title = {{DRCD}: a {C}hinese Machine Reading Comprehension Dataset},
  year = {2018},
}
"""
_CAIL = r"""
@inproceedings{duan2019cjrc,
  author = {Duan, Xingyi and Wang, Baoxin and Wang, Ziyue and Ma, Wentao and Cui, Yiming and Wu, Dayong and Wang, Shijin and Liu, Ting and Huo, Tianxiang and Hu, Zhen and Wang, Heng and Liu, Zhiyuan},
  booktitle = {Chinese Computational Linguistics},
  pages = {439--451},
  publisher = {Springer International Publishing},
  title = {{CJRC}: A Reliable Human-Annotated Benchmark DataSet for {C}hinese Judicial Reading Comprehension},
  year = {2019},
}
"""  # noqa: E501
_SQUAD = r"""
@inproceedings{rajpurkar-etal-2016-squad,
  author = {Rajpurkar, Pranav and Zhang, Jian and Lopyrev, Konstantin and Liang, Percy},
  booktitle = {Proceedings of the 2016 Conference on Empirical Methods in Natural Language Processing},
  doi = {10.18653/v1/D16-1264},
  pages = {2383--2392},
  publisher = {Association for Computational Linguistics},
  title = {{SQ}u{AD}: 100,000+ Questions for Machine Comprehension of Text},
  year = {2016},
}
"""  # noqa: E501


@dataclass(frozen=True)
class LongTextSet:
    """A set buildable from the offline data folder (`sources` are relative to it)."""

    sources: tuple[str, ...]
    fmt: Fmt
    language: str
    source_name: str
    license: str
    domains: tuple[str, ...]
    date: tuple[str, str]  # release year of the source dataset
    citation: str


_WIKI = ("Encyclopaedic", "Written")
LONGTEXT_SETS: dict[str, LongTextSet] = {
    "LongTextCMRC2018Dev": LongTextSet(
        ("cmrc2018/cmrc2018_dev.json",), "squad", "zho-Hans", "CMRC 2018 dev",
        "cc-by-sa-4.0", _WIKI, ("2018-01-01", "2018-12-31"), _CMRC,
    ),
    "LongTextDRCDDev": LongTextSet(
        ("drcd/DRCD_dev.json",), "squad", "zho-Hant", "DRCD dev",
        "cc-by-sa-3.0", _WIKI, ("2018-01-01", "2018-12-31"), _DRCD,
    ),
    "LongTextDRCDTest": LongTextSet(
        ("drcd/DRCD_test.json",), "squad", "zho-Hant", "DRCD test",
        "cc-by-sa-3.0", _WIKI, ("2018-01-01", "2018-12-31"), _DRCD,
    ),
    "LongTextCAIL2019Dev": LongTextSet(
        ("cail2019_rc/dev_ground_truth.json",), "cail", "zho-Hans", "CAIL2019 reading comp. dev",
        "not specified", ("Legal", "Written"), ("2019-01-01", "2019-12-31"), _CAIL,
    ),
    "LongTextSQuADDev": LongTextSet(
        ("squad/squad_dev_v1.1.part0.json", "squad/squad_dev_v1.1.part1.json"), "squad", "eng-Latn",
        "SQuAD v1.1 dev", "cc-by-sa-4.0", _WIKI, ("2016-01-01", "2016-12-31"), _SQUAD,
    ),
}  # fmt: skip


def is_longtext_task(name: str) -> bool:
    """Whether `name` is a registered long-text task."""
    return name in LONGTEXT_SETS


def build_set(name: str, data_dir: Path, out: Path, **options: Any) -> BuildManifest:
    """Build the registered set `name` from `data_dir` into `out` (options go to build_longtext)."""
    if name not in LONGTEXT_SETS:
        raise unknown_choice("long-text set", name, LONGTEXT_SETS)
    spec = LONGTEXT_SETS[name]
    return build_longtext([data_dir / s for s in spec.sources], spec.fmt, name, out, **options)


def _read_manifest(name: str, data_root: Path) -> dict[str, Any]:
    """The built set's manifest, after checking every output file still matches its checksum."""
    folder = longtext_dir(data_root, name)
    rebuild = f"run: harness longtext build DATA_DIR --name {name} --out {data_root}"
    if not (folder / MANIFEST).is_file():
        raise HarnessError(f"long-text set {name} is not built in {folder}; {rebuild}")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        outputs = manifest["outputs"].items()
    except (ValueError, KeyError, AttributeError) as exc:
        raise HarnessError(f"unreadable {folder / MANIFEST}; {rebuild}") from exc
    for filename, digest in outputs:
        path = folder / filename
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise HarnessError(f"{path} is missing or changed since it was built; {rebuild}")
    return manifest


def longtext_task(name: str, data_root: Path) -> AbsTask:
    """The mteb retrieval task for the set `name` built under `data_root`."""
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.task_metadata import TaskMetadata

    if name not in LONGTEXT_SETS:
        raise unknown_choice("long-text task", name, LONGTEXT_SETS)
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
