"""People's names around what the entity model finds: the sentence words it runs a name into, the
honorifics that make a name of whatever it called the span, and the phrases that introduce a name.

Per-language data, like the context words of nlp/pii/lexicon.py; spaCy's stop words of each language fill in the
function words.
"""

from __future__ import annotations

import functools

import regex
import spacy

# No name or address begins with a possessive or a greeting; the small entity models sometimes take
# "Mon CVV", "Mon code" or "Bonjour" for one.
NOT_A_FIRST_WORD = frozenset(
    {"my", "mon", "ma", "mes", "mi", "mis", "mein", "meine", "meinen", "il", "o", "meu", "minha", "hello", "hi",
     "bonjour", "hola", "hallo", "ciao", "olá", "ola", "merci", "bitte", "please", "por", "per", "peça"}
)  # fmt: skip
# Words that begin a sentence and are no part of the name after them (greetings, "please", "yesterday",
# "today"), per language; with spaCy's stop words of the language (except English, where "Will" and
# "May" are names), a name the entity model ran into them is cut back to the name.
_LEADING_WORDS = {
    "en": ["hello", "hi", "dear", "please", "yesterday", "today", "tomorrow", "thanks", "thank", "regards", "cheers",
           "sincerely"],
    "es": ["hola", "ayer", "hoy", "mañana", "gracias", "estimado", "estimada", "querido", "querida", "saludos",
           "atentamente"],
    "fr": ["bonjour", "salut", "hier", "aujourd'hui", "demain", "cher", "chère", "merci", "cordialement",
           "amicalement", "salutations"],
    "de": ["hallo", "gestern", "heute", "morgen", "bitte", "danke", "liebe", "lieber", "sehr", "geehrte", "geehrter",
           "grüße", "gruß", "freundlichen"],
    "it": ["ciao", "buongiorno", "ieri", "oggi", "domani", "gentile", "caro", "cara", "grazie", "saluti", "cordiali"],
    "pt": ["olá", "ola", "ontem", "hoje", "amanhã", "caro", "cara", "prezado", "prezada", "obrigado", "obrigada",
           "cumprimentos", "atenciosamente"],
    "ar": ["مرحبا", "مرحباً", "أمس", "اليوم", "غدا", "عزيزي", "عزيزتي", "شكرا"],
    "hi": ["नमस्ते", "नमस्कार", "कृपया", "कल", "आज", "प्रिय", "धन्यवाद"],
    "ja": ["こんにちは", "昨日", "今日", "明日"],
    "ko": ["안녕하세요", "어제", "오늘", "내일", "감사합니다", "제", "저의", "나의"],
    "zh": ["你好", "昨天", "今天", "明天", "请", "谢谢"],
    "zh-TW": ["你好", "昨天", "今天", "明天", "請", "謝謝"],
}  # fmt: skip
# A name that an honorific follows is a person's, whatever the entity model called it ("田中さん",
# "김민수 씨", "王先生").
HONORIFIC_AFTER = regex.compile(r"[ \t]?(?:さん|様|さま|氏|君|くん|ちゃん|先生|씨|님|선생님|女士|小姐|老师|老師|जी)")


@functools.cache
def _stop_words(language: str) -> frozenset[str]:
    try:
        return frozenset(w.lower() for w in spacy.util.get_lang_class(language.split("-")[0]).Defaults.stop_words)
    except ImportError:  # pragma: no cover - every language here is spaCy's
        return frozenset()


@functools.cache
def _leading_words(language: str) -> frozenset[str]:
    words = set(_LEADING_WORDS.get(language, ())) | NOT_A_FIRST_WORD
    if language != "en":
        words |= _stop_words(language)
    return frozenset(w.lower() for w in words)


def trim_name(text: str, begin: int, end: int, language: str) -> tuple[int, int]:
    """A name without the sentence words the entity model ran it into: leading greetings, "please" and
    adverbs ("Ayer Rita Falcó" -> "Rita Falcó"), and, in a cased script, trailing lower-case words
    ("Madeleine Blanchard de signer le contrat" -> "Madeleine Blanchard")."""
    tokens = [(m.start() + begin, m.end() + begin) for m in regex.finditer(r"\S+", text[begin:end])]
    leading = _leading_words(language)
    while tokens and text[tokens[0][0] : tokens[0][1]].strip(",.;:!?¡¿、，").lower() in leading:
        tokens.pop(0)
    while len(tokens) > 1 and text[tokens[-1][0]].islower() and text[tokens[0][0]].isupper():
        tokens.pop()
    if not tokens:
        return begin, begin
    b, e = tokens[0][0], tokens[-1][1]
    while e > b and text[e - 1] in ",.;:!?":
        e -= 1
    return b, e


# A verb with the pronoun it governs written after it ("Écrivez-moi", "Envoyez-le", "Dites-lui"): the
# entity model takes the sentence's first word for a place or a name.
_CLITIC = regex.compile(r"-(?:moi|toi|nous|vous|lui|leur|le|la|les|en|y)(?![\p{L}\p{M}-])")
_IMPERATIVE = regex.compile(r"\p{Lu}[\p{Ll}\p{M}]{2,}ez")
_IMPERATIVE_OBJECT = regex.compile(
    r"\s+(?:à|au|aux|nous|vous|moi|le|la|les|l['’]|un|une|des|ce|cet|cette|votre|vos|notre|nos|ici|dès)(?![\p{L}\p{M}])"
)
# Below this, a one-word name or place at the start of a sentence (where its capital says nothing) is
# none: the entity models give their sentence-initial misreadings ("Écrivez" 0.21, "Envoyez" 0.21)
# scores under it, and one-word names there ("Pierre est là." 0.34) above it.
SENTENCE_START_FLOOR = 0.3


def no_name_word(text: str, begin: int, end: int, score: float) -> bool:
    """A one-word name or place from the entity model that is none: a lower-case word in a cased script
    ("café"; a name or a place is written with a capital), a verb with its pronoun ("Écrivez-moi"), or a
    sentence's first word scored under SENTENCE_START_FLOOR."""
    span = text[begin:end]
    if not span or regex.search(r"\s", span):
        return False
    if any(ch.islower() for ch in span) and not any(ch.isupper() or ch.istitle() for ch in span):
        return True
    if _CLITIC.search(span) or _CLITIC.match(text, end):
        return True
    # French's imperative at the head of a sentence, before its object ("Écrivez à …", "Contactez nous").
    if _IMPERATIVE.fullmatch(span) and _IMPERATIVE_OBJECT.match(text, end) and starts_sentence(text, begin):
        return True
    # Only where a capital would have said something: in Japanese or Chinese a name is one "word" too.
    cased = any(ch.isupper() or ch.istitle() for ch in span)
    return cased and score < SENTENCE_START_FLOOR and starts_sentence(text, begin)


def starts_sentence(text: str, begin: int) -> bool:
    """`begin` is the start of the text or of a sentence (after a full stop and a space, not after an
    abbreviation: "M. Dupont", "Dr. Weiß"), quotes and opening marks aside."""
    before = text[:begin].rstrip(" \t\r\n«\"“'¡¿([")
    if not before:
        return True
    if not before.endswith((".", "!", "?", "…")) or not regex.search(r"\s", text[len(before) : begin]):
        return False
    last_word = regex.search(r"[\p{L}\p{M}]*\.$", before)
    return not last_word or len(last_word.group()) > 3


# What introduces a name in each language: "my name is" and its kin, and the titles written before a
# name ("Mr.", "Frau", "السيد", "श्री"). Only phrases that are followed by a name and nothing else: "I am"
# and "soy" are as often followed by "happy" or "Spanish", so they are not here.
_INTRODUCERS = {
    "en": ["my name is", "my name's", "call me", "Mr.", "Mrs.", "Ms.", "Miss", "Dr.", "Prof."],
    "es": ["me llamo", "mi nombre es", "Sr.", "Sra.", "Srta.", "don", "doña", "Dr.", "Dra."],
    "fr": ["je m'appelle", "je m’appelle", "mon nom est", "M.", "Mme", "Mlle", "Dr", "Pr"],
    "de": ["ich heiße", "mein Name ist", "Herr", "Herrn", "Frau", "Dr.", "Prof."],
    "it": ["mi chiamo", "il mio nome è", "Sig.", "Sig.ra", "signor", "signora", "dott.", "dott.ssa", "Dr."],
    "pt": ["chamo-me", "me chamo", "o meu nome é", "meu nome é", "Sr.", "Sra.", "dona", "Dr.", "Dra."],
    "ar": ["اسمي", "السيد", "السيدة", "الأستاذ", "الأستاذة", "الدكتور", "الدكتورة", "المهندس", "المهندسة"],
    "hi": ["मेरा नाम", "श्री", "श्रीमती", "सुश्री", "डॉ.", "डॉक्टर"],
    "ja": [], "ko": ["제 이름은", "제 이름은요", "저는"], "zh": ["我叫", "我的名字是", "我的名字叫"],
    "zh-TW": ["我叫", "我的名字是", "我的名字叫"],
}  # fmt: skip
# What closes a name in the scripts without capitals or spaces: Japanese "…と申します", Korean "…입니다".
_CLOSERS = {
    "ja": r"(?:と申します|といいます|と言います|です)",
    "ko": r"(?:입니다|이에요|예요|이라고|라고|이고|씨|님)",
}
_CAP_WORD = r"[\p{Lu}\p{Lt}][\p{L}\p{M}'’-]+"
_PARTICLE = r"(?:de|del|de la|da|das|do|dos|di|della|du|des|von|van|der|den|al|bin|ibn|y|e|la|le)"
# Score of a name found by its introducer alone (the entity model did not find it): the phrase is a
# strong cue, but where the name ends is only a guess.
INTRODUCED_SCORE = 0.8


@functools.cache
def _introducer_pattern(language: str) -> regex.Pattern[str] | None:
    phrases = _INTRODUCERS.get(language, [])
    script = {"ar": r"\p{Arabic}", "hi": r"[\p{Devanagari}\p{M}]"}.get(language)
    if language in ("ja",):
        # The name stands before "と申します", after punctuation, a space or the topic particle ("私は").
        return regex.compile(
            rf"(?:(?<=^|[\s、。，,!！?？「」]|は))(?!私は|わたしは|僕は|ぼくは)"
            rf"[\p{{Han}}\p{{Katakana}}\p{{Hiragana}}ー]{{2,8}}?(?=\s?{_CLOSERS['ja']})"
        )
    if not phrases:
        return None
    intro = "(?:" + "|".join(regex.escape(p) for p in sorted(phrases, key=len, reverse=True)) + ")"
    if language == "ko":
        name = rf"\p{{Hangul}}{{2,4}}(?={_CLOSERS['ko']}|[\s.,!?]|$)"
    elif language in ("zh", "zh-TW"):
        name = r"\p{Han}{2,4}(?=[\s，。,.!?！？、]|$)"
    elif script:
        word = rf"(?!(?:في|من|إلى|على|و|है|हूँ|हूं|और|का|की|के)(?!{script})){script}+"
        stop = rf"(?:है|हूँ|हूं|ने|को|से|في|من|إلى|على|عن|مع|و)(?!{script})"
        name = rf"{word}(?:[ \t]+{word}){{0,3}}?(?=[ \t]*(?:[.,،!?।]|{stop}|$))"
    else:
        name = rf"{_CAP_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_CAP_WORD}){{0,3}}"
    # Case-insensitive for the phrase only; a name still needs its capitals.
    return regex.compile(rf"(?:(?<![\p{{L}}])(?i:{intro})[ \t]*[:：]?[ \t]*)\K{name}")


# A form's or a list's name label at the start of a line ("- Name: …", "Nom : …", "姓名："), and the
# closing words of a letter or an e-mail that a signature follows on its own line or at the end ("Thanks,
# Ana Lima", "Mit freundlichen Grüßen\nJonas Weber", "감사합니다.\n김민수 드림").
_NAME_LABELS = {
    "en": ["name", "full name", "contact name"],
    "es": ["nombre", "nombre completo", "nombre y apellidos"],
    "fr": ["nom", "nom complet", "nom et prénom", "prénom et nom"],
    "de": ["name", "vollständiger name", "vor- und nachname"],
    "it": ["nome", "nome e cognome", "nome completo"],
    "pt": ["nome", "nome completo"],
    "ar": ["الاسم", "الاسم الكامل"], "hi": ["नाम", "पूरा नाम"], "ja": ["氏名", "名前", "お名前"],
    "ko": ["이름", "성명"], "zh": ["姓名", "名字"], "zh-TW": ["姓名", "名字"],
}  # fmt: skip
_CLOSINGS = {
    "en": ["thanks", "thank you", "regards", "best regards", "kind regards", "best wishes", "best", "cheers",
           "sincerely", "yours sincerely", "yours truly", "many thanks"],
    "es": ["gracias", "muchas gracias", "saludos", "un saludo", "saludos cordiales", "atentamente", "un abrazo"],
    "fr": ["merci", "merci beaucoup", "cordialement", "bien cordialement", "bien à vous", "amicalement",
           "salutations", "sincères salutations"],
    "de": ["danke", "vielen dank", "viele grüße", "beste grüße", "liebe grüße", "freundliche grüße",
           "mit freundlichen grüßen", "herzliche grüße", "gruß"],
    "it": ["grazie", "grazie mille", "cordiali saluti", "saluti", "distinti saluti", "un saluto"],
    "pt": ["obrigado", "obrigada", "cumprimentos", "com os melhores cumprimentos", "atenciosamente",
           "melhores cumprimentos", "um abraço"],
    "ar": ["مع التحية", "مع خالص التحية", "تحياتي", "مع الشكر", "شكرا", "شكراً"],
    "hi": ["धन्यवाद", "सादर"],
    "ja": ["よろしくお願いいたします", "よろしくお願いします", "以上"],
    "ko": ["감사합니다", "고맙습니다"],
    "zh": ["谢谢", "此致敬礼", "此致"],
    "zh-TW": ["謝謝", "此致敬禮", "此致"],
}  # fmt: skip


def _phrases(words: list[str]) -> str:
    return "(?:" + "|".join(regex.escape(p) for p in sorted(words, key=len, reverse=True)) + ")"


# In the scripts without capitals, the name is the rest of its line (a list's value, a signature).
_LINE_NAMES = {
    "ar": r"[\p{Arabic}\p{M}]{2,}(?:[ \t]+[\p{Arabic}\p{M}]{2,}){0,3}",
    "hi": r"[\p{Devanagari}\p{M}]{2,}(?:[ \t]+[\p{Devanagari}\p{M}]{2,}){0,3}",
    "ja": r"[\p{Han}\p{Hiragana}\p{Katakana}ー]{2,8}(?:[ \t　][\p{Han}\p{Hiragana}\p{Katakana}ー]{1,6})?",
    "ko": r"\p{Hangul}{2,4}",
    "zh": r"\p{Han}{2,4}",
    "zh-TW": r"\p{Han}{2,4}",
}


@functools.cache
def _signature_patterns(language: str) -> tuple[regex.Pattern[str], ...]:
    if language not in _NAME_LABELS:
        return ()
    line = _LINE_NAMES.get(language)
    name = line or rf"{_CAP_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_CAP_WORD}){{0,3}}"
    # A signature ends its line ("김민수 드림": "yours, 김민수").
    rest = r"(?=[ \t]*(?:드림|올림)?[ \t]*(?:\n|$))" if line else r"(?=[ \t]*[.!]?[ \t]*(?:\n|$))"
    # A list's value ends its line or at a comma.
    value_end = r"(?=[ \t]*(?:\n|$|[,،，、;；]))" if line else ""
    return (
        regex.compile(
            rf"(?m)^[ \t]*(?:[-•*·][ \t]*)?(?i:{_phrases(_NAME_LABELS[language])})[ \t]*[:：][ \t]*\K{name}{value_end}"
        ),
        regex.compile(
            rf"(?m)(?:^|(?<=[.!?。！？][ \t]*))[ \t]*(?i:{_phrases(_CLOSINGS[language])})[ \t]*[,،!.。！、，]?[ \t]*\n?"
            rf"[ \t]*\K{name}{rest}"
        ),
    )


def introduced_names(text: str, language: str) -> list[tuple[int, int, float]]:
    """Names that a phrase introduces ("my name is …", "Herr …", "我叫…", "…と申します"), a name label or a
    letter's closing words (a signature): (begin, end, score)."""
    pattern = _introducer_pattern(language)
    found = [(m.start(), m.end(), INTRODUCED_SCORE) for m in pattern.finditer(text)] if pattern else []
    for signature in _signature_patterns(language):
        found += [
            (m.start(), m.end(), INTRODUCED_SCORE)
            for m in signature.finditer(text)
            if not any(b < m.end() and m.start() < e for b, e, _ in found)
            # "Viele Grüße\nIhr Team", "Thanks,\nThe Support Team": no name.
            and m.group().split()[0].lower() not in _stop_words(language)
        ]
    return sorted(found)


def only_function_words(span: str, language: str) -> bool:
    """A "name" or "place" made only of sentence words ("Nuestra", "Hier", "Bitte"): no entity at all."""
    words = [w.strip(",.;:!?¡¿、，").lower() for w in span.split()]
    leading = _leading_words(language)
    return bool(words) and all(w in leading for w in words)
