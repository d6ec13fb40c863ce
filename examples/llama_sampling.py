"""A typical Transformers NeuronX script: compile Llama 3 for Inferentia2 and sample from it."""

import torch
from transformers import AutoTokenizer
from transformers_neuronx import GQA, LlamaForSampling, NeuronConfig

MODEL_ID = "meta-llama/Meta-Llama-3-8B-Instruct"

neuron_config = NeuronConfig(
    fuse_qkv=True,
    group_query_attention=GQA.REPLICATED_HEADS,
)
neuron_model = LlamaForSampling.from_pretrained(
    MODEL_ID, batch_size=1, tp_degree=8, n_positions=4096, amp="bf16", neuron_config=neuron_config
)
neuron_model.to_neuron()
neuron_model.save("./llama3-neuron-artifacts")

tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
input_ids = tokenizer.encode("What is the capital of France?", return_tensors="pt")
with torch.inference_mode():
    generated = neuron_model.sample(input_ids, sequence_length=256, top_k=10)
print(tokenizer.decode(generated[0]))
