"""A recipe's sets read as labelled sentences in Comprehend types: labels mapped or dropped, held-out shares,
Chinese script, lower-cased text given its capitals back, and Korean particles cut off entities."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opencomprehend.modelbuild.recipes import SourceSet


@dataclass
class MappedSet:
    source: SourceSet
    documents: list  # list[LabelledDocument]
    kept: Counter  # Comprehend type -> mentions
    dropped: Counter  # source label -> mentions
    trimmed: int = 0  # entities whose trailing particle was cut (trim = "ko-particles")


def read_mapped(source: SourceSet, data_dir: Path, script: str | None = None, dev: bool = False) -> MappedSet:
    """The set's sentences with every label mapped onto a Comprehend type (or dropped, as the recipe says).

    With source.held_out, a seeded share of the sentences (the same ones each time) is left out, or, with
    dev=True, only those are read. A dev (or test) set is never given capitals from its gold spans
    (case = "restore" raises ValueError with dev=True): held-out text is scored as a user would send it.

    Raises ValueError for a label the recipe neither maps nor drops.
    """
    from opencomprehend.nlp.training import LabelledDocument, read_jsonl

    convert: Callable[[str], str] = lambda text: text  # noqa: E731
    if script == "simplified":
        from opencomprehend.nlp.ner.chinese import to_simplified

        convert = to_simplified
    documents = []
    kept: Counter = Counter()
    dropped: Counter = Counter()
    if source.trim not in (None, "ko-particles"):
        raise ValueError(f'{source.path}: trim must be "ko-particles" or absent, not {source.trim!r}')
    if source.select not in (None, "traditional"):
        raise ValueError(f'{source.path}: select must be "traditional" or absent, not {source.select!r}')
    if source.case not in (None, "restore"):
        raise ValueError(f'{source.path}: case must be "restore" or absent, not {source.case!r}')
    if dev and source.case is not None:
        # restore_case capitalises the gold spans, which gives their boundaries away: held-out text is scored
        # as a user would send it, the file's own text.
        raise ValueError(
            f"{source.path}: a held-out (dev) split is read as it is; case = {source.case!r} is for training sets"
        )
    if not 0.0 <= source.lower_share <= 1.0 or (source.lower_share and source.case is None):
        raise ValueError(f'{source.path}: lower_share must be between 0 and 1, and needs case = "restore"')
    if not 0.0 <= source.held_out < 1.0:
        raise ValueError(f"{source.path}: held_out must be at least 0 and less than 1")
    rows = read_jsonl(Path(data_dir) / source.path, source.limit)
    if source.held_out:
        picks = random.Random(f"held-out:{source.path}")
        rows = [row for row in rows if (picks.random() < source.held_out) == dev]
    # One draw per sentence, in file order, so the same sentences stay lower-cased from run to run.
    draws = random.Random(f"lower-share:{source.path}")
    for doc in rows:
        if source.select == "traditional":
            from opencomprehend.nlp.ner.chinese import is_traditional

            if not is_traditional(doc.text):
                continue
        entities = []
        for begin, end, label in doc.entities:
            if label in source.labels:
                entities.append((begin, end, source.labels[label]))
                kept[source.labels[label]] += 1
            elif label in source.drop:
                dropped[label] += 1
            else:
                raise ValueError(f"{source.path}: label {label!r} is neither mapped nor dropped by the recipe")
        text = doc.text
        if source.case == "restore" and draws.random() >= source.lower_share:
            # Only the entities kept: a dropped one (MultiCoNER's diseases, "diabetes") is no name.
            text = restore_case(text, [(b, e) for b, e, _ in entities])
        documents.append(LabelledDocument(convert(text), tuple(entities)))
    trimmed = 0
    if source.trim == "ko-particles":
        documents, trimmed = trim_korean_particles(documents)
    return MappedSet(source, documents, kept, dropped, trimmed)


# Words that stay lower-case inside a name unless they open it ("Juan Manuel de Rosas", "Università degli
# Studi di Milano", "The Silence of the Lambs"): articles, prepositions and conjunctions of Spanish,
# Italian, Portuguese, French, English, German and Dutch. Elided forms ("dell'", "d'") are split off at the
# apostrophe; ELIDED are the heads split there ("sant'alessandro" -> "Sant'Alessandro").
NAME_PARTICLES: frozenset[str] = frozenset(
    "de del la las los el lo y e o u en a al con por para sin sobre entre "
    "di da dal dai dalla dei degli della delle dello dell il le gli i per su sul sulla nel nella nei in tra fra "
    "do dos das na no nos com "
    "du des et au aux sur l d "
    "and of the for on at to by an from with "
    "von vom zu zum zur der den das und van het op".split()
)
ELIDED: frozenset[str] = frozenset("l d dell dall nell sull all coll sant o".split())


def _capitalised(word: str) -> str:
    """The word with its first letter upper-cased, if the word starts with a letter (after punctuation)."""
    for i, char in enumerate(word):
        if char.isalnum():
            upper = char.upper()
            # Only a one-to-one change ("ß".upper() is "SS"), so every offset stays valid.
            return word[:i] + upper + word[i + 1 :] if char.isalpha() and len(upper) == 1 else word
    return word


def _name_cased(span: str) -> str:
    """A lower-cased name as names are written: every word capitalised but the particles inside it."""
    out = []
    first = True
    for word in span.split(" "):
        parts = []
        for piece in word.split("-"):
            head, apostrophe, tail = piece.partition("'")
            if apostrophe and head.lower() in ELIDED and tail[:1].isalpha():
                pieces = [head, tail]
            else:
                pieces, apostrophe = [piece], ""
            cased = []
            for sub in pieces:
                if not sub:
                    cased.append(sub)
                    continue
                keep = not first and sub.lower() in NAME_PARTICLES
                cased.append(sub if keep else _capitalised(sub))
                first = False
            parts.append(apostrophe.join(cased))
        out.append("-".join(parts))
    return " ".join(out)


def restore_case(text: str, spans: list[tuple[int, int]]) -> str:
    """Lower-cased text (MultiCoNER) with the capitals a writer would use: the first letter of the sentence
    and of each word of every entity span, except particles inside a name (NAME_PARTICLES).

    Only single characters change, so every character offset into the text stays valid. Acronyms cannot
    be restored ("onu" becomes "Onu"), nor names outside the spans; Spanish and Italian write months,
    weekdays and nationalities in lower case, so the rest of the sentence is mostly right as it is.
    """
    chars = list(text)
    for begin, end in spans:
        chars[begin:end] = _name_cased(text[begin:end])
    restored = "".join(chars)
    for i, char in enumerate(restored):
        if char.isalnum():
            upper = char.upper()
            if char.isalpha() and len(upper) == 1:
                restored = restored[:i] + upper + restored[i + 1 :]
            break
    return restored


# Korean particles (josa) that WikiANN's word-level spans carry ("서울에서" = 서울 + 에서). Those of two
# or more syllables, and 의 을 를 에 는, practically never end a name, so they are always cut; the others
# also end many names (브루나이, 김지은, 니시자와, 호프만, 몬테네그로, 경기도) and are cut only when the
# rest is itself an entity elsewhere in the set. 도 is never cut.
KOREAN_PARTICLES_ALWAYS: tuple[str, ...] = tuple(
    "으로부터 에서부터 에서는 에서도 에서의 로부터 에게는 으로는 에서 에게 으로 로서 에는 와는 과는 까지 부터 "
    "처럼 보다 께서 이나 이랑 로는 의 을 를 에 는".split()
)
KOREAN_PARTICLES_IF_KNOWN: tuple[str, ...] = ("이", "가", "은", "와", "과", "로", "만")
KOREAN_PARTICLES: tuple[str, ...] = tuple(
    sorted(KOREAN_PARTICLES_ALWAYS + KOREAN_PARTICLES_IF_KNOWN, key=len, reverse=True)
)


def _particle_of(text: str) -> str | None:
    return next((p for p in KOREAN_PARTICLES if text.endswith(p) and len(text) > len(p)), None)


def trim_korean_particles(documents: list) -> tuple[list, int]:
    """Cut trailing particles off Korean entities, as Comprehend (and KLUE-NER) report the name alone.

    WikiANN projects its Korean labels onto whole space-separated words, so about 30 % of its entities end
    in a particle ("서울에서", "미국의"), while Comprehend reports "서울". Unambiguous particles are always
    cut (KOREAN_PARTICLES_ALWAYS); the rest only when what remains occurs in the same documents as an
    entity that ends in no particle. At most two particles are cut ("진으로부터의"). Returns the
    documents and the number of entities changed.
    """
    from opencomprehend.nlp.training import LabelledDocument

    bare = {d.text[b:e] for d in documents for b, e, _ in d.entities if _particle_of(d.text[b:e]) is None}
    cut = 0
    result = []
    for doc in documents:
        entities = []
        for begin, end, kind in doc.entities:
            new_end = end
            for _ in range(2):
                particle = _particle_of(doc.text[begin:new_end])
                if particle is None:
                    break
                stem = doc.text[begin : new_end - len(particle)].rstrip()
                if not stem or (particle not in KOREAN_PARTICLES_ALWAYS and stem not in bare):
                    break
                new_end = begin + len(stem)
            cut += new_end != end
            entities.append((begin, new_end, kind))
        result.append(LabelledDocument(doc.text, tuple(entities)))
    return result, cut
