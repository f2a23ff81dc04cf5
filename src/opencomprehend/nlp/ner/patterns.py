"""DATE and QUANTITY for the languages whose training data has no such labels, from Unicode CLDR data.

Comprehend answers DATE and QUANTITY in every language, but most open NER sets mark only people, places
and organisations. For a model that cannot answer a type, that type comes from patterns built on the
CLDR data that Babel ships for every locale (no hand-written word lists):

- DATE: month names (wide and abbreviated, format and stand-alone forms), weekday names, a day number
  and year around a month ("5 de mayo de 2020", "5. Mai 2020", "May 5, 2020", "mayo de 2020"), numeric
  dates (05/05/2020, 2020-05-05), and in Chinese and Japanese script 2020年5月5日, 5月5日, 2020年;
- QUANTITY: a number (digits of the locale's own numbering too, grouped and with decimals, with an
  optional magnitude word from CLDR's compact number formats: "3 millones", "2,5 Milliarden") followed
  by a unit (CLDR unit names, long and short, every plural form: "12 kilómetros", "5 km", "30 por
  ciento", "20 %"), or by a currency's name ("20 euros") or symbol, or preceded by a currency symbol
  ("$20", "€ 5").

A pattern entity never overlaps a model entity: the model's spans win. Each gets a fixed Score
(`PATTERN_SCORE`), since a pattern has no probability of its own; bench/languages.py measures how often
such entities are right where a gold set has the type (HAREM pt: TIME and VALUE).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

from opencomprehend.nlp.languages import CHARACTER_LANGUAGES, LANGUAGES

DATE, QUANTITY = "DATE", "QUANTITY"
PATTERN_SCORE = 0.9

# CLDR units a user would call a quantity (https://cldr.unicode.org/translation/units).
UNITS = [
    "concentr-percent", "concentr-permille",
    "length-kilometer", "length-meter", "length-centimeter", "length-millimeter", "length-mile",
    "length-foot", "length-inch", "length-yard",
    "mass-kilogram", "mass-gram", "mass-milligram", "mass-tonne", "mass-ton", "mass-pound", "mass-ounce",
    "volume-liter", "volume-milliliter", "volume-cubic-meter", "volume-gallon", "volume-barrel",
    "area-square-kilometer", "area-square-meter", "area-hectare", "area-acre", "area-square-mile",
    "duration-year", "duration-month", "duration-week", "duration-day", "duration-hour",
    "duration-minute", "duration-second",
    "speed-kilometer-per-hour", "speed-mile-per-hour", "temperature-celsius", "temperature-fahrenheit",
    "digital-byte", "digital-kilobyte", "digital-megabyte", "digital-gigabyte", "digital-terabyte",
    "energy-kilowatt-hour", "power-watt", "power-kilowatt", "power-megawatt", "power-horsepower",
]  # fmt: skip
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CNY", "INR", "KRW", "BRL", "MXN", "CHF", "CAD", "AUD", "RUB",
              "SAR", "AED", "EGP", "ARS", "COP", "CLP", "TWD", "HKD", "SEK", "NOK", "DKK", "PLN", "TRY"]  # fmt: skip
SYMBOLS = ["$", "€", "£", "¥", "₹", "₩", "R$", "US$", "CHF", "元", "円", "￥"]

_SPACE = r"[ \u00a0\u202f]"
_CJK = CHARACTER_LANGUAGES


@dataclass(frozen=True)
class Patterns:
    """The compiled DATE and QUANTITY patterns of one language (None where it has none of that type)."""

    date: regex.Pattern[str] | None
    quantity: regex.Pattern[str] | None

    def find(self, text: str, types: set[str]) -> list[dict]:
        found: list[dict] = []
        for kind, pattern in ((DATE, self.date), (QUANTITY, self.quantity)):
            if pattern is None or kind not in types:
                continue
            for match in pattern.finditer(text):
                begin, end = match.span()
                if end > begin and not any(f["BeginOffset"] < end and begin < f["EndOffset"] for f in found):
                    found.append(_entity(text, begin, end, kind))  # a date first, then amounts beside it
        found.sort(key=lambda e: e["BeginOffset"])
        return found


def _entity(text: str, begin: int, end: int, kind: str) -> dict:
    return {"BeginOffset": begin, "EndOffset": end, "Score": PATTERN_SCORE, "Text": text[begin:end], "Type": kind}


def merge(model: list[dict], extra: list[dict], text: str) -> list[dict]:
    """The model's entities plus the pattern entities, in order, none overlapping.

    The model's span wins an overlap, except that
    - a pattern entity with a digit in it ("3 de marzo de 2021", "5 Millionen Euro": a number matched in
      its context) replaces the model entities that lie wholly inside it, whatever their type;
    - a pattern entity at the very start or end of a longer model entity of another type ("5 de mayo de
      2020 Telefónica" as one ORGANIZATION) is cut out of it: the model keeps the rest.
    A bare month or weekday name ("Mayo", a surname too) never overrides the model.
    """
    kept = [dict(e) for e in model]
    added: list[dict] = []
    for entity in sorted(extra, key=lambda e: (e["BeginOffset"], -e["EndOffset"])):
        begin, end = entity["BeginOffset"], entity["EndOffset"]
        clash = [m for m in kept if m["BeginOffset"] < end and begin < m["EndOffset"]]
        if any(a["BeginOffset"] < end and begin < a["EndOffset"] for a in added):
            continue
        if not clash:
            added.append(entity)
            continue
        inside = all(begin <= m["BeginOffset"] and m["EndOffset"] <= end for m in clash)
        if inside and any(c.isdigit() for c in entity["Text"]):
            kept = [m for m in kept if not any(m is c for c in clash)]
            added.append(entity)
            continue
        if len(clash) != 1 or clash[0]["Type"] == entity["Type"]:
            continue
        host = clash[0]
        if host["BeginOffset"] == begin and end < host["EndOffset"]:
            rest = (end, host["EndOffset"])
        elif host["EndOffset"] == end and begin > host["BeginOffset"]:
            rest = (host["BeginOffset"], begin)
        else:
            continue
        piece = text[rest[0] : rest[1]]
        left = len(piece) - len(piece.lstrip(" ,.;:-\u00a0"))
        right = len(piece.rstrip(" ,.;:-\u00a0"))
        if right <= left:
            continue
        host["BeginOffset"], host["EndOffset"] = rest[0] + left, rest[0] + right
        host["Text"] = text[host["BeginOffset"] : host["EndOffset"]]
        added.append(entity)
    out = kept + added
    out.sort(key=lambda e: e["BeginOffset"])
    return out


def _alternatives(words: set[str]) -> str:
    # Longest first, so that "kilómetros" is preferred to "kilómetro" and "km" to "k".
    cleaned = {w.strip() for w in words if w and w.strip()}
    return "|".join(regex.escape(w) for w in sorted(cleaned, key=lambda w: (-len(w), w)))


def _unit_words(locale) -> set[str]:  # type: ignore[no-untyped-def]
    patterns = locale._data.get("unit_patterns", {})
    words: set[str] = set()
    for unit in UNITS:
        for length in ("long", "short", "narrow"):
            for form, pattern in patterns.get(unit, {}).get(length, {}).items():
                if form == "per" or "{0}" not in pattern:
                    continue
                words.add(pattern.replace("{0}", "").strip())
    return {w for w in words if len(w) > 1 or not w.isalpha()}


def _currency_words(locale) -> set[str]:  # type: ignore[no-untyped-def]
    words: set[str] = set()
    plural = locale._data.get("currency_names_plural", {})
    for code in CURRENCIES:
        name = locale.currencies.get(code)
        if name:
            words.add(name)
        for form in plural.get(code, {}).values():
            words.add(form)
        symbol = locale.currency_symbols.get(code)
        if symbol and not symbol.isalpha():
            words.add(symbol)
    return words


def _magnitude_words(locale, cjk: bool) -> set[str]:  # type: ignore[no-untyped-def]
    words: set[str] = set()
    for width in ("long", "short"):
        try:
            formats = locale.compact_decimal_formats.get(width, {})
        except (AttributeError, KeyError):
            continue
        for by_form in formats.values():
            for pattern in by_form.values():
                word = regex.sub(r"[0#.,\s\u00a0'’]+", " ", str(pattern.pattern)).strip()
                if word and (len(word) > 1 or cjk):
                    words.add(word)
    return words


def _digits(locale) -> str:  # type: ignore[no-untyped-def]
    """A character class of the digits a locale writes numbers with (ASCII always)."""
    system = locale.default_numbering_system if hasattr(locale, "default_numbering_system") else "latn"
    extra = {"arab": "٠-٩", "arabext": "۰-۹", "deva": "०-९", "beng": "০-৯"}.get(system, "")
    return f"[0-9{extra}]"


@functools.cache
def patterns_for(language: str) -> Patterns | None:
    """The patterns of a Comprehend language code; None when Babel has no data for it."""
    try:
        from babel import Locale, UnknownLocaleError
        from babel.dates import get_day_names, get_month_names
    except ImportError:  # pragma: no cover  (babel is a dependency)
        return None
    # zh-TW text reaches the patterns converted to Simplified script (SimplifiedChineseEngine).
    code = LANGUAGES[language].cldr if language in LANGUAGES else language
    try:
        locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return None
    cjk = language in _CJK
    digit = _digits(locale)
    months: set[str] = set()
    abbreviated: set[str] = set()
    days: set[str] = set()
    for context in ("format", "stand-alone"):
        months |= set(get_month_names("wide", context, locale).values())
        abbreviated |= set(get_month_names("abbreviated", context, locale).values())
        days |= set(get_day_names("wide", context, locale).values())
    # An abbreviation without its period ("mar", "sep") is a word too often; it counts beside a day or year.
    abbreviated = {a for a in abbreviated if a not in months}
    year = rf"(?:1[5-9]{digit}{{2}}|20{digit}{{2}})"
    day = rf"{digit}{{1,2}}(?:\.|º|°|er|st|nd|rd|th)?"
    link = rf"(?:{_SPACE}+(?:de|del|di|of|en|em|du){_SPACE}+|,?{_SPACE}+|{_SPACE}*-{_SPACE}*)"
    month = f"(?:{_alternatives(months)})"
    short = f"(?:{_alternatives(abbreviated)})" if abbreviated else month
    weekday = f"(?:{_alternatives(days)})"
    if cjk:
        date = (
            rf"{digit}{{2,4}}年(?:{digit}{{1,2}}月(?:{digit}{{1,2}}[日号])?)?"
            rf"|{digit}{{1,2}}月{digit}{{1,2}}[日号]|{digit}{{1,2}}月(?!{digit})|{weekday}"
            rf"|{digit}{{4}}년(?:{_SPACE}?{digit}{{1,2}}월(?:{_SPACE}?{digit}{{1,2}}일)?)?|{digit}{{1,2}}월{_SPACE}?{digit}{{1,2}}일"
        )
    else:
        date = (
            rf"(?:{weekday},?{_SPACE}+)?{day}{link}(?:{month}|{short})(?:{link}{year})?"
            rf"|(?:{month}|{short}){_SPACE}+{day}(?:,?{_SPACE}+{year})?(?!{digit})"
            rf"|(?:{month}|{short}){link}{year}"
            rf"|{month}"
            rf"|{weekday}"
            rf"|{digit}{{1,2}}[./-]{digit}{{1,2}}[./-](?:{digit}{{4}}|{digit}{{2}})(?!{digit})"
            rf"|{digit}{{4}}-{digit}{{2}}-{digit}{{2}}"
        )
        date = rf"(?<!\w)(?:{date})(?!\w)"
    number = rf"{digit}+(?:[.,\u00a0\u202f' ]{digit}{{3}})*(?:[.,]{digit}+)?"
    sep = "" if cjk else rf"{_SPACE}?"
    magnitudes = _magnitude_words(locale, cjk)
    units = f"(?:{_alternatives(_unit_words(locale) | _currency_words(locale))})"
    symbols = _alternatives(set(SYMBOLS) | {s for s in (locale.currency_symbols.get(c) for c in CURRENCIES) if s})
    # "3 millones de euros", "500 millions d'euros", "20 milioni di euro", "3亿元"
    connector = "" if cjk else rf"(?:{_SPACE}+(?:de|di|of){_SPACE}+|{_SPACE}+d['’]|{_SPACE}+)"
    magnitude = rf"{sep}(?:{_alternatives(magnitudes)})" if magnitudes else None
    forms = [rf"(?:{symbols}){_SPACE}?{number}" + (f"(?:{magnitude})?" if magnitude else "")]
    if magnitude:
        forms.append(rf"{number}{magnitude}(?:{connector}{units})?")
    forms.append(rf"{number}{sep}{units}")
    before = r"(?<![0-9.,/-])" if cjk else r"(?<![\w.,/-])"
    after = "" if cjk else r"(?!\w)"
    quantity = rf"{before}(?:{'|'.join(forms)}){after}"
    flags = regex.IGNORECASE | regex.V1
    return Patterns(regex.compile(date, flags), regex.compile(quantity, flags))
