"""A tiny, strict stand-in for Hugging Face `transformers`.

Fake behaviour worth knowing:
* AutoConfig guesses `model_type` from the path string (mixtral, mistral, llama, gpt_neox, gptj,
  gpt2, bloom, opt; "" when nothing matches) and fills Llama-like defaults; a `config.json` in the
  directory overrides them. The path must be a local checkpoint directory or a Hugging Face repo
  id (whose config is "downloaded": the guessed defaults); anything else is an OSError, as in
  transformers (see _fake_fs: absolute paths are redirected into the sandbox, and the TNx side
  provisions the local checkpoints its program names).
* Tokenizers count whitespace-separated words (+1 for BOS) and never hold real ids.
* `generate` on every fake (HF CPU model, TNx and NxDI adapters) shares `_generation_settings`,
  which rejects keywords HF generate would not accept with TypeError.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import torch
from _fake_fs import checkpoint_config, host
from _fake_recorder import record

__version__ = "4.46.3+fake"

_MODEL_TYPE_PATTERNS = (
    ("mixtral", "mixtral"), ("mistral", "mistral"), ("llama", "llama"),
    (r"gpt[-_]?neox|pythia", "gpt_neox"), (r"gpt[-_]?j", "gptj"), ("gpt2", "gpt2"),
    ("bloom", "bloom"), (r"(^|[/_-])opt([/_-]|$)", "opt"),
)
_CONFIG_DEFAULTS: dict[str, Any] = {
    "hidden_size": 4096, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "pad_token_id": None, "vocab_size": 32000,
    "max_position_embeddings": 4096, "n_positions": 4096, "rope_theta": 10000.0,
    "rms_norm_eps": 1e-5, "hidden_act": "silu", "torch_dtype": "bfloat16",
    "bos_token_id": 1, "eos_token_id": 2,
}
_MOE_DEFAULTS = {"num_local_experts": 8, "num_experts_per_tok": 2}


def _guess_model_type(path: str) -> str:
    lowered = str(path).lower()
    for pattern, model_type in _MODEL_TYPE_PATTERNS:
        if re.search(pattern, lowered):
            return model_type
    return ""


class PretrainedConfig:
    """Attribute bag with to_dict(), like a Hugging Face config."""

    attribute_map: dict[str, str] = {}

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


def guessed_config(name: str) -> dict[str, Any]:
    """The config the fake takes a checkpoint named `name` to have (Llama-like, by family)."""
    model_type = _guess_model_type(name)
    values = dict(_CONFIG_DEFAULTS, model_type=model_type)
    if model_type == "mixtral":
        values.update(_MOE_DEFAULTS)
    return values


class AutoConfig:
    @staticmethod
    def from_pretrained(path: str | os.PathLike[str], **_: Any) -> PretrainedConfig:
        values = guessed_config(str(path))
        values.update(checkpoint_config(path) or {})
        config = PretrainedConfig(**values)
        config._name_or_path = str(path)
        config._attn_implementation = "eager"
        return config


class GenerationConfig:
    """Hugging Face generation settings; any keyword is stored as an attribute."""

    def __init__(self, **kwargs: Any) -> None:
        self.max_length = 20
        self.max_new_tokens = None
        self.do_sample = False
        self.top_k = 50
        self.top_p = 1.0
        self.temperature = 1.0
        self.num_beams = 1
        self.__dict__.update(kwargs)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **kwargs: Any) -> GenerationConfig:
        return cls(**kwargs)


_HF_GENERATE_KWARGS = frozenset({
    "input_ids", "inputs", "attention_mask", "generation_config", "max_length",
    "max_new_tokens", "min_length", "min_new_tokens", "do_sample", "top_k", "top_p",
    "temperature", "num_beams", "repetition_penalty", "streamer", "stopping_criteria",
    "logits_processor", "eos_token_id", "pad_token_id", "bos_token_id", "no_repeat_ngram_size",
    "num_return_sequences", "return_dict_in_generate", "output_scores", "output_logits",
    "use_cache",
})
_SETTING_DEFAULTS = {"do_sample": False, "top_k": 50, "top_p": 1.0, "temperature": 1.0}


def _generation_settings(
    args: tuple[Any, ...], kwargs: dict[str, Any], extra: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], int]:
    """Return (settings, output batch) for an HF-style generate(*args, **kwargs) call."""
    unknown = set(kwargs) - _HF_GENERATE_KWARGS - extra
    if unknown or len(args) > 1:
        raise TypeError(f"generate() got unexpected argument(s): {sorted(unknown) or args[1:]}")
    ids = args[0] if args else kwargs.get("input_ids", kwargs.get("inputs"))
    shape = getattr(ids, "shape", (1, 0))
    config = kwargs.get("generation_config")

    def pick(name: str, default: Any) -> Any:
        if name in kwargs:
            return kwargs[name]
        return getattr(config, name, default) if config is not None else default

    settings = {name: pick(name, default) for name, default in _SETTING_DEFAULTS.items()}
    max_new = pick("max_new_tokens", None)
    settings["max_length"] = shape[-1] + max_new if max_new is not None else pick("max_length", 20)
    batch = shape[0] * int(pick("num_return_sequences", 1) or 1)
    return settings, batch


class _GenerateOutput:
    def __init__(self, sequences: torch.Tensor) -> None:
        self.sequences = sequences


def _generate_result(settings: dict[str, Any], batch: int, kwargs: dict[str, Any]) -> Any:
    sequences = torch.Tensor([batch, settings["max_length"]])
    return _GenerateOutput(sequences) if kwargs.get("return_dict_in_generate") else sequences


class PreTrainedModel:
    """Hugging Face CPU causal LM; `generate` records a "hf_cpu_generate" event."""

    def __init__(self, config: PretrainedConfig) -> None:
        self.config = config
        self.generation_config = GenerationConfig()

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **_: Any) -> PreTrainedModel:
        return cls(AutoConfig.from_pretrained(path))

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        settings, batch = _generation_settings(args, kwargs)
        record("hf_cpu_generate", **settings)
        return _generate_result(settings, batch, kwargs)

    def save_pretrained(self, directory: str | os.PathLike[str], **_: Any) -> None:
        host(directory).mkdir(parents=True, exist_ok=True)
        (host(directory) / "config.json").write_text(json.dumps(self.config.to_dict()))

    def _same(self, *args: Any, **kwargs: Any) -> PreTrainedModel:
        return self

    eval = to = half = float = _same


class AutoModelForCausalLM(PreTrainedModel):
    pass


LlamaForCausalLM = MistralForCausalLM = MixtralForCausalLM = AutoModelForCausalLM
OPTForCausalLM = BloomForCausalLM = GPTJForCausalLM = GPTNeoXForCausalLM = AutoModelForCausalLM
GPT2LMHeadModel = AutoModelForCausalLM


class BatchEncoding(dict):
    """dict with attribute access, like transformers.BatchEncoding."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error

    def to(self, *args: Any, **kwargs: Any) -> BatchEncoding:
        return self


class PreTrainedTokenizer:
    """Word-counting tokenizer: every word is one token of id 0."""

    vocab_size = 32000

    def __init__(self, path: str) -> None:
        self.name_or_path = str(path)
        self.eos_token, self.bos_token, self.pad_token = "</s>", "<s>", None
        self.eos_token_id, self.bos_token_id = 2, 1
        self.padding_side = "left"
        self._pad_token_id: int | None = None

    @property
    def pad_token_id(self) -> int | None:
        if self._pad_token_id is not None:
            return self._pad_token_id
        return self.eos_token_id if self.pad_token == self.eos_token else None

    @pad_token_id.setter
    def pad_token_id(self, value: int | None) -> None:
        self._pad_token_id = value

    def __len__(self) -> int:
        return self.vocab_size

    def __call__(
        self, text: str | list[str], return_tensors: str | None = None,
        padding: bool | str = False, max_length: int | None = None, **_: Any,
    ) -> BatchEncoding:
        texts = [text] if isinstance(text, str) else list(text)
        if padding and self.pad_token is None and self._pad_token_id is None:
            raise ValueError("Asking to pad but the tokenizer does not have a padding token.")
        width = max(len(t.split()) + 1 for t in texts)
        if padding == "max_length" and max_length:
            width = max_length
        if return_tensors is None:
            rows = [[0] * width for _ in texts]
            ids = rows[0] if isinstance(text, str) else rows
            return BatchEncoding(input_ids=ids, attention_mask=ids)
        shape = [len(texts), width]
        return BatchEncoding(input_ids=torch.Tensor(shape), attention_mask=torch.Tensor(shape, 1))

    def encode(self, text: str, return_tensors: str | None = None, **_: Any) -> Any:
        n = len(text.split()) + 1
        return torch.Tensor([1, n]) if return_tensors else [0] * n

    def decode(self, ids: Any, skip_special_tokens: bool = False, **_: Any) -> str:
        count = ids.shape[-1] if isinstance(ids, torch.Tensor) and ids.shape else len(ids)
        return " ".join(["tok"] * count)

    def batch_decode(self, sequences: Any, **kwargs: Any) -> list[str]:
        return [self.decode(seq, **kwargs) for seq in sequences]

    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool = True,
                            return_tensors: str | None = None, **_: Any) -> Any:
        text = " ".join(m.get("content", "") for m in messages)
        return self.encode(text, return_tensors=return_tensors) if tokenize else text

    def save_pretrained(self, directory: str | os.PathLike[str], **_: Any) -> None:
        host(directory).mkdir(parents=True, exist_ok=True)


class AutoTokenizer:
    @staticmethod
    def from_pretrained(path: str | os.PathLike[str], **_: Any) -> PreTrainedTokenizer:
        return PreTrainedTokenizer(str(path))


class TextStreamer:
    def __init__(self, tokenizer: PreTrainedTokenizer, skip_prompt: bool = False, **_: Any):
        self.tokenizer = tokenizer

    def put(self, value: Any) -> None:
        return None

    def end(self) -> None:
        return None


def set_seed(seed: int) -> None:
    return None
