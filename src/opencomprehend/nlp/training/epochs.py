"""The epoch loop every training shares (a fresh model, a continued one): shuffle, update in growing
minibatches, score the dev set with the averaged weights, keep the best epoch's weights, stop on patience
or time. Also the seeded dev split and the tok2vec pretraining that may come before."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import spacy
import spacy.util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.training.batchers import minibatch_by_words

from opencomprehend.nlp.training.records import TrainingOptions, TrainingStopped

# Minibatches grow by this factor per update, from 100 words up to TrainingOptions.batch_words.
BATCH_GROWTH = 1.001


def dev_split(n: int, options: TrainingOptions) -> tuple[list[int], list[int]]:
    """Indices of the training and dev documents; the same documents for the same seed."""
    order = list(range(n))
    random.Random(options.seed).shuffle(order)
    n_dev = int(n * options.dev_fraction) if 0 < options.dev_fraction < 1 else 0
    return sorted(order[n_dev:]), sorted(order[:n_dev])


def never() -> bool:
    return False


@dataclass(frozen=True)
class Epoch:
    """One epoch's outcome, for the caller's history and log."""

    number: int
    loss: float  # the NER's summed loss over the epoch's updates
    dev_f1: float | None  # None: no dev entities to score
    dev_detail: Any  # what the caller's evaluate() returned beside the F1
    improved: bool  # its weights are the ones kept so far
    train_seconds: float  # time spent in updates so far (evaluation left out)
    elapsed: float  # seconds since the training started


@dataclass(frozen=True)
class Epochs:
    """How the epoch loop ended: the last epoch run and the best one, whose weights the NER holds now."""

    last: int
    best: int
    best_f1: float
    train_seconds: float


def run_epochs(
    nlp: Language,
    examples: list[Example],
    options: TrainingOptions,
    *,
    optimizer: Any,
    batch_sizes: Any,
    evaluate: Callable[[], tuple[float | None, Any]],
    on_epoch: Callable[[Epoch], None],
    started: float,
    ner_name: str = "ner",
    sgd: Any = None,
    should_stop: Callable[[], bool] = never,
    best: tuple[float, list[bytes]] = (-1.0, []),
    keep_ties: bool = False,
) -> Epochs:
    """Train `nlp` on `examples` for up to options.max_epochs and leave its NER (and a tok2vec it shares) with
    the best epoch's weights.

    Each epoch shuffles the examples (seeded), updates with `sgd` (default: `optimizer`) in minibatches of
    `batch_sizes` words, and then calls evaluate() under the optimizer's averaged parameters (what spaCy
    evaluates and saves too): (dev F1 or None, anything for on_epoch). An epoch whose F1 beats the best
    so far (None always does) is kept; with keep_ties an equal F1 keeps the later, longer-trained weights
    too, but only a gain resets patience. `best` is epoch 0's F1 and weights (a continued model's own, as
    model_weights() gives them).
    Training stops after options.patience epochs without a gain or once options.max_seconds have passed
    since `started`; should_stop() is asked before every minibatch (TrainingStopped).
    """
    rng = random.Random(options.seed)
    best_f1, best_weights = best
    best_epoch, last_gain = 0, 0
    train_seconds = 0.0
    epoch = 0
    for epoch in range(1, options.max_epochs + 1):
        epoch_started = time.perf_counter()
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch_by_words(examples, size=batch_sizes):
            if should_stop():
                raise TrainingStopped(f"Training was stopped during epoch {epoch}.")
            nlp.update(batch, drop=options.dropout, sgd=optimizer if sgd is None else sgd, losses=losses)
        train_seconds += time.perf_counter() - epoch_started
        with nlp.use_params(optimizer.averages):
            dev_f1, detail = evaluate()
            gain = dev_f1 is None or dev_f1 > best_f1
            improved = gain or (keep_ties and dev_f1 >= best_f1)
            if gain:
                last_gain = epoch
            if improved:
                best_f1, best_epoch, best_weights = dev_f1 or 0.0, epoch, model_weights(nlp, ner_name)
        elapsed = time.perf_counter() - started
        on_epoch(Epoch(epoch, float(losses.get(ner_name, 0.0)), dev_f1, detail, improved, train_seconds, elapsed))
        if epoch - last_gain >= options.patience or elapsed >= options.max_seconds:
            break
    set_model_weights(nlp, ner_name, best_weights)
    return Epochs(last=epoch, best=best_epoch, best_f1=best_f1, train_seconds=train_seconds)


def _kept_models(nlp: Language, ner_name: str) -> list[Any]:
    """The models whose weights an epoch keeps: the NER's and, where it listens to a shared tok2vec
    (TrainingOptions.aux_tags), that tok2vec's and those of the other components listening to it."""
    models = {ner_name: nlp.get_pipe(ner_name).model}
    for name, pipe in nlp.pipeline:
        listeners = getattr(pipe, "listening_components", [])
        if ner_name in listeners:
            models[name] = pipe.model
            models.update((other, nlp.get_pipe(other).model) for other in listeners if other in nlp.pipe_names)
    return list(models.values())


def model_weights(nlp: Language, ner_name: str = "ner") -> list[bytes]:
    return [model.to_bytes() for model in _kept_models(nlp, ner_name)]


def set_model_weights(nlp: Language, ner_name: str, weights: list[bytes]) -> None:
    for model, data in zip(_kept_models(nlp, ner_name), weights, strict=True):
        model.from_bytes(data)


def _tag_objective(tok2vec: Any, docs: Sequence[Doc]) -> tuple[Any, Callable]:
    """pretrain_tags: the tok2vec and a softmax over the documents' TAGs, and the objective (ops, docs,
    predictions) -> (loss, gradients) the characters objective has too; tokens without a TAG are left out."""
    from thinc.api import SequenceCategoricalCrossentropy, Softmax, chain, with_array

    tags = sorted({token.tag_ for doc in docs for token in doc if token.tag_})
    loss = SequenceCategoricalCrossentropy(names=tags, missing_value="", normalize=False)

    def objective(ops: Any, batch: Sequence[Doc], predictions: Any) -> tuple[float, Any]:
        gradients, value = loss(predictions, [[token.tag_ for token in doc] for doc in batch])
        return value, gradients

    return chain(tok2vec, with_array(Softmax(nO=len(tags)))), objective


# `spacy pretrain`'s defaults (default_config_pretraining.cfg): the characters objective, batches of 3,000 words.
PRETRAIN_OBJECTIVE = {"maxout_pieces": 3, "hidden_size": 300, "n_characters": 4}
PRETRAIN_BATCH_WORDS = 3000


def pretrain_tok2vec(
    nlp: Language,
    docs: Sequence[Doc],
    options: TrainingOptions,
    say: Callable[[str], None],
    should_stop: Callable[[], bool],
) -> None:
    """Pretrain the NER's own tok2vec (in place) on the training documents, as `spacy pretrain` does (their text
    alone), or with options.pretrain_tags to predict each token's TAG; keep the averaged weights."""
    from spacy.util import registry
    from thinc.api import Adam, set_dropout_rate

    # The parser's "tok2vec" ref is chain(HashEmbedCNN, list2array, Linear); the objective needs the CNN's
    # per-document output, so it wraps the first layer, whose weights the NER shares.
    tok2vec = nlp.get_pipe("ner").model.get_ref("tok2vec").layers[0]
    docs = list(docs)
    spacy.util.fix_random_seed(options.seed)
    if options.pretrain_tags:
        model, objective = _tag_objective(tok2vec, docs)
    else:
        model = registry.architectures.get("spacy.PretrainCharacters.v1")(**PRETRAIN_OBJECTIVE)(nlp.vocab, tok2vec)
        objective = model.attrs["loss"]
    model.initialize(X=docs[:100])
    set_dropout_rate(model, options.dropout)
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
