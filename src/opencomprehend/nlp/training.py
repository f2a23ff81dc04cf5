"""Train a spaCy entity recognizer from labelled documents: custom recognizers and our own language models.

One entry point, train_ner(), serves both CreateEntityRecognizer (a user's annotations, a few hundred
documents, their own types) and the models we train for languages spaCy has no small NER model for
(tens of thousands of sentences from ../shared/data/ner-train). Both need the same things: a pipeline
built from a config that is saved with the model, a held-out dev split to pick the best epoch, honest
metrics on a test set that took no part in training, and a folder that is either complete or absent.

The pipeline is [tokenizer, ner]: spaCy's transition-based NER with its own small CNN tok2vec (hashed
NORM/PREFIX/SUFFIX/SHAPE embeddings, no word vectors), so a trained model is a few MB and loads with
spacy.load() or the "custom.v1" / "spacy.v1" engines. Chinese, Japanese and Korean are tokenized one
character a token (tokenizers.CharTokenizer): no segmenter to install, and an entity glued to a
particle ("서울에서") still starts and ends on token boundaries.

Annotations are validated before any training: an entity outside its text, an empty or whitespace-only
one, or two that overlap make a TrainingDataError that names the document (its 0-based index in the
sequence given) and both spans. Annotations that do not fall on token boundaries are widened to whole
tokens and counted in the report's warnings, because users annotate characters, not our tokens.

Metrics are entity-level exact matches (opencomprehend.nlp.evaluation) of the character offsets the
trained model predicts against the test documents' annotations exactly as given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
import spacy.util
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.training.batchers import minibatch_by_words
from thinc.api import Config, compounding, use_ops

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # optional: see _one_blas_thread
    threadpool_limits = None

# Registers "opencomprehend.CharTokenizer.v1", which the configs of zh/ja/ko models name.
from opencomprehend.nlp import spacy_engine  # noqa: F401
from opencomprehend.nlp.evaluation import Entity, Scores, score

logger = logging.getLogger(__name__)

# Languages written without spaces between words: tokenized one character a token. "zh-TW" is Chinese
# in Traditional script; spaCy's language is "zh" for both.
CHAR_TOKENIZED_LANGUAGES = frozenset({"zh", "ja", "ko"})

# The pipeline every model is built from. Values that depend on the language or the options are set by
# _pipeline_config(); everything else is spaCy's default NER architecture (the one en_core_web_sm's NER
# uses), filled in and saved as the model's config.cfg.
CONFIG_TEMPLATE = """
[paths]
train = null
dev = null
vectors = null
init_tok2vec = null

[system]
seed = 0
gpu_allocator = null

[nlp]
lang = "en"
pipeline = ["ner"]
batch_size = 256

[nlp.tokenizer]
@tokenizers = "spacy.Tokenizer.v1"

[components]

[components.ner]
factory = "ner"
incorrect_spans_key = null
moves = null
scorer = {"@scorers":"spacy.ner_scorer.v1"}
update_with_oracle_cut_size = 100

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 64
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true

[training]
seed = ${system.seed}
gpu_allocator = ${system.gpu_allocator}
dropout = 0.1

[training.optimizer]
@optimizers = "Adam.v1"
beta1 = 0.9
beta2 = 0.999
L2_is_weight_decay = true
L2 = 0.01
grad_clip = 1.0
use_averages = true
eps = 0.00000001
learn_rate = 0.001
"""


# Minibatches grow by this factor per update, from 100 words up to TrainingOptions.batch_words.
BATCH_GROWTH = 1.001

# ------------------------------------------------------------------------------------------ interface


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


# ------------------------------------------------------------------------------------------- pipeline


def spacy_language(language: str) -> str:
    """spaCy's language code for a Comprehend language code ("zh-TW" -> "zh")."""
    return language.split("-")[0].lower()


def _pipeline_config(language: str, options: TrainingOptions) -> Config:
    config = Config().from_str(CONFIG_TEMPLATE, interpolate=False)
    lang = spacy_language(language)
    config["nlp"]["lang"] = lang
    if lang in CHAR_TOKENIZED_LANGUAGES:
        version = "v2" if options.char_bigrams else "v1"
        config["nlp"]["tokenizer"] = {"@tokenizers": f"opencomprehend.CharTokenizer.{version}"}
    config["system"]["seed"] = options.seed
    config["training"]["dropout"] = options.dropout
    tok2vec = config["components"]["ner"]["model"]["tok2vec"]
    tok2vec["width"] = options.width
    tok2vec["depth"] = options.depth
    tok2vec["embed_size"] = options.embed_rows
    tok2vec["window_size"] = options.window_size
    config["components"]["ner"]["model"]["hidden_width"] = options.hidden_width
    return config


def build_pipeline(language: str, options: TrainingOptions | None = None) -> Language:
    """A fresh, untrained [tokenizer, ner] pipeline for `language` (ValueError if spaCy lacks it)."""
    options = options or TrainingOptions()
    try:
        spacy.util.get_lang_class(spacy_language(language))
    except ImportError:
        raise ValueError(f"Cannot train an entity recognizer for language '{language}'.") from None
    return spacy.util.load_model_from_config(_pipeline_config(language, options), auto_fill=True, validate=True)


# ---------------------------------------------------------------------------------------- annotations


def _quote(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _validated(doc: LabelledDocument, index: int, split: str, label: str) -> tuple[list[Entity], int]:
    """The document's entities sorted by offset, exact duplicates removed (and counted)."""

    def problem(what: str) -> TrainingDataError:
        return TrainingDataError(f"{label} {index}: {what}", document=index, split=split)

    n = len(doc.text)
    entities = []
    for entity in doc.entities:
        if len(entity) != 3:
            raise problem(f"entity {entity!r} is not (begin, end, type)")
        begin, end, kind = entity
        if any(not isinstance(x, int) or isinstance(x, bool) for x in (begin, end)):
            raise problem(f"entity {entity!r} has offsets that are not integers")
        if not isinstance(kind, str) or not kind.strip():
            raise problem(f"entity {begin}-{end} has no type")
        if begin < 0 or end > n:
            raise problem(f"entity {begin}-{end} ({kind}) is outside the text, which has {n} characters")
        if begin >= end:
            raise problem(f"entity {begin}-{end} ({kind}) is empty (begin must be less than end)")
        if not doc.text[begin:end].strip():
            raise problem(f"entity {begin}-{end} ({kind}) covers only whitespace")
        entities.append((begin, end, kind))
    unique = sorted(set(entities))
    # Sorted by begin, an entity overlaps an earlier one exactly when it starts before the furthest end.
    furthest: Entity | None = None
    for entity in unique:
        if furthest is not None and entity[0] < furthest[1]:
            a, b = furthest, entity
            raise problem(
                f"entity {a[0]}-{a[1]} {_quote(doc.text[a[0] : a[1]])} ({a[2]}) overlaps "
                f"entity {b[0]}-{b[1]} {_quote(doc.text[b[0] : b[1]])} ({b[2]})"
            )
        if furthest is None or entity[1] > furthest[1]:
            furthest = entity
    return unique, len(entities) - len(unique)


@dataclass
class _Adjustments:
    duplicates: int = 0
    trimmed: int = 0
    widened: int = 0
    collided: int = 0
    test_misaligned: int = 0

    def warnings(self) -> list[str]:
        found = []
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate annotations (same span and type) were counted once")
        if self.trimmed:
            found.append(f"{self.trimmed} annotations had leading or trailing whitespace, which was left out")
        if self.widened:
            found.append(
                f"{self.widened} annotations did not fall on token boundaries and were widened to whole tokens"
            )
        if self.collided:
            found.append(
                f"{self.collided} annotations shared a token with another annotation once widened to whole "
                "tokens; they were left out and their tokens were not trained on"
            )
        if self.test_misaligned:
            found.append(
                f"{self.test_misaligned} test annotations do not fall on token boundaries, so the model cannot "
                "match them exactly"
            )
        return found


def _reference_doc(nlp: Language, text: str, entities: list[Entity], adjust: _Adjustments) -> Doc:
    """The tokenized text with the annotations as doc.ents: the training target."""
    doc = nlp.make_doc(text)
    spans: list[Span] = []
    for begin, end, kind in entities:
        piece = text[begin:end]
        b, e = begin + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())
        adjust.trimmed += (b, e) != (begin, end)
        span = doc.char_span(b, e, label=kind)
        if span is None:
            span = doc.char_span(b, e, label=kind, alignment_mode="expand")
            adjust.widened += 1
        spans.append(span)
    # Validated annotations do not overlap, but two of them inside one token ("foo" and "bar" in
    # "foo-bar") do once widened. Neither can be represented, so both become "missing": no loss on
    # their tokens, rather than a wrong label or a wrong "O".
    kept: list[Span] = []
    missing: list[Span] = []
    i = 0
    while i < len(spans):
        j, end = i + 1, spans[i].end
        while j < len(spans) and spans[j].start < end:
            end = max(end, spans[j].end)
            j += 1
        if j - i == 1:
            kept.append(spans[i])
        else:
            adjust.collided += j - i
            missing.append(doc[spans[i].start : end])
        i = j
    doc.set_ents(kept, missing=missing, default="outside")
    return doc


def _entities_of(doc: Doc) -> list[Entity]:
    return [(span.start_char, span.end_char, span.label_) for span in doc.ents]


# ------------------------------------------------------------------------------------------- training


def _dev_split(n: int, options: TrainingOptions) -> tuple[list[int], list[int]]:
    """Indices of the training and dev documents; the same documents for the same seed."""
    order = list(range(n))
    random.Random(options.seed).shuffle(order)
    n_dev = int(n * options.dev_fraction) if 0 < options.dev_fraction < 1 else 0
    return sorted(order[n_dev:]), sorted(order[:n_dev])


def _predict(nlp: Language, texts: Sequence[str]) -> list[list[Entity]]:
    return [_entities_of(doc) for doc in nlp.pipe(texts, batch_size=256)]


def _check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise FileExistsError(f"{output_dir} already exists and is not an empty folder.")


def _write_atomically(nlp: Language, output_dir: Path, extra: dict) -> None:
    """Write the model to a temporary sibling folder and rename it into place when complete."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", suffix=".partial", dir=output_dir.parent))
    try:
        nlp.to_disk(tmp)
        (tmp / "training.json").write_text(json.dumps(extra, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _check_output_dir(output_dir)
        if output_dir.exists():
            output_dir.rmdir()
        os.rename(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def train_ner(
    train: Sequence[LabelledDocument],
    test: Sequence[LabelledDocument],
    language: str,
    output_dir: Path,
    options: TrainingOptions = TrainingOptions(),  # noqa: B008 - read, never mutated
    should_stop: Callable[[], bool] = lambda: False,
    log: Callable[[str], None] | None = None,
    dev: Sequence[LabelledDocument] | None = None,
) -> TrainingReport:
    """Train an entity recognizer on `train`, evaluate it on `test`, and save it to `output_dir`.

    A share of `train` (options.dev_fraction, chosen with options.seed) is held out to pick the best
    epoch and to stop early, unless `dev` is given: then every training document is trained on and `dev`
    (e.g. a gold dev split) picks the epoch instead. `test` is only used to measure the chosen model.
    The folder is written only when everything succeeded, atomically: it holds spaCy's model
    (config.cfg, meta.json, ner/, tokenizer, vocab/), loadable with spacy.load() once
    opencomprehend.nlp.spacy_engine is imported, and training.json (the report, the options, and the per-epoch history).

    Raises TrainingDataError for unusable documents, TrainingStopped when should_stop() returns True
    (checked between minibatches), FileExistsError when output_dir exists and is not empty, and
    ValueError for a language spaCy has no tokenizer for.
    """
    # thinc multiplies matrices with blis by default, whose build picks a generic kernel on CPUs it does
    # not recognise (this host's AMD EPYC: ~20 GFLOPS against ~65 for numpy's OpenBLAS on one core), so
    # training uses numpy's BLAS: 2.7x the words/s here. One BLAS thread: the matrices are small, two
    # threads ran 3x slower than one when other work shared the two cores, and a fixed thread count keeps
    # runs reproducible across machines. Only the models built in this block use these ops.
    with use_ops("numpy", use_blis=False), _one_blas_thread():
        return _train_ner(train, test, language, output_dir, options, should_stop, log, dev)


def _one_blas_thread() -> contextlib.AbstractContextManager:
    if threadpool_limits is None:
        # Without threadpoolctl, OpenBLAS keeps the thread count it started with (OPENBLAS_NUM_THREADS).
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _train_ner(
    train: Sequence[LabelledDocument],
    test: Sequence[LabelledDocument],
    language: str,
    output_dir: Path,
    options: TrainingOptions,
    should_stop: Callable[[], bool],
    log: Callable[[str], None] | None,
    dev: Sequence[LabelledDocument] | None = None,
) -> TrainingReport:
    started = time.perf_counter()
    output_dir = Path(output_dir)
    say = log or logger.info
    _check_output_dir(output_dir)
    if not train:
        raise TrainingDataError("There are no training documents.", split="train")

    adjust = _Adjustments()
    train_entities: list[list[Entity]] = []
    for i, doc in enumerate(train):
        entities, duplicates = _validated(doc, i, "train", "document")
        adjust.duplicates += duplicates
        train_entities.append(entities)
    test_entities: list[list[Entity]] = []
    for i, doc in enumerate(test):
        entities, duplicates = _validated(doc, i, "test", "test document")
        adjust.duplicates += duplicates
        test_entities.append(entities)
    train_mentions = Counter(kind for entities in train_entities for _, _, kind in entities)
    if not train_mentions:
        raise TrainingDataError("The training documents contain no entities.", split="train")

    spacy.util.fix_random_seed(options.seed)
    nlp = build_pipeline(language, options)
    references = [
        _reference_doc(nlp, doc.text, entities, adjust) for doc, entities in zip(train, train_entities, strict=True)
    ]
    for doc, entities in zip(test, test_entities, strict=True):
        tokens = nlp.make_doc(doc.text)
        adjust.test_misaligned += sum(tokens.char_span(b, e) is None for b, e, _ in entities)
    warnings = adjust.warnings()
    if not test:
        warnings.append("There are no test documents, so the metrics are all 0.")
    for warning in warnings:
        say(f"warning: {warning}")

    if dev is None:
        train_ids, dev_ids = _dev_split(len(train), options)
        dev_texts = [references[i].text for i in dev_ids]
        dev_gold = [_entities_of(references[i]) for i in dev_ids]
    else:
        train_ids, dev_ids = list(range(len(train))), list(range(len(dev)))
        dev_references = []
        for i, doc in enumerate(dev):
            entities, _duplicates = _validated(doc, i, "dev", "dev document")
            dev_references.append(_reference_doc(nlp, doc.text, entities, _Adjustments()))
        dev_texts = [ref.text for ref in dev_references]
        dev_gold = [_entities_of(ref) for ref in dev_references]
    examples = [Example(nlp.make_doc(references[i].text), references[i]) for i in train_ids]
    # With no dev entities F1 cannot rank epochs; every epoch then counts as the best so far.
    use_dev = any(dev_gold)
    words_per_epoch = sum(sum(not t.is_space for t in eg.reference) for eg in examples)

    ner = nlp.get_pipe("ner")
    for kind in sorted({span.label_ for ref in references for span in ref.ents}):
        ner.add_label(kind)
    spacy.util.fix_random_seed(options.seed)
    optimizer = nlp.initialize(lambda: examples[:200])
    if options.pretrain_epochs:
        _pretrain_tok2vec(nlp, [eg.reference.text for eg in examples], options, say, should_stop)
    say(
        f"training {spacy_language(language)} NER on {len(examples)} documents ({words_per_epoch} words), "
        f"{len(dev_ids)} dev, {len(test)} test; labels {', '.join(ner.labels)}"
    )

    rng = random.Random(options.seed)
    # spaCy's default schedule: batches of 100 words first (many updates while the model learns the
    # most), growing 0.1% per update to batch_words. A small set gets smaller batches, so that an epoch is
    # always about ten updates or more: 20 short documents would otherwise be one update an epoch.
    small = max(1, words_per_epoch // 10)
    first = min(100, options.batch_words, small)
    batch_sizes = compounding(float(first), float(max(first, min(options.batch_words, small))), BATCH_GROWTH)
    history: list[dict] = []
    # best_epoch is the epoch whose weights are kept; last_gain the last epoch that raised dev F1, from
    # which patience counts. A tie keeps the later, longer-trained weights (a small dev set reaches F1 1.0
    # within a few epochs, and the first epoch to get there is under-trained) but does not extend training.
    best_f1, best_epoch, last_gain, best_weights = -1.0, 0, 0, b""
    train_seconds = 0.0
    epoch = 0
    for epoch in range(1, options.max_epochs + 1):
        epoch_started = time.perf_counter()
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch_by_words(examples, size=batch_sizes):
            if should_stop():
                raise TrainingStopped(f"Training was stopped during epoch {epoch}.")
            nlp.update(batch, drop=options.dropout, sgd=optimizer, losses=losses)
        train_seconds += time.perf_counter() - epoch_started
        # Averaged parameters (Adam with use_averages) are what spaCy evaluates and saves too.
        with nlp.use_params(optimizer.averages):
            dev_f1 = score(dev_gold, _predict(nlp, dev_texts)).f1 if use_dev else None
            improved = dev_f1 is None or dev_f1 >= best_f1
            if dev_f1 is None or dev_f1 > best_f1:
                last_gain = epoch
            if improved:
                best_f1, best_epoch, best_weights = dev_f1 or 0.0, epoch, ner.model.to_bytes()
        elapsed = time.perf_counter() - started
        history.append(
            {
                "epoch": epoch,
                "loss": round(float(losses.get("ner", 0.0)), 3),
                "dev_f1": dev_f1,
                "seconds": round(elapsed, 1),
            }
        )
        dev_text = "n/a" if dev_f1 is None else f"{dev_f1:.3f}"
        say(
            f"epoch {epoch}: loss {losses.get('ner', 0.0):.1f}, dev F1 {dev_text}{' (best)' if improved else ''}, "
            f"{words_per_epoch * epoch / max(train_seconds, 1e-9):,.0f} words/s, {elapsed:.0f} s"
        )
        if epoch - last_gain >= options.patience or elapsed >= options.max_seconds:
            break

    ner.model.from_bytes(best_weights)
    if should_stop():
        raise TrainingStopped("Training was stopped before the model was saved.")
    predicted = _predict(nlp, [doc.text for doc in test])
    scores = score(test_entities, predicted)
    test_mentions = Counter(kind for entities in test_entities for _, _, kind in entities)
    report = TrainingReport(
        language=language,
        train_documents=len(train),
        test_documents=len(test),
        precision=scores.precision,
        recall=scores.recall,
        f1=scores.f1,
        types=_type_metrics(scores, train_mentions, test_mentions),
        warnings=warnings,
        epochs=epoch,
        seconds=round(time.perf_counter() - started, 3),
    )
    nlp.meta.update(
        {
            "name": "opencomprehend_ner",
            "description": f"Entity recognizer trained by opencomprehend for {language}",
            "performance": {
                "ents_p": scores.precision,
                "ents_r": scores.recall,
                "ents_f": scores.f1,
                "ents_per_type": {t: {"p": c.precision, "r": c.recall, "f": c.f1} for t, c in scores.types.items()},
            },
        }
    )
    extra = {
        **report.to_dict(),
        "options": dataclasses.asdict(options),
        "best_epoch": best_epoch,
        "dev_documents": len(dev_ids),
        "train_words_per_second": round(words_per_epoch * epoch / max(train_seconds, 1e-9)),
        "history": history,
        "spacy_version": spacy.__version__,
    }
    _write_atomically(nlp, output_dir, extra)
    say(f"test P {report.precision:.3f} R {report.recall:.3f} F1 {report.f1:.3f}; best epoch {best_epoch} of {epoch}")
    return report


# `spacy pretrain`'s defaults (default_config_pretraining.cfg): the characters objective, batches of 3,000 words.
PRETRAIN_OBJECTIVE = {"maxout_pieces": 3, "hidden_size": 300, "n_characters": 4}
PRETRAIN_BATCH_WORDS = 3000


def _pretrain_tok2vec(
    nlp: Language,
    texts: Sequence[str],
    options: TrainingOptions,
    say: Callable[[str], None],
    should_stop: Callable[[], bool],
) -> None:
    """Pretrain the NER's own tok2vec (in place) on raw text, as `spacy pretrain` does; keep the averaged weights."""
    from spacy.util import registry
    from thinc.api import Adam, set_dropout_rate

    # The parser's "tok2vec" ref is chain(HashEmbedCNN, list2array, Linear); the objective needs the CNN's
    # per-document output, so it wraps the first layer, whose weights the NER shares.
    tok2vec = nlp.get_pipe("ner").model.get_ref("tok2vec").layers[0]
    docs = [nlp.make_doc(text) for text in texts]
    spacy.util.fix_random_seed(options.seed)
    model = registry.architectures.get("spacy.PretrainCharacters.v1")(**PRETRAIN_OBJECTIVE)(nlp.vocab, tok2vec)
    model.initialize(X=docs[:100])
    set_dropout_rate(model, options.dropout)
    objective = model.attrs["loss"]
    optimizer = Adam(0.001, L2=0.01, grad_clip=1.0, use_averages=True)
    rng = random.Random(options.seed)
    started = time.perf_counter()
    words = sum(len(doc) for doc in docs)
    for epoch in range(1, options.pretrain_epochs + 1):
        rng.shuffle(docs)
        total = 0.0
        for batch in minibatch_by_words(docs, size=PRETRAIN_BATCH_WORDS):
            if should_stop():
                raise TrainingStopped(f"Training was stopped during pretraining epoch {epoch}.")
            predictions, backprop = model.begin_update(batch)
            loss, gradients = objective(model.ops, batch, predictions)
            backprop(gradients)
            model.finish_update(optimizer)
            total += float(loss)
        elapsed = time.perf_counter() - started
        speed = words * epoch / max(elapsed, 1e-9)
        say(f"pretraining epoch {epoch}: loss {total:.1f}, {speed:,.0f} words/s, {elapsed:.0f} s")
    with model.use_params(optimizer.averages):
        weights = tok2vec.to_bytes()
    tok2vec.from_bytes(weights)


def _type_metrics(scores: Scores, train_mentions: Counter, test_mentions: Counter) -> dict[str, TypeMetrics]:
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


__all__ = [
    "CHAR_TOKENIZED_LANGUAGES",
    "LabelledDocument",
    "TrainingDataError",
    "TrainingOptions",
    "TrainingReport",
    "TrainingStopped",
    "TypeMetrics",
    "build_pipeline",
    "read_jsonl",
    "spacy_language",
    "train_ner",
]
