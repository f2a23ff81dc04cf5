"""What a training takes and gives: labelled documents, the options, the report, and the errors it raises."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from opencomprehend.nlp.evaluation import Scores


@dataclass(frozen=True)
class LabelledDocument:
    """A text and its entities: (begin, end, type) with code-point offsets, end exclusive."""

    text: str
    entities: tuple[tuple[int, int, str], ...]


class TrainingDataError(Exception):
    """The documents cannot be trained on; the message says what and where.

    `document` is the 0-based index of the offending document in the sequence it came in, and `split`
    is "train" or "test" (None for problems with a whole set).
    """

    def __init__(self, message: str, *, document: int | None = None, split: str | None = None) -> None:
        super().__init__(message)
        self.document = document
        self.split = split


class TrainingStopped(Exception):
    """should_stop() returned True; nothing was written."""


@dataclass
class TypeMetrics:
    precision: float
    recall: float
    f1: float
    train_mentions: int
    test_mentions: int


@dataclass
class TrainingReport:
    """What a training run produced, measured on the test documents (never used to choose the model)."""

    language: str
    train_documents: int
    test_documents: int
    precision: float
    recall: float
    f1: float
    types: dict[str, TypeMetrics]
    warnings: list[str]
    epochs: int
    seconds: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrainingOptions:
    """How to train.

    The defaults, measured on this project's 2-core machine with ner-train/wikiann-de (test on
    ner/wikiann-de/test.jsonl): 2,000 sentences train in 40 s (test F1 0.57), 10,000 in 7.5 min (0.71),
    all 19,277 in 12 min (0.76, 26 epochs), at ~6,500 words/s; the saved model is 4-5 MB. A 300-document
    custom recognizer (CoNLL sentences) trains in 14 s. embed_rows=5000 gave no better F1 on 10,000
    sentences (0.710) for a 7.6 MB model.
    """

    max_epochs: int = 30
    # Checked after each epoch: training stops after the epoch that crosses it.
    max_seconds: float = 900.0
    # Epochs without a dev-F1 improvement before stopping.
    patience: int = 4
    seed: int = 0
    dropout: float = 0.2
    # The largest minibatch, in words (non-space tokens). Batches start at 100 words (fewer for a very
    # small set) and grow by BATCH_GROWTH per update: spaCy's default schedule.
    batch_words: int = 1000
    # The CNN tok2vec: token vector width, convolution layers, and rows of the NORM hash embedding
    # (PREFIX, SUFFIX and SHAPE get half as many each).
    width: int = 96
    depth: int = 4
    embed_rows: int = 2000
    # Tokens on each side that one convolution layer sees (the receptive field is depth * window_size on
    # each side), and the width of the NER parser's hidden layer.
    window_size: int = 1
    hidden_width: int = 64
    # Epochs of pretraining the tok2vec on the training documents' own text before NER training (spaCy's
    # "characters" objective, as `spacy pretrain` with spacy.PretrainCharacters.v1: predict the first and
    # last characters of masked words); 0: none. Seeded, and counted in max_seconds.
    pretrain_epochs: int = 0
    # Share of the training documents held out (seeded) to choose the best epoch; the test set never is.
    dev_fraction: float = 0.1
    # zh, ja, ko: each character's NORM is its bigram with the next character ("opencomprehend.CharTokenizer.v2").
    char_bigrams: bool = False
    # zh, ja, ko: each character also carries its word's position and part of speech (TAG) and the word's
    # normalized form (LEMMA), from the word segmenter named here (tokenizers.WORD_SEGMENTERS: "sudachi" for
    # ja, needs sudachipy and sudachidict-core; "jieba" for zh, needs jieba; "kiwi" for ko, needs the ko-kiwi
    # extra), which the tok2vec embeds beside the character; "": none.
    words: str = ""
    # With words: embed the word's normalized form (LEMMA) too; False embeds only its position and part of
    # speech (TAG), which cannot memorise the training set's words.
    word_lemma: bool = True
    # With words = "sudachi": its split mode, "A" (shortest units), "B" or "C" (longest: 東京都千代田区 is one word).
    sudachi_split_mode: str = "C"
    # With words = "kiwi": load Kiwi's default dictionary (proper nouns from Wikipedia and Namuwiki, ~70 MB
    # resident) on top of its model.
    kiwi_default_dict: bool = True
    # With words = "jieba": let jieba's HMM join characters its dictionary does not know into words (unknown
    # names); False: dictionary words only, every other character a word of its own.
    jieba_hmm: bool = True
    # Multi-task training: a tagger learns to predict each character's TAG from the word segmenter named here
    # (as `words`: "kiwi" for ko) from a tok2vec it shares with the NER, so the NER's encoder learns the words
    # without the segmenter at run time. Only the training documents are segmented; the model reads text with
    # the plain CharTokenizer, and the engine loads no tagger (its NER needs only the tok2vec). "": none.
    aux_tags: str = ""
    # With pretrain_epochs: pretrain the NER's own tok2vec to predict each character's TAG from the word segmenter
    # named here (as aux_tags, training documents only) instead of spaCy's characters objective; "": characters.
    pretrain_tags: str = ""


def type_metrics(scores: Scores, train_mentions: Counter, test_mentions: Counter) -> dict[str, TypeMetrics]:
    kinds = sorted(set(train_mentions) | set(test_mentions) | set(scores.types))
    metrics = {}
    for kind in kinds:
        counts = scores.types.get(kind)
        metrics[kind] = TypeMetrics(
            precision=counts.precision if counts else 0.0,
            recall=counts.recall if counts else 0.0,
            f1=counts.f1 if counts else 0.0,
            train_mentions=train_mentions[kind],
            test_mentions=test_mentions[kind],
        )
    return metrics


def read_jsonl(path: Path, limit: int | None = None) -> list[LabelledDocument]:
    """Documents from a JSON-lines file of the shared format ({"text", "entities": [{begin, end, type}]}).

    Blank lines are skipped. A line that is not such an object raises ValueError naming the file and line.
    """
    documents = []
    with Path(path).open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if limit is not None and len(documents) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                entities = tuple((e["begin"], e["end"], e["type"]) for e in row.get("entities", []))
                documents.append(LabelledDocument(row["text"], entities))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(
                    f'{path}, line {number}: expected {{"text": ..., "entities": [{{"begin", "end", "type"}}]}} '
                    f"({type(exc).__name__}: {exc})"
                ) from None
    return documents
