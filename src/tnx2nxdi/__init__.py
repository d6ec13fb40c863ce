"""tnx2nxdi: migrate Transformers NeuronX (TNx) inference code to NeuronX Distributed Inference."""

from __future__ import annotations

__version__ = "0.1.0"
