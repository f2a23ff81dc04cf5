"""The pipeline a training builds ([tokenizer, ner] from one config; [tokenizer, tok2vec, tagger, ner] with
aux_tags), the ops it trains with, and how its folder is written: complete or absent."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import spacy
import spacy.util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab
from thinc.api import Config, use_ops

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # optional: see one_blas_thread
    threadpool_limits = None

# Registers "opencomprehend.CharTokenizer.v1", which the configs of zh/ja/ko models name.
from opencomprehend.nlp.languages import CHARACTER_LANGUAGES, LANGUAGES, spacy_language
from opencomprehend.nlp.ner import spacy_engine  # noqa: F401
from opencomprehend.nlp.ner.tokenizers import WORD_SEGMENTERS
from opencomprehend.nlp.training.records import TrainingOptions

# spaCy languages written without spaces between words: tokenized one character a token (nlp/languages.py).
CHAR_TOKENIZED_LANGUAGES = frozenset(LANGUAGES[code].spacy for code in CHARACTER_LANGUAGES)

# The pipeline every model is built from. Values that depend on the language or the options are set by
# pipeline_config(); everything else is spaCy's default NER architecture (the one en_core_web_sm's NER
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


def pipeline_config(language: str, options: TrainingOptions) -> Config:
    config = Config().from_str(CONFIG_TEMPLATE, interpolate=False)
    lang = spacy_language(language)
    config["nlp"]["lang"] = lang
    if options.words:
        config["nlp"]["tokenizer"] = segmenter_config(options.words, lang, options)
    elif lang in CHAR_TOKENIZED_LANGUAGES:
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
    if options.words:
        config["components"]["ner"]["model"]["tok2vec"] = word_tag_tok2vec(options)
    if options.aux_tags:
        shared_tok2vec_with_tagger(config, lang, options)
    if options.pretrain_tags:
        segmenter_config(options.pretrain_tags, lang, options)
    return config


def segmenter_config(name: str, lang: str, options: TrainingOptions) -> dict:
    """The tokenizer config of WORD_SEGMENTERS[name] (ValueError if it has none or it is not for `lang`)."""
    if name not in WORD_SEGMENTERS:
        raise ValueError(f"No word segmenter '{name}': one of {', '.join(sorted(WORD_SEGMENTERS))}.")
    segmenter_language, tokenizer_config = WORD_SEGMENTERS[name]
    if lang != segmenter_language:
        raise ValueError(f"The {name} word segmenter is for '{segmenter_language}', not '{lang}'.")
    return tokenizer_config(options)


def shared_tok2vec_with_tagger(config: Config, lang: str, options: TrainingOptions) -> None:
    """aux_tags: [tok2vec, tagger, ner], the NER's tok2vec moved into a tok2vec component that the NER and a
    tagger (which learns the TAG the aux_tags segmenter gives each token, aux_tag_tokenizer) both listen to."""
    segmenter_config(options.aux_tags, lang, options)
    if options.pretrain_epochs:
        raise ValueError("pretrain_epochs pretrains the NER's own tok2vec: it cannot be combined with aux_tags.")
    ner_model = config["components"]["ner"]["model"]
    tok2vec = ner_model["tok2vec"]
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": options.width, "upstream": "tok2vec"}
    config["nlp"]["pipeline"] = ["tok2vec", "tagger", "ner"]
    config["components"]["tok2vec"] = {"factory": "tok2vec", "model": tok2vec}
    config["components"]["tagger"] = {
        "factory": "tagger",
        "model": {"@architectures": "spacy.Tagger.v2", "nO": None, "normalize": False, "tok2vec": dict(listener)},
    }
    ner_model["tok2vec"] = dict(listener)


def aux_tag_tokenizer(nlp: Language, options: TrainingOptions) -> Callable[[str], Doc]:
    """The aux_tags (or pretrain_tags) segmenter's tokenizer: the same tokens as nlp's, each with its word's TAG
    (training only)."""
    config = segmenter_config(options.aux_tags or options.pretrain_tags, nlp.lang, options)
    tokenizer = spacy.util.registry.resolve({"tokenizer": config})["tokenizer"](nlp)
    # Its own strings: the words' forms it sets as LEMMA (tens of thousands) stay out of the model's vocab,
    # which is saved with the model and loaded by every worker.
    tokenizer.vocab = Vocab()
    return tokenizer


def word_tag_tok2vec(options: TrainingOptions) -> dict:
    """HashEmbedCNN.v2's own tok2vec (the same hashed NORM/PREFIX/SUFFIX/SHAPE embeddings and CNN, written
    out as spaCy builds it) with two more embedded attributes: TAG (the word's position and part of speech,
    a few hundred values) and, unless word_lemma is off, LEMMA (the word's normalized form), which the
    WordTagCharTokenizer of options.words sets."""
    rows = options.embed_rows
    attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE", "TAG"]
    embed_rows = [rows, rows // 2, rows // 2, rows // 2, 1000]
    if options.word_lemma:
        attrs.append("LEMMA")
        embed_rows.append(rows)
    return {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": options.width,
            "attrs": attrs,
            "rows": embed_rows,
            "include_static_vectors": False,
        },
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": options.width,
            "depth": options.depth,
            "window_size": options.window_size,
            "maxout_pieces": 3,
        },
    }


def build_pipeline(language: str, options: TrainingOptions | None = None) -> Language:
    """A fresh, untrained [tokenizer, ner] pipeline for `language` (ValueError if spaCy lacks it)."""
    options = options or TrainingOptions()
    try:
        spacy.util.get_lang_class(spacy_language(language))
    except ImportError:
        raise ValueError(f"Cannot train an entity recognizer for language '{language}'.") from None
    return spacy.util.load_model_from_config(pipeline_config(language, options), auto_fill=True, validate=True)


@contextlib.contextmanager
def training_ops() -> Iterator[None]:
    """The ops every training runs under (custom recognizers, language models, continued models).

    thinc multiplies matrices with blis by default, whose build picks a generic kernel on CPUs it does
    not recognise (this host's AMD EPYC: ~20 GFLOPS against ~65 for numpy's OpenBLAS on one core), so
    training uses numpy's BLAS: 2.7x the words/s here. One BLAS thread: the matrices are small, two
    threads ran 3x slower than one when other work shared the two cores, and a fixed thread count keeps
    runs reproducible across machines. Only the models built in this block use these ops.
    """
    with use_ops("numpy", use_blis=False), one_blas_thread():
        yield


def one_blas_thread() -> contextlib.AbstractContextManager:
    if threadpool_limits is None:
        # Without threadpoolctl, OpenBLAS keeps the thread count it started with (OPENBLAS_NUM_THREADS).
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise FileExistsError(f"{output_dir} already exists and is not an empty folder.")


def write_atomically(nlp: Language, output_dir: Path, extra: dict) -> None:
    """Write the model to a temporary sibling folder and rename it into place when complete."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", suffix=".partial", dir=output_dir.parent))
    try:
        nlp.to_disk(tmp)
        (tmp / "training.json").write_text(json.dumps(extra, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        check_output_dir(output_dir)
        if output_dir.exists():
            output_dir.rmdir()
        os.rename(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
