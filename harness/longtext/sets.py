"""The long-text sets the harness knows how to build (one registry entry per set)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.longtext.source import Fmt
from harness.registry import Registry

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
LONGTEXT_SETS: Registry[LongTextSet] = Registry("long-text set")
for _name, _spec in {
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
}.items():  # fmt: skip
    LONGTEXT_SETS.add(_name, _spec)


def is_longtext_task(name: str) -> bool:
    """Whether `name` is a registered long-text task."""
    return name in LONGTEXT_SETS
