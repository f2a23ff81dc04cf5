"""The character tokenizers of the zh, ja and ko models (registered with spaCy under their versioned names,
which the models' saved configs name)."""

from __future__ import annotations

import re
from collections.abc import Callable

import spacy
import spacy.util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

# spaCy factories that produce doc.ents through a transition-based parser (beam_parse available).


_CHAR_OR_SPACE_RUN = re.compile(r"\S|\s+")


class CharTokenizer(spacy.util.DummyTokenizer):
    """Every non-whitespace character is a token of its own; whitespace follows spaCy's conventions.

    Chinese, Japanese and Korean do not separate words with spaces, and Korean glues particles to the
    noun they follow ("서울에서" = "서울" + "에서"). spaCy's own tokenizers for them need sudachipy or mecab;
    with one token per character no segmenter is needed and every entity falls on token boundaries. A
    single space after a character becomes that token's trailing whitespace, as in spaCy's tokenizer;
    any other run of whitespace is one whitespace token, so doc.text is always the input text.

    With bigrams=True each character's NORM is the character and the next one ("中国" for 中 in 中国人;
    the last one's, and one's before whitespace, is the character alone), so the NORM embedding a model
    learns is a character-bigram embedding, the cheap word-like feature character-based NER gains from, while
    PREFIX and SUFFIX (computed from the character itself) still embed the single character.
    """

    def __init__(self, vocab: Vocab, bigrams: bool = False) -> None:
        self.vocab = vocab
        self.bigrams = bigrams

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        for match in _CHAR_OR_SPACE_RUN.finditer(text):
            piece = match.group()
            if not piece.isspace():
                words.append(piece)
                spaces.append(False)
                continue
            # Whitespace runs are maximal, so words[-1] (if any) is a character.
            if words and piece[0] == " ":
                spaces[-1] = True
                piece = piece[1:]
            if piece:
                words.append(piece)
                spaces.append(False)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        if self.bigrams:
            for token, following in zip(doc, [*words[1:], ""], strict=True):
                # No bigram across whitespace: "人 在" are two words.
                if not token.is_space:
                    joined = following and not token.whitespace_ and not following.isspace()
                    token.norm_ = token.text + following if joined else token.text
        return doc

    def __reduce__(self) -> tuple:
        # nlp.pipe(n_process=...) pickles the pipeline.
        return CharTokenizer, (self.vocab, self.bigrams)


@spacy.util.registry.tokenizers("opencomprehend.CharTokenizer.v1")
def create_char_tokenizer() -> Callable[[Language], CharTokenizer]:
    def make(nlp: Language) -> CharTokenizer:
        return CharTokenizer(nlp.vocab)

    return make


@spacy.util.registry.tokenizers("opencomprehend.CharTokenizer.v2")
def create_char_bigram_tokenizer() -> Callable[[Language], CharTokenizer]:
    """One token a character, each with its character bigram as NORM (CharTokenizer(bigrams=True))."""

    def make(nlp: Language) -> CharTokenizer:
        return CharTokenizer(nlp.vocab, bigrams=True)

    return make
