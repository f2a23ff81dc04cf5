"""Hugging Face-format token-classification models built on the spot: a WordPiece tokenizer made with
`tokenizers`, a transformer encoder written to ONNX with onnx.helper, config.json. Nothing is downloaded.

The tests build a tiny one whose answer they know (one-hot embeddings, a classifier that maps chosen
vocabulary ids to chosen labels); bench/byom.py builds one of xlm-roberta-base's shape with random weights.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


def wordpiece_tokenizer(vocab: Sequence[str]) -> Tokenizer:
    """A BERT-style fast tokenizer over `vocab` (which must start with SPECIALS), cased, [CLS] x [SEP]."""
    ids = {piece: i for i, piece in enumerate(vocab)}
    tokenizer = Tokenizer(models.WordPiece(ids, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return tokenizer


def _init(name: str, array: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.ascontiguousarray(array), name)


def encoder_graph(
    embeddings: np.ndarray,
    classifier: np.ndarray,
    *,
    layers: int = 1,
    heads: int = 2,
    ffn: int = 64,
    max_positions: int = 512,
    scale: float = 0.0,
    layer_norm: bool = False,
    token_type_ids: bool = False,
    seed: int = 0,
) -> onnx.ModelProto:
    """A BERT-like encoder: embeddings (+ positions) -> `layers` x (self-attention, GELU feed-forward, both
    with residuals, LayerNorm if asked) -> classifier. Inputs input_ids, attention_mask (and token_type_ids,
    unused, when asked), int64 [batch, sequence]; output logits [batch, sequence, labels].

    Every weight but `embeddings` and `classifier` is random times `scale`: 0 gives layers that pass their
    input through unchanged, so the classifier alone decides (the tests' known answers).
    """
    rng = np.random.default_rng(seed)
    vocab, hidden = embeddings.shape
    labels = classifier.shape[1]
    if hidden % heads:
        raise ValueError("hidden must be a multiple of heads")
    head = hidden // heads
    f32 = np.float32

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=f32) * f32(scale)).astype(f32)

    inits = [
        _init("word_embeddings", embeddings.astype(f32)),
        _init("position_embeddings", weight(max_positions, hidden)),
        _init("classifier_w", classifier.astype(f32)),
        _init("classifier_b", np.zeros(labels, f32)),
        _init("zero_1d", np.array([0], np.int64)),
        _init("one_f", np.array(1.0, f32)),
        _init("half_f", np.array(0.5, f32)),
        _init("sqrt2_f", np.array(math.sqrt(2.0), f32)),
        _init("neg_big", np.array(-10000.0, f32)),
        _init("attn_scale", np.array(1.0 / math.sqrt(head), f32)),
        _init("axes_12", np.array([1, 2], np.int64)),
        _init("heads_shape", np.array([0, 0, heads, head], np.int64)),
        _init("hidden_shape", np.array([0, 0, hidden], np.int64)),
    ]
    if layer_norm:
        inits += [_init("ln_gamma", np.ones(hidden, f32)), _init("ln_beta", np.zeros(hidden, f32))]
    nodes = [
        helper.make_node("Gather", ["word_embeddings", "input_ids"], ["words"], axis=0),
        helper.make_node("Shape", ["input_ids"], ["seq_len_1d"], start=1, end=2),
        helper.make_node("Slice", ["position_embeddings", "zero_1d", "seq_len_1d", "zero_1d"], ["pos_vectors"]),
        helper.make_node("Add", ["words", "pos_vectors"], ["x0"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axes_12"], ["mask_4d"]),
        helper.make_node("Sub", ["one_f", "mask_4d"], ["mask_inv"]),
        helper.make_node("Mul", ["mask_inv", "neg_big"], ["mask_add"]),
    ]
    x = "x0"
    if layer_norm:
        nodes.append(helper.make_node("LayerNormalization", [x, "ln_gamma", "ln_beta"], ["x0n"], axis=-1))
        x = "x0n"

    for n in range(layers):
        p = f"l{n}_"
        for name in ("q", "k", "v", "o"):
            inits += [_init(p + name + "_w", weight(hidden, hidden)), _init(p + name + "_b", weight(hidden))]
        inits += [
            _init(p + "f1_w", weight(hidden, ffn)),
            _init(p + "f1_b", weight(ffn)),
            _init(p + "f2_w", weight(ffn, hidden)),
            _init(p + "f2_b", weight(hidden)),
        ]
        for name in ("q", "k", "v"):
            nodes += [
                helper.make_node("MatMul", [x, p + name + "_w"], [p + name + "_mm"]),
                helper.make_node("Add", [p + name + "_mm", p + name + "_b"], [p + name + "_lin"]),
                helper.make_node("Reshape", [p + name + "_lin", "heads_shape"], [p + name + "_heads"]),
            ]
        nodes += [
            helper.make_node("Transpose", [p + "q_heads"], [p + "q_t"], perm=[0, 2, 1, 3]),
            helper.make_node("Transpose", [p + "k_heads"], [p + "k_t"], perm=[0, 2, 3, 1]),
            helper.make_node("Transpose", [p + "v_heads"], [p + "v_t"], perm=[0, 2, 1, 3]),
            helper.make_node("MatMul", [p + "q_t", p + "k_t"], [p + "scores_raw"]),
            helper.make_node("Mul", [p + "scores_raw", "attn_scale"], [p + "scores_scaled"]),
            helper.make_node("Add", [p + "scores_scaled", "mask_add"], [p + "scores"]),
            helper.make_node("Softmax", [p + "scores"], [p + "attn"], axis=-1),
            helper.make_node("MatMul", [p + "attn", p + "v_t"], [p + "ctx"]),
            helper.make_node("Transpose", [p + "ctx"], [p + "ctx_t"], perm=[0, 2, 1, 3]),
            helper.make_node("Reshape", [p + "ctx_t", "hidden_shape"], [p + "ctx_h"]),
            helper.make_node("MatMul", [p + "ctx_h", p + "o_w"], [p + "o_mm"]),
            helper.make_node("Add", [p + "o_mm", p + "o_b"], [p + "o_lin"]),
            helper.make_node("Add", [x, p + "o_lin"], [p + "res1"]),
        ]
        x = p + "res1"
        if layer_norm:
            nodes.append(helper.make_node("LayerNormalization", [x, "ln_gamma", "ln_beta"], [p + "res1n"], axis=-1))
            x = p + "res1n"
        nodes += [
            helper.make_node("MatMul", [x, p + "f1_w"], [p + "f1_mm"]),
            helper.make_node("Add", [p + "f1_mm", p + "f1_b"], [p + "f1"]),
            # GELU, exactly: 0.5 x (1 + erf(x / sqrt 2))
            helper.make_node("Div", [p + "f1", "sqrt2_f"], [p + "g_div"]),
            helper.make_node("Erf", [p + "g_div"], [p + "g_erf"]),
            helper.make_node("Add", [p + "g_erf", "one_f"], [p + "g_add"]),
            helper.make_node("Mul", [p + "f1", p + "g_add"], [p + "g_mul"]),
            helper.make_node("Mul", [p + "g_mul", "half_f"], [p + "gelu"]),
            helper.make_node("MatMul", [p + "gelu", p + "f2_w"], [p + "f2_mm"]),
            helper.make_node("Add", [p + "f2_mm", p + "f2_b"], [p + "f2"]),
            helper.make_node("Add", [x, p + "f2"], [p + "res2"]),
        ]
        x = p + "res2"
        if layer_norm:
            nodes.append(helper.make_node("LayerNormalization", [x, "ln_gamma", "ln_beta"], [p + "res2n"], axis=-1))
            x = p + "res2n"

    nodes += [
        helper.make_node("MatMul", [x, "classifier_w"], ["logits_mm"]),
        helper.make_node("Add", ["logits_mm", "classifier_b"], ["logits"]),
    ]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
    ]
    if token_type_ids:
        inputs.append(helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "sequence"]))
    graph = helper.make_graph(
        nodes,
        "token_classifier",
        inputs,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", labels])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="opencomprehend-tests")
    model.ir_version = 8
    return model


def write_model_folder(
    folder: Path,
    tokenizer: Tokenizer,
    graph: onnx.ModelProto,
    id2label: Sequence[str],
    max_positions: int,
    model_type: str = "bert",
) -> Path:
    """config.json, tokenizer.json and model.onnx, as `optimum-cli export onnx` leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["BertForTokenClassification"],
        "model_type": model_type,
        "max_position_embeddings": max_positions,
        "id2label": {str(i): label for i, label in enumerate(id2label)},
        "label2id": {label: i for i, label in enumerate(id2label)},
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    tokenizer.save(str(folder / "tokenizer.json"))
    onnx.save_model(graph, str(folder / "model.onnx"))
    return folder


def tiny_ner_model(
    folder: Path,
    words: dict[str, str],
    id2label: Sequence[str] = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"),
    *,
    max_positions: int = 64,
    strength: float = 6.0,
    scale: float = 0.0,
    token_type_ids: bool = False,
) -> Path:
    """A model that labels each vocabulary piece as `words` says (piece -> label; any other piece O).

    One-hot embeddings and a classifier row per piece: a piece's logits are `strength` for its label and 0
    for every other, so its softmax probability is e^s / (e^s + labels - 1), which the tests can compute.
    """
    vocab = [*SPECIALS, *words]
    for filler in ("the", "a", "in", "of", "and", "to", "met", "visited", "works", "for", ".", ",", "!"):
        if filler not in vocab:
            vocab.append(filler)
    hidden = len(vocab)
    classifier = np.zeros((hidden, len(id2label)), np.float32)
    index = {label: i for i, label in enumerate(id2label)}
    for i, piece in enumerate(vocab):
        classifier[i, index[words.get(piece, "O")]] = strength
    graph = encoder_graph(
        np.eye(hidden, dtype=np.float32),
        classifier,
        layers=1,
        heads=1,
        ffn=8,
        max_positions=max_positions,
        scale=scale,
        token_type_ids=token_type_ids,
    )
    return write_model_folder(folder, wordpiece_tokenizer(vocab), graph, id2label, max_positions)


def tiny_sentencepiece_model(
    folder: Path,
    pieces: dict[str, str],
    id2label: Sequence[str] = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"),
    *,
    max_positions: int = 64,
    strength: float = 6.0,
) -> Path:
    """tiny_ner_model with an XLM-R-like tokenizer: a Unigram model, words split at spaces only ("▁" marks a
    word's start, so punctuation stays in its word), <s> x </s>, and RoBERTa's two extra positions."""
    from tokenizers import models as tokenizer_models

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    chars = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ().,!?;:'\"" if c not in pieces]
    vocab = [*specials, *pieces, "▁", *chars]
    tokenizer = Tokenizer(
        tokenizer_models.Unigram(
            [(p, 0.0 if p in specials else -1.0 if p in pieces or p == "▁" else -8.0) for p in vocab], unk_id=3
        )
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    classifier = np.zeros((len(vocab), len(id2label)), np.float32)
    index = {label: i for i, label in enumerate(id2label)}
    for i, piece in enumerate(vocab):
        classifier[i, index[pieces.get(piece, "O")]] = strength
    graph = encoder_graph(np.eye(len(vocab), dtype=np.float32), classifier, heads=1, ffn=8, max_positions=max_positions)
    return write_model_folder(folder, tokenizer, graph, id2label, max_positions, model_type="xlm-roberta")
