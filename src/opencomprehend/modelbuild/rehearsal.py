"""Continue training an existing spaCy NER (e.g. en_core_web_sm) on gold sets, rehearsing on its own predictions.

The gold sets we may train on (../shared/data/ner-train) mark a few types only (English: people, places,
organisations; MultiCoNER also creative works and products), while a model such as en_core_web_sm
answers OntoNotes' 18 labels (DATE, MONEY, NORP, EVENT, ...). Fine-tuning it on the gold sets alone
would teach it that dates and nationalities are "no entity" and it would forget them. So every training
sentence is labelled twice:

- gold: the set's spans, with each Comprehend type expressed as one of the base model's labels
  (BaseModel.labels: LOCATION -> GPE, LOC or FAC; the base model's own choice among them when it found
  exactly that span, else the first);
- silver: the ORIGINAL base model's predictions on the same text (computed once, before any update),
  kept only where the set says nothing: their Comprehend type is one the set does not annotate
  (DATE in a set of PER/LOC/ORG) and they overlap no gold span. Gold overrides silver, and a base
  prediction of a type the set does annotate, which the gold does not confirm, is dropped (the gold
  says it is no entity).

The model then continues from the base model's weights on that mix (only the NER component is loaded,
updated and saved), with a small learning rate, and the epoch is picked on a gold dev split built the
same way (never on an evaluation set). What is saved is [tokenizer, ner]: the base model's tokenizer,
vocabulary (with its NORM lookups) and the updated NER, loadable by the "spacy.v1" engine, whose label
map turns the OntoNotes labels into Comprehend types.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opencomprehend.nlp.evaluation import Entity, score
from opencomprehend.nlp.ner.labels import comprehend_type


@dataclass(frozen=True)
class BaseModel:
    """The model to continue from, and how the recipe's Comprehend types are written in its labels."""

    model: str  # a package name or a folder
    licence: str = ""
    description: str = ""
    # Comprehend type -> the base model's labels for it; a gold span of that type takes the base
    # model's own label for the same span if it is one of these, else the first.
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    learn_rate: float = 0.0005
    # Train on the rehearsal mix (True) or on the gold spans only (False, to measure forgetting).
    rehearse: bool = True
    # Also keep the base model's spans of the types the set DOES annotate where they overlap no gold span
    # (the gold then only adds and corrects spans, never deletes one): for gold sets that are less
    # exhaustive than OntoNotes. True: every annotated type; a list: only those Comprehend types.
    keep_unconfirmed: bool | tuple[str, ...] = False
    # A gold span the base model found with a leading "the" ("the White House", as OntoNotes marks it;
    # UNER and CoNLL leave it out) keeps the base model's span, so its boundaries are not retaught.
    base_articles: bool = False
    # "additive": the gold only adds what the base model missed (a gold span that overlaps none of its
    # spans) and corrects the type of a span it found exactly; every other base span stays as it is
    # (its boundaries, the spans no gold confirms). "override" (default): gold replaces the base model
    # on the types the set marks, as described in the module docstring.
    gold_mode: str = "override"
    # "adam" (spaCy's default, fresh moments: every weight moves by about learn_rate a step) or "sgd"
    # (plain gradient steps, which leave the weights the loss barely touches where they are).
    optimizer: str = "adam"
    # Weight-space interpolation (WiSE-FT, Wortsman et al. 2022): the saved weights are
    # (1 - interpolate) * base + interpolate * fine-tuned, every parameter of the NER; 1.0 keeps the fine-tuned ones.
    interpolate: float = 1.0
    # Leave the NER's own tok2vec (embeddings and CNN) as the base model has it; only the parser layers learn.
    freeze_tok2vec: bool = False


def parse_base(raw: dict, where: str) -> BaseModel:
    try:
        labels = {str(k): tuple(str(x) for x in ([v] if isinstance(v, str) else v)) for k, v in raw["labels"].items()}
        return BaseModel(
            model=str(raw["model"]),
            licence=str(raw.get("licence", "")),
            description=str(raw.get("description", "")),
            labels=labels,
            learn_rate=float(raw.get("learn_rate", 0.0005)),
            rehearse=bool(raw.get("rehearse", True)),
            keep_unconfirmed=_keep(raw.get("keep_unconfirmed", False)),
            base_articles=bool(raw.get("base_articles", False)),
            freeze_tok2vec=bool(raw.get("freeze_tok2vec", False)),
            gold_mode=_gold_mode(raw.get("gold_mode", "override"), where),
            optimizer=_optimizer_name(raw.get("optimizer", "adam"), where),
            interpolate=float(raw.get("interpolate", 1.0)),
        )
    except KeyError as exc:
        raise ValueError(f"{where}: missing key {exc}") from None


def _keep(value) -> bool | tuple[str, ...]:
    return bool(value) if isinstance(value, bool) else tuple(str(x) for x in value)


def _optimizer_name(value, where: str) -> str:
    if value not in ("adam", "sgd"):
        raise ValueError(f'{where}: optimizer must be "adam" or "sgd", not {value!r}')
    return str(value)


def _gold_mode(value, where: str) -> str:
    if value not in ("override", "additive"):
        raise ValueError(f'{where}: gold_mode must be "override" or "additive", not {value!r}')
    return str(value)


def additive_entities(
    gold: Sequence[tuple[int, int, str]],
    silver: Sequence[tuple[int, int, str]],
    base_labels: dict[str, tuple[str, ...]],
) -> tuple[list[tuple[int, int, str]], Counter]:
    """gold_mode = "additive": the base model's spans, with the gold's types on exact matches, plus the gold
    spans that overlap none of them."""
    counts: Counter = Counter()
    exact = {(b, e): kind for b, e, kind in gold}
    out = []
    for b, e, label in silver:
        kind = exact.get((b, e))
        if kind is not None and comprehend_type(label) != kind:
            choices = base_labels.get(kind)
            if not choices:
                raise ValueError(f"no base-model label for gold type {kind!r} (add it to [base].labels)")
            label = choices[0]
            counts["type corrected by gold"] += 1
        out.append((b, e, label))
        counts[f"silver:{label}"] += 1
    for b, e, kind in gold:
        if not any(_overlaps((b, e), (sb, se)) for sb, se, _ in silver):
            choices = base_labels.get(kind)
            if not choices:
                raise ValueError(f"no base-model label for gold type {kind!r} (add it to [base].labels)")
            out.append((b, e, choices[0]))
            counts["gold added"] += 1
        elif (b, e) not in {(sb, se) for sb, se, _ in silver}:
            counts["gold boundary dispute (base kept)"] += 1
    return sorted(out), counts


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def rehearsal_entities(
    gold: Sequence[tuple[int, int, str]],
    silver: Sequence[tuple[int, int, str]],
    annotated: set[str],
    base_labels: dict[str, tuple[str, ...]],
    rehearse: bool = True,
    keep_unconfirmed: bool | tuple[str, ...] = False,
    text: str | None = None,
) -> tuple[list[tuple[int, int, str]], Counter]:
    """One sentence's training target in the base model's labels: gold spans plus the silver the set is silent on.

    gold: (begin, end, Comprehend type); silver: (begin, end, base label); annotated: the Comprehend
    types the gold set marks; with keep_unconfirmed (True, or a list of types), silver of those types is
    kept too where it overlaps no gold span. With `text`, a gold span that the base model found with a
    leading "the" takes the base model's span. Returns the entities and a count of what was kept
    ("gold", "silver:DATE").
    """
    counts: Counter = Counter()
    if text is not None:
        # base_articles: "White House" (gold) -> "the White House" where the base model found that, same type.
        starts = {(e, comprehend_type(label)): b for b, e, label in silver}
        widened = []
        for b, e, kind in gold:
            b2 = starts.get((e, kind))
            if b2 is not None and b2 < b and text[b2:b].lower() == "the ":
                counts["gold widened to the base model's 'the'"] += 1
                b = b2
            widened.append((b, e, kind))
        gold = widened
    by_span = {(b, e): label for b, e, label in silver}
    out = []
    for b, e, kind in gold:
        choices = base_labels.get(kind)
        if not choices:
            raise ValueError(f"no base-model label for gold type {kind!r} (add it to [base].labels)")
        own = by_span.get((b, e))
        out.append((b, e, own if own in choices else choices[0]))
        counts["gold"] += 1
    if rehearse:
        for b, e, label in silver:
            kind = comprehend_type(label)
            if kind in annotated and not (keep_unconfirmed is True or (keep_unconfirmed and kind in keep_unconfirmed)):
                continue
            if any(_overlaps((b, e), (gb, ge)) for gb, ge, _ in gold):
                if not any((b, e) == (gb, ge) for gb, ge, _ in gold):
                    counts["silver dropped (overlaps gold)"] += 1
                continue
            out.append((b, e, label))
            counts[f"silver:{label}"] += 1
            if kind in annotated:
                counts["silver unconfirmed"] += 1
    return sorted(out), counts


class _Frozen:
    """An optimizer that leaves the parameters of some model nodes (by id) unchanged."""

    def __init__(self, optimizer, frozen: set[int]) -> None:
        self._optimizer = optimizer
        self._frozen = frozen

    def __call__(self, key, weights, gradient, *, lr_scale: float = 1.0):
        if key[0] in self._frozen:
            return weights, gradient * 0
        return self._optimizer(key, weights, gradient, lr_scale=lr_scale)

    def __getattr__(self, name: str):
        return getattr(self._optimizer, name)


def predict_silver(nlp, texts: Sequence[str], cache_key: str | None = None) -> list[list[Entity]]:
    """The base model's entities (char offsets, its own labels) for each text.

    With $OPENCOMPREHEND_SILVER_CACHE set, results are cached there under a hash of the model and texts
    (the predictions are deterministic; the cache only saves minutes between experiments).
    """
    cache_dir = os.environ.get("OPENCOMPREHEND_SILVER_CACHE")
    path = None
    if cache_dir and cache_key is not None:
        digest = hashlib.sha256(cache_key.encode("utf-8"))
        for text in texts:
            digest.update(text.encode("utf-8") + b"\0")
        path = Path(cache_dir) / f"silver-{digest.hexdigest()[:20]}.json"
        if path.is_file():
            return [[tuple(e) for e in ents] for ents in json.loads(path.read_text(encoding="utf-8"))]
    found = [[(s.start_char, s.end_char, s.label_) for s in doc.ents] for doc in nlp.pipe(texts, batch_size=256)]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found), encoding="utf-8")
    return found


def load_base_ner(model: str):
    """The base pipeline with only what its NER needs (tokenizer + ner), as the "spacy.v1" engine loads it."""
    import spacy

    from opencomprehend.nlp.ner.pipelines import components_to_exclude

    return spacy.load(model, exclude=components_to_exclude(model))


def continue_ner(
    base: BaseModel,
    train: Sequence,  # LabelledDocument, entities in the base model's labels
    dev: Sequence,  # LabelledDocument, entities in the base model's labels
    output_dir: Path,
    options,  # training.TrainingOptions: max_epochs, patience, max_seconds, seed, dropout, batch_words
    log: Callable[[str], None] = print,
    nlp=None,
) -> dict:
    """Update the base model's NER on `train`, keep the epoch with the best dev F1, and save it to `output_dir`.

    Dev F1 compares Comprehend types (so GPE for LOC is no error). Epoch 0, the base model itself, is
    scored too and counts as a candidate: if no epoch beats it, the base model's weights are kept.
    Returns the training record (history, best epoch, seconds).
    """
    import spacy
    import spacy.util
    from spacy.training import Example
    from thinc.api import SGD, Adam, compounding

    from opencomprehend.nlp.training.annotations import Adjustments, entities_of, reference_docs
    from opencomprehend.nlp.training.epochs import BATCH_GROWTH, Epoch, model_weights, run_epochs
    from opencomprehend.nlp.training.pipeline import training_ops, write_atomically

    started = time.perf_counter()
    with training_ops():
        spacy.util.fix_random_seed(options.seed)
        if nlp is None:
            nlp = load_base_ner(base.model)
        ner_name = nlp.pipe_names[-1]
        ner = nlp.get_pipe(ner_name)
        adjust = Adjustments()
        references = reference_docs(nlp, train, "train", "document", adjust)
        for warning in adjust.warnings():
            log(f"warning: {warning}")
        dev_refs = reference_docs(nlp, dev, "dev", "dev document", Adjustments())
        dev_texts = [r.text for r in dev_refs]

        def mapped(ents: list[Entity]) -> list[Entity]:
            return [(b, e, comprehend_type(label)) for b, e, label in ents]

        dev_gold = [mapped(entities_of(r)) for r in dev_refs]

        def dev_scores() -> tuple[float, dict]:
            predicted = [mapped(entities_of(d)) for d in nlp.pipe(dev_texts, batch_size=256)]
            s = score(dev_gold, predicted)
            return s.f1, {t: round(c.f1, 4) for t, c in sorted(s.types.items())}

        unknown = sorted({s.label_ for r in references for s in r.ents} - set(ner.labels))
        if unknown:
            raise ValueError(f"labels {unknown} are not labels of the base model's NER ({', '.join(ner.labels)})")
        examples = [Example(nlp.make_doc(r.text), r) for r in references]
        words = sum(sum(not t.is_space for t in eg.reference) for eg in examples)
        if base.optimizer == "sgd":
            optimizer = SGD(base.learn_rate, L2=0.0, grad_clip=1.0, use_averages=True)
        else:
            optimizer = Adam(
                learn_rate=base.learn_rate,
                beta1=0.9,
                beta2=0.999,
                eps=1e-8,
                L2=0.01,
                L2_is_weight_decay=True,
                grad_clip=1.0,
                use_averages=True,
            )
        sgd = optimizer
        if base.freeze_tok2vec:
            sgd = _Frozen(optimizer, {node.id for node in ner.model.get_ref("tok2vec").walk()})
        base_params = [
            (node, name, node.get_param(name).copy())
            for node in ner.model.walk()
            for name in node.param_names
            if node.has_param(name)
        ]
        f1, types = dev_scores()
        log(f"epoch 0 (base model): dev F1 {f1:.3f} {types}")
        history = [{"epoch": 0, "dev_f1": round(f1, 4), "dev_types": types, "seconds": 0.0}]
        log(f"continuing {ner_name}: {len(examples)} sentences, {words} words, {len(dev_refs)} dev")

        def on_epoch(done: Epoch) -> None:
            history.append(
                {
                    "epoch": done.number,
                    "loss": round(done.loss, 3),
                    "dev_f1": round(done.dev_f1, 4),
                    "dev_types": done.dev_detail,
                    "seconds": round(done.elapsed, 1),
                }
            )
            log(
                f"epoch {done.number}: loss {done.loss:.1f}, dev F1 {done.dev_f1:.3f}"
                f"{' (best)' if done.improved else ''} {done.dev_detail}, {done.elapsed:.0f} s"
            )

        epochs = run_epochs(
            nlp,
            examples,
            options,
            optimizer=optimizer,
            sgd=sgd,
            batch_sizes=compounding(100.0, float(max(100, options.batch_words)), BATCH_GROWTH),
            evaluate=dev_scores,
            on_epoch=on_epoch,
            started=started,
            ner_name=ner_name,
            best=(f1, model_weights(nlp, ner_name)),
        )
        epoch, best_epoch, best_f1 = epochs.last, epochs.best, epochs.best_f1
        interpolated = None
        if base.interpolate != 1.0 and best_epoch > 0:
            for node, name, value in base_params:
                node.set_param(name, (1 - base.interpolate) * value + base.interpolate * node.get_param(name))
            interpolated, types = dev_scores()
            log(f"interpolated {base.interpolate} toward the fine-tuned weights: dev F1 {interpolated:.3f} {types}")
        # The base model's meta describes the base model: its own accuracy figures no longer hold.
        base_name, base_version = nlp.meta.get("name"), nlp.meta.get("version")
        base_author, base_licence = nlp.meta.get("author"), nlp.meta.get("license")
        nlp.meta.pop("performance", None)
        nlp.meta.update(
            {
                "name": "opencomprehend_ner",
                "description": (
                    f"{base.model} ({base_name} {base_version} by {base_author}, {base_licence})'s NER continued by "
                    "opencomprehend on gold sets with rehearsal on its own predictions (data, licences: source.json)"
                ),
                "author": f"opencomprehend (base model: {base_author})",
                "license": f"{base_licence} (base model); see source.json for the training data's licences",
            }
        )
        record = {
            "base_model": base.model,
            "learn_rate": base.learn_rate,
            "rehearse": base.rehearse,
            "keep_unconfirmed": base.keep_unconfirmed
            if isinstance(base.keep_unconfirmed, bool)
            else list(base.keep_unconfirmed),
            "base_articles": base.base_articles,
            "freeze_tok2vec": base.freeze_tok2vec,
            "gold_mode": base.gold_mode,
            "optimizer": base.optimizer,
            "interpolate": base.interpolate,
            "interpolated_dev_f1": None if interpolated is None else round(interpolated, 4),
            "epochs": epoch,
            "best_epoch": best_epoch,
            "best_dev_f1": round(best_f1, 4),
            "history": history,
            "seconds": round(time.perf_counter() - started, 1),
            "train_words_per_second": round(words * epoch / max(time.perf_counter() - started, 1e-9)),
            "spacy_version": spacy.__version__,
        }
        write_atomically(nlp, Path(output_dir), record)
    log(f"best epoch {best_epoch} of {epoch}, dev F1 {best_f1:.3f}")
    return record
