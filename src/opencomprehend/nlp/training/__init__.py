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

The package: records (the documents, options, report and errors), pipeline (the config, the ops, the
atomic folder), annotations (validation, reference docs), epochs (the epoch loop that the model factory's
continued training shares, the dev split, pretraining) and ner (train_ner).
"""

from __future__ import annotations

from opencomprehend.nlp.training.ner import train_ner
from opencomprehend.nlp.training.pipeline import CHAR_TOKENIZED_LANGUAGES, build_pipeline, spacy_language
from opencomprehend.nlp.training.records import (
    LabelledDocument,
    TrainingDataError,
    TrainingOptions,
    TrainingReport,
    TrainingStopped,
    TypeMetrics,
    read_jsonl,
)

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
