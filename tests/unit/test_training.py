"""Training entity recognizers: a real (small) training run, the saved folder, and the data checks.

The sets are generated from templates and name lists, with different names in the test documents, so
a model that merely memorised its training names would score badly on them.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import spacy

from opencomprehend.nlp.evaluation import score
from opencomprehend.nlp.ner.pipelines import components_to_exclude
from opencomprehend.nlp.ner.tokenizers import CharTokenizer
from opencomprehend.nlp.registry import load_engine
from opencomprehend.nlp.training import (
    LabelledDocument,
    TrainingDataError,
    TrainingOptions,
    TrainingReport,
    TrainingStopped,
    build_pipeline,
    train_ner,
)

FIRST = "Anna Bernd Carla Dieter Elena Farid Greta Hugo Ines Jonas Karin Lukas Mara Niko Olga Paul".split()
LAST = "Becker Schmidt Novak Rossi Dubois Khan Larsen Moreau Ivanova Silva Tanaka Okafor".split()
CITIES = (
    "Berlin Lyon Porto Krakow Bergen Seville Turin Ghent Utrecht Graz Tampere Brno Malmo Bilbao "
    "Leeds Cork Basel Riga Split Aarhus"
).split()
TEMPLATES = [
    "{P} moved to {C} last year.",
    "Yesterday {P} flew from {C} to {C}.",
    "The mayor of {C} met {P} on Monday.",
    "{P} said the weather in {C} was fine.",
    "We heard that {P} lives near {C}.",
    "In {C}, {P} opened a small bakery.",
]

# Korean: particles are written joined to the noun before them ("서울에서" = Seoul + "in").
KO_PEOPLE_TRAIN = "김민준 이서연 박도윤 최지우 정하준 강서윤 조예준 윤지민 장주원 임수아 한지호 오유진".split()
# New given names with the family names the model has seen (a few family names cover most Koreans).
KO_PEOPLE_TEST = "김하늘 이준서 박소율 최은우".split()
KO_CITIES_TRAIN = "서울 부산 대구 인천 광주 대전 울산 수원 창원 청주 전주 포항".split()
KO_CITIES_TEST = "제주 목포 강릉 춘천".split()
KO_TEMPLATES = [
    "{P}는 {C}에서 태어났다.",
    "{P}가 어제 {C}로 이사했다.",
    "{C}에 사는 {P}를 만났다.",
    "{P}의 고향은 {C}이다.",
    "우리는 {C}에서 {P}와 일했다.",
]

FAST = TrainingOptions(max_epochs=8, patience=3)


def generate(n: int, people: list[str], cities: list[str], templates: list[str], seed: int) -> list[LabelledDocument]:
    rng = random.Random(seed)
    documents = []
    for _ in range(n):
        text, entities = "", []
        for part in re.split(r"(\{P\}|\{C\})", rng.choice(templates)):
            if part in ("{P}", "{C}"):
                kind, value = ("PERSON", rng.choice(people)) if part == "{P}" else ("CITY", rng.choice(cities))
                entities.append((len(text), len(text) + len(value), kind))
                text += value
            else:
                text += part
        documents.append(LabelledDocument(text, tuple(entities)))
    return documents


def english_sets() -> tuple[list[LabelledDocument], list[LabelledDocument]]:
    people = [f"{first} {last}" for first in FIRST for last in LAST]
    random.Random(7).shuffle(people)
    train = generate(150, people[:120], CITIES[:14], TEMPLATES, seed=1)
    test = generate(40, people[120:], CITIES[14:], TEMPLATES, seed=2)
    return train, test


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainingReport, Path, list[LabelledDocument]]:
    train, test = english_sets()
    output = tmp_path_factory.mktemp("custom") / "model"
    logged: list[str] = []
    report = train_ner(train, test, "en", output, FAST, log=logged.append)
    assert any(line.startswith("epoch 1:") for line in logged)
    return report, output, test


@pytest.fixture(scope="module")
def trained_ko(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainingReport, Path]:
    train = generate(150, KO_PEOPLE_TRAIN, KO_CITIES_TRAIN, KO_TEMPLATES, seed=3)
    test = generate(40, KO_PEOPLE_TEST, KO_CITIES_TEST, KO_TEMPLATES, seed=4)
    output = tmp_path_factory.mktemp("ko") / "model"
    return train_ner(train, test, "ko", output, FAST), output


def run_python(code: str) -> dict:
    """Run code in a fresh interpreter (nothing registered yet) and return the JSON it prints."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- a real training run ---------------------------------------------------------------------------------


def capitalised_baseline(documents: list[LabelledDocument]) -> float:
    """F1 of labelling every run of capitalised words PERSON: what a model has to beat."""
    predicted = [
        [(m.start(), m.end(), "PERSON") for m in re.finditer(r"[A-Z]\w+(?: [A-Z]\w+)*", doc.text)] for doc in documents
    ]
    return score([doc.entities for doc in documents], predicted).f1


def test_the_trained_model_finds_unseen_names(trained: tuple[TrainingReport, Path, list[LabelledDocument]]) -> None:
    report, _, test = trained
    baseline = capitalised_baseline(test)
    assert report.f1 >= 0.85 > baseline + 0.3, (report.f1, baseline)
    assert report.precision > 0.8 and report.recall > 0.8
    assert set(report.types) == {"PERSON", "CITY"}
    assert report.types["PERSON"].f1 > 0.8 and report.types["CITY"].f1 > 0.8
    # Mentions as given: 150 documents with one person each, and one or two cities.
    assert report.types["PERSON"].train_mentions == 150
    assert report.types["PERSON"].test_mentions == 40
    assert report.types["CITY"].train_mentions > 150
    assert (report.train_documents, report.test_documents, report.language) == (150, 40, "en")
    assert 1 <= report.epochs <= FAST.max_epochs
    assert report.warnings == []
    assert report.seconds > 0


def test_the_folder_holds_the_model_its_config_and_the_report(
    trained: tuple[TrainingReport, Path, list[LabelledDocument]],
) -> None:
    report, output, _ = trained
    assert {"config.cfg", "meta.json", "training.json", "ner", "vocab", "tokenizer"} <= {
        p.name for p in output.iterdir()
    }
    written = json.loads((output / "training.json").read_text(encoding="utf-8"))
    assert {k: written[k] for k in report.to_dict()} == json.loads(json.dumps(report.to_dict()))
    assert written["options"]["max_epochs"] == FAST.max_epochs
    assert 1 <= written["best_epoch"] <= report.epochs == len(written["history"])
    config = (output / "config.cfg").read_text(encoding="utf-8")
    assert 'pipeline = ["ner"]' in config and "spacy.HashEmbedCNN.v2" in config
    # Nothing but the model folder was left beside it (no temporary folders).
    assert [p.name for p in output.parent.iterdir()] == ["model"]
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    assert size < 10_000_000


def test_a_fresh_process_loads_the_folder_with_load_engine(
    trained: tuple[TrainingReport, Path, list[LabelledDocument]],
) -> None:
    _, output, _ = trained
    assert components_to_exclude(str(output)) == []
    found = run_python(
        "import json\n"
        "from opencomprehend.nlp.registry import load_engine\n"
        f"engine = load_engine('en', {{'en': ('custom.v1', {str(output)!r})}})\n"
        "texts = ['Yesterday Rosa Khan flew from Zagreb to Lisbon.', '']\n"
        "print(json.dumps({'pipes': engine.nlp.pipe_names, 'found': engine.recognise(texts)}))\n"
    )
    assert found["pipes"] == ["ner"]
    entities, empty = found["found"]
    assert empty == []
    assert {(e["Text"], e["Type"]) for e in entities} == {
        ("Rosa Khan", "PERSON"),
        ("Zagreb", "CITY"),
        ("Lisbon", "CITY"),
    }
    for e in entities:
        assert isinstance(e["Score"], float) and 0.0 <= e["Score"] <= 1.0


def test_spacy_v1_maps_the_custom_labels_and_custom_v1_keeps_them(
    trained: tuple[TrainingReport, Path, list[LabelledDocument]],
) -> None:
    _, output, _ = trained
    text = ["The mayor of Zagreb met Rosa Khan on Monday."]
    custom = load_engine("en", {"en": ("custom.v1", output)}).recognise(text)[0]
    mapped = load_engine("en", {"en": ("spacy.v1", output)}).recognise(text)[0]
    assert [e["Type"] for e in custom] == ["CITY", "PERSON"]
    # CITY is none of Comprehend's labels, so spacy.v1 reports OTHER; PERSON is Comprehend's own. A language
    # model that cannot answer DATE gets it from CLDR patterns ("Monday"); a custom recognizer never does.
    assert [e["Type"] for e in mapped] == ["OTHER", "PERSON", "DATE"]
    assert [e["Score"] for e in custom] == [e["Score"] for e in mapped[:2]]


def test_training_is_reproducible(tmp_path: Path) -> None:
    train, test = english_sets()
    options = TrainingOptions(max_epochs=1, seed=3)
    first = train_ner(train[:40], test[:10], "en", tmp_path / "a", options)
    second = train_ner(train[:40], test[:10], "en", tmp_path / "b", options)
    assert (tmp_path / "a" / "ner" / "model").read_bytes() == (tmp_path / "b" / "ner" / "model").read_bytes()
    assert first.f1 == second.f1


def test_a_given_dev_set_picks_the_epoch_and_all_training_documents_are_trained_on(tmp_path: Path) -> None:
    train, test = english_sets()
    dev = test[:12]
    logged: list[str] = []
    options = TrainingOptions(max_epochs=2, patience=2)
    train_ner(train[:60], test[12:], "en", tmp_path / "model", options, log=logged.append, dev=dev)
    assert any(line.startswith("training en NER on 60 documents") and "12 dev" in line for line in logged), logged
    training = json.loads((tmp_path / "model" / "training.json").read_text(encoding="utf-8"))
    assert training["dev_documents"] == 12
    assert all(row["dev_f1"] is not None for row in training["history"])


# -- stopping and the output folder -----------------------------------------------------------------------


def test_should_stop_raises_and_leaves_nothing(tmp_path: Path) -> None:
    train, test = english_sets()
    calls = []

    def stop_on_third_batch() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(TrainingStopped):
        train_ner(train, test, "en", tmp_path / "model", FAST, should_stop=stop_on_third_batch)
    assert len(calls) == 3
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_output_folder_is_refused_before_training(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "keep.txt").write_text("mine")
    train, test = english_sets()
    with pytest.raises(FileExistsError):
        train_ner(train, test, "en", tmp_path / "model", FAST, should_stop=pytest.fail)
    assert (tmp_path / "model" / "keep.txt").read_text() == "mine"


# -- data checks ------------------------------------------------------------------------------------------


def doc(text: str, *entities: tuple[int, int, str]) -> LabelledDocument:
    return LabelledDocument(text, tuple(entities))


GOOD = [doc("Anna Becker lives in Berlin.", (0, 11, "PERSON"), (21, 27, "CITY"))] * 5


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            doc("Anna Becker lives in Berlin.", (0, 11, "PERSON"), (5, 17, "CITY")),
            "document 3: entity 0-11 'Anna Becker' (PERSON) overlaps entity 5-17 'Becker lives' (CITY)",
        ),
        (
            doc("Anna Becker lives in Berlin.", (0, 11, "PERSON"), (0, 11, "CITY")),
            "document 3: entity 0-11 'Anna Becker' (CITY) overlaps entity 0-11 'Anna Becker' (PERSON)",
        ),
        (doc("Anna Becker", (5, 12, "PERSON")), "document 3: entity 5-12 (PERSON) is outside the text"),
        (doc("Anna Becker", (-1, 4, "PERSON")), "document 3: entity -1-4 (PERSON) is outside the text"),
        (doc("Anna Becker", (5, 5, "PERSON")), "document 3: entity 5-5 (PERSON) is empty"),
        (doc("Anna Becker", (6, 2, "PERSON")), "document 3: entity 6-2 (PERSON) is empty"),
        (doc("Anna  Becker", (4, 6, "PERSON")), "document 3: entity 4-6 (PERSON) covers only whitespace"),
        (doc("Anna Becker", (0, 4, "")), "document 3: entity 0-4 has no type"),
    ],
)
def test_unusable_training_annotations_name_the_document(tmp_path: Path, bad: LabelledDocument, message: str) -> None:
    train = [*GOOD[:3], bad, *GOOD[3:]]
    with pytest.raises(TrainingDataError) as info:
        train_ner(train, GOOD, "en", tmp_path / "model", should_stop=pytest.fail)
    assert str(info.value).startswith(message), str(info.value)
    assert (info.value.document, info.value.split) == (3, "train")
    assert list(tmp_path.iterdir()) == []


def test_unusable_test_annotations_name_the_test_document(tmp_path: Path) -> None:
    bad = doc("Anna Becker", (0, 40, "PERSON"))
    with pytest.raises(TrainingDataError, match=r"^test document 1: entity 0-40 \(PERSON\) is outside") as info:
        train_ner(GOOD, [GOOD[0], bad], "en", tmp_path / "model", should_stop=pytest.fail)
    assert (info.value.document, info.value.split) == (1, "test")


def test_no_training_documents_or_no_entities(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="no training documents"):
        train_ner([], GOOD, "en", tmp_path / "model")
    with pytest.raises(TrainingDataError, match="no entities"):
        train_ner([doc("Nothing here.")] * 3, GOOD, "en", tmp_path / "model")


def test_misaligned_annotations_are_widened_with_a_warning(tmp_path: Path) -> None:
    train, test = english_sets()
    train = train[:30]
    # "Anna Beck" stops inside a token: widened to "Anna Becker".
    train[0] = doc("Anna Becker lives in Berlin.", (0, 9, "PERSON"), (21, 27, "CITY"))
    # Leading and trailing spaces are left out; an exact duplicate counts once.
    train[1] = doc("We met Carla Rossi in Porto.", (6, 18, "PERSON"), (22, 27, "CITY"), (22, 27, "CITY"))
    # Two annotations inside one token cannot both be represented: both are left out.
    train[2] = doc("Visit GrazBerlin now.", (6, 10, "CITY"), (10, 16, "CITY"))
    test = [*test[:5], doc("Karin Novak flew to Graz.", (0, 8, "PERSON"))]
    report = train_ner(train, test, "en", tmp_path / "model", TrainingOptions(max_epochs=1))
    assert report.warnings == [
        "1 duplicate annotations (same span and type) were counted once",
        "1 annotations had leading or trailing whitespace, which was left out",
        "3 annotations did not fall on token boundaries and were widened to whole tokens",
        "2 annotations shared a token with another annotation once widened to whole tokens; they were left "
        "out and their tokens were not trained on",
        "1 test annotations do not fall on token boundaries, so the model cannot match them exactly",
    ]


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'qq'"):
        train_ner(GOOD, GOOD, "qq", tmp_path / "model")


# -- languages without spaces: one character a token -----------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "zh-TW", "ja", "ko"])
def test_cjk_pipelines_use_the_character_tokenizer(language: str) -> None:
    nlp = build_pipeline(language)
    assert nlp.lang == language.split("-")[0]
    assert isinstance(nlp.tokenizer, CharTokenizer)
    tokens = nlp.make_doc("서울에서  만났다 a\n")
    assert [t.text for t in tokens] == ["서", "울", "에", "서", " ", "만", "났", "다", "a", "\n"]
    assert tokens.text == "서울에서  만났다 a\n"


def test_char_bigrams_give_each_character_its_bigram_as_norm_and_survive_a_reload(tmp_path: Path) -> None:
    nlp = build_pipeline("zh", TrainingOptions(char_bigrams=True))
    tokens = nlp.make_doc("中国人 在北京。")
    assert [t.norm_ for t in tokens] == ["中国", "国人", "人", "在北", "北京", "京。", "。"]
    assert [t.text for t in tokens] == list("中国人在北京。") and tokens.text == "中国人 在北京。"
    assert [t.norm_ for t in build_pipeline("zh").make_doc("中国")] == ["中", "国"]
    nlp.to_disk(tmp_path / "model")
    reloaded = spacy.load(tmp_path / "model")
    assert [t.norm_ for t in reloaded.make_doc("北京")] == ["北京", "京"]


def test_sudachi_gives_each_character_its_word_position_part_of_speech_and_normalized_form(tmp_path: Path) -> None:
    pytest.importorskip("sudachipy")
    pytest.importorskip("sudachidict_core")
    nlp = build_pipeline("ja", TrainingOptions(words="sudachi"))
    text = "山田太郎は 東京に\n住む。"
    tokens = nlp.make_doc(text)
    # Offsets stay one token a character, as with CharTokenizer.
    assert [t.text for t in tokens] == list("山田太郎は東京に") + ["\n"] + list("住む。") and tokens.text == text
    assert [t.tag_ for t in tokens[:5]] == [
        "B-名詞-固有名詞-人名-姓",
        "E-名詞-固有名詞-人名-姓",
        "B-名詞-固有名詞-人名-名",
        "E-名詞-固有名詞-人名-名",
        "S-助詞-係助詞",
    ]
    assert [t.lemma_ for t in tokens[:4]] == ["山田", "山田", "太郎", "太郎"]
    assert tokens[5].tag_.startswith("B-名詞-固有名詞-地名") and tokens[8].tag_ == ""
    assert nlp.config["components"]["ner"]["model"]["tok2vec"]["embed"]["attrs"][-2:] == ["TAG", "LEMMA"]
    tag_only = build_pipeline("ja", TrainingOptions(words="sudachi", word_lemma=False))
    assert tag_only.config["components"]["ner"]["model"]["tok2vec"]["embed"]["attrs"][-1] == "TAG"
    # Saved, reloaded in a fresh process (the tokenizer found through spaCy's registry) and pickled.
    nlp.to_disk(tmp_path / "model")
    found = run_python(
        "import json, pickle, spacy\n"
        f"nlp = spacy.load({str(tmp_path / 'model')!r})\n"
        "tok = pickle.loads(pickle.dumps(nlp.tokenizer))\n"
        "print(json.dumps([t.tag_ for t in tok('大阪')]))\n"
    )
    assert found == ["B-名詞-固有名詞-地名-一般", "E-名詞-固有名詞-地名-一般"]
    # Long texts are given to Sudachi in pieces; every character still gets its word's features.
    long_text = "東京に住む。" * 1000
    assert all(t.tag_ for t in nlp.make_doc(long_text))
    # Split mode A (shortest units): 東京 and 都 are two words, where mode C reads 東京都 as one.
    mode_a = build_pipeline("ja", TrainingOptions(words="sudachi", sudachi_split_mode="A"))
    assert [t.tag_[0] for t in mode_a.make_doc("東京都")] == ["B", "E", "S"]
    assert [t.tag_[0] for t in nlp.make_doc("東京都")] == ["B", "I", "E"]
    with pytest.raises(ValueError, match="is for 'ja', not 'zh'"):
        build_pipeline("zh", TrainingOptions(words="sudachi"))
    with pytest.raises(ValueError, match="No word segmenter 'mecab'"):
        build_pipeline("ja", TrainingOptions(words="mecab"))


def test_kiwi_gives_each_character_its_morpheme_position_and_tag(tmp_path: Path) -> None:
    pytest.importorskip("kiwipiepy")
    pytest.importorskip("kiwipiepy_model")
    nlp = build_pipeline("ko", TrainingOptions(words="kiwi", word_lemma=False))
    text = "이순신은 서울에서\n태어났다. 했어요"
    tokens = nlp.make_doc(text)
    # Offsets stay one token a character, as with CharTokenizer.
    assert [t.text for t in tokens] == [*"이순신은서울에서", "\n", *"태어났다.했어요"] and tokens.text == text
    assert [t.tag_ for t in tokens[:8]] == ["B-NNP", "I-NNP", "E-NNP", "S-JX", "B-NNP", "E-NNP", "B-JKB", "E-JKB"]
    assert tokens[8].tag_ == ""
    # Kiwi undoes contractions: 태어났 = 태어나 + 었 (었 on 났 only), 했 = 하 + 었 (both on 했). Each character
    # keeps the first morpheme that covers it.
    assert [t.tag_ for t in tokens[9:]] == ["B-VV", "I-VV", "E-VV", "S-EF", "S-SF", "S-VV", "B-EF", "E-EF"]
    assert [t.lemma_ for t in tokens[9:12]] == ["태어나"] * 3
    assert nlp.config["components"]["ner"]["model"]["tok2vec"]["embed"]["attrs"][-1] == "TAG"
    # Saved, reloaded in a fresh process (the tokenizer found through spaCy's registry) and pickled.
    nlp.to_disk(tmp_path / "model")
    found = run_python(
        "import json, pickle, spacy\n"
        f"nlp = spacy.load({str(tmp_path / 'model')!r})\n"
        "tok = pickle.loads(pickle.dumps(nlp.tokenizer))\n"
        "print(json.dumps([t.tag_ for t in tok('김철수가')]))\n"
    )
    assert found == ["B-NNP", "I-NNP", "E-NNP", "S-JKS"]
    # A long text, and characters outside the Basic Multilingual Plane (offsets are characters, not UTF-16 units).
    long_text = "😀서울에 산다. " * 2000
    long_doc = nlp.make_doc(long_text)
    assert all(t.tag_ for t in long_doc if not t.is_space) and long_doc.text == long_text
    assert [t.tag_ for t in long_doc[-7:-3]] == ["S-W_EMOJI", "B-NNP", "E-NNP", "S-JKB"]
    # Decomposed Hangul (NFD: each syllable two or three jamo): Kiwi's offsets are still the text's code points.
    nfd = unicodedata.normalize("NFD", "서울에서 김철수가")
    nfd_doc = nlp.make_doc(nfd)
    assert len(nfd_doc) == len(nfd) - 1 and all(t.tag_ for t in nfd_doc) and nfd_doc.text == nfd
    no_dict = build_pipeline("ko", TrainingOptions(words="kiwi", kiwi_default_dict=False))
    assert no_dict.config["nlp"]["tokenizer"]["default_dict"] is False
    with pytest.raises(ValueError, match="is for 'ko', not 'ja'"):
        build_pipeline("ja", TrainingOptions(words="kiwi"))
def test_jieba_gives_each_character_its_word_position_and_part_of_speech(tmp_path: Path) -> None:
    pytest.importorskip("jieba")
    nlp = build_pipeline("zh", TrainingOptions(words="jieba", word_lemma=False))
    text = "王小明在北京 会见\n微软公司的代表。"
    tokens = nlp.make_doc(text)
    # Offsets stay one token a character, as with CharTokenizer; whitespace gets no TAG.
    assert tokens.text == text
    assert [t.text for t in tokens] == list("王小明在北京会见") + ["\n"] + list("微软公司的代表。")
    assert [t.tag_ for t in tokens[:6]] == ["B-nr", "I-nr", "E-nr", "S-p", "B-ns", "E-ns"]
    assert [t.tag_ for t in tokens[9:13]] == ["B-nt", "I-nt", "I-nt", "E-nt"] and tokens[8].tag_ == ""
    assert [t.lemma_ for t in tokens[:4]] == ["王小明", "王小明", "王小明", "在"]
    assert nlp.config["components"]["ner"]["model"]["tok2vec"]["embed"]["attrs"][-1] == "TAG"
    assert nlp.config["nlp"]["tokenizer"]["hmm"] is True
    # jieba's words are found in the text: every character of every kind (Latin letters, digits, spaces,
    # CRLF) keeps its place, and every non-space character gets a TAG.
    mixed = "2024年Apple在上海\r\n发布了iPhone 15。  OK"
    doc = nlp.make_doc(mixed)
    assert doc.text == mixed and all(t.tag_ for t in doc if not t.is_space)
    # Without the HMM, dictionary words only, cut as jieba.posseg cuts them with HMM=False (without loading
    # jieba.posseg), from the same tables as jieba's own.
    no_hmm = build_pipeline("zh", TrainingOptions(words="jieba", jieba_hmm=False))
    assert no_hmm.config["nlp"]["tokenizer"]["hmm"] is False
    assert [t.tag_ for t in no_hmm.make_doc("北京")] == ["B-ns", "E-ns"]
    import jieba
    import jieba.posseg

    # One jieba per thread and kind of cut, whichever model asks (zh and zh-TW load the model twice).
    assert build_pipeline("zh", TrainingOptions(words="jieba")).tokenizer._segmenter() is nlp.tokenizer._segmenter()
    assert no_hmm.tokenizer._segmenter() is not nlp.tokenizer._segmenter()
    reference_tokenizer = jieba.Tokenizer()
    reference_tokenizer.tmp_dir = str(tmp_path)  # its jieba.cache, not the host's temporary directory
    reference_tokenizer.initialize()
    reference = jieba.posseg.POSTokenizer(reference_tokenizer)
    ours = no_hmm.tokenizer._segmenter()
    assert ours.tokenizer.FREQ == reference.tokenizer.FREQ and ours.tags == reference.word_tag_tab
    for sample in (text, mixed, "C++和C#是OpenAI的GPT-4.5吗？3.14%"):
        for hmm, segmenter in ((False, ours), (True, nlp.tokenizer._segmenter())):
            expected = [(p.word, p.flag) for p in reference.cut(sample, HMM=hmm)]
            assert [(p.word, p.flag) for p in segmenter.cut(sample, HMM=hmm)] == expected
    # Saved, reloaded in a fresh process (the tokenizer found through spaCy's registry) and pickled, with
    # nothing logged (jieba prints "Building prefix dict ..." by default) and no cache file written.
    nlp.to_disk(tmp_path / "model")
    code = (
        "import json, os, pickle, spacy, tempfile\n"
        "tempfile.tempdir = tempfile.mkdtemp()\n"
        f"nlp = spacy.load({str(tmp_path / 'model')!r})\n"
        "tok = pickle.loads(pickle.dumps(nlp.tokenizer))\n"
        "print(json.dumps([[t.tag_ for t in tok('上海')], os.listdir(tempfile.tempdir)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert json.loads(done.stdout) == [["B-ns", "E-ns"], []]
    # A long text: every character still gets its word's features.
    long_text = "他住在上海。\n" * 2000
    assert all(t.tag_ for t in nlp.make_doc(long_text) if not t.is_space)
    with pytest.raises(ValueError, match="is for 'zh', not 'ja'"):
        build_pipeline("ja", TrainingOptions(words="jieba"))


def test_kiwi_aux_tags_train_a_tagger_beside_the_ner_and_serve_without_kiwi(tmp_path: Path) -> None:
    pytest.importorskip("kiwipiepy")
    pytest.importorskip("kiwipiepy_model")
    options = TrainingOptions(max_epochs=8, patience=3, aux_tags="kiwi")
    config = build_pipeline("ko", options).config
    assert config["nlp"]["pipeline"] == ["tok2vec", "tagger", "ner"]
    assert config["components"]["ner"]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2VecListener.v1"
    train = generate(150, KO_PEOPLE_TRAIN, KO_CITIES_TRAIN, KO_TEMPLATES, seed=3)
    test = generate(40, KO_PEOPLE_TEST, KO_CITIES_TEST, KO_TEMPLATES, seed=4)
    output = tmp_path / "model"
    report = train_ner(train, test, "ko", output, options)
    assert report.f1 > 0.6, report
    # The engine loads the NER and the tok2vec it listens to, not the tagger.
    assert components_to_exclude(output) == ["tagger"]
    # Kiwi's morpheme forms (태어나 for 태어났) are not saved in the model's strings; its tags are.
    strings = set(json.loads((output / "vocab" / "strings.json").read_text(encoding="utf-8")))
    assert "태어나" not in strings and "B-NNP" in strings
    text = "박도윤는 부산에서 태어났다."
    kiwi = build_pipeline("ko", TrainingOptions(words="kiwi")).make_doc(text)
    # A fresh process reads the model with the plain CharTokenizer: Kiwi is never imported.
    found = run_python(
        "import json, sys\n"
        "import spacy\n"
        "import opencomprehend.nlp.ner.spacy_engine\n"
        f"nlp = spacy.load({str(output)!r})\n"
        f"doc = nlp({text!r})\n"
        "from opencomprehend.nlp.registry import load_engine\n"
        f"engine = load_engine('ko', {{'ko': ('custom.v1', {str(output)!r})}})\n"
        f"entities = engine.recognise([{text!r}])[0]\n"
        "print(json.dumps({'tokenizer': nlp.config['nlp']['tokenizer']['@tokenizers'],\n"
        "                  'kiwi': any(name.startswith('kiwipiepy') for name in sys.modules),\n"
        "                  'tags': [t.tag_ for t in doc],\n"
        "                  'spacy': [[e.start_char, e.end_char, e.label_] for e in doc.ents],\n"
        "                  'engine': [[e['BeginOffset'], e['EndOffset'], e['Type']] for e in entities]}))\n"
    )
    assert found["tokenizer"] == "opencomprehend.CharTokenizer.v1" and found["kiwi"] is False
    assert found["spacy"] == found["engine"] == [[0, 3, "PERSON"], [5, 7, "CITY"]]
    # The tagger learned Kiwi's tags (for the characters of a sentence like the training ones).
    right = sum(tag == token.tag_ for tag, token in zip(found["tags"], kiwi, strict=True) if not token.is_space)
    assert right >= 0.8 * sum(not token.is_space for token in kiwi), (found["tags"], [t.tag_ for t in kiwi])
    with pytest.raises(ValueError, match="is for 'ko', not 'ja'"):
        build_pipeline("ja", TrainingOptions(aux_tags="kiwi"))


def test_kiwi_pretrain_tags_pretrain_the_ner_tok2vec_on_kiwi_tags(tmp_path: Path) -> None:
    pytest.importorskip("kiwipiepy")
    pytest.importorskip("kiwipiepy_model")
    options = TrainingOptions(max_epochs=1, pretrain_epochs=3, pretrain_tags="kiwi")
    train = generate(60, KO_PEOPLE_TRAIN, KO_CITIES_TRAIN, KO_TEMPLATES, seed=3)
    logged: list[str] = []
    train_ner(train, train[:5], "ko", tmp_path / "model", options, log=logged.append)
    losses = [float(re.search(r"loss ([\d.]+)", line).group(1)) for line in logged if line.startswith("pretraining")]
    assert len(losses) == 3 and losses[-1] < losses[0], logged
    model = spacy.load(tmp_path / "model")
    assert model.pipe_names == ["ner"] and model.config["nlp"]["tokenizer"]["@tokenizers"].endswith("CharTokenizer.v1")


def test_space_separated_languages_use_spacy_tokenizers() -> None:
    nlp = build_pipeline("de")
    assert nlp.lang == "de"
    assert [t.text for t in nlp.make_doc("Anna wohnt in Köln.")] == ["Anna", "wohnt", "in", "Köln", "."]


def test_korean_entities_glued_to_particles(trained_ko: tuple[TrainingReport, Path]) -> None:
    report, output = trained_ko
    assert report.warnings == []
    assert report.f1 > 0.6, report
    # A fresh process: the character tokenizer must be registered by importing the engine module.
    text = "박도윤는 부산에서 태어났다."
    found = run_python(
        "import json\n"
        "import spacy\n"
        "import opencomprehend.nlp.ner.spacy_engine\n"
        f"nlp = spacy.load({str(output)!r})\n"
        f"doc = nlp({text!r})\n"
        "from opencomprehend.nlp.registry import load_engine\n"
        f"engine = load_engine('ko', {{'ko': ('custom.v1', {str(output)!r})}})\n"
        "print(json.dumps({'spacy': [[e.start_char, e.end_char, e.label_] for e in doc.ents],\n"
        f"                  'engine': engine.recognise([{text!r}])[0]}}))\n"
    )
    assert found["spacy"] == [[0, 3, "PERSON"], [5, 7, "CITY"]]
    assert [(e["BeginOffset"], e["EndOffset"], e["Text"], e["Type"]) for e in found["engine"]] == [
        (0, 3, "박도윤", "PERSON"),
        (5, 7, "부산", "CITY"),
    ]


def test_capacity_options_reach_the_config_and_default_to_the_shipped_architecture() -> None:
    default = build_pipeline("es").config["components"]["ner"]["model"]
    assert default["hidden_width"] == 64
    assert default["tok2vec"]["window_size"] == 1 and default["tok2vec"]["embed_size"] == 2000
    options = TrainingOptions(width=128, embed_rows=5000, window_size=2, hidden_width=128)
    model = build_pipeline("es", options).config["components"]["ner"]["model"]
    assert model["hidden_width"] == 128
    tok2vec = model["tok2vec"]
    assert (tok2vec["width"], tok2vec["embed_size"], tok2vec["window_size"]) == (128, 5000, 2)


def test_pretraining_changes_the_tok2vec_and_is_reproducible(tmp_path: Path) -> None:
    train = [
        LabelledDocument(f"{name} vive en {city} desde {year}.", ((0, len(name), "PERSON"),))
        for name, city, year in [("Ana Ruiz", "Madrid", 1990), ("Luis Gil", "Lima", 2001), ("Eva Sanz", "Quito", 1985)]
    ] * 4
    options = TrainingOptions(max_epochs=1, pretrain_epochs=2)
    weights = []
    for run in ("a", "b"):
        train_ner(train, train[:2], "es", tmp_path / run, options)
        weights.append((tmp_path / run / "ner" / "model").read_bytes())
    assert weights[0] == weights[1]
    train_ner(train, train[:2], "es", tmp_path / "plain", TrainingOptions(max_epochs=1))
    assert (tmp_path / "plain" / "ner" / "model").read_bytes() != weights[0]
    assert json.loads((tmp_path / "a" / "training.json").read_text())["options"]["pretrain_epochs"] == 2
