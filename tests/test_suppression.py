"""``# tnx2nxdi: ignore`` keeps a statement as it is, with no finding about it; ``ignore[CODES]``
does so only when one of those codes is found there. Suppression never yields a false all-clear:
a TNx name used only on ignored lines is reported at its import."""

from __future__ import annotations

from tests.helpers import assert_migrated, assert_unchanged, codes, migrate

KEPT_LINE = (
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)  # tnx2nxdi: ignore\n"
)
IMPORT_REPORTED = (
    "# TODO(tnx2nxdi): TNX990 LlamaForSampling still comes from transformers_neuronx "
    "(transformers_neuronx.LlamaForSampling) and is used only on lines marked "
    "'# tnx2nxdi: ignore'; migrate them by hand, or mark this import too to keep TNx on purpose"
)


def test_ignored_construction_is_kept_and_its_import_reported() -> None:
    findings = assert_migrated(
        f"""\
        from transformers_neuronx import LlamaForSampling
        {KEPT_LINE}""",
        f"""\
        {IMPORT_REPORTED}
        from transformers_neuronx import LlamaForSampling
        {KEPT_LINE}""",
    )
    assert [(f.code, f.line, f.fixed) for f in findings] == [("TNX990", 1, False)]


def test_ignoring_the_import_as_well_keeps_the_file_as_it_is_with_no_finding() -> None:
    findings = assert_unchanged(
        f"""\
        from transformers_neuronx import LlamaForSampling  # tnx2nxdi: ignore
        {KEPT_LINE}"""
    )
    assert findings == ()


def test_a_model_used_on_an_ignored_line_stays_tnx_with_a_marker() -> None:
    """The ignored line keeps TNx calls (``to_neuron()``, ``sample()``) an NxDI model does not
    have: migrating the model would break the program with no finding at all."""
    for kept in ("model.to_neuron()  # tnx2nxdi: ignore\n",
                 "out = model.sample(ids, sequence_length=512)  # tnx2nxdi: ignore[TNX501]\n"):
        source = (
            "from transformers_neuronx import LlamaForSampling\n"
            "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8, n_positions=256)\n"
            "ids = None\n"
            + kept
        )
        code, findings = migrate(source)
        assert "NeuronLlamaForCausalLM" not in code
        assert code.endswith(kept)
        assert [(f.code, f.line, f.fixed) for f in findings] == [("TNX901", 2, False)], kept
        assert "used on a statement marked '# tnx2nxdi: ignore'" in findings[0].message


def test_a_model_stored_on_self_and_used_on_an_ignored_line_stays_tnx() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "class Server:\n"
        "    def __init__(self):\n"
        "        self.model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n"
        "        self.model.to_neuron()  # tnx2nxdi: ignore\n"
    )
    assert "NeuronLlamaForCausalLM" not in code
    assert codes(findings) == ["TNX901"]


def test_ignored_import_line_stays_and_nxdi_imports_follow_it() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling  # tnx2nxdi: ignore\n"
        "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n"
    )
    assert code.startswith(
        "from transformers_neuronx import LlamaForSampling  # tnx2nxdi: ignore\nimport torch\n"
    )
    assert "model = NeuronLlamaForCausalLM('/m/llama', config)\n" in code
    assert "TNX101" not in codes(findings)
    compile(code, "<migrated>", "exec")


def test_ignored_config_variable_leaves_its_model_for_a_person() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "nc = NeuronConfig(attention_layout='BSH')  # tnx2nxdi: ignore\n"
        "model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
    )
    assert "nc = NeuronConfig(attention_layout='BSH')  # tnx2nxdi: ignore\n" in code
    assert "TNX303" not in codes(findings)
    assert [(f.code, f.line) for f in findings] == [("TNX990", 1), ("TNX901", 3)]


def test_comment_on_any_line_of_a_multi_line_statement() -> None:
    source = (
        "from transformers_neuronx import LlamaForSampling  # tnx2nxdi: ignore\n"
        "model = LlamaForSampling.from_pretrained(\n"
        "    '/m/llama',\n"
        "    tp_degree=8,  # tnx2nxdi: ignore\n"
        ")\n"
    )
    assert migrate(source) == (source, ())


def test_coded_ignore_freezes_only_when_its_code_is_found() -> None:
    matching = (
        "from transformers_neuronx import LlamaForSampling  # tnx2nxdi: ignore\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')  # tnx2nxdi: ignore[TNX2]\n"
    )
    assert migrate(matching) == (matching, ())
    other, findings = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')  # tnx2nxdi: ignore[TNX5]\n"
    )
    assert "NeuronLlamaForCausalLM" in other and "TNX201" in codes(findings)


def test_coded_ignore_of_a_dropped_option_on_the_options_line() -> None:
    """The finding points at the option (line 3), so that is where its comment works; the
    comment stays, with the statement it keeps."""
    source = (
        "from transformers_neuronx import LlamaForSampling, NeuronConfig  # tnx2nxdi: ignore\n"
        "nc = NeuronConfig(\n"
        "    attention_layout='BSH',  # tnx2nxdi: ignore[TNX303]\n"
        ")\n"
        "model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
    )
    code, findings = migrate(source)
    assert code.startswith(source.split("model =")[0])
    assert "TNX303" not in codes(findings)
    # A config kept as it is cannot be read, so its model is left for a person (docs/usage.md).
    assert [(f.code, f.line, f.column) for f in findings] == [("TNX901", 5, 9)]


def test_coded_ignore_elsewhere_does_not_hide_a_finding_that_points_at_another_line() -> None:
    source = (
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "nc = NeuronConfig(attention_layout='BSH')\n"
        "model = LlamaForSampling.from_pretrained(\n"
        "    '/m/llama', neuron_config=nc)  # tnx2nxdi: ignore[TNX303]\n"
    )
    code, findings = migrate(source)
    assert [(f.code, f.line, f.column) for f in findings if f.code == "TNX303"] == [
        ("TNX303", 2, 19)]
    assert "NeuronLlamaForCausalLM" in code


def test_coded_ignore_of_a_keyword_inside_the_construction_keeps_the_comment() -> None:
    source = (
        "from transformers_neuronx import LlamaForSampling  # tnx2nxdi: ignore\n"
        "model = LlamaForSampling.from_pretrained(\n"
        "    '/m/llama',\n"
        "    attention_layout='BSH',  # tnx2nxdi: ignore[TNX304]\n"
        ")\n"
    )
    assert migrate(source) == (source, ())


def test_comment_on_a_continuation_line_of_a_compound_header() -> None:
    source = (
        "from transformers_neuronx import LlamaForSampling\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')\n"
        "for token in model.sample(\n"
        "        ids, sequence_length=8):  # tnx2nxdi: ignore[TNX501]\n"
        "    print(token)\n"
    )
    plain, plain_findings = migrate(source.replace("  # tnx2nxdi: ignore[TNX501]", ""))
    assert [(f.line, f.column) for f in plain_findings if f.code == "TNX501"] == [(3, 14)]
    assert "model.sample(" not in plain
    code, findings = migrate(source)
    assert code.endswith(source.split("\n", 2)[2]) and "TNX501" not in codes(findings)


def test_comment_between_a_header_and_its_body_is_not_the_headers() -> None:
    source = (
        "from transformers_neuronx import LlamaForSampling\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')\n"
        "for token in model.sample(ids, sequence_length=8):\n"
        "    # tnx2nxdi: ignore[TNX501]\n"
        "    print(token)\n"
    )
    code, findings = migrate(source)
    assert "model.sample(" not in code and "TNX501" in codes(findings)


def test_comment_text_inside_a_string_is_not_a_suppression() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "note = '# tnx2nxdi: ignore'\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')\n"
    )
    assert "NeuronLlamaForCausalLM" in code and "TNX201" in codes(findings)


def test_unrelated_ignored_line_changes_nothing() -> None:
    plain, plain_findings = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "x = 1\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')\n"
    )
    marked, marked_findings = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "x = 1  # tnx2nxdi: ignore\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')\n"
    )
    assert marked == plain.replace("x = 1\n", "x = 1  # tnx2nxdi: ignore\n")
    assert codes(marked_findings) == codes(plain_findings)


def test_spacing_of_the_comment_does_not_matter() -> None:
    source = (
        "from transformers_neuronx import LlamaForSampling  #tnx2nxdi:ignore\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')  # noqa  #  tnx2nxdi:  ignore\n"
    )
    assert migrate(source) == (source, ())


def test_coded_ignores_that_depend_on_each_other_settle() -> None:
    """Freezing the construction makes the import's TNX990 appear, which freezes the import:
    both stay frozen (planning again never unfreezes a statement)."""
    source = (
        "from transformers_neuronx import LlamaForSampling  # tnx2nxdi: ignore[TNX990]\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')  # tnx2nxdi: ignore[TNX2]\n"
    )
    assert migrate(source) == (source, ())
