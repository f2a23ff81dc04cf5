"""Traditional -> Simplified Chinese, one character for one character, so offsets carry over unchanged.

Comprehend's zh-TW (Traditional) goes through the same model as zh: the text is converted to Simplified
script, the model finds entities in the converted text, and since the conversion never changes the
length, an entity's offsets in the converted text are its offsets in the original text, whose characters
the engine then reports.

The tables are OpenCC's, as shipped by the pure-Python `opencc-python-reimplemented` package (Apache
2.0): its "tw2s" chain, i.e. Taiwan variants -> OpenCC Traditional (TWVariantsRev*, e.g. 啟 -> 啓), then
Traditional -> Simplified (TSPhrases, TSCharacters), each phrase table tried longest match first and the
character table otherwise, the first candidate where a table lists several. Vocabulary localisation
(TWPhrasesRev: 軟體 -> 软件, 記憶體 -> 内存) is deliberately not applied: it rewrites words, not script,
and can change the length. Every entry used keeps the length (a phrase whose replacement has another
length would be skipped, and its characters converted one by one; none does in the shipped tables,
which test_languages checks), so len(to_simplified(t)) == len(t) always holds.

Simplified text passes through almost unchanged (the phrase tables keep 著名 or 乾隆 intact), so zh uses
the conversion too: WikiANN's Chinese is about half Traditional, and one Simplified model serves both.
"""

from __future__ import annotations

import functools
from importlib import resources

# The "tw2s" conversion chain: one pass per group; within a group, phrases (longest first) beat characters.
_CHAIN: tuple[tuple[str, ...], ...] = (
    ("TWVariantsRevPhrases.txt", "TWVariantsRev.txt"),
    ("TSPhrases.txt", "TSCharacters.txt"),
)


def _read_table(name: str) -> dict[str, str]:
    table: dict[str, str] = {}
    text = resources.files("opencc").joinpath("dictionary", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _, values = line.partition("\t")
        value = values.split(" ")[0]
        # Only replacements of the same length keep offsets; anything else is left to the character table.
        if key and len(value) == len(key):
            table[key] = value
    return table


@functools.cache
def _passes() -> tuple[tuple[dict[str, str], int], ...]:
    passes = []
    for group in _CHAIN:
        merged: dict[str, str] = {}
        for name in reversed(group):  # earlier tables of a group win
            merged.update(_read_table(name))
        passes.append((merged, max(map(len, merged))))
    return tuple(passes)


def _convert(text: str, table: dict[str, str], longest: int) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        for size in range(min(longest, n - i), 0, -1):
            replacement = table.get(text[i : i + size])
            if replacement is not None:
                out.append(replacement)
                i += size
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def to_simplified(text: str) -> str:
    """`text` in Simplified script, with exactly as many characters (code points) as `text`."""
    converted = text
    for table, longest in _passes():
        converted = _convert(converted, table, longest)
    if len(converted) != len(text):  # cannot happen with same-length tables; kept as a guard
        raise AssertionError("Traditional -> Simplified conversion changed the length of the text")
    return converted


def is_traditional(text: str) -> bool:
    """Whether the conversion changes `text`: it holds Traditional (or Taiwan-variant) characters."""
    return to_simplified(text) != text
