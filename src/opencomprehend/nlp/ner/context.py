"""Document-level consistency: what a model found in one sentence of a document informs the others.

The models read one sentence at a time (spacy_engine splits documents into sentences), so a document
that names "Hugo Chávez" once and "Chávez" five times, or "Japan" as a place in one sentence and as an
organisation in the next, gets answers that contradict each other. A reader resolves such mentions from
the rest of the document, and so does this step, run over each document's entities after the model:

1. one type per name: every mention with the same text gets the type whose mentions score highest in
   total (each keeps its own score);
2. repeated names: a name found with a score of at least MIN_SCORE is also marked where the same text
   appears elsewhere unmarked, as a whole word (for scripts with case: with the same case of its first
   letter), scored REPEAT_FACTOR times the best score of that name;
3. short names: the last word of a person's name of several words (at least three letters, capitalised)
   is a PERSON where it stands alone elsewhere ("Chávez" after "Hugo Chávez"), scored SURNAME_FACTOR times
   the full name's score.

2 and 3 need words: in Chinese and Japanese a name's text also occurs inside longer words (中国 in 中国人),
and Korean glues particles to names, so for zh, zh-TW, ja and ko only step 1 runs (measured: marking
repeats there cost zh 0.003 and zh-TW 0.004 F1 on single sentences and gained nothing on documents).

A new entity never overlaps one the model found. Measured on the gold sets with 25 lines a document
(`opencomprehend eval --join 25`): see docs/models.md, "Document context".
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterator

MIN_SCORE = 0.5
REPEAT_FACTOR = 0.9
SURNAME_FACTOR = 0.8
# Languages whose words are not separated by spaces, or whose particles attach to names ("서울에서").
UNSPACED = frozenset({"zh", "zh-TW", "ja", "ko"})


def _occurrences(text: str, name: str) -> Iterator[int]:
    """Where `name` stands in `text` as a whole word."""
    for match in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text):
        yield match.start()


def harmonise(text: str, entities: list[dict], language: str) -> list[dict]:
    """The entities of one document made consistent (see the module docstring), sorted by offset."""
    if len(entities) < 1:
        return entities
    # 1. One type per name.
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for e in entities:
        totals[e["Text"]][e["Type"]] += e["Score"]
    result = [{**e, "Type": max(totals[e["Text"]].items(), key=lambda kv: kv[1])[0]} for e in entities]
    if language in UNSPACED:
        return result
    # The spans taken, in order of their begin: a mention is checked against its neighbours only, so a long
    # document of many repeated names costs time in proportion to its length.
    taken = sorted((e["BeginOffset"], e["EndOffset"]) for e in result)
    longest = max(e - b for b, e in taken)

    def add(begin: int, name: str, like: dict, score: float) -> None:
        nonlocal longest
        end = begin + len(name)
        first = bisect.bisect_left(taken, (begin - longest, -1))
        if any(e > begin for _, e in taken[first : bisect.bisect_left(taken, (end, -1))]):
            return
        if name[0].isupper() != text[begin].isupper():
            return
        result.append({**like, "BeginOffset": begin, "EndOffset": end, "Text": name, "Score": round(score, 6)})
        bisect.insort(taken, (begin, end))
        longest = max(longest, end - begin)

    # 2. Repeated names, best-scored first.
    best: dict[str, dict] = {}
    for e in result:
        if e["Score"] >= MIN_SCORE and len(e["Text"]) >= 2 and e["Score"] > best.get(e["Text"], {}).get("Score", -1):
            best[e["Text"]] = e
    for name, e in sorted(best.items(), key=lambda kv: -kv[1]["Score"]):
        for begin in _occurrences(text, name):
            add(begin, name, e, e["Score"] * REPEAT_FACTOR)
    # 3. Short names.
    surnames: dict[str, dict] = {}
    for e in list(result):
        words = e["Text"].split()
        if e["Type"] == "PERSON" and e["Score"] >= MIN_SCORE and len(words) > 1:
            last = words[-1]
            if len(last) >= 3 and last[0].isupper() and e["Score"] > surnames.get(last, {}).get("Score", -1):
                surnames[last] = e
    for last, e in surnames.items():
        for begin in _occurrences(text, last):
            add(begin, last, e, e["Score"] * SURNAME_FACTOR)
    result.sort(key=lambda e: e["BeginOffset"])
    return result
