"""train_ner(): labelled documents in, a saved entity recognizer and its honest test metrics out."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import spacy
import spacy.util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import compounding

from opencomprehend.nlp.evaluation import Entity, score
from opencomprehend.nlp.training.annotations import Adjustments, entities_of, reference_doc, reference_docs, validated
from opencomprehend.nlp.training.epochs import BATCH_GROWTH, Epoch, dev_split, pretrain_tok2vec, run_epochs
from opencomprehend.nlp.training.pipeline import (
    aux_tag_tokenizer,
    build_pipeline,
    check_output_dir,
    spacy_language,
    training_ops,
    write_atomically,
)
from opencomprehend.nlp.training.records import (
    LabelledDocument,
    TrainingDataError,
    TrainingOptions,
    TrainingReport,
    TrainingStopped,
    type_metrics,
)

logger = logging.getLogger(__name__)


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
    opencomprehend.nlp.ner.spacy_engine is imported, and training.json (the report, the options, and the
    per-epoch history).

    Raises TrainingDataError for unusable documents, TrainingStopped when should_stop() returns True
    (checked between minibatches), FileExistsError when output_dir exists and is not empty, and
    ValueError for a language spaCy has no tokenizer for.
    """
    with training_ops():
        return _train_ner(train, test, language, output_dir, options, should_stop, log, dev)


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
    check_output_dir(output_dir)
    if not train:
        raise TrainingDataError("There are no training documents.", split="train")

    adjust = Adjustments()
    train_entities: list[list[Entity]] = []
    for i, doc in enumerate(train):
        entities, duplicates = validated(doc, i, "train", "document")
        adjust.duplicates += duplicates
        train_entities.append(entities)
    test_entities: list[list[Entity]] = []
    for i, doc in enumerate(test):
        entities, duplicates = validated(doc, i, "test", "test document")
        adjust.duplicates += duplicates
        test_entities.append(entities)
    train_mentions = Counter(kind for entities in train_entities for _, _, kind in entities)
    if not train_mentions:
        raise TrainingDataError("The training documents contain no entities.", split="train")

    spacy.util.fix_random_seed(options.seed)
    nlp = build_pipeline(language, options)
    references = [
        reference_doc(nlp, doc.text, entities, adjust) for doc, entities in zip(train, train_entities, strict=True)
    ]
    if options.aux_tags or options.pretrain_tags:
        copy_aux_tags(references, aux_tag_tokenizer(nlp, options))
    for doc, entities in zip(test, test_entities, strict=True):
        tokens = nlp.make_doc(doc.text)
        adjust.test_misaligned += sum(tokens.char_span(b, e) is None for b, e, _ in entities)
    warnings = adjust.warnings()
    if not test:
        warnings.append("There are no test documents, so the metrics are all 0.")
    for warning in warnings:
        say(f"warning: {warning}")

    if dev is None:
        train_ids, dev_ids = dev_split(len(train), options)
        dev_texts = [references[i].text for i in dev_ids]
        dev_gold = [entities_of(references[i]) for i in dev_ids]
    else:
        train_ids, dev_ids = list(range(len(train))), list(range(len(dev)))
        dev_references = reference_docs(nlp, dev, "dev", "dev document", Adjustments())
        dev_texts = [ref.text for ref in dev_references]
        dev_gold = [entities_of(ref) for ref in dev_references]
    examples = [Example(nlp.make_doc(references[i].text), references[i]) for i in train_ids]
    # With no dev entities F1 cannot rank epochs; every epoch then counts as the best so far.
    use_dev = any(dev_gold)
    words_per_epoch = sum(sum(not t.is_space for t in eg.reference) for eg in examples)

    ner = nlp.get_pipe("ner")
    for kind in sorted({span.label_ for ref in references for span in ref.ents}):
        ner.add_label(kind)
    if options.aux_tags:
        tagger = nlp.get_pipe("tagger")
        for tag in sorted({token.tag_ for ref in references for token in ref if token.tag_}):
            tagger.add_label(tag)
    spacy.util.fix_random_seed(options.seed)
    optimizer = nlp.initialize(lambda: examples[:200])
    if options.pretrain_epochs:
        pretrain_tok2vec(nlp, [eg.reference for eg in examples], options, say, should_stop)
    say(
        f"training {spacy_language(language)} NER on {len(examples)} documents ({words_per_epoch} words), "
        f"{len(dev_ids)} dev, {len(test)} test; labels {', '.join(ner.labels)}"
    )

    history: list[dict] = []

    def on_epoch(done: Epoch) -> None:
        history.append(
            {
                "epoch": done.number,
                "loss": round(done.loss, 3),
                "dev_f1": done.dev_f1,
                "seconds": round(done.elapsed, 1),
            }
        )
        dev_text = "n/a" if done.dev_f1 is None else f"{done.dev_f1:.3f}"
        say(
            f"epoch {done.number}: loss {done.loss:.1f}, dev F1 {dev_text}{' (best)' if done.improved else ''}, "
            f"{words_per_epoch * done.number / max(done.train_seconds, 1e-9):,.0f} words/s, {done.elapsed:.0f} s"
        )

    # spaCy's default schedule: batches of 100 words first (many updates while the model learns the
    # most), growing 0.1% per update to batch_words. A small set gets smaller batches, so that an epoch is
    # always about ten updates or more: 20 short documents would otherwise be one update an epoch.
    small = max(1, words_per_epoch // 10)
    first = min(100, options.batch_words, small)
    # A tie keeps the later, longer-trained weights (a small dev set reaches F1 1.0 within a few epochs,
    # and the first epoch to get there is under-trained) but does not extend training.
    epochs = run_epochs(
        nlp,
        examples,
        options,
        optimizer=optimizer,
        batch_sizes=compounding(float(first), float(max(first, min(options.batch_words, small))), BATCH_GROWTH),
        evaluate=lambda: (score(dev_gold, predict(nlp, dev_texts)).f1 if use_dev else None, None),
        on_epoch=on_epoch,
        started=started,
        should_stop=should_stop,
        keep_ties=True,
    )
    epoch, best_epoch, train_seconds = epochs.last, epochs.best, epochs.train_seconds
    if should_stop():
        raise TrainingStopped("Training was stopped before the model was saved.")
    predicted = predict(nlp, [doc.text for doc in test])
    scores = score(test_entities, predicted)
    test_mentions = Counter(kind for entities in test_entities for _, _, kind in entities)
    report = TrainingReport(
        language=language,
        train_documents=len(train),
        test_documents=len(test),
        precision=scores.precision,
        recall=scores.recall,
        f1=scores.f1,
        types=type_metrics(scores, train_mentions, test_mentions),
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
    write_atomically(nlp, output_dir, extra)
    say(f"test P {report.precision:.3f} R {report.recall:.3f} F1 {report.f1:.3f}; best epoch {best_epoch} of {epoch}")
    return report


def copy_aux_tags(references: Sequence[Doc], tokenizer: Callable[[str], Doc]) -> None:
    """Give each reference token the TAG the aux_tags tokenizer gives it (the tagger's gold; same tokens)."""
    for ref in references:
        for token, tagged in zip(ref, tokenizer(ref.text), strict=True):
            token.tag_ = tagged.tag_


def predict(nlp: Language, texts: Sequence[str]) -> list[list[Entity]]:
    return [entities_of(doc) for doc in nlp.pipe(texts, batch_size=256)]
