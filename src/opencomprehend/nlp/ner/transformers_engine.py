"""The "transformers.v1" engine: a Hugging Face token-classification model exported to ONNX.

A model is a folder with
- config.json: `id2label` (index -> label, "B-PER", "I-LOC", "O", ...) and the model's length
  (`max_position_embeddings`; tokenizer_config.json's `model_max_length` wins when it is there);
- tokenizer.json: a fast tokenizer (the `tokenizers` library's format, what every Hugging Face model ships);
- model.onnx: inputs input_ids and attention_mask (and token_type_ids if the graph has it), int64
  [batch, sequence]; first output (or the one named "logits") [batch, sequence, labels].

It runs with ONNX Runtime and `tokenizers` only (no PyTorch), which are optional:
`pip install 'opencomprehend[transformers]'`. Importing this module needs neither; loading a model does.

How text becomes entities:
- the whole text is tokenized once, without special tokens; token offsets are code points into the text;
- texts longer than the model's length are cut into windows of whole words that overlap by `overlap`
  tokens, each framed by the model's special tokens ([CLS] ... [SEP], <s> ... </s>); the windows of all
  texts are sorted by length and run in batches of `batch_size`, padded to the longest in the batch;
- each word takes the label of its first token (first-token aggregation, as Hugging Face's "first"
  strategy); words are joined into entities by their BIO / BIOES / IO tags, repaired where the tags do
  not fit together (an I- after O or after another type begins an entity). Punctuation-only tokens at
  either end of a word do not count: SentencePiece tokenizers (XLM-R's) split words at spaces only, so
  "(Paris)." is one word whose first token is "(", and its entity is "Paris". Nor does a "word" of Chinese
  or Japanese script, which has no spaces: there every token is a word of its own, or a SentencePiece
  tokenizer would give a whole sentence the label of its first piece;
- an entity's score is the mean, over all of its tokens, of the softmax probability the model gives its
  type (B-, I-, E-, S- of the type together): in [0, 1], and low where the model hesitated on a piece;
- windows are merged as spaCy windows are (nlp/ner/windows.py merge_windows): each window owns the middle of
  its overlaps, and an entity that touches a window's inner edge is taken from the next window instead;
- DATE and QUANTITY come from the CLDR patterns (nlp/ner/patterns.py) where the model's labels map onto neither,
  as for the shipped spaCy models (patterns=False turns them off).
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from opencomprehend.nlp.ner.labels import comprehend_type
from opencomprehend.nlp.ner.patterns import DATE, QUANTITY, merge, patterns_for
from opencomprehend.nlp.registry import register_engine

log = logging.getLogger("opencomprehend.transformers")

INSTALL_HINT = "pip install 'opencomprehend[transformers]' (onnxruntime and tokenizers)"
# Windows run together; a batch is also bounded in tokens (batch_size x the model's length).
DEFAULT_BATCH_SIZE = 8
# Tokens two neighbouring windows share (at most a quarter of a window).
DEFAULT_OVERLAP = 64
# Model families whose position table keeps two rows for padding (RoBERTa's offset), so 514 means 512.
_PADDED_POSITIONS = {"roberta", "xlm-roberta", "camembert", "xlm-roberta-xl", "longformer", "bart"}
_PREFIXES = {"B", "I", "E", "S", "L", "U"}
# Han, Hiragana, Katakana (and their compatibility and extension blocks): scripts written without spaces.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]")


class ModelFolderError(ValueError):
    """The folder is not a usable token-classification model; str(e) says what is missing or wrong."""


def _split_label(label: str) -> tuple[str, str]:
    """("B", "PER") for "B-PER"; ("O", "") for "O"; ("I", "PER") for a bare "PER" (IO tagging)."""
    label = label.strip()
    if label.upper() in {"O", ""}:
        return "O", ""
    for sep in ("-", "_"):
        head, found, tail = label.partition(sep)
        if found and head.upper() in _PREFIXES and tail:
            return head.upper(), tail
    return "I", label


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFolderError(f"{path.name} is missing from {path.parent}") from None
    except (OSError, ValueError) as exc:
        raise ModelFolderError(f"cannot read {path}: {exc}") from None


@dataclass
class _Window:
    text: int  # index of the text
    number: int  # index of the window in its text
    start: int  # first token (of the text's tokens)
    end: int  # one past the last token


def plan_token_windows(word_starts: list[bool], size: int, overlap: int) -> list[tuple[int, int]]:
    """Token ranges [start, end) of at most `size` tokens covering all tokens, neighbours sharing about
    `overlap`; a window ends before a word's first token where one lies in its second half, so a word is
    cut only when it is longer than half a window."""
    n = len(word_starts)
    if n <= size:
        return [(0, n)]
    overlap = max(1, min(overlap, size // 4))
    windows: list[tuple[int, int]] = []
    start = 0
    while n - start > size:
        end = start + size
        for j in range(end, start + size // 2, -1):
            if word_starts[j]:
                end = j
                break
        windows.append((start, end))
        next_start = end - overlap
        for j in range(next_start, end):
            if word_starts[j]:
                next_start = j
                break
        start = max(next_start, start + 1)
    windows.append((start, n))
    return windows


@register_engine("transformers.v1")
class TransformersEngine:
    """Entity recognition with an ONNX token-classification model (see the module docstring).

    labels: model label without its B-/I- prefix -> Comprehend type; labels it leaves out are dropped.
        None maps labels with nlp/ner/labels.py (PER, LOC, ORG, MISC, the OntoNotes names...; unknown ones OTHER).
    batch_size: windows run together (default 8).
    device: "cpu" (default) or "cuda": ONNX Runtime's CUDA provider when this onnxruntime has it (the
        onnxruntime-gpu package), else the CPU with a warning.
    threads: ONNX Runtime's threads for one window batch (default 1: a worker is one core, as spaCy's).
    max_length: tokens a window holds, special tokens included (default: the model's own length).
    overlap: tokens neighbouring windows share.
    patterns: find DATE and QUANTITY with the CLDR patterns when the model's labels give neither.
    calibrate: accepted as spacy.v1 accepts it (`eval --raw-scores`); these scores are always the model's own.
    """

    def __init__(
        self,
        language: str,
        model: str | Path,
        *,
        labels: dict[str, str] | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        threads: int | None = None,
        max_length: int | None = None,
        overlap: int = DEFAULT_OVERLAP,
        onnx_file: str = "model.onnx",
        patterns: bool = True,
        calibrate: bool = True,
    ) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ImportError(f"the transformers.v1 engine needs {INSTALL_HINT}: {exc}") from None
        self.language = language
        self.model = model
        folder = Path(model)
        if not folder.is_dir():
            raise ModelFolderError(f"{folder} is not a folder (config.json, tokenizer.json, {onnx_file})")
        config = _read_json(folder / "config.json")
        id2label = config.get("id2label")
        if not isinstance(id2label, dict) or not id2label:
            raise ModelFolderError(f"{folder / 'config.json'} has no id2label")
        try:
            self.id2label = [str(id2label[str(i)]) for i in range(len(id2label))]
        except KeyError:
            raise ModelFolderError(
                f"{folder / 'config.json'}: id2label must number its labels 0..{len(id2label) - 1}"
            ) from None
        self.labels = None if labels is None else {str(k).strip().upper(): v for k, v in labels.items()}
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self.max_length = max_length or self._model_length(folder, config)

        if not (folder / "tokenizer.json").is_file():
            raise ModelFolderError(f"tokenizer.json is missing from {folder} (a fast tokenizer is needed)")
        try:
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # noqa: BLE001  (the library's own exception type is not exported)
            raise ModelFolderError(f"cannot read {folder / 'tokenizer.json'}: {exc}") from None
        # The padding id before padding is turned off: RoBERTa-family graphs number positions from the tokens
        # that are not padding, so a batch must be padded with the model's own id.
        self._pad_id = self._padding_id()
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self._prefix, self._suffix = self._special_tokens()
        self.window_tokens = self.max_length - len(self._prefix) - len(self._suffix)
        if self.window_tokens < 8:
            raise ModelFolderError(f"the model's length ({self.max_length} tokens) leaves no room for text")
        self.overlap = max(1, min(overlap, self.window_tokens // 4))

        onnx_path = folder / onnx_file
        if not onnx_path.is_file():
            raise ModelFolderError(f"{onnx_file} is missing from {folder} (export the model to ONNX first)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its notes on a graph's shapes are not the operator's concern
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" in ort.get_available_providers():
                providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
            else:
                log.warning("device 'cuda' for %s: this onnxruntime has no CUDA provider; running on the CPU", model)
        try:
            self.session = ort.InferenceSession(str(onnx_path), options, providers=providers)
        except Exception as exc:  # noqa: BLE001  (onnxruntime raises its own, unexported, exception types)
            raise ModelFolderError(f"ONNX Runtime cannot load {onnx_path}: {exc}") from None
        self.device = "cuda" if "CUDAExecutionProvider" in self.session.get_providers() else "cpu"
        inputs = {i.name for i in self.session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - inputs
        if missing:
            raise ModelFolderError(f"{onnx_path} has no input {sorted(missing)[0]} (its inputs: {sorted(inputs)})")
        self._token_types = "token_type_ids" in inputs
        outputs = [o.name for o in self.session.get_outputs()]
        self._output = "logits" if "logits" in outputs else outputs[0]
        # Per label: its (prefix, type), and per type the label indices that carry it (for scores).
        self._tags = [_split_label(label) for label in self.id2label]
        self._type_columns: dict[str, np.ndarray] = {}
        for index, (_prefix, kind) in enumerate(self._tags):
            if kind:
                self._type_columns.setdefault(kind, np.array([], dtype=np.int64))
                self._type_columns[kind] = np.append(self._type_columns[kind], index)
        answered = {self.entity_type(kind) for kind in self._type_columns}
        self.pattern_types = frozenset({DATE, QUANTITY} - answered) if patterns else frozenset()
        self._patterns = patterns_for(language) if self.pattern_types else None

    # ------------------------------------------------------------------------------------------ set-up

    def _model_length(self, folder: Path, config: dict[str, Any]) -> int:
        tokenizer_config = folder / "tokenizer_config.json"
        if tokenizer_config.is_file():
            declared = _read_json(tokenizer_config).get("model_max_length")
            # Tokenizers without a limit write a huge sentinel (1e30).
            if isinstance(declared, int | float) and 8 <= declared <= 100_000:
                return int(declared)
        positions = config.get("max_position_embeddings")
        if isinstance(positions, int) and positions >= 8:
            if str(config.get("model_type", "")).lower() in _PADDED_POSITIONS:
                positions -= 2
            return positions
        return 512

    def _special_tokens(self) -> tuple[list[int], list[int]]:
        """The ids the tokenizer's post-processor puts before and after a single sequence."""
        bare = self.tokenizer.encode("a", add_special_tokens=False).ids
        full = self.tokenizer.encode("a", add_special_tokens=True).ids
        for i in range(len(full) - len(bare) + 1):
            if full[i : i + len(bare)] == bare:
                return full[:i], full[i + len(bare) :]
        return [], []

    def _padding_id(self) -> int:
        padding = self.tokenizer.padding
        if padding and padding.get("pad_id") is not None:
            return int(padding["pad_id"])
        for token in ("[PAD]", "<pad>", "<PAD>"):
            found = self.tokenizer.token_to_id(token)
            if found is not None:
                return int(found)
        return 0

    # ------------------------------------------------------------------------------------------ labels

    def entity_type(self, label: str) -> str | None:
        """The Comprehend type of a model label (without prefix); None drops it (not in the label map)."""
        if self.labels is not None:
            return self.labels.get(label.strip().upper())
        return comprehend_type(label)

    # --------------------------------------------------------------------------------------- recognise

    def recognise(self, texts: list[str]) -> list[list[dict]]:
        """One list of entities per text (see registry.Engine for the entity format)."""
        encodings = [self.tokenizer.encode(text, add_special_tokens=False) if text.strip() else None for text in texts]
        words: list[list[int]] = []  # per text: each token's word number
        windows: list[_Window] = []
        plans: list[list[tuple[int, int]]] = []
        for ti, encoding in enumerate(encodings):
            if encoding is None or not encoding.ids:
                words.append([])
                plans.append([])
                continue
            word_of = self._word_numbers(texts[ti], encoding)
            words.append(word_of)
            starts = [i == 0 or word_of[i] != word_of[i - 1] for i in range(len(word_of))]
            plan = plan_token_windows(starts, self.window_tokens, self.overlap)
            plans.append(plan)
            windows.extend(_Window(ti, wi, s, e) for wi, (s, e) in enumerate(plan))

        probabilities: dict[tuple[int, int], np.ndarray] = {}
        for batch in self._batches(windows):
            for window, probs in zip(batch, self._run(batch, encodings), strict=True):
                probabilities[(window.text, window.number)] = probs

        from opencomprehend.nlp.ner.windows import merge_windows as _merge_windows

        results: list[list[dict]] = []
        for ti, text in enumerate(texts):
            plan = plans[ti]
            if not plan:
                results.append([])
                continue
            encoding = encodings[ti]
            assert encoding is not None
            per_window = [
                self._decode(text, encoding.offsets[s:e], words[ti][s:e], probabilities[(ti, wi)])
                for wi, (s, e) in enumerate(plan)
            ]
            if len(plan) == 1:
                results.append(per_window[0])
                continue
            char_windows = [(encoding.offsets[s][0], encoding.offsets[e - 1][1]) for s, e in plan]
            results.append(_merge_windows(text, char_windows, per_window))
        if self._patterns is not None:
            for text, entities in zip(texts, results, strict=True):
                extra = self._patterns.find(text, set(self.pattern_types))
                if extra:
                    entities[:] = merge(entities, extra, text)
        return results

    @staticmethod
    def _word_numbers(text: str, encoding: Any) -> list[int]:
        """Each token's word: the tokenizer's word ids where its pre-tokenizer gives them, else runs of tokens
        with nothing between them; a token in Chinese or Japanese script is a word of its own either way."""
        ids = encoding.word_ids
        if ids and all(w is not None for w in ids):
            words = list(ids)
        else:
            words, word, previous_end = [], -1, None
            for begin, end in encoding.offsets:
                if previous_end is None or begin > previous_end or text[previous_end:begin].strip() or begin == end:
                    word += 1
                words.append(word)
                previous_end = end
        cjk = [bool(_CJK.search(text[begin:end])) for begin, end in encoding.offsets]
        numbers, word = [], -1
        for i, own in enumerate(words):
            if i == 0 or own != words[i - 1] or cjk[i] or cjk[i - 1]:
                word += 1
            numbers.append(word)
        return numbers

    def _batches(self, windows: list[_Window]) -> Iterator[list[_Window]]:
        # Windows of like length together, so that little of a batch is padding.
        ordered = sorted(windows, key=lambda w: w.end - w.start)
        for i in range(0, len(ordered), self.batch_size):
            yield ordered[i : i + self.batch_size]

    def _run(self, batch: list[_Window], encodings: list[Any]) -> list[np.ndarray]:
        """Softmax probabilities [tokens, labels] of each window's own tokens (special tokens cut off)."""
        rows = [self._prefix + encodings[w.text].ids[w.start : w.end] + self._suffix for w in batch]
        width = max(len(row) for row in rows)
        input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        attention = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            attention[i, : len(row)] = 1
        feed = {"input_ids": input_ids, "attention_mask": attention}
        if self._token_types:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        logits = np.asarray(self.session.run([self._output], feed)[0], dtype=np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=-1, keepdims=True)
        first = len(self._prefix)
        return [probs[i, first : first + (w.end - w.start)] for i, w in enumerate(batch)]

    def _decode(
        self, text: str, offsets: list[tuple[int, int]], word_of: list[int], probs: np.ndarray
    ) -> list[dict]:
        """Entities of one window: first-token labels per word, joined by their tags (repaired)."""
        # Words of this window: (first token, one past the last token), punctuation at either end cut off.
        spans: list[tuple[int, int]] = []
        for i in range(len(word_of)):
            if i == 0 or word_of[i] != word_of[i - 1]:
                spans.append((i, i + 1))
            else:
                spans[-1] = (spans[-1][0], i + 1)

        def punctuation(i: int) -> bool:
            piece = text[offsets[i][0] : offsets[i][1]].strip()
            return not piece or all(unicodedata.category(c).startswith("P") for c in piece)

        for n, (first, end) in enumerate(spans):
            while first < end - 1 and punctuation(first):
                first += 1
            while end - 1 > first and punctuation(end - 1):
                end -= 1
            spans[n] = (first, end)
        best = probs.argmax(axis=-1)
        entities: list[tuple[str, int, int]] = []  # (model type, first token, end token)
        current: list[Any] | None = None

        def close() -> None:
            nonlocal current
            if current is not None:
                entities.append((current[0], current[1], current[2]))
            current = None

        for first, end in spans:
            prefix, kind = self._tags[int(best[first])]
            if prefix == "O":
                close()
                continue
            continues = current is not None and current[0] == kind and prefix in {"I", "E", "L"}
            if continues:
                assert current is not None
                current[2] = end
            else:
                close()
                current = [kind, first, end]
            if prefix in {"E", "L", "S", "U"}:
                close()
        close()

        found = []
        for kind, first, end in entities:
            reported = self.entity_type(kind)
            if reported is None:
                continue
            begin, finish = offsets[first][0], offsets[end - 1][1]
            # Some tokenizers (SentencePiece's "▁") count the space before a word into its first token.
            while begin < finish and text[begin].isspace():
                begin += 1
            while finish > begin and text[finish - 1].isspace():
                finish -= 1
            if finish <= begin:
                continue
            score = float(probs[first:end][:, self._type_columns[kind]].sum(axis=-1).mean())
            found.append(
                {
                    "BeginOffset": begin,
                    "EndOffset": finish,
                    "Score": _round_score(score),
                    "Text": text[begin:finish],
                    "Type": reported,
                }
            )
        found.sort(key=lambda e: e["BeginOffset"])
        return found


def _round_score(p: float) -> float:
    if math.isnan(p) or p <= 0.0:
        return 0.0
    return min(1.0, float(f"{p:.8g}"))
