"""The entity models opencomprehend ships for Comprehend's languages: where they are and how they are trained.

Each language other than English has a compact spaCy NER pipeline in src/opencomprehend/models/<lang>/,
trained by `opencomprehend train-language <lang>` from a recipe kept in the repository,
training/<lang>.toml, which names:

- the training sets (files under ../shared/data, the openly licensed ner-train/ sets), each with its
  licence and its label map onto Comprehend's nine types; labels listed under `drop` are left out (their
  tokens are trained as "no entity"), and a label that is neither mapped nor dropped is an error, so a
  recipe always says what happens to every label of its data;
- the evaluation set (a public ner/ set, never trained on) and its label map;
- optionally `[dev]`: a gold dev split of the training data's source (e.g. ner-train/uner-pt-bosque/dev),
  used instead of a random tenth of the training sentences to pick the best epoch and stop early, so
  that training is steered by running gold text and not by whatever silver set the mix holds;
- the training options (opencomprehend.nlp.training.TrainingOptions), e.g. max_seconds;
- `script = "simplified"` (Chinese): texts are converted to Simplified script, one character for one
  character, before training; the "spacy.t2s.v1" engine converts at run time in the same way;
- per set, `limit = N` (only the first N sentences), `held_out = x` (a seeded share x of the file's
  sentences: a [[sets]] entry leaves them out and a [dev] entry naming the same file and share reads only
  them, so one gold file can both train and pick the epoch), `trim = "ko-particles"`
  (Korean particles cut off the end of entities, see trim_korean_particles), and `case = "restore"`
  (lower-cased text such as MultiCoNER's given back its capitals, see restore_case) with
  `lower_share = x` (that share of the set's sentences, chosen with a fixed seed, kept lower-cased).

A recipe with a `[base]` table (English experiments, training/experiments/en-*.toml) does not train a fresh
pipeline: it continues an existing model's NER (en_core_web_sm) on the gold sets, rehearsing on that model's
own predictions of the types a set does not mark (opencomprehend.modelbuild.rehearsal); the sets' labels are still
mapped onto Comprehend types, `[base].labels` says which of the base model's labels each type becomes, and
`upper_share = x` (per set, [base] recipes only) upper-cases that share of the sentences after the base
model has labelled them. Such a model keeps the base model's labels.

Because every label is mapped at training time, the model's own labels ARE Comprehend types, and the
"spacy.v1" engine (whose label map sends Comprehend's names to themselves) serves them unchanged.

Beside spaCy's files (config.cfg, meta.json, ner/, tokenizer, vocab/) and training.json (the training
report), each model folder holds source.json: the data it was trained on, their licences, the label
maps, the recipe, and the figures measured on the evaluation set (bench/languages.py fills in
"evaluation").
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Amazon Comprehend's languages for the standard entity types.
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW")

PACKAGE_DIR = Path(__file__).resolve().parents[1]
MODELS_DIR = PACKAGE_DIR / "models"
# In a checkout: <repo>/src/opencomprehend -> <repo>. The recipes and the data exist only in a checkout.
REPO_DIR = PACKAGE_DIR.parents[1]
RECIPES_DIR = REPO_DIR / "training"


def shared_data_dir() -> Path:
    """The shared data folder: $OPENCOMPREHEND_SHARED_DATA, or <repo>/../shared/data."""
    configured = os.environ.get("OPENCOMPREHEND_SHARED_DATA")
    return Path(configured) if configured else (REPO_DIR.parent / "shared" / "data").resolve()


def model_dir(language: str) -> Path:
    """Where the shipped model for `language` lives (it may not exist)."""
    return MODELS_DIR / language


# ---------------------------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class SourceSet:
    """One file of labelled sentences and what to do with each of its labels."""

    name: str
    path: str  # relative to the shared data folder
    licence: str
    labels: dict[str, str]
    drop: tuple[str, ...] = ()
    limit: int | None = None  # only the first N sentences
    kind: str = ""  # "gold" or "silver", for the record
    # "traditional": only the sentences in Traditional script (chinese.is_traditional), e.g. to test zh-TW.
    select: str | None = None
    # "ko-particles": cut Korean particles off the end of entities (see trim_korean_particles).
    trim: str | None = None
    # A seeded share of the file's sentences: left out of a [[sets]] entry, the only ones a [dev] entry
    # reads (read_mapped(..., dev=True)), so the two never share a sentence.
    held_out: float = 0.0
    # "restore": capitals given back to lower-cased text (see restore_case); lower_share of the sentences
    # (seeded) are kept lower-cased, so the model also meets lower-case input.
    case: str | None = None
    lower_share: float = 0.0
    # [base] recipes only: that share of the sentences (seeded) upper-cased after the base model has
    # labelled them, so the model also meets headlines and shouting ("SOCCER - LEEDS FINED").
    upper_share: float = 0.0


@dataclass(frozen=True)
class Recipe:
    language: str
    description: str
    test: SourceSet
    sets: tuple[SourceSet, ...]
    dev: SourceSet | None = None  # picks the best epoch; None: a random share of the training sentences
    options: dict = field(default_factory=dict)
    script: str | None = None  # "simplified": convert Chinese text to Simplified script
    engine: str = "spacy.v1"
    path: Path | None = None
    # [base]: continue an existing model (en_core_web_sm) with rehearsal instead of training a fresh one
    # (opencomprehend.modelbuild.rehearsal); its labels, not Comprehend types, are then the model's labels.
    base: object | None = None  # rehearsal.BaseModel


def _source_set(raw: dict, where: str) -> SourceSet:
    try:
        return SourceSet(
            name=str(raw["name"]),
            path=str(raw["path"]),
            licence=str(raw.get("licence", "")),
            labels={str(k): str(v) for k, v in dict(raw["labels"]).items()},
            drop=tuple(str(x) for x in raw.get("drop", ())),
            limit=raw.get("limit"),
            kind=str(raw.get("kind", "")),
            select=raw.get("select"),
            trim=raw.get("trim"),
            held_out=float(raw.get("held_out", 0.0)),
            case=raw.get("case"),
            lower_share=float(raw.get("lower_share", 0.0)),
            upper_share=float(raw.get("upper_share", 0.0)),
        )
    except KeyError as exc:
        raise ValueError(f"{where}: missing key {exc}") from None


def recipe_path(recipe: str, recipes_dir: Path = RECIPES_DIR) -> Path:
    """A recipe named "de" is training/de.toml; a name ending in .toml is a path."""
    return Path(recipe) if recipe.endswith(".toml") else Path(recipes_dir) / f"{recipe}.toml"


def load_recipe(recipe: str, recipes_dir: Path = RECIPES_DIR) -> Recipe:
    """The recipe training/<recipe>.toml, or the file `recipe` if it ends in .toml (FileNotFoundError if none)."""
    from opencomprehend.nlp.labels import COMPREHEND_TYPES

    path = recipe_path(recipe, recipes_dir)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    language = raw.get("language")
    if language not in LANGUAGES:
        raise ValueError(f"{path}: language is {language!r}, not one of {', '.join(LANGUAGES)}")
    sets = tuple(_source_set(s, f"{path} [[sets]] {i}") for i, s in enumerate(raw.get("sets", [])))
    if not sets:
        raise ValueError(f"{path}: no [[sets]]")
    test = _source_set(raw["test"], f"{path} [test]")
    dev = _source_set(raw["dev"], f"{path} [dev]") if "dev" in raw else None
    for source in (*sets, test, *([dev] if dev else [])):
        wrong = sorted(set(source.labels.values()) - set(COMPREHEND_TYPES))
        if wrong:
            raise ValueError(f"{path}: {source.name} maps onto {wrong}, which are not Comprehend types")
    from opencomprehend.nlp.training import TrainingOptions

    options = dict(raw.get("options", {}))
    unknown = sorted(set(options) - {f.name for f in dataclasses.fields(TrainingOptions)})
    if unknown:
        raise ValueError(f"{path}: unknown training options {unknown}")
    script = raw.get("script")
    if script not in (None, "simplified"):
        raise ValueError(f'{path}: script must be "simplified" or absent, not {script!r}')
    if "base" not in raw and any(s.upper_share for s in sets):
        raise ValueError(f"{path}: upper_share needs a [base] model (its predictions are made before upper-casing)")
    base = None
    if "base" in raw:
        from opencomprehend.modelbuild.rehearsal import parse_base

        base = parse_base(dict(raw["base"]), f"{path} [base]")
    return Recipe(
        base=base,
        language=language,
        description=str(raw.get("description", "")),
        test=test,
        sets=sets,
        dev=dev,
        options=options,
        script=script,
        engine=str(raw.get("engine", "spacy.t2s.v1" if script == "simplified" else "spacy.v1")),
        path=path,
    )


# ------------------------------------------------------------------------------------------------- data


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
    dev=True, only those are read.

    Raises ValueError for a label the recipe neither maps nor drops.
    """
    from opencomprehend.nlp.training import LabelledDocument, read_jsonl

    convert: Callable[[str], str] = lambda text: text  # noqa: E731
    if script == "simplified":
        from opencomprehend.nlp.chinese import to_simplified

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
            from opencomprehend.nlp.chinese import is_traditional

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


# -------------------------------------------------------------------------------------------- training


def _selection(source: SourceSet) -> dict:
    """The per-set reading options a recipe used, for source.json (none: nothing)."""
    chosen: dict = {}
    if source.held_out:
        chosen["held_out"] = source.held_out
    if source.limit is not None:
        chosen["limit"] = source.limit
    if source.case:
        chosen["case"] = source.case
        chosen["lower_share"] = source.lower_share
    if source.upper_share:
        chosen["upper_share"] = source.upper_share
    return chosen


def _test_set(recipe: Recipe, sentences: int, f1: float) -> dict[str, Any]:
    """source.json's record of the set a model was reported on (never trained on)."""
    return {
        "set": recipe.test.name,
        "file": recipe.test.path,
        "sentences": sentences,
        "label_map": recipe.test.labels,
        "f1_all_predictions": round(f1, 4),
    }


def write_source(folder: Path, metadata: dict[str, Any]) -> None:
    """A model folder's source.json, written whole or not at all."""
    staged = folder / "source.json.new"
    staged.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    staged.replace(folder / "source.json")


def _publish(staging: Path, output_dir: Path, metadata: dict[str, Any]) -> None:
    """Write the model's source.json into its staged folder, and put the folder in place of `output_dir`."""
    write_source(staging, metadata)
    _replace_folder(staging, output_dir)


def _replace_folder(staging: Path, output_dir: Path) -> None:
    """Put the finished model folder in place of `output_dir`: the old one is moved aside first, so a
    reader sees the old model or the new one, never half of either."""
    if output_dir.exists():
        old = output_dir.parent / f".{output_dir.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        output_dir.rename(old)
        staging.rename(output_dir)
        shutil.rmtree(old)
    else:
        staging.rename(output_dir)


def _fit_calibration(folder: Path, recipe: Recipe, dev_documents: list, log: Callable[[str], None]) -> dict[str, Any]:
    """Fit the score calibration of the model in `folder` on the recipe's gold dev split and save it there
    (calibration.json, see opencomprehend.nlp.calibration); returns source.json's record of it."""
    from opencomprehend.nlp import calibration
    from opencomprehend.nlp.registry import load_engine

    # The model's own raw scores: no calibration yet, and no document context (which adds entities of its own).
    engine = load_engine(
        recipe.language, {recipe.language: (recipe.engine, folder)}, calibrate=False, document_context=False
    )
    annotated = set(recipe.dev.labels.values())
    # Only what the model itself found: the DATE/QUANTITY patterns keep scores of their own.
    patterned = getattr(engine, "pattern_types", frozenset())
    found = [
        [e for e in entities if e["Type"] not in patterned]
        for entities in engine.recognise([d.text for d in dev_documents])
    ]
    _, record = calibration.fit(found, [d.entities for d in dev_documents], annotated - set(patterned))
    calibration.write(folder, record)
    log(
        f"calibration fitted on {recipe.dev.name} ({len(dev_documents)} sentences): "
        + ", ".join(f"{t} {c['right']}/{c['predictions']} right ({c['map']})" for t, c in record["types"].items())
    )
    return {
        "file": calibration.FILE_NAME,
        "fitted_on": recipe.dev.name,
        "dev_file": recipe.dev.path,
        "sentences": len(dev_documents),
        "method": record["method"],
        "types": record["types"],
    }


def calibrate_language(
    recipe_name: str,
    *,
    model: Path | None = None,
    recipes_dir: Path = RECIPES_DIR,
    data_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit (again) the score calibration of a trained model on its recipe's [dev] split.

    model defaults to the shipped folder of the recipe's language. The split must not have been trained
    on (a recipe's [dev] never is). Writes calibration.json and source.json's "calibration" record.
    """
    recipe = load_recipe(recipe_name, recipes_dir)
    if recipe.dev is None:
        raise ValueError(f"{recipe.path}: no [dev] split to calibrate on")
    folder = Path(model) if model is not None else model_dir(recipe.language)
    if not (folder / "config.cfg").is_file():
        raise FileNotFoundError(f"{folder} is not a model folder (no config.cfg)")
    data_dir = Path(data_dir) if data_dir is not None else shared_data_dir()
    dev = read_mapped(recipe.dev, data_dir, recipe.script, dev=True)
    record = _fit_calibration(folder, recipe, dev.documents, log)
    source_path = folder / "source.json"
    if source_path.is_file():
        metadata = json.loads(source_path.read_text(encoding="utf-8"))
        metadata["calibration"] = record
        write_source(folder, metadata)
    return record


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def train_language(
    recipe_name: str,
    *,
    output_dir: Path | None = None,
    replace: bool = False,
    recipes_dir: Path = RECIPES_DIR,
    data_dir: Path | None = None,
    overrides: dict | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train the model of a recipe (see load_recipe) and write it, with source.json, to `output_dir`.

    output_dir defaults to the shipped folder of the recipe's language, src/opencomprehend/models/<language>.
    The model is trained into a temporary sibling folder and moved into place only when complete; an
    existing folder is replaced only with replace=True. Returns the source metadata written.
    """
    from opencomprehend.nlp.training import TrainingOptions, train_ner

    recipe = load_recipe(recipe_name, recipes_dir)
    language = recipe.language
    data_dir = Path(data_dir) if data_dir is not None else shared_data_dir()
    output_dir = Path(output_dir) if output_dir is not None else model_dir(language)
    if output_dir.exists() and any(output_dir.iterdir()) and not replace:
        raise FileExistsError(f"{output_dir} exists; pass replace=True (--replace) to train it again.")
    options = TrainingOptions(**{**recipe.options, **(overrides or {})})
    if recipe.base is not None:
        return _train_continued(recipe, recipe_name, output_dir, data_dir, options, log)

    train = []
    sources = []
    for source in recipe.sets:
        mapped = read_mapped(source, data_dir, recipe.script)
        train.extend(mapped.documents)
        sources.append(
            {
                "set": source.name,
                "file": source.path,
                "kind": source.kind,
                "sentences": len(mapped.documents),
                "licence": source.licence,
                "label_map": source.labels,
                "dropped_labels": list(source.drop),
                "mentions": dict(sorted(mapped.kept.items())),
                "dropped_mentions": dict(sorted(mapped.dropped.items())),
                **({"trim": source.trim, "trimmed_mentions": mapped.trimmed} if source.trim else {}),
                **_selection(source),
            }
        )
        log(
            f"{source.name}: {len(mapped.documents)} sentences, {sum(mapped.kept.values())} mentions kept "
            f"{dict(mapped.kept)}, {sum(mapped.dropped.values())} dropped"
            + (f", {mapped.trimmed} particles cut" if source.trim else "")
        )
    test = read_mapped(recipe.test, data_dir, recipe.script)
    dev = read_mapped(recipe.dev, data_dir, recipe.script, dev=True) if recipe.dev else None
    if dev is not None:
        log(f"{recipe.dev.name}: {len(dev.documents)} sentences pick the best epoch (dev, not trained on)")

    staging = output_dir.parent / f".{output_dir.name}.training"
    shutil.rmtree(staging, ignore_errors=True)
    report = train_ner(
        train, test.documents, language, staging, options, log=log, dev=dev.documents if dev else None
    )
    training = json.loads((staging / "training.json").read_text(encoding="utf-8"))
    relative_recipe = (
        recipe.path.relative_to(REPO_DIR) if recipe.path and recipe.path.is_relative_to(REPO_DIR) else None
    )
    metadata = {
        "language": language,
        "description": recipe.description,
        "engine": recipe.engine,
        "labels": sorted({t for s in sources for t in s["mentions"]}),
        "script": recipe.script,
        "recipe": str(relative_recipe or recipe.path),
        "command": f"opencomprehend train-language {recipe_name}",
        "training_data": sources,
        "licence_note": (
            "The model's weights were learned from the data listed under training_data; attribute those "
            "sources as their licences require (CC BY-SA sets: share-alike may apply to redistribution)."
        ),
        "training": {
            "options": dataclasses.asdict(options),
            "epochs": training["epochs"],
            "best_epoch": training["best_epoch"],
            "seconds": training["seconds"],
            "train_words_per_second": training["train_words_per_second"],
            "spacy_version": training["spacy_version"],
        },
        **(
            {
                "dev_set": {
                    "set": recipe.dev.name,
                    "file": recipe.dev.path,
                    "kind": recipe.dev.kind,
                    "licence": recipe.dev.licence,
                    "sentences": len(dev.documents),
                    "label_map": recipe.dev.labels,
                    "dropped_labels": list(recipe.dev.drop),
                    **_selection(recipe.dev),
                    "use": "picks the best epoch and stops training early; never trained on",
                }
            }
            if recipe.dev and dev
            else {}
        ),
        "test_set": _test_set(recipe, len(test.documents), report.f1),
    }
    if recipe.dev and dev:
        metadata["calibration"] = _fit_calibration(staging, recipe, dev.documents, log)
    _publish(staging, output_dir, metadata)
    log(f"wrote {output_dir} ({_folder_size(output_dir) / 1e6:.1f} MB)")
    return metadata


def _train_continued(recipe: Recipe, recipe_name: str, output_dir: Path, data_dir: Path, options, log) -> dict:
    """train_language for a recipe with [base]: continue the base model's NER with rehearsal (modelbuild/rehearsal.py).

    Every sentence of the training sets and of the dev set gets the set's gold spans (in the base model's
    labels) plus the ORIGINAL base model's predictions of the types the set does not annotate, where they
    overlap no gold span. The test set is only measured (Comprehend types, all predictions).
    """
    import spacy

    from opencomprehend.modelbuild.rehearsal import (
        additive_entities,
        continue_ner,
        load_base_ner,
        predict_silver,
        rehearsal_entities,
    )
    from opencomprehend.nlp.evaluation import score
    from opencomprehend.nlp.labels import comprehend_type
    from opencomprehend.nlp.training import LabelledDocument
    from opencomprehend.nlp.training.epochs import dev_split
    from opencomprehend.nlp.training.pipeline import training_ops

    base = recipe.base
    started = time.perf_counter()
    with training_ops():
        nlp = load_base_ner(base.model)
        cache_key = f"{base.model}:{nlp.meta.get('name')}:{nlp.meta.get('version')}:{spacy.__version__}"

        def mix(mapped: MappedSet, keep_unconfirmed=base.keep_unconfirmed) -> tuple[list, Counter]:
            silver = predict_silver(nlp, [d.text for d in mapped.documents], cache_key)
            annotated = set(mapped.source.labels.values())
            docs, counts = [], Counter()
            share = mapped.source.upper_share
            draws = random.Random(f"upper-share:{mapped.source.path}")
            for doc, found in zip(mapped.documents, silver, strict=True):
                text = doc.text
                # One draw per sentence, in file order; only where upper-casing keeps every offset.
                if share and draws.random() < share and len(text.upper()) == len(text):
                    text = text.upper()
                    counts["upper-cased sentences"] += 1
                if base.gold_mode == "additive":
                    entities, c = additive_entities(doc.entities, found, base.labels)
                    counts.update(c)
                    docs.append(LabelledDocument(text, tuple(entities)))
                    continue
                entities, c = rehearsal_entities(
                    doc.entities,
                    found,
                    annotated,
                    base.labels,
                    base.rehearse,
                    keep_unconfirmed,
                    text=doc.text if base.base_articles else None,
                )
                counts.update(c)
                docs.append(LabelledDocument(text, tuple(entities)))
            return docs, counts

        train, sources = [], []
        for source in recipe.sets:
            mapped = read_mapped(source, data_dir, recipe.script)
            docs, counts = mix(mapped)
            train.extend(docs)
            sources.append(
                {
                    "set": source.name,
                    "file": source.path,
                    "kind": source.kind,
                    "sentences": len(docs),
                    "licence": source.licence,
                    "label_map": source.labels,
                    "dropped_labels": list(source.drop),
                    "mentions": dict(sorted(mapped.kept.items())),
                    "dropped_mentions": dict(sorted(mapped.dropped.items())),
                    "rehearsal": dict(sorted(counts.items())),
                    **_selection(source),
                }
            )
            log(f"{source.name}: {len(docs)} sentences, {dict(sorted(counts.items()))}")
        if recipe.dev is not None:
            dev_mapped = read_mapped(recipe.dev, data_dir, recipe.script, dev=True)
            # With gold_mode "override" the dev target is always strict (gold for the types the set marks,
            # the base model's predictions for the others): unconfirmed base spans there would only reward
            # the base model. With "additive" it is built like the training sentences.
            dev, dev_counts = mix(dev_mapped, keep_unconfirmed=False)
            log(f"{recipe.dev.name}: {len(dev)} dev sentences pick the best epoch (not trained on), {dict(dev_counts)}")
        else:
            train_ids, dev_ids = dev_split(len(train), options)
            dev = [train[i] for i in dev_ids]
            train = [train[i] for i in train_ids]
        staging = output_dir.parent / f".{output_dir.name}.training"
        shutil.rmtree(staging, ignore_errors=True)
        record = continue_ner(base, train, dev, staging, options, log=log, nlp=nlp)
        test = read_mapped(recipe.test, data_dir, recipe.script)
        predicted = [
            [(s.start_char, s.end_char, comprehend_type(s.label_)) for s in doc.ents]
            for doc in nlp.pipe([d.text for d in test.documents], batch_size=256)
        ]
        test_f1 = score([list(d.entities) for d in test.documents], predicted).f1
    relative_recipe = (
        recipe.path.relative_to(REPO_DIR) if recipe.path and recipe.path.is_relative_to(REPO_DIR) else None
    )
    metadata = {
        "language": recipe.language,
        "description": recipe.description,
        "engine": recipe.engine,
        "labels": sorted(nlp.get_pipe(nlp.pipe_names[-1]).labels),
        "label_note": "the base model's labels; the engine maps them onto Comprehend types (nlp/labels.py)",
        "base_model": {
            "model": base.model,
            "name": nlp.meta.get("name"),
            "version": nlp.meta.get("version"),
            "licence": base.licence,
            "description": base.description,
            "gold_type_labels": {k: list(v) for k, v in base.labels.items()},
        },
        "script": recipe.script,
        "recipe": str(relative_recipe or recipe.path),
        "command": f"opencomprehend train-language {recipe_name}",
        "training_data": sources,
        "licence_note": (
            f"The model continues {base.model} ({base.licence}) and its weights were further learned from the "
            "data listed under training_data (gold spans plus the base model's own predictions on the same "
            "text); attribute those sources as their licences require (CC BY-SA sets: share-alike may apply "
            "to redistribution)."
        ),
        "training": {
            "options": dataclasses.asdict(options),
            "learn_rate": base.learn_rate,
            "rehearse": base.rehearse,
            "base_articles": base.base_articles,
            "freeze_tok2vec": base.freeze_tok2vec,
            "gold_mode": base.gold_mode,
            "optimizer": base.optimizer,
            "interpolate": base.interpolate,
            "interpolated_dev_f1": record["interpolated_dev_f1"],
            "keep_unconfirmed": (
                base.keep_unconfirmed if isinstance(base.keep_unconfirmed, bool) else list(base.keep_unconfirmed)
            ),
            "epochs": record["epochs"],
            "best_epoch": record["best_epoch"],
            "best_dev_f1": record["best_dev_f1"],
            "seconds": round(time.perf_counter() - started, 1),
            "train_words_per_second": record["train_words_per_second"],
            "spacy_version": record["spacy_version"],
        },
        **(
            {
                "dev_set": {
                    "set": recipe.dev.name,
                    "file": recipe.dev.path,
                    "kind": recipe.dev.kind,
                    "licence": recipe.dev.licence,
                    "sentences": len(dev),
                    "label_map": recipe.dev.labels,
                    **_selection(recipe.dev),
                    "use": "picks the best epoch and stops training early (gold spans + the base model's "
                    "predictions of the other types); never trained on",
                }
            }
            if recipe.dev
            else {}
        ),
        "test_set": _test_set(recipe, len(test.documents), test_f1),
    }
    if recipe.dev is not None:
        metadata["calibration"] = _fit_calibration(staging, recipe, dev_mapped.documents, log)
    _publish(staging, output_dir, metadata)
    log(f"wrote {output_dir} ({_folder_size(output_dir) / 1e6:.1f} MB); test F1 (all predictions) {test_f1:.3f}")
    return metadata
