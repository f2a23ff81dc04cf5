"""Every language's entity model on its public evaluation sets, gold first: size, load RSS, throughput, F1.

    .venv/bin/python bench/languages.py [--languages de zh-TW ...] [--limit N] [--update-metadata]
                                       [--compare NAME=LANG:ENGINE:MODEL ...]

Each model is measured in a fresh process of its own, pinned to one CPU with single-threaded BLAS:

- size: the model folder on disk (for a package, the folder holding its config.cfg);
- load RSS: resident memory after load_engine() and a one-sentence warm-up, minus resident memory just
  before (spaCy and the engine module already imported, as in a worker);
- throughput: tokens/s of engine.recognise() over the whole evaluation set, after a 16-sentence warm-up.
  Tokens are counted by the model's own tokenizer, so for zh, zh-TW, ja and ko they are characters;
- accuracy: entity-level exact-match precision/recall/F1 (opencomprehend.nlp.evaluation) after mapping
  the set's labels onto Comprehend types (opencomprehend.nlp.ner.labels); "gold types" leaves out predicted
  types the set never annotates (WikiANN marks only PERSON, LOCATION and ORGANIZATION, so the DATE or
  QUANTITY a model finds there would count as false positives) and is the headline figure, exactly what
  `opencomprehend eval <set> --language <lang> --gold-types-only` reports; "all" counts them;
- calibration: of the predictions (of the set's types) scored >= 0.9, the share that is exactly right
  (span and type), counted by bench/calibration.py's evaluate().

Each language's gold sets (hand-labelled running text, GOLD_SETS) come first, WikiANN (silver) second.

The evaluation sets are read from ../shared/data/ner (never copied). zh-TW is measured on the whole
WikiANN zh test set and on its Traditional-script sentences (those that the Traditional -> Simplified
conversion changes), which only this script selects. --update-metadata writes the figures into each
shipped model's source.json under "evaluation". --compare adds other models for the table, e.g.
--compare en-btc=en:spacy.v1:/tmp/lm/en-btc (our own models' labels are already Comprehend types), or
--compare ja-ginza=ja:ene.v1:ja_ginza with ja_ginza importable (PYTHONPATH), its ENE labels mapped below.
"""

from __future__ import annotations

import os

# Single-threaded BLAS, set before numpy is imported, so "one core" is what is measured.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / ".." / "shared" / "data" / "ner").resolve()

try:
    import opencomprehend  # noqa: F401
except ImportError:  # running from a checkout without an installed package
    sys.path.insert(0, str(REPO / "src"))

from opencomprehend.modelbuild.language_models import LANGUAGES, write_source  # noqa: E402
from opencomprehend.nlp.registry import DEFAULT_MODELS  # noqa: E402

# language -> evaluation sets: (label, file under ner/, variant), gold (hand-labelled running text) first,
# WikiANN (silver: Wikipedia fragments labelled automatically) second. Variants, which only this script
# makes: "traditional": only the Traditional-script sentences; "ko-particles": Korean particles cut off the
# gold entities as the ko recipe cuts them off its WikiANN training entities ("서울에서" -> "서울").
# fr, de, ar, hi and ko have no gold set in ner/; de's GermEval 2014 dev split is trained on by the de
# recipe, so it cannot measure the de model.
GOLD_SETS: dict[str, list[tuple[str, str, str | None]]] = {
    "en": [("CoNLL-2003 test", "conll2003/test.jsonl", None), ("OntoNotes 5 test", "ontonotes5/test.jsonl", None)],
    "es": [("CoNLL-2002 es dev (gold)", "conll2002-es/dev.jsonl", None)],
    "it": [("KIND Wikinews it dev (gold)", "kind-wikinews-it/dev.jsonl", None)],
    "pt": [
        ("UNER pt Bosque test (gold)", "uner-pt-bosque/test.jsonl", None),
        ("HAREM pt dev (gold)", "harem-pt/dev.jsonl", None),
    ],
    "ja": [("GSD ja NE test, all types (gold)", "ja-gsd-ne/test.jsonl", None)],
    "zh": [("UNER zh GSDSimp test (gold)", "uner-zh-gsdsimp/test.jsonl", None)],
    "zh-TW": [("UNER zh-Hant GSD test (gold)", "uner-zh-hant-gsd/test.jsonl", None)],
}
WIKIANN_SETS: dict[str, list[tuple[str, str, str | None]]] = {
    **{
        lang: [(f"WikiANN {lang} {split}", f"wikiann-{lang}/{split}.jsonl", None)]
        for lang, split in [
            ("es", "test"),
            ("fr", "test"),
            ("de", "test"),
            ("it", "dev"),
            ("pt", "test"),
            ("ar", "test"),
            ("hi", "test"),
            ("ja", "test"),
            ("ko", "dev"),
            ("zh", "test"),
        ]
    },
    "zh-TW": [
        ("WikiANN zh test", "wikiann-zh/test.jsonl", None),
        ("WikiANN zh test, Traditional sentences", "wikiann-zh/test.jsonl", "traditional"),
    ],
}
WIKIANN_SETS["ko"].append(("WikiANN ko dev, particles cut from gold", "wikiann-ko/dev.jsonl", "ko-particles"))
EVAL_SETS: dict[str, list[tuple[str, str, str | None]]] = {
    lang: GOLD_SETS.get(lang, []) + WIKIANN_SETS.get(lang, []) for lang in LANGUAGES
}


# ja_ginza (optional comparison) labels entities with Sekine's Extended Named Entity hierarchy. "ene.v1": these
# are the ENE labels that are people, places (incl. facilities) and organisations as WikiANN marks them
# (parties, schools and public institutions are organisations); every other label goes through GiNZA's own
# ENE -> OntoNotes map (ginza.ene_ontonotes_mapper, where ginza is importable) and then labels.py, as an
# OntoNotes label would; what GiNZA maps to "OTHERS" (no OntoNotes type) is dropped. "ene-ontonotes.v1":
# GiNZA's map alone (parties NORP, schools FAC), the convention of ja-gsd-ne's OntoNotes-style labels
# (made by GiNZA's authors): bench/anchors.py scores ja_ginza with it.
ENE_TYPES = {
    "PERSON": "Person",
    "LOCATION": "City Country Province County Continental_Region Domestic_Region GPE_Other Location_Other Region_Other "
    "Geological_Region_Other Island Lake Mountain River Sea Bay Canal Water_Route Spa Airport Station Bridge Park "
    "Museum Theater Sports_Facility Worship_Place Zoo Amusement_Park Facility_Other Road Railroad Tunnel Port "
    "Car_Stop Line_Other Tumulus Archaeological_Place_Other GOE_Other",
    "ORGANIZATION": "Company Company_Group Corporation_Other Organization_Other International_Organization "
    "Political_Party Political_Organization_Other Government Cabinet Military Public_Institution School "
    "Research_Institute Sports_Organization_Other Pro_Sports_Organization Sports_League Show_Organization",
}
ENE_MAP = {label: kind for kind, labels in ENE_TYPES.items() for label in labels.split()}


ENE_ENGINES = ("ene.v1", "ene-ontonotes.v1")


def ginza_ontonotes() -> dict[str, str]:
    """GiNZA's ENE label -> OntoNotes label map ({} without ginza); GiNZA calls what it leaves out "OTHERS"."""
    try:
        from ginza.ene_ontonotes_mapper import ENE_ONTONOTES_MAPPING
    except ImportError:
        return {}
    return dict(ENE_ONTONOTES_MAPPING)


def ene_type(label: str, ontonotes: dict[str, str], wikiann_types: bool = True) -> str | None:
    """The Comprehend type of an ENE label: ENE_MAP (wikiann_types), else GiNZA's OntoNotes map, then labels.py.

    None (the engine drops the entity) where GiNZA's map says "OTHERS": ENE classes that OntoNotes does not
    mark at all (occupations, dishes, animals, sports...), so neither do Comprehend's types nor ja-gsd-ne."""
    from opencomprehend.nlp.ner.labels import comprehend_type

    if wikiann_types and label in ENE_MAP:
        return ENE_MAP[label]
    if not ontonotes:
        return comprehend_type(label)
    mapped = ontonotes.get(label, "OTHERS")
    return None if mapped == "OTHERS" else comprehend_type(mapped)


def _register_ene_engine() -> None:
    """ "ene.v1" and "ene-ontonotes.v1": spacy.v1 for ja_ginza, with its ENE labels mapped as ene_type says."""
    from opencomprehend.nlp.ner.spacy_engine import SpacyEngine
    from opencomprehend.nlp.registry import ENGINES, register_engine

    if "ene.v1" in ENGINES:
        return
    ontonotes = ginza_ontonotes()

    @register_engine("ene.v1")
    class EneEngine(SpacyEngine):
        @staticmethod
        def entity_type(label: str) -> str | None:
            return ene_type(label, ontonotes)

    @register_engine("ene-ontonotes.v1")
    class EneOntonotesEngine(SpacyEngine):
        @staticmethod
        def entity_type(label: str) -> str | None:
            return ene_type(label, ontonotes, wikiann_types=False)


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _model_folder(model: str | Path) -> Path | None:
    from opencomprehend.nlp.ner.pipelines import _model_config_path

    config = _model_config_path(model)
    return None if config is None else config.parent


def measure(language: str, engine_name: str, model: str, set_file: str, variant: str | None, limit: int | None) -> dict:
    """Runs in the child process: one model on one set."""
    import time

    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    except (AttributeError, OSError):
        pass
    import spacy  # noqa: F401
    from calibration import evaluate  # bench/calibration.py: the same ">= 0.9" figure as for English

    import opencomprehend.nlp.ner.spacy_engine  # noqa: F401
    from opencomprehend.nlp.evaluation import score
    from opencomprehend.nlp.ner.labels import gold_entities
    from opencomprehend.nlp.registry import load_engine
    from opencomprehend.nlp.training import read_jsonl

    if engine_name in ENE_ENGINES:
        _register_ene_engine()
    documents = read_jsonl(DATA / set_file)
    if variant == "traditional":
        from opencomprehend.nlp.ner.chinese import is_traditional

        documents = [d for d in documents if is_traditional(d.text)]
    elif variant == "ko-particles":
        from opencomprehend.modelbuild.language_models import trim_korean_particles

        documents, _cut = trim_korean_particles(documents)
    if limit:
        documents = documents[:limit]
    texts = [d.text for d in documents]

    before = _rss_kb()
    load_started = time.perf_counter()
    engine = load_engine(language, {language: (engine_name, model)})
    engine.recognise(texts[:1])
    load_seconds = time.perf_counter() - load_started
    rss_mb = (_rss_kb() - before) / 1024

    engine.recognise(texts[:16])
    started = time.perf_counter()
    found = engine.recognise(texts)
    seconds = time.perf_counter() - started
    nlp = engine.nlp
    tokens = sum(sum(not t.is_space for t in nlp.make_doc(text)) for text in texts)

    gold = [gold_entities(d.entities) for d in documents]
    predicted = [[(p["BeginOffset"], p["EndOffset"], p["Type"]) for p in ents] for ents in found]
    gold_types = {t for ents in gold for _, _, t in ents}
    everything = score(gold, predicted)
    kept = score(gold, [[p for p in ents if p[2] in gold_types] for ents in predicted])
    # Calibration: of the predictions (of the set's types) scored >= 0.9, the share exactly right.
    rows = [{"entities": [{"begin": b, "end": e, "type": t} for b, e, t in d.entities]} for d in documents]
    scored = evaluate(rows, found, gold_types)["scored"]
    high = [ok for s, ok in scored if s >= 0.9]
    folder = _model_folder(model)
    return {
        "documents": len(documents),
        "gold_entities": kept.support,
        "size_mb": round(_folder_bytes(folder) / 1e6, 2) if folder else None,
        "load_rss_mb": round(rss_mb, 1),
        "load_seconds": round(load_seconds, 2),
        "tokens_per_second": round(tokens / max(seconds, 1e-9)),
        "chars_per_second": round(sum(len(text) for text in texts) / max(seconds, 1e-9)),
        "p": round(kept.precision, 6),
        "r": round(kept.recall, 6),
        "f1": round(kept.f1, 6),
        "f1_all_predictions": round(everything.f1, 6),
        "scored_0_9": len(high),
        "scored_0_9_right": round(sum(high) / len(high), 6) if high else None,
        "types": {
            t: {"p": round(c.precision, 6), "r": round(c.recall, 6), "f1": round(c.f1, 6), "support": c.support}
            for t, c in kept.types.items()
            if t in gold_types
        },
    }


def _display_path(path: Path) -> str:
    # Relative to the repository, as the commands are run from there.
    return os.path.relpath(path, REPO) if path.is_relative_to(REPO.parent) else str(path)


def command_for(language: str, set_file: str, variant: str | None, model: str | None, engine_name: str) -> str:
    if model is not None and (variant or engine_name not in ("spacy.v1", "spacy.t2s.v1", "custom.v1")):
        return f"python bench/languages.py --languages --compare NAME={language}:{engine_name}:{model}"
    if variant:
        return f"python bench/languages.py --languages {language}"
    extra = ""
    if model is not None:
        extra = f" --model {model}"
    return f"opencomprehend eval {_display_path(DATA / set_file)} --language {language} --gold-types-only{extra}"


def run_child(
    language: str,
    engine_name: str,
    model: str,
    set_file: str,
    variant: str | None,
    limit: int | None,
    path: list[str] | None = None,
) -> dict:
    """measure() in a fresh process; `path`: folders put before PYTHONPATH there (packages installed with
    pip --target, e.g. bench/anchors.py's anchor models)."""
    args = [
        sys.executable,
        __file__,
        "--child",
        json.dumps([language, engine_name, str(model), set_file, variant, limit]),
    ]
    env = None
    if path:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([*path, *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{language} {set_file}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES))
    parser.add_argument("--limit", type=int, default=None, help="only the first N sentences of each set")
    parser.add_argument("--update-metadata", action="store_true", help="write figures into source.json")
    parser.add_argument("--compare", nargs="*", default=[], help="NAME=LANG:ENGINE:MODEL, measured like the rest")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*json.loads(args.child))))
        return

    runs: list[tuple[str, str, str, str, str | None]] = []  # (row name, language, engine, model, override)
    for language in args.languages:
        engine_name, model = DEFAULT_MODELS[language]
        runs.append((language, language, engine_name, str(model), None))
    for spec in args.compare:
        name, _, rest = spec.partition("=")
        language, engine_name, model = rest.split(":", 2)
        runs.append((name, language, engine_name, model, model))

    results: list[dict] = []
    header = (
        "language | model | set | size (MB) | load RSS (MB) | tokens/s (1 core) | P | R | F1 | F1 by type | "
        "scored >= 0.9: right (n)"
    )
    print(f"| {header} | command |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, language, engine_name, model, override in runs:
        for label, set_file, variant in EVAL_SETS[language]:
            figures = run_child(language, engine_name, model, set_file, variant, args.limit)
            shown_model = Path(model).name if Path(model).is_dir() else model
            if Path(model).is_dir() and Path(model).parent.name == "models":
                shown_model = f"models/{Path(model).name}"
            command = command_for(language, set_file, variant, override, engine_name)
            per_type = ", ".join(f"{t[:3]} {c['f1']:.3f}" for t, c in figures["types"].items())
            right = figures["scored_0_9_right"]
            calibration = f"{right:.1%} ({figures['scored_0_9']:,})" if right is not None else "- (0)"
            print(
                f"| {name} | {shown_model} ({engine_name}) | {label} ({figures['documents']:,} sent.) | "
                f"{figures['size_mb']} | {figures['load_rss_mb']:.0f} | {figures['tokens_per_second']:,} | "
                f"{figures['p']:.3f} | {figures['r']:.3f} | **{figures['f1']:.3f}** | {per_type} | {calibration} | "
                f"`{command}` |",
                flush=True,
            )
            results.append({"name": name, "language": language, "engine": engine_name, "model": model,
                            "set": label, "file": set_file, "variant": variant, "command": command,
                            **figures})  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.update_metadata and args.limit is None:
        _update_metadata(results)


def _update_metadata(results: list[dict]) -> None:
    by_folder: dict[Path, list[dict]] = {}
    for row in results:
        folder = Path(row["model"])
        if (folder / "source.json").is_file() and row["name"] == row["language"]:
            by_folder.setdefault(folder, []).append(row)
    for folder, rows in by_folder.items():
        path = folder / "source.json"
        metadata = json.loads(path.read_text(encoding="utf-8"))
        metadata["evaluation"] = {
            f"{row['language']}: {row['set']}": {
                k: row[k]
                for k in (
                    "file",
                    "variant",
                    "documents",
                    "gold_entities",
                    "size_mb",
                    "load_rss_mb",
                    "tokens_per_second",
                    "p",
                    "r",
                    "f1",
                    "f1_all_predictions",
                    "scored_0_9",
                    "scored_0_9_right",
                    "types",
                    "command",
                )
            }  # fmt: skip
            for row in rows
        }
        metadata["evaluation_note"] = (
            "Measured by bench/languages.py: one CPU, single-threaded BLAS, a fresh process per model; "
            "P/R/F1 count only the types the set annotates (--gold-types-only); scored_0_9_right is the "
            "share of those predictions scored >= 0.9 that are exactly right (span and type)."
        )
        write_source(folder, metadata)


if __name__ == "__main__":
    main()
