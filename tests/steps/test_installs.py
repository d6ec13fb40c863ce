"""pip install lines: what they install, the rewrite of the TNx requirement, and the
transformers pins NxDI cannot run with."""

from __future__ import annotations

import pytest

from tnx2nxdi.steps import installs


@pytest.mark.parametrize(("line", "expected"), [
    ("!pip install transformers-neuronx sentencepiece -U",
     "!pip install neuronx-distributed-inference sentencepiece -U"),
    ("%pip install 'transformers_neuronx>=0.12' -r extra.txt",
     "%pip install 'neuronx-distributed-inference' -r extra.txt"),
    ("pip install -U pip && python -m pip install --extra-index-url $REPO transformers-neuronx",
     "pip install -U pip && python -m pip install --extra-index-url $REPO "
     "neuronx-distributed-inference"),
])
def test_the_tnx_requirement_becomes_nxdi(line: str, expected: str) -> None:
    assert installs.rewritten(line) == expected


@pytest.mark.parametrize("line", [
    "pip install git+https://github.com/aws-neuron/transformers-neuronx",
    "pip install -r transformers-neuronx.txt",
    "echo transformers-neuronx # pip install transformers-neuronx",
])
def test_what_is_no_tnx_requirement_is_left_alone(line: str) -> None:
    assert installs.rewritten(line) is None


@pytest.mark.parametrize(("specs", "target", "allowed"), [
    ("==4.40.0", "2.29", False), ("==4.57.1", "2.29", True), ("==4.57.*", "2.28", True),
    ("<4.48", "2.22", False), ("<4.48", "2.21", True), ("<=4.48.0", "2.22", True),
    (">=4.43.3", "2.29", True), (">=4.58", "2.29", False), ("~=4.51.0", "2.26", True),
    ("~=4.51.0", "2.27", False), ("~=4.51", "2.29", True), ("!=4.57.*", "2.29", False),
    (">=4.36,<4.48", "2.24", False), ("", "2.29", True),
])
def test_a_transformers_requirement_allows_the_nxdi_pin_or_not(
    specs: str, target: str, allowed: bool
) -> None:
    messages = list(installs.pin_findings(f"pip install 'transformers{specs}'", target))
    assert (messages == []) is allowed
