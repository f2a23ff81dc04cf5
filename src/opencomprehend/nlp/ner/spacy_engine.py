"""The "spacy.v1" engine: a spaCy pipeline's NER component, with a confidence score per entity.

Only the tokenizer and the NER component (plus whatever it listens to, if it shares an embedding layer)
are loaded: in en_core_web_sm the NER has its own tok2vec, so the tagger, parser, lemmatizer etc. would
only cost time (about half of it).

Scores. spaCy's NER is a transition system: it tags one token per step with one of B-X, I-X, L-X,
U-X, O, choosing the best valid action from a softmax the model was trained on (log loss per step).
Two ways of turning that into a per-entity confidence are implemented:

- beam_width=1 (default): decode greedily, exactly as spaCy does, keep each step's scores, and score an
  entity as the product of the probabilities (softmax over the actions valid at that step) of every
  decision that fixed its span and type: the actions on its own tokens and on the token on either
  side. Measured on CoNLL-2003 and OntoNotes (bench/calibration.py) this has the greedy parser's
  accuracy, runs faster than spaCy's own greedy loop, and is far better calibrated than the beam.
- beam_width=2..4: ner.beam_parse() keeps the best partial parses and scored_ents() gives each entity
  the summed probability of the finished parses containing it; the entities of the best parse are
  emitted with that marginal. The model was trained greedily, and the beam ranks parses by summed raw
  scores, so this loses 5-10 F1 points, and most entities score exactly 1.0 whether right or not.

The greedy scorer drives spaCy's parser step model from Python (ner.model.predict, transition_states);
those are internal APIs, stable within spaCy 3.8 (which pyproject pins) and covered by a test that
compares its entities with spaCy's own output.

Texts longer than `max_chunk_chars` are recognised in overlapping windows (see plan_windows and
_merge_windows); nothing is ever truncated.

The "custom.v1" engine is the same engine for models trained by opencomprehend.nlp.training (custom
recognizers): their labels are the user's own entity types and pass through unchanged.

This module also registers the character tokenizers that models trained for Chinese, Japanese and Korean
use ("opencomprehend.CharTokenizer.v1"; "...v2", which gives each character its bigram as NORM; and
"opencomprehend.SudachiCharTokenizer.v1", which gives each Japanese character its Sudachi word's position and
part of speech as TAG; "opencomprehend.JiebaCharTokenizer.v1", the same from jieba's words for Chinese), so
importing it is what lets spacy.load() read such a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import spacy
import spacy.util
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from opencomprehend.nlp.ner.calibration import ScoreCalibration
from opencomprehend.nlp.ner.context import harmonise
from opencomprehend.nlp.ner.labels import comprehend_type
from opencomprehend.nlp.ner.patterns import DATE, QUANTITY, merge, patterns_for
from opencomprehend.nlp.ner.pipelines import _NER_FACTORIES, components_to_exclude

# The tokenizers of the zh, ja and ko models, registered with spaCy on import (the spacy_tokenizers entry
# point in pyproject.toml names this module, so spacy.load() finds them without importing us first).
from opencomprehend.nlp.ner.tokenizers import (  # noqa: F401
    CharTokenizer,
    create_char_bigram_tokenizer,
    create_char_tokenizer,
    create_jieba_char_tokenizer,
    create_kiwi_char_tokenizer,
    create_sudachi_char_tokenizer,
)
from opencomprehend.nlp.ner.windows import merge_windows, plan_windows
from opencomprehend.nlp.registry import register_engine

# Resident memory grows with the batch (~190 MB at 64 docs, ~1 GB at 256 measured here).
MAX_BATCH_DOCS = 64
# Long windows make a batch big even with few docs, so characters are bounded too. Measured on a
# 1 MB text: peak RSS ~770 MB at 200k characters a batch, ~480 MB at 100k, ~300 MB at 50k, at the same
# speed; one window per batch is ~50% slower, because decoding steps one token at a time per batch.
MAX_BATCH_CHARS = 50_000


# ---------------------------------------------------------------------------------------------- engine


def _round_score(p: float) -> float:
    # Scores are sums or products of floats: clamp 1.0000000002, and cut 0.99999999997 to 8 significant
    # digits, since more would only be noise on the wire.
    p = float(p)
    if math.isnan(p) or p <= 0.0:
        return 0.0
    return min(1.0, float(f"{p:.8g}"))


def _batches(
    items: list[tuple[int, int, str]], max_docs: int = MAX_BATCH_DOCS
) -> Iterator[list[tuple[int, int, str]]]:
    batch: list[tuple[int, int, str]] = []
    chars = 0
    for item in items:
        if batch and (len(batch) >= max_docs or chars + len(item[2]) > MAX_BATCH_CHARS):
            yield batch
            batch, chars = [], 0
        batch.append(item)
        chars += len(item[2])
    if batch:
        yield batch


class _GreedyScorer:
    """Greedy BILUO decoding that keeps each step's action scores, and turns them into entity scores."""

    def __init__(self, ner: Any) -> None:
        self._ner = ner
        moves = ner.moves
        names = [moves.get_class_name(i) for i in range(moves.n_moves)]
        index = {name: i for i, name in enumerate(names)}
        if "O" not in index:
            raise ValueError("The NER component does not use BILUO actions; use beam_width >= 2.")
        self._o = index["O"]
        # "U-" (empty label) is never valid when predicting, so only labelled actions count.
        labels = sorted({n[2:] for n in names if n.startswith("U-") and len(n) > 2})
        self._actions = {
            label: (index[f"B-{label}"], index[f"I-{label}"], index[f"L-{label}"], index[f"U-{label}"])
            for label in labels
        }
        self._b_all = np.array([a[0] for a in self._actions.values()])
        self._u_all = np.array([a[3] for a in self._actions.values()])

    def __call__(self, docs: list[Doc]) -> list[list[float]]:
        """Annotate doc.ents greedily (as ner.predict would) and return one score per entity."""
        ner = self._ner
        states = ner.moves.init_batch(docs)
        steps: list[list[np.ndarray]] = [[] for _ in docs]
        active = [(i, st) for i, st in enumerate(states) if not st.is_final()]
        if active:
            step_model = ner.model.predict(docs)
            while active:
                batch = [st for _, st in active]
                # A private copy: the rows are kept after the step model moves on.
                scores = np.array(step_model.predict(batch), dtype="f", order="C")
                for row, (i, _) in enumerate(active):
                    steps[i].append(scores[row])
                ner.transition_states(batch, scores)
                active = [(i, st) for i, st in active if not st.is_final()]
            step_model.clear_memory()
        ner.set_annotations(docs, states)
        return [self._entity_scores(doc, rows) for doc, rows in zip(docs, steps, strict=True)]

    def _entity_scores(self, doc: Doc, rows: list[np.ndarray]) -> list[float]:
        if not doc.ents:
            return []
        n = len(doc)
        if len(rows) != n:
            # Every BILUO action consumes one token; anything else means spaCy's internals changed.
            raise RuntimeError(f"NER took {len(rows)} steps for {n} tokens; cannot attribute scores.")
        S = np.stack(rows).astype(np.float64)
        space = doc.to_array("IS_SPACE").astype(bool)
        # Normaliser over the actions valid outside an entity (spaCy's Begin/Unit/Out.is_valid): B
        # needs a following token, and neither B nor U may start on a whitespace token.
        log_b = _logsumexp(S[:, self._b_all])
        log_u = _logsumexp(S[:, self._u_all])
        log_b[space] = -np.inf
        log_b[n - 1] = -np.inf
        log_u[space] = -np.inf
        log_z_out = np.logaddexp(np.logaddexp(log_b, log_u), S[:, self._o])
        # Log-probability of the action taken at each token; O unless an entity covers the token.
        logp = S[:, self._o] - log_z_out
        for span in doc.ents:
            b, i, last, u = self._actions[span.label_]
            first, end = span.start, span.end
            if end - first == 1:
                logp[first] = S[first, u] - log_z_out[first]
                continue
            logp[first] = S[first, b] - log_z_out[first]
            # Inside an entity only I (not on the final token) and L of the same label are valid.
            inner = np.arange(first + 1, end)
            log_i = np.where(inner < n - 1, S[inner, i], -np.inf)
            log_z_in = np.logaddexp(log_i, S[inner, last])
            taken = np.where(inner == end - 1, S[inner, last], S[inner, i])
            logp[inner] = taken - log_z_in
        scores = []
        for span in doc.ents:
            lo, hi = max(0, span.start - 1), min(n, span.end + 1)
            scores.append(float(np.exp(logp[lo:hi].sum())))
        return scores


# Sentence-final marks that need no space after them (Chinese and Japanese full stops, !, ?).
_FULL_STOPS = frozenset("。！？｡")


def _sentences(doc: Doc, sentencizer: Sentencizer) -> Iterator[tuple[int, Doc]]:
    """The sentences of a doc as docs of their own, each with its character offset in `doc`.

    spaCy's rule-based Sentencizer ends a sentence after sentence-final punctuation of any script (". ! ?
    。 ！ ？ । ؟" and more; the language's tokenizer keeps abbreviations such as "Dr." or "U.S." whole, so they
    end nothing), unless the next word starts in lower case or no space follows the mark (except after a
    Chinese or Japanese full stop: "4.20" under a character tokenizer); a line break always ends one, and
    whitespace tokens at either end are left out. The tokens are the doc's own (Span.as_doc), so nothing is
    tokenized twice and every offset stays valid.
    """
    if len(doc) == 0:
        return
    sentencizer(doc)
    for token in doc[1:]:
        before = doc[token.i - 1]
        if before.is_space and "\n" in before.text:
            token.is_sent_start = True
        elif token.is_sent_start and not before.is_space and (
            # "4.20" and "3.16" under a character tokenizer, "Alfarería. el Barro": no sentence ends there.
            (not before.whitespace_ and before.text not in _FULL_STOPS) or token.text[0].islower()
        ):
            token.is_sent_start = False
    for sent in doc.sents:
        # Without the whitespace tokens at either end (the line break after a line): no training sentence
        # has them, and a model would run an entity on into them ("Fernando Ferreira\n").
        start, end = sent.start, sent.end
        while start < end and doc[start].is_space:
            start += 1
        while end > start and doc[end - 1].is_space:
            end -= 1
        if start < end:
            yield doc[start].idx, doc[start:end].as_doc()


def _logsumexp(a: np.ndarray) -> np.ndarray:
    peak = a.max(axis=1, keepdims=True)
    return (peak + np.log(np.exp(a - peak).sum(axis=1, keepdims=True)))[:, 0]


@register_engine("spacy.v1")
class SpacyEngine:
    """Entity recognition with a spaCy pipeline's NER component.

    beam_width: 1 (default) decodes greedily and scores each entity from the per-step action
        probabilities; 2-4 run spaCy's beam of that width and score each entity by its marginal
        probability in the beam (less accurate and less well calibrated with these models; see the
        module docstring and bench/calibration.py).
    beam_density: beam pruning threshold passed to spaCy (beam_width >= 2 only).
    max_chunk_chars: longer texts are recognised in overlapping windows of at most this many characters
        (10,000 lets a batch hold several windows: a 1 MB text took ~17 s against ~21 s at 20,000).
    chunk_overlap: characters shared by neighbouring windows (capped at a quarter of a window).
    split_sentences: recognise each sentence of a text as a doc of its own (see _sentences), as the models
        were trained; False runs the model over the whole window.
    document_context: make each text's entities consistent across its sentences (nlp/ner/context.py: one type
        per name, repeated names and short names marked); on by default except for custom recognizers.
    calibrate: apply the score calibration saved beside a model folder (calibration.json, fitted on a gold
        dev split by opencomprehend.nlp.ner.calibration), if it has one; False reports the raw scores.
    labels: the operator's label map (models file): model label -> Comprehend type; an entity whose label it
        does not name is dropped. None maps labels with nlp/ner/labels.py (an unknown label is OTHER).
    batch_size: windows recognised together (at most; MAX_BATCH_CHARS bounds a batch too).
    device: "cpu" (default) or "cuda", which needs spaCy's GPU support (cupy) and fails clearly without it.
    threads: accepted for the models file's sake; spaCy's NER runs on one thread.
    """

    def __init__(
        self,
        language: str,
        model: str | Path,
        *,
        beam_width: int = 1,
        beam_density: float = 0.0001,
        max_chunk_chars: int = 10_000,
        chunk_overlap: int = 500,
        calibrate: bool = True,
        split_sentences: bool = True,
        document_context: bool | None = None,
        labels: dict[str, str] | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        threads: int | None = None,
    ) -> None:
        if beam_width < 1:
            raise ValueError("beam_width must be at least 1.")
        if max_chunk_chars < 100:
            raise ValueError("max_chunk_chars must be at least 100.")
        self.language = language
        self.model = model
        self.beam_width = beam_width
        self.beam_density = beam_density
        self.labels = None if labels is None else {str(k).strip().upper(): v for k, v in labels.items()}
        self.batch_size = batch_size or MAX_BATCH_DOCS
        if device == "cuda" and not spacy.prefer_gpu():
            raise ValueError("device 'cuda' was asked for, but spaCy finds no GPU (it needs cupy and CUDA).")
        self.nlp: Language = spacy.load(model, exclude=components_to_exclude(model))
        ner_names = [n for n in self.nlp.pipe_names if self.nlp.get_pipe_meta(n).factory in _NER_FACTORIES]
        if not ner_names:
            raise ValueError(f"Model '{model}' has no entity recognizer component.")
        ner_index = self.nlp.pipe_names.index(ner_names[-1])
        self._ner = self.nlp.get_pipe(ner_names[-1])
        self._greedy = _GreedyScorer(self._ner)
        self.split_sentences = split_sentences
        self.document_context = self.uses_context if document_context is None else document_context
        self._sentencizer = Sentencizer()
        # Fitted on greedy scores: a beam's marginals are another scale.
        self._calibration = ScoreCalibration.read(model) if calibrate and beam_width == 1 else None
        # Only what the NER listens to is left before it; it must run first so the listener has input.
        self._before_ner = self.nlp.pipeline[:ner_index]
        self.max_chunk_chars = min(max_chunk_chars, self.nlp.max_length)
        self.chunk_overlap = chunk_overlap
        # DATE and QUANTITY from CLDR patterns where the model cannot answer them (nlp/ner/patterns.py).
        self._pattern_types: set[str] = set()
        self._patterns = None
        if self.uses_patterns:
            answered = {self.entity_type(label) for label in self._ner.labels}
            self._pattern_types = {DATE, QUANTITY} - answered
            self._patterns = patterns_for(language) if self._pattern_types else None

    # Custom recognizers report their user's own types only, as their model found them.
    uses_patterns = True
    uses_context = True

    @property
    def pattern_types(self) -> frozenset[str]:
        """The types that CLDR patterns, not the model, find for this language (DATE, QUANTITY or none)."""
        return frozenset(self._pattern_types)

    def recognise(self, texts: list[str]) -> list[list[dict]]:
        """One list of entities per text (see registry.Engine for the entity format)."""
        results = self._recognise_model(texts)
        if self.document_context:
            results = [harmonise(text, entities, self.language) for text, entities in zip(texts, results, strict=True)]
        if self._patterns is not None:
            for text, entities in zip(texts, results, strict=True):
                extra = self._patterns.find(text, self._pattern_types)
                if extra:
                    entities[:] = merge(entities, extra, text)
        return results

    def _recognise_model(self, texts: list[str]) -> list[list[dict]]:
        results: list[list[dict]] = [[] for _ in texts]
        plans: list[list[tuple[int, int]]] = []
        work: list[tuple[int, int, str]] = []  # (text index, window index, window text)
        for ti, text in enumerate(texts):
            plan = [] if not text.strip() else plan_windows(text, self.max_chunk_chars, self.chunk_overlap)
            plans.append(plan)
            work.extend((ti, wi, text[s:e]) for wi, (s, e) in enumerate(plan))

        per_window: list[list[list[dict]]] = [[[] for _ in plan] for plan in plans]
        for batch in _batches(work, self.batch_size):
            found = self._recognise_batch([item[2] for item in batch])
            for (ti, wi, _), ents in zip(batch, found, strict=True):
                offset = plans[ti][wi][0]
                for ent in ents:
                    ent["BeginOffset"] += offset
                    ent["EndOffset"] += offset
                per_window[ti][wi] = ents

        for ti, text in enumerate(texts):
            if len(plans[ti]) == 1:
                results[ti] = per_window[ti][0]
            elif plans[ti]:
                results[ti] = merge_windows(text, plans[ti], per_window[ti])
        return results

    def _recognise_batch(self, texts: list[str]) -> list[list[dict]]:
        # memory_zone frees the strings and cached lexemes created for these docs afterwards, which
        # keeps a long-lived worker's vocabulary from growing without bound.
        with self.nlp.memory_zone():
            whole = [self.nlp.make_doc(t) for t in texts]
            # One doc a sentence, as the models were trained (whole.index, offset of the sentence in it).
            if self.split_sentences:
                pieces = [
                    (i, start, doc) for i, d in enumerate(whole) for start, doc in _sentences(d, self._sentencizer)
                ]
            else:
                pieces = [(i, 0, d) for i, d in enumerate(whole)]
            docs = [doc for _, _, doc in pieces]
            for _name, pipe in self._before_ner:
                docs = list(pipe.pipe(docs)) if hasattr(pipe, "pipe") else [pipe(d) for d in docs]
            if self.beam_width == 1:
                scores = self._greedy(docs)
            else:
                beams = self._ner.beam_parse(docs, beam_width=self.beam_width, beam_density=self.beam_density)
                marginals = self._ner.scored_ents(beams)
                self._ner.set_annotations(docs, beams)
                # The best parse is one of the beam's finished parses, so its entities are always
                # among the scored ones; .get only guards against a future spaCy changing that.
                scores = [
                    [m.get((span.start, span.end, span.label_), 0.0) for span in doc.ents]
                    for doc, m in zip(docs, marginals, strict=True)
                ]
            found: list[list[dict]] = [[] for _ in texts]
            for (i, start, doc), doc_scores in zip(pieces, scores, strict=True):
                for entity in _entities(doc, doc_scores, self.entity_type, self._calibration):
                    entity["BeginOffset"] += start
                    entity["EndOffset"] += start
                    found[i].append(entity)
            return found

    def entity_type(self, label: str) -> str | None:
        """The Type reported for an entity the model labelled `label`; None drops it (not in the label map)."""
        if self.labels is not None:
            return self.labels.get(label.strip().upper())
        return comprehend_type(label)


@register_engine("custom.v1")
class CustomEngine(SpacyEngine):
    """A model trained by opencomprehend.nlp.training for a custom recognizer: a package or a folder.

    The same engine and options as "spacy.v1", except that labels are reported unchanged: a custom
    recognizer's entity types are its user's own ("DEVICE"), not Comprehend's nine.
    """

    uses_patterns = False
    uses_context = False

    def entity_type(self, label: str) -> str | None:
        return label


def _entities(
    doc: Doc,
    scores: list[float],
    entity_type: Callable[[str], str | None],
    calibration: ScoreCalibration | None = None,
) -> list[dict]:
    # spaCy's char offsets are code points into doc.text, which is the window text itself.
    entities = []
    for span, score in zip(doc.ents, scores, strict=True):
        reported = entity_type(span.label_)
        if reported is None:
            continue  # a label the operator's label map leaves out
        if calibration is not None:
            score = calibration(reported, score)
        entities.append(
            {
                "BeginOffset": span.start_char,
                "EndOffset": span.end_char,
                "Score": _round_score(score),
                "Text": span.text,
                "Type": reported,
            }
        )
    entities.sort(key=lambda e: e["BeginOffset"])
    return entities


@register_engine("spacy.t2s.v1")
class SimplifiedChineseEngine(SpacyEngine):
    """ "spacy.v1" for a Chinese model trained on Simplified script, serving Simplified and Traditional text.

    Each text is converted to Simplified script one character for one character
    (opencomprehend.nlp.ner.chinese.to_simplified), so the offsets the model finds in the converted text are
    offsets into the original, whose characters are what each entity's Text reports.
    """

    def recognise(self, texts: list[str]) -> list[list[dict]]:
        from opencomprehend.nlp.ner.chinese import to_simplified

        results = super().recognise([to_simplified(text) for text in texts])
        for text, entities in zip(texts, results, strict=True):
            for entity in entities:
                entity["Text"] = text[entity["BeginOffset"] : entity["EndOffset"]]
        return results
