"""The character tokenizers of the zh, ja and ko models (registered with spaCy under their versioned names,
which the models' saved configs name)."""

from __future__ import annotations

import logging
import re
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

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


# Sudachi (SudachiPy with the sudachidict-core dictionary) reads at most ~49,000 bytes at a time; texts are
# cut into pieces of at most this many characters, after a line break or a Japanese full stop if there is one.
_SUDACHI_PIECE_CHARS = 4000
_SUDACHI_BREAKS = ("\n", "。", "！", "？")


def _sudachi_pieces(text: str) -> Iterator[tuple[int, str]]:
    """(offset, piece) cuts of text, each at most _SUDACHI_PIECE_CHARS long, ending after a break if one is near."""
    start = 0
    while start < len(text):
        end = min(len(text), start + _SUDACHI_PIECE_CHARS)
        if end < len(text):
            cut = max(text.rfind(mark, start, end) for mark in _SUDACHI_BREAKS)
            if cut > start:
                end = cut + 1
        yield start, text[start:end]
        start = end


def word_tag(position: str, part_of_speech: tuple[str, ...]) -> str:
    """A character's TAG: its place in its word (B first, I inside, E last, S the whole word) and the word's
    part of speech, its levels joined ("B-名詞-固有名詞-人名-姓"; "*" levels left out)."""
    return "-".join([position, *(p for p in part_of_speech if p != "*")])


# A segmenter's word: (begin, end) character offsets in the text it was given, its part of speech (levels,
# most general first) and its normalized form.
Word = tuple[int, int, tuple[str, ...], str]


class WordTagCharTokenizer(CharTokenizer):
    """CharTokenizer (one token a character, offsets unchanged) with word-level features from a segmenter.

    A subclass's `words(text)` splits the text into words; each character token gets, from the word it falls in:
    - TAG: its position in the word and the word's part of speech (word_tag), which for the segmenters used
      here names the proper-noun classes (person, place, organisation);
    - LEMMA: the word's normalized form.
    The model's tok2vec embeds TAG (and, if the recipe says so, LEMMA) beside the character's own
    NORM/PREFIX/SUFFIX/SHAPE (training.pipeline, `words = ...`). Each thread asks for its segmenter on first
    use (`_segmenter`, which keeps what `make_segmenter` gives; a subclass may give every tokenizer of the
    process the same one), so the tokenizer pickles and works in worker processes.
    """

    def __init__(self, vocab: Vocab, bigrams: bool = False) -> None:
        super().__init__(vocab, bigrams=bigrams)
        self._local = threading.local()

    def _segmenter(self):  # the subclass's segmenter object, one per thread
        segmenter = getattr(self._local, "segmenter", None)
        if segmenter is None:
            segmenter = self._local.segmenter = self.make_segmenter()
        return segmenter

    def make_segmenter(self):
        raise NotImplementedError

    def words(self, text: str) -> Iterator[Word]:
        raise NotImplementedError

    def __call__(self, text: str) -> Doc:
        doc = super().__call__(text)
        # Per character of the text: the (tag, lemma) of the word it is in.
        features: list[tuple[str, str] | None] = [None] * len(text)
        for begin, end, pos, lemma in self.words(text):
            end = min(end, len(text))
            for i in range(begin, end):
                position = "S" if end - begin == 1 else "B" if i == begin else "E" if i == end - 1 else "I"
                features[i] = (word_tag(position, pos), lemma)
        for token in doc:
            found = features[token.idx] if not token.is_space else None
            if found is not None:
                token.tag_, token.lemma_ = found
        return doc


class SudachiCharTokenizer(WordTagCharTokenizer):
    """WordTagCharTokenizer with Sudachi's words (Japanese).

    Sudachi (SudachiPy and the sudachidict-core dictionary, Apache-2.0; split mode C, its longest units by
    default) gives each word its part of speech to four levels, which names its proper-noun subclasses
    (人名-姓/名, 地名-国/一般, 組織名, 固有名詞-一般), and its normalized form (normalized_form(): 有る for
    ある, 附属 for 付属). Sudachi is imported on first use.
    """

    def __init__(self, vocab: Vocab, bigrams: bool = False, split_mode: str = "C") -> None:
        super().__init__(vocab, bigrams=bigrams)
        self.split_mode = split_mode

    def make_segmenter(self):  # -> sudachipy.Tokenizer
        try:
            from sudachipy import Dictionary
        except ImportError:
            raise ImportError(
                "This Japanese model reads Sudachi word features: install sudachipy and sudachidict-core "
                "(dependencies of opencomprehend: see pyproject.toml)."
            ) from None
        return Dictionary(dict="core").tokenizer(mode=self.split_mode)

    def words(self, text: str) -> Iterator[Word]:
        tokenizer = self._segmenter()
        for offset, piece in _sudachi_pieces(text):
            for morpheme in tokenizer.tokenize(piece):
                begin, end = offset + morpheme.begin(), offset + morpheme.end()
                if end > begin:
                    yield begin, end, tuple(morpheme.part_of_speech()[:4]), morpheme.normalized_form()

    def __reduce__(self) -> tuple:
        return SudachiCharTokenizer, (self.vocab, self.bigrams, self.split_mode)


@spacy.util.registry.tokenizers("opencomprehend.SudachiCharTokenizer.v1")
def create_sudachi_char_tokenizer(bigrams: bool = False, split_mode: str = "C") -> Callable[[Language], CharTokenizer]:
    """One token a character with its Sudachi word's position, part of speech (TAG) and normalized form (LEMMA)."""

    def make(nlp: Language) -> SudachiCharTokenizer:
        return SudachiCharTokenizer(nlp.vocab, bigrams=bigrams, split_mode=split_mode)

    return make


# Kiwi (kiwipiepy with the kiwipiepy-model language model and dictionaries): Korean morphemes. One Kiwi a
# process, shared by its threads (its analysis gives the same morphemes from two threads as from one, and
# it holds ~235-300 MB of its own memory, too much to copy per thread); made on first use, under a lock.
_KIWI_LOCK = threading.Lock()
_KIWIS: dict[bool, Any] = {}


def _kiwi(default_dict: bool):  # -> kiwipiepy.Kiwi
    with _KIWI_LOCK:
        kiwi = _KIWIS.get(default_dict)
        if kiwi is None:
            try:
                from kiwipiepy import Kiwi
            except ImportError:
                raise ImportError(
                    "This Korean model reads Kiwi word features: install kiwipiepy and kiwipiepy-model "
                    "(the ko-kiwi extra: pip install 'opencomprehend[ko-kiwi]'; see pyproject.toml)."
                ) from None
            # num_workers=0: analyse in the calling thread. No typo dictionary (it would read a misspelt
            # word as the word it corrects to) and no multi-word dictionary (WikiData names across spaces,
            # +185 MB resident); the default dictionary (Wikipedia and Namuwiki proper nouns, +70 MB) is the
            # recipe's choice (TrainingOptions.kiwi_default_dict).
            with warnings.catch_warnings():  # that num_workers=0 means one thread since kiwipiepy 0.21
                warnings.simplefilter("ignore", DeprecationWarning)
                kiwi = Kiwi(num_workers=0, load_default_dict=default_dict, load_typo_dict=False, load_multi_dict=False)
            kiwi.tokenize("")  # Kiwi finishes loading on its first analysis
            _KIWIS[default_dict] = kiwi
        return kiwi


class KiwiCharTokenizer(WordTagCharTokenizer):
    """WordTagCharTokenizer with Kiwi's morphemes (Korean).

    Kiwi (kiwipiepy and kiwipiepy-model, its language model and dictionaries; both Apache-2.0) splits Korean into
    morphemes with Sejong-style tags: NNP (proper noun), NNG (common noun), JKS/JKB/JX... (particles), VV,
    EF... A character's TAG is its place in its morpheme and the morpheme's tag ("B-NNP", "S-JKS"); LEMMA
    is the morpheme's form (its dictionary form: 하 for 했). Kiwi undoes contractions, so two morphemes can
    share a syllable (했 = 하 + 었; 태어났 = 태어나 + 었, the second covering only 났): each character keeps the
    first morpheme that covers it, and a later one is cut to the characters left (or dropped), so every
    character falls in at most one morpheme and offsets stay those of the text.
    """

    def __init__(self, vocab: Vocab, bigrams: bool = False, default_dict: bool = True) -> None:
        super().__init__(vocab, bigrams=bigrams)
        self.default_dict = default_dict

    def make_segmenter(self):  # the process's one Kiwi
        return _kiwi(self.default_dict)

    def words(self, text: str) -> Iterator[Word]:
        claimed = 0  # the characters before this one have their morpheme
        for token in self._segmenter().tokenize(text):
            begin, end = max(token.start, claimed), min(token.end, len(text))
            if end > begin:
                yield begin, end, (token.tag,), token.form
                claimed = end

    def __reduce__(self) -> tuple:
        return KiwiCharTokenizer, (self.vocab, self.bigrams, self.default_dict)


@spacy.util.registry.tokenizers("opencomprehend.KiwiCharTokenizer.v1")
def create_kiwi_char_tokenizer(bigrams: bool = False, default_dict: bool = True) -> Callable[[Language], CharTokenizer]:
    """One token a character with its Kiwi morpheme's position and tag (TAG) and form (LEMMA)."""

    def make(nlp: Language) -> KiwiCharTokenizer:
        return KiwiCharTokenizer(nlp.vocab, bigrams=bigrams, default_dict=default_dict)

    return make


# jieba.posseg's blocks (its re_han_internal and re_skip_internal), for JiebaCharTokenizer(hmm=False), which
# cuts as jieba.posseg.POSTokenizer.cut(text, HMM=False) does without importing jieba.posseg.
_JIEBA_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._]+)")
_JIEBA_SKIP = re.compile("(\r\n|\\s)")
_JIEBA_ENG_CHAR = re.compile("^[a-zA-Z0-9]$")
_JIEBA_ENG = re.compile("[a-zA-Z0-9]+")
_JIEBA_NUM = re.compile("[\\.0-9]+")


def _jieba_dictionary(tokenizer) -> dict[str, str]:
    """Fill a jieba.Tokenizer's prefix dictionary (FREQ, total) from its dict.txt, as jieba.Tokenizer.initialize()
    does but without its cache file (jieba.cache in the temporary directory, which it trusts whoever wrote it),
    and return the word -> part-of-speech table that jieba.posseg.POSTokenizer reads from the same file, in
    the same pass. Both tables share their word strings and the tags are interned: 40 MB less than jieba's
    own two passes (~100 MB, measured here)."""
    freq: dict[str, int] = {}
    tags: dict[str, str] = {}
    numbers: dict[int, int] = {}
    total = 0
    with tokenizer.get_dict_file() as lines:
        for raw in lines:
            line = raw.strip().decode("utf-8")
            if not line:
                continue
            word, count, tag = line.split(" ")
            count = numbers.setdefault(int(count), int(count))
            freq[word] = count
            total += count
            for end in range(1, len(word)):
                freq.setdefault(word[:end], 0)
            tags[word] = sys.intern(tag)
    tokenizer.FREQ, tokenizer.total = freq, total
    tokenizer.initialized = True
    return tags


class _JiebaWord:  # jieba.posseg.pair's two fields
    __slots__ = ("word", "flag")

    def __init__(self, word: str, flag: str) -> None:
        self.word, self.flag = word, flag


class _JiebaDictionaryWords:
    """jieba.posseg.POSTokenizer.cut(text, HMM=False), its code (jieba 0.42.1) over a jieba.Tokenizer and the
    tag table: dictionary words only, runs of Latin letters and digits one word ("eng"), without importing
    jieba.posseg, whose HMM tables take 50 MB."""

    def __init__(self, tokenizer, tags: dict[str, str]) -> None:
        self.tokenizer, self.tags = tokenizer, tags

    def cut(self, text: str, HMM: bool = False) -> Iterator[_JiebaWord]:  # noqa: N803 (jieba's name)
        for block in _JIEBA_HAN.split(text):
            if not block:
                continue
            if _JIEBA_HAN.match(block):
                yield from self._dictionary_words(block)
                continue
            for piece in _JIEBA_SKIP.split(block):
                if _JIEBA_SKIP.match(piece):
                    yield _JiebaWord(piece, "x")
                    continue
                for char in piece:
                    flag = "m" if _JIEBA_NUM.match(char) else "eng" if _JIEBA_ENG.match(piece) else "x"
                    yield _JiebaWord(char, flag)

    def _dictionary_words(self, block: str) -> Iterator[_JiebaWord]:
        dag = self.tokenizer.get_DAG(block)
        route: dict[int, tuple] = {}
        self.tokenizer.calc(block, dag, route)
        x, latin = 0, ""
        while x < len(block):
            y = route[x][1] + 1
            word = block[x:y]
            if _JIEBA_ENG_CHAR.match(word):
                latin += word
            else:
                if latin:
                    yield _JiebaWord(latin, "eng")
                    latin = ""
                yield _JiebaWord(word, self.tags.get(word, "x"))
            x = y
        if latin:
            yield _JiebaWord(latin, "eng")


# One jieba per thread and kind of cut, shared by every JiebaCharTokenizer of the process: a worker serving zh
# and zh-TW loads the model twice, and jieba's tables (~70 MB) are only read once they are built.
_JIEBA_SEGMENTERS = threading.local()


class JiebaCharTokenizer(WordTagCharTokenizer):
    """WordTagCharTokenizer with jieba's words (Chinese, Simplified script: the zh model converts zh-TW first).

    jieba 0.42.1 (MIT, pure Python, its dictionary of ~350,000 words inside the package) cuts the text into
    words with its dictionary and, with hmm=True (its default), an HMM that joins characters the dictionary
    does not know into words (unknown names); `jieba.posseg` gives each word a part of speech (ICTCLAS-style
    flags: nr person, ns place, nt organisation, nz other proper noun, n noun, v verb, m number, x
    punctuation and whitespace, eng Latin letters, ...). TAG is the position and the flag ("B-ns", "E-nr");
    LEMMA is the word itself (jieba has no normalized form). jieba is imported on first use, logs nothing,
    and each thread gets a jieba.Tokenizer of its own (not jieba's global one, which other code may change
    with add_word or a user dictionary), shared by the process's JiebaCharTokenizers (_JIEBA_SEGMENTERS),
    its tables built from the package's dict.txt in memory (_jieba_dictionary: no cache file). With
    hmm=False, dictionary words only, and jieba.posseg and its HMM tables are not loaded
    (_JiebaDictionaryWords). The HMM (pure Python over 256 states) ran at ~40 characters/s here on a run of
    characters neither its dictionary nor its tables know (rare ideographs): the shipped zh model is
    trained without it (training/experiments/zh.md).
    """

    def __init__(self, vocab: Vocab, bigrams: bool = False, hmm: bool = True) -> None:
        super().__init__(vocab, bigrams=bigrams)
        self.hmm = hmm

    def make_segmenter(self):  # this thread's jieba, shared with the process's other JiebaCharTokenizers
        kind = "hmm" if self.hmm else "dictionary"
        segmenter = getattr(_JIEBA_SEGMENTERS, kind, None)
        if segmenter is None:
            segmenter = self._new_jieba()
            setattr(_JIEBA_SEGMENTERS, kind, segmenter)
        return segmenter

    def _new_jieba(self):  # -> jieba.posseg.POSTokenizer or _JiebaDictionaryWords
        try:
            import jieba
        except ImportError:
            raise ImportError(
                "This Chinese model reads jieba word features: install jieba "
                "(a dependency of opencomprehend: see pyproject.toml)."
            ) from None
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tags = _jieba_dictionary(tokenizer)
        if not self.hmm:
            return _JiebaDictionaryWords(tokenizer, tags)
        import jieba.posseg

        # POSTokenizer(tokenizer) would read dict.txt once more for the same table.
        segmenter = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
        segmenter.tokenizer, segmenter.word_tag_tab = tokenizer, tags
        return segmenter

    def words(self, text: str) -> Iterator[Word]:
        # jieba's words concatenate to the text (whitespace and line breaks are words of their own, flag
        # "x"); each word's offset is still found in the text, so a word jieba changed could never shift
        # the ones after it: a word not found where expected is skipped (its characters get no TAG).
        position = 0
        for pair in self._segmenter().cut(text, HMM=self.hmm):
            word = pair.word
            begin = text.find(word, position) if word else -1
            if begin < 0:
                continue
            end = position = begin + len(word)
            yield begin, end, (pair.flag,), word

    def __reduce__(self) -> tuple:
        return JiebaCharTokenizer, (self.vocab, self.bigrams, self.hmm)


@spacy.util.registry.tokenizers("opencomprehend.JiebaCharTokenizer.v1")
def create_jieba_char_tokenizer(bigrams: bool = False, hmm: bool = True) -> Callable[[Language], CharTokenizer]:
    """One token a character with its jieba word's position and part of speech (TAG) and the word (LEMMA)."""

    def make(nlp: Language) -> JiebaCharTokenizer:
        return JiebaCharTokenizer(nlp.vocab, bigrams=bigrams, hmm=hmm)

    return make


# Word segmenters a recipe may name (`words = ...` in its [options]): the language it serves and the spaCy
# tokenizer config (registered above) that gives each character its word's TAG and LEMMA.
WORD_SEGMENTERS: dict[str, tuple[str, Callable[[Any], dict]]] = {
    "sudachi": (
        "ja",
        lambda options: {
            "@tokenizers": "opencomprehend.SudachiCharTokenizer.v1",
            "bigrams": options.char_bigrams,
            "split_mode": options.sudachi_split_mode,
        },
    ),
    "kiwi": (
        "ko",
        lambda options: {
            "@tokenizers": "opencomprehend.KiwiCharTokenizer.v1",
            "bigrams": options.char_bigrams,
            "default_dict": options.kiwi_default_dict,
        },
    ),
    "jieba": (
        "zh",
        lambda options: {
            "@tokenizers": "opencomprehend.JiebaCharTokenizer.v1",
            "bigrams": options.char_bigrams,
            "hmm": options.jieba_hmm,
        },
    ),
}
