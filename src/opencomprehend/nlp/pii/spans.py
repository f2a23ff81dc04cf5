"""Spans of findings: addresses joined from their parts, overlaps resolved, one finding per identifier, and
the windows a long text is analysed in; every question about neighbours through sorted spans (Spans)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import Any

import regex

# What may join two address parts into one ADDRESS ("221B Baker Street, London NW1 6XE").
# Between two parts: separators, house and flat numbers, unit words, capitalised street words ("Drive",
# "Apt. 661"), and the numbering of Chinese, Japanese and Korean addresses (29丁目16番13号, 444번길).
_ADDRESS_GAP = regex.compile(
    r"(?:[\s,.]+|(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Piso|Appartamento|Wohnung|Bte|Bis)\.?"
    r"|\d{1,5}[A-Za-z]?|\p{Lu}[\p{Ll}'-]+\.?|[\d０-９-]+(?:丁目|番地|番|号|號|楼|樓|室|층|호|번지|번길|로|길|동)?)*"
)
_ADDRESS_GAP_MAX = 40
# A street right after a house number ("2837 Tricia Trafficway"): the entity model may call it a person.
_HOUSE_NUMBER_BEFORE = regex.compile(r"\b\d{1,5}[A-Za-z]?,?\s+$")
# A house number, or a postcode, next to a place.
_ADDRESS_NUMBER_BEFORE = regex.compile(r"(?:\b\d{1,5}[A-Za-z]?,?\s+(?:[\p{L}.'-]+\s+){0,3})$")
_ADDRESS_NUMBER_AFTER = regex.compile(
    r"^(?:,?\s*(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\d{1,5}[A-Za-z]?\b|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"
    r"|\d{3}-\d{4}\b|\d{5}(?:-\d{4})?\b))"
)


# A word that a dot ends without ending the sentence: an abbreviation ("St.", "Apt.") or an initial.
_ABBREVIATED = regex.compile(
    r"(?:\b(?:Apt|Ste|St|Sta|Mt|Ft|Dr|Av|Avda|Pza|Ctra|Urb|Bât|Fraz|Loc|Whg|Str|Nr|No|Co)|\b\p{L})$"
)


def _sentence_end(text: str, begin: int, end: int) -> bool:
    """A full stop between `begin` and `end` ("… 28014 Madrid. Gracias"): an address ends at the end of
    its sentence; the dot after an abbreviation or an initial ends none."""
    for dot in regex.finditer(r"[.!?](?=\s)", text, pos=begin, endpos=end + 1):
        if text[dot.start()] != "." or not _ABBREVIATED.search(text, max(0, dot.start() - 8), dot.start()):
            return True
    return False


def _addresses(
    text: str, spans: list[tuple[int, int, float]], written: list[tuple[int, int, float]] = ()  # type: ignore[assignment]
) -> list[tuple[int, int, float]]:
    """Places widened to house numbers and postcodes, and adjacent parts (those places, and the addresses
    `written` out in full, as they are) joined into one address."""
    widened: list[tuple[int, int, float]] = list(written)
    for begin, end, score in sorted(spans):
        before = _ADDRESS_NUMBER_BEFORE.search(text[max(0, begin - 60) : begin])
        if before and regex.search(r"\d", before.group()):
            if not _sentence_end(text, begin - len(before.group()), begin):
                begin -= len(before.group())
        after = _ADDRESS_NUMBER_AFTER.match(text[end : end + 16])
        if after and not _sentence_end(text, end, end + len(after.group())):
            end += len(after.group())
        widened.append((begin, end, score))
    joined: list[tuple[int, int, float]] = []
    for begin, end, score in sorted(widened):
        if joined:
            last_begin, last_end, last_score = joined[-1]
            gap = text[last_end:begin] if begin >= last_end else ""
            # Parts of one sentence only: "… 10115 Berlin. Telefon: …" is no "Berlin Telefon".
            if begin <= last_end or (
                len(gap) <= _ADDRESS_GAP_MAX
                and _ADDRESS_GAP.fullmatch(gap)
                and not _sentence_end(text, last_end, begin)
            ):
                joined[-1] = (last_begin, max(end, last_end), max(score, last_score))
                continue
        joined.append((begin, end, score))
    return joined


def _holds(text: str, outer: dict[str, Any], inner: dict[str, Any]) -> bool:
    """An address that holds a finding whole and more than it: a letter or digit of its own ("98101" in
    "Seattle, WA 98101", not the plate "L-DM-76" in "L-DM-76.")."""
    if not (
        outer["Type"] == "ADDRESS"
        and outer["BeginOffset"] <= inner["BeginOffset"]
        and inner["EndOffset"] <= outer["EndOffset"]
    ):
        return False
    rest = text[outer["BeginOffset"] : inner["BeginOffset"]] + text[inner["EndOffset"] : outer["EndOffset"]]
    return any(ch.isalnum() for ch in rest)


def _cross(begin: int, end: int, other_begin: int, other_end: int) -> bool:
    """Two spans share a character."""
    return begin < other_end and other_begin < end


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _cross(a["BeginOffset"], a["EndOffset"], b["BeginOffset"], b["EndOffset"])


class Spans:
    """Spans (begin, end, item) in order of their begin, to find those that cross a span in time that
    grows with how many do, not with how many there are: a long text's thousands of findings are each
    compared with their neighbours only."""

    def __init__(self, spans: Iterable[tuple[int, int, Any]]) -> None:
        self._spans = sorted(spans, key=lambda span: span[0])
        self._begins = [span[0] for span in self._spans]
        self._longest = max((end - begin for begin, end, _ in self._spans), default=0)

    @classmethod
    def of(cls, entities: Iterable[dict[str, Any]]) -> Spans:
        return cls((e["BeginOffset"], e["EndOffset"], e) for e in entities)

    def crossing(self, begin: int, end: int) -> Iterator[Any]:
        """The items of the spans that share a character with [begin, end)."""
        first = bisect.bisect_left(self._begins, begin - self._longest)
        for other_begin, other_end, item in self._spans[first : bisect.bisect_left(self._begins, end)]:
            if other_end > begin and other_begin < end:
                yield item

    def any_crossing(self, begin: int, end: int) -> bool:
        return next(self.crossing(begin, end), None) is not None


def resolve_overlaps(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """No two entities overlap: the higher score wins, then the longer span, then a national identity
    number (a French NIR's mod-97 key says more than the Luhn check a card number shares with it), then
    the earlier one."""
    ranked = sorted(
        entities,
        key=lambda e: (-e["Score"], -(e["EndOffset"] - e["BeginOffset"]), e["Type"] != "SSN", e["BeginOffset"]),
    )
    # The kept spans never overlap, so both their begins and their ends are in order: one bisection
    # finds the only two that could cross a candidate.
    begins: list[int] = []
    ends: list[int] = []
    kept: list[dict[str, Any]] = []
    for entity in ranked:
        begin, end = entity["BeginOffset"], entity["EndOffset"]
        at = bisect.bisect_right(begins, begin)
        if (at > 0 and ends[at - 1] > begin) or (at < len(begins) and begins[at] < end):
            continue
        begins.insert(at, begin)
        ends.insert(at, end)
        kept.insert(at, entity)
    return kept


def _entity(pii_type: str, begin: int, end: int, score: float) -> dict[str, Any]:
    return {"Score": round(float(min(1.0, max(0.0, score))), 6), "Type": pii_type, "BeginOffset": begin, "EndOffset": end}  # noqa: E501


# Identifiers are ASCII; a URL pattern that runs on into "です" or "입니다" stops before it.
_SCRIPT_RUN = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Devanagari}\p{Arabic}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+"  # noqa: E501
_TRAILING_SCRIPT = regex.compile(_SCRIPT_RUN + r"[\s.,;:!?]*$")
_LEADING_SCRIPT = regex.compile("^" + _SCRIPT_RUN)


# Values written in the language's own script: an age ("42歳"), a date, a plate ("名古屋 008 あ 36-08").
_OWN_SCRIPT_TYPES = frozenset({"AGE", "DATE_TIME", "LICENSE_PLATE"})


def _trim(text: str, begin: int, end: int, pii_type: str = "") -> tuple[int, int]:
    if pii_type not in _OWN_SCRIPT_TYPES:
        trailing = _TRAILING_SCRIPT.search(text, begin, end)
        if trailing and trailing.start() > begin:
            end = trailing.start()
        leading = _LEADING_SCRIPT.match(text, begin, end)
        if leading and leading.end() < end:
            begin = leading.end()
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1] in " \t\r\n.,;:":
        end -= 1
    return begin, end


_PLATE_BEFORE = regex.compile(r"(?i:\b(?:plate|registration|number plate|tag)\b)[^\n.;]{0,20}$")


# Identifiers whose form delimits them: nothing inside one is another identifier (the digits of an IPv6
# address are no Aadhaar number, the path of a URL no licence number).
_SELF_DELIMITED = frozenset({"URL", "EMAIL", "IP_ADDRESS", "MAC_ADDRESS", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"})


def _widest(text: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One finding per identifier: a finding inside a longer one of its type (libphonenumber's "3955185831"
    inside "+91 3955185831") is that one, with the better score; and a number inside a phone number
    written with its country code or area code ("+91 132 2419027") is part of the phone number."""

    def inside(inner: dict[str, Any], outer: dict[str, Any]) -> bool:
        return (
            outer["BeginOffset"] <= inner["BeginOffset"]
            and inner["EndOffset"] <= outer["EndOffset"]
            and outer["EndOffset"] - outer["BeginOffset"] > inner["EndOffset"] - inner["BeginOffset"]
        )

    spans = Spans.of(found)
    kept = []
    for entity in found:
        outer = [
            o
            for o in spans.crossing(entity["BeginOffset"], entity["EndOffset"])
            if inside(entity, o)
            and (
                o["Type"] == entity["Type"]
                or o["Type"] in _SELF_DELIMITED
                or (o["Type"] == "PHONE" and text[o["BeginOffset"]] in "+(")
            )
        ]
        if not outer:
            kept.append(entity)
            continue
        for o in outer:
            o["Score"] = max(o["Score"], entity["Score"])
    return kept


# Identifiers are looked for in windows of this many characters, each read with _WINDOW_MARGIN characters
# of context on either side: the regular expressions and Presidio's steps then cost the same per character
# for a text of 1 KB or 1 MB, whatever the text holds.
WINDOW = 4000
_WINDOW_MARGIN = 300


def windows(text: str, size: int = WINDOW, margin: int = _WINDOW_MARGIN) -> Iterator[tuple[int, int, int, int]]:
    """(own_begin, own_end, begin, end) for each window of `text`: the windows' own parts tile the text,
    cut at a line break, else a space, near `size` characters; each is read as text[begin:end], its own part
    widened by up to `margin` characters to a whitespace on either side (no word is cut in two there, and
    the context words before a value are read with it). One window for a text of up to `size`."""
    length = len(text)
    own_begin = 0
    while own_begin < length:
        own_end = min(length, own_begin + size)
        if own_end < length:
            floor = own_begin + size // 2
            cut = text.rfind("\n", floor, own_end)
            if cut < 0:
                cut = max(text.rfind(" ", floor, own_end), text.rfind("\t", floor, own_end))
            if cut > own_begin:
                own_end = cut + 1
        begin = max(0, own_begin - margin)
        if begin > 0:
            space = _first_space(text, begin, own_begin)
            begin = own_begin if space < 0 else space
        end = min(length, own_end + margin)
        if end < length:
            space = _last_space(text, own_end, end)
            end = own_end if space < 0 else space
        yield own_begin, own_end, begin, end
        own_begin = own_end


def _first_space(text: str, begin: int, end: int) -> int:
    found = [i for i in (text.find(" ", begin, end), text.find("\n", begin, end)) if i >= 0]
    return min(found) if found else -1


def _last_space(text: str, begin: int, end: int) -> int:
    return max(text.rfind(" ", begin, end), text.rfind("\n", begin, end))
