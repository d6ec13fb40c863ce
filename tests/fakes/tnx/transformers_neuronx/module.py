"""Fake `transformers_neuronx.module`: the shared `from_pretrained`, runtime and events.

`from_pretrained` records {"kind": "model_init", "family", "path", "config", "tnx_only"} where
"config" is the effective configuration in NxDI vocabulary (see _fake_vocab) and "tnx_only" holds
options NxDI has no name for. Llama/Mistral/Mixtral also record "ignored_kwargs".

shard_over_sequence as TNx's decoder treats it: with group_query_attention unset and as many KV
heads as attention heads (MHA) TNx warns and turns it off (so it is no flash decoding request);
otherwise building the model asserts tp_degree % num_key_value_heads == 0.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import transformers
from _fake_fs import host
from _fake_recorder import record
from _fake_vocab import (
    dtype_name,
    effective_padding_side,
    switch_off_kernels,
    translate_tnx_options,
)

from transformers_neuronx.config import NeuronConfig
from transformers_neuronx.constants import Layout

_AMPS = ("f32", "f16", "bf16")
#: NeuronCores of the largest instance TNx runs on (trn1.32xlarge).
_ONE_NODE_CORES = 32


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sanity_check(**kwargs: Any) -> None:
    """The checks of PretrainedModel._sanity_check (TNx module.py)."""
    n_positions = kwargs.get("n_positions", 2048)
    estimate = kwargs.get("context_length_estimate")
    if estimate is not None:
        assert max(_as_list(estimate)) <= max(_as_list(n_positions)), (
            "max context_length_estimate must not exceed max n_positions")
    neuron_config = kwargs.get("neuron_config")
    batching = getattr(neuron_config, "continuous_batching", None)
    if batching is not None:
        assert batching.max_num_seqs == kwargs.get("batch_size", 1), (
            "continuous_batching max_num_seqs must equal batch_size")
    if neuron_config is not None and neuron_config.cache_layout == Layout.BSH:
        assert batching is not None, "BSH cache_layout requires continuous batching"
        if not batching.optimized_paged_attention:
            for value in (n_positions, estimate):
                assert isinstance(value, list) and len(value) == 1, "BSH cache needs 1-item lists"


class PretrainedModel:
    _family = ""
    _strict_kwargs = True  # False: unknown kwargs are silently ignored (Llama, Mistral, Mixtral)
    _checks_batch = False  # True: sample() rejects batches that were not compiled

    @classmethod
    def from_pretrained(cls, pretrained_model_path: Any, *model_args: Any, **kwargs: Any) -> Any:
        _sanity_check(**kwargs)
        config = transformers.AutoConfig.from_pretrained(pretrained_model_path)
        model = cls(config, *model_args, **kwargs)
        model._record_init(str(pretrained_model_path))
        return model

    def _setup(self, config: Any, neuron_config: NeuronConfig | None, *, n_positions: Any,
               batch_size: Any, amp: str | None, tp_degree: int,
               context_length_estimate: Any = None, extra: dict[str, Any] | None = None,
               **tnx_args: Any) -> None:
        extra = dict(extra or {})
        if self._strict_kwargs and extra:
            raise KeyError(f'Found invalid key "{next(iter(extra))}"')
        if amp is not None and amp not in _AMPS:
            raise ValueError(f"unsupported amp {amp!r}; expected one of {_AMPS}")
        self.config = config
        self.neuron_config = neuron_config if neuron_config is not None else NeuronConfig()
        self.n_positions = n_positions
        self.batch_size = batch_size
        self.tp_degree = tp_degree
        self.context_length_estimate = context_length_estimate
        self._dtype = dtype_name(amp if amp is not None else config.torch_dtype)
        self._ignored = extra
        self._tnx_args = {k: v for k, v in tnx_args.items() if v is not None}
        self._load_dir: str | None = None
        self._compiled = self._loaded = False

    def _normalized(self) -> tuple[dict[str, Any], dict[str, Any]]:
        config: dict[str, Any] = {
            "tp_degree": self.tp_degree, "batch_size": self.batch_size,
            "seq_len": max(_as_list(self.n_positions)), "torch_dtype": self._dtype,
        }
        if isinstance(self.n_positions, (list, tuple)):
            config["token_generation_buckets"] = sorted(self.n_positions)
        if self.context_length_estimate is not None:
            config["context_encoding_buckets"] = sorted(_as_list(self.context_length_estimate))
        config["enable_bucketing"] = True  # TNx always compiles several buckets (bucket.py)
        options = self.neuron_config.options()
        translated, tnx_only = translate_tnx_options(options)
        switch_off_kernels(options, translated)
        heads = getattr(self.config, "num_attention_heads", None)
        if translated.get("flash_decoding_enabled") and options.get(
                "group_query_attention") is None and heads == getattr(
                self.config, "num_key_value_heads", heads):
            del translated["flash_decoding_enabled"]  # TNx's decoder turns it off for MHA
        config.update(translated)
        padding = effective_padding_side(options)
        chosen = {"padding_side", "lhs_aligned", "use_2d_cache_ids", "continuous_batching"}
        if padding is not None and (max(_as_list(self.batch_size)) > 1 or chosen & set(options)):
            config["padding_side"] = padding  # it matters for batches of prompts
        config.update(self._ranks())
        tnx_only.update(self._tnx_args)
        return config, tnx_only

    def _heads(self) -> tuple[int, int]:
        heads = getattr(self.config, "num_attention_heads", 0)
        return heads, getattr(self.config, "num_key_value_heads", heads)

    def _shards_over_sequence(self) -> bool:
        heads, kv_heads = self._heads()
        neuron_config = self.neuron_config
        mha = neuron_config.group_query_attention is None and heads == kv_heads
        return bool(neuron_config.shard_over_sequence) and not mha

    def _ranks(self) -> dict[str, Any]:
        """The NeuronCores of this node when TNx runs on several (NEURON_RANK_ID and
        NEURON_LOCAL_TP, or a tp_degree no single node has)."""
        local = os.environ.get("NEURON_LOCAL_TP")
        rank = os.environ.get("NEURON_RANK_ID")
        if local is None and rank is None and self.tp_degree <= _ONE_NODE_CORES:
            return {}
        local_tp = int(local) if local is not None else self.tp_degree
        return {"start_rank_id": int(rank or 0) * local_tp, "local_ranks_size": local_tp}

    def _record_init(self, path: str) -> None:
        config, tnx_only = self._normalized()
        extra = {} if self._strict_kwargs else {"ignored_kwargs": self._ignored}
        record("model_init", family=self._family, path=path, config=config, tnx_only=tnx_only,
               **extra)

    def to_neuron(self) -> None:
        """Compile and load, or only load the artifacts named by an earlier load(dir)."""
        if self._shards_over_sequence():
            kv_heads = self._heads()[1]
            assert self.tp_degree % kv_heads == 0, (
                f"tp_degree {self.tp_degree} not divisble by n_kv_heads {kv_heads} "
                "shard_over_sequence is not supported")
        if self._load_dir is not None:
            if not os.path.isdir(host(self._load_dir)):
                raise FileNotFoundError(f"Did not find directory: {self._load_dir}.")
            record("load", path=self._load_dir)
        else:
            record("compile", path=None)
            record("load", path=None)
        self._compiled = self._loaded = True

    def reset(self) -> None:
        record("reset")

    def _require_loaded(self) -> None:
        if not self._loaded:
            raise RuntimeError("the model must be loaded with to_neuron() before it runs")

    def forward(self, input_ids: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        self._require_loaded()
        return torch.Tensor([input_ids.shape[0], self.config.vocab_size], 0.0, torch.float32)

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self.forward(*args, **kwargs)

    def _sample(self, input_ids: Any, sequence_length: int, top_k: Any, top_p: Any,
                temperature: Any) -> torch.Tensor:
        self._require_loaded()
        batch = input_ids.shape[0]
        if self._checks_batch and batch not in _as_list(self.batch_size):
            raise ValueError(f"batch {batch} was not compiled (batch_size={self.batch_size})")
        if sequence_length > max(_as_list(self.n_positions)):
            raise ValueError(f"sequence_length {sequence_length} exceeds n_positions")
        settings = {"do_sample": top_k != 1, "top_k": top_k, "top_p": top_p,
                    "temperature": temperature}
        generation = self.neuron_config.on_device_generation
        if generation is not None:  # per-call sampling arguments are ignored
            settings = {k: getattr(generation, k) for k in settings}
        record("generate", max_length=sequence_length, **settings)
        return torch.Tensor([batch, sequence_length])

    def _llama_sample(self, input_ids: Any, sequence_length: int, top_k: Any, top_p: Any,
                      temperature: Any) -> torch.Tensor:
        if self.neuron_config.on_device_generation is None and (
                not isinstance(temperature, float) or temperature <= 0):
            raise ValueError(f"temperature must be a float > 0, got {temperature!r}")
        return self._sample(input_ids, sequence_length, top_k, top_p, temperature)


class SimpleSampling:
    """sample() of Bloom, OPT, GPT2ForSampling, GPT-J and GPT-NeoX: top-k only."""

    def sample(self, input_ids: Any, sequence_length: int, start_ids: Any = None,
               top_k: int = 50, streamer: Any = None) -> torch.Tensor:
        return self._sample(input_ids, sequence_length, top_k, 1.0, 1.0)  # type: ignore[attr-defined]


def save_pretrained_split(model: Any, save_directory: str | os.PathLike[str]) -> None:
    """Writes the legacy split checkpoint directory (save_directory/pytorch_model.bin/)."""
    (host(save_directory) / "pytorch_model.bin").mkdir(parents=True, exist_ok=True)
    model.save_pretrained(save_directory)
