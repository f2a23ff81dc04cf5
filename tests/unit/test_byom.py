"""Bring your own model: the models file, the "transformers.v1" engine on ONNX models the tests build, and
"spacy.v1" with an operator's label map. No model is downloaded: tests/support/token_classifier.py writes them."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from support.token_classifier import tiny_ner_model, tiny_sentencepiece_model  # noqa: E402

from opencomprehend.nlp import registry  # noqa: E402
from opencomprehend.nlp.models_file import (  # noqa: E402
    ModelChoice,
    ModelsFileError,
    check_models,
    read_models_file,
)
from opencomprehend.nlp.ner.transformers_engine import TransformersEngine, plan_token_windows  # noqa: E402
from opencomprehend.nlp.registry import load_engine, supported_languages  # noqa: E402
from opencomprehend.runtime import worker  # noqa: E402
from opencomprehend.runtime.runner import entities_engine  # noqa: E402

BIO = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC")
PIECES = {
    "John": "B-PER",
    "##son": "O",  # a later piece's own label does not count: the word takes its first piece's
    "Van": "O",
    "##der": "B-PER",  # ... nor does it make an entity of a word whose first piece is O
    "Zo": "B-PER",
    "##ë": "I-PER",
    "Paris": "B-LOC",
    "Lyon": "I-LOC",  # I- after O: an entity begins (BIO repaired)
    "Acme": "B-ORG",
    "Corp": "I-ORG",
    "Ada": "B-PER",
    "Lovelace": "I-PER",
    "Euro": "B-MISC",
}
STRENGTH = 6.0


def p_top(labels: int = len(BIO), strength: float = STRENGTH) -> float:
    """The softmax probability of a piece's own label in tiny_ner_model."""
    return math.exp(strength) / (math.exp(strength) + labels - 1)


def p_other(labels: int = len(BIO), strength: float = STRENGTH) -> float:
    return 1 / (math.exp(strength) + labels - 1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_ner_model(tmp_path_factory.mktemp("bert") / "ner", PIECES, BIO, max_positions=64)


@pytest.fixture(scope="module")
def engine(model_dir: Path) -> TransformersEngine:
    loaded = load_engine("fr", {"fr": ("transformers.v1", model_dir)})
    assert isinstance(loaded, TransformersEngine)
    return loaded


@pytest.fixture()
def clean_configuration() -> Iterator[None]:
    yield
    registry.configure_models(None)
    worker._engines.clear()


def spans(entities: list[dict]) -> list[tuple[str, str]]:
    return [(e["Text"], e["Type"]) for e in entities]


# ------------------------------------------------------------------------------------------------ engine


def test_words_take_their_first_pieces_label(engine: TransformersEngine) -> None:
    [found] = engine.recognise(["Johnson met Vander in Paris."])
    assert spans(found) == [("Johnson", "PERSON"), ("Paris", "LOCATION")]
    johnson = found[0]
    assert (johnson["BeginOffset"], johnson["EndOffset"]) == (0, 7)


def test_offsets_are_code_points_and_entities_span_whole_words(engine: TransformersEngine) -> None:
    text = "🙂 Zoë works for Acme Corp, and Ada Lovelace visited Lyon!"
    [found] = engine.recognise([text])
    assert spans(found) == [
        ("Zoë", "PERSON"),
        ("Acme Corp", "ORGANIZATION"),
        ("Ada Lovelace", "PERSON"),
        ("Lyon", "LOCATION"),
    ]
    for entity in found:
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
    assert found[0]["BeginOffset"] == 2  # the emoji is one code point (two UTF-16 units, four UTF-8 bytes)


def test_bio_tags_are_repaired(engine: TransformersEngine) -> None:
    # B-PER then I-LOC: two entities, not one; I-LOC after O begins one; B-LOC B-LOC are two.
    [found] = engine.recognise(["Ada Lyon and the Lyon Paris Paris"])
    assert spans(found) == [("Ada", "PERSON"), ("Lyon", "LOCATION"), ("Lyon", "LOCATION"), ("Paris", "LOCATION"),
                            ("Paris", "LOCATION")]  # fmt: skip


def test_scores_are_the_mean_of_the_tokens_softmax(engine: TransformersEngine) -> None:
    [found] = engine.recognise(["Paris and Johnson"])
    paris, johnson = found
    # A type's probability is that of its B- and I- labels together: B-LOC's p_top and I-LOC's p_other.
    assert paris["Score"] == pytest.approx(p_top() + p_other(), abs=1e-6)
    # "##son" is an O piece: B-PER and I-PER get p_other each, and the entity's score is the tokens' mean.
    assert johnson["Score"] == pytest.approx((p_top() + p_other() + 2 * p_other()) / 2, abs=1e-6)
    for entity in found:
        assert 0.0 <= entity["Score"] <= 1.0


def test_the_label_map_names_types_and_drops_the_rest(model_dir: Path) -> None:
    text = "Ada met John in Paris at Acme about the Euro"
    default = load_engine("fr", {"fr": ("transformers.v1", model_dir)})
    assert [e["Type"] for e in default.recognise([text])[0]] == [
        "PERSON", "PERSON", "LOCATION", "ORGANIZATION", "OTHER",  # MISC is OTHER by nlp/ner/labels.py
    ]  # fmt: skip
    mapped = load_engine(
        "fr",
        {"fr": ModelChoice("transformers.v1", model_dir, labels={"PER": "PERSON", "MISC": "EVENT"})},
    )
    assert spans(mapped.recognise([text])[0]) == [("Ada", "PERSON"), ("John", "PERSON"), ("Euro", "EVENT")]


def test_dates_and_quantities_come_from_the_patterns_where_the_model_has_neither(model_dir: Path) -> None:
    engine = load_engine("fr", {"fr": ("transformers.v1", model_dir)})
    assert engine.pattern_types == {"DATE", "QUANTITY"}
    [found] = engine.recognise(["Ada visited Paris le 5 mai 2020"])
    assert spans(found) == [("Ada", "PERSON"), ("Paris", "LOCATION"), ("5 mai 2020", "DATE")]
    off = load_engine("fr", {"fr": ("transformers.v1", model_dir)}, patterns=False)
    assert spans(off.recognise(["Ada visited Paris le 5 mai 2020"])[0]) == [("Ada", "PERSON"), ("Paris", "LOCATION")]


def test_bioes_and_io_schemes(tmp_path: Path) -> None:
    bioes = ("O", "S-PER", "B-PER", "I-PER", "E-PER", "PER", "LOC")
    pieces = {"Ada": "B-PER", "Lovelace": "E-PER", "Grace": "S-PER", "Hopper": "E-PER", "Paris": "LOC", "Lyon": "LOC"}
    folder = tiny_ner_model(tmp_path / "bioes", pieces, bioes)
    engine = load_engine("de", {"de": ("transformers.v1", folder)})
    [found] = engine.recognise(["Ada Lovelace Grace Hopper Paris Lyon"])
    # E- after S- does not continue it (S ends an entity): Hopper stands alone; bare labels run together (IO).
    assert spans(found) == [("Ada Lovelace", "PERSON"), ("Grace", "PERSON"), ("Hopper", "PERSON"),
                            ("Paris Lyon", "LOCATION")]  # fmt: skip


def test_a_sentencepiece_tokenizer_like_xlm_roberta(tmp_path: Path) -> None:
    # Words split at spaces only, "▁" pieces that take in the space before a word, <s> ... </s>, 514 positions.
    # "Paris" without "▁": the piece after "(", inside the word "(Paris).".
    pieces = {"▁Zo": "B-PER", "ë": "I-PER", "Paris": "B-LOC", "▁Ada": "B-PER", "▁Love": "I-PER", "lace": "I-PER",
              "▁met": "O", "▁in": "O"}  # fmt: skip
    folder = tiny_sentencepiece_model(tmp_path / "xlmr", pieces, max_positions=514)
    engine = load_engine("fr", {"fr": ("transformers.v1", folder)})
    assert isinstance(engine, TransformersEngine) and engine.max_length == 512 and engine.window_tokens == 510
    assert engine._pad_id == 1  # <pad>: RoBERTa graphs number positions from the tokens that are not padding
    text = "🙂 Zoë met  Ada Lovelace in (Paris)."
    [found] = engine.recognise([text])
    # The space before each word and the punctuation around "(Paris)." stay outside the entities.
    assert [(e["BeginOffset"], e["Text"], e["Type"]) for e in found] == [
        (2, "Zoë", "PERSON"), (11, "Ada Lovelace", "PERSON"), (28, "Paris", "LOCATION"),
    ]  # fmt: skip


def test_chinese_without_spaces_is_read_a_token_a_word(tmp_path: Path) -> None:
    # To SentencePiece the whole sentence is one word; by its first piece it would all be one PERSON.
    pieces = {"▁毛": "B-PER", "澤東": "I-PER", "出生": "O", "於": "O", "湖南": "B-LOC", "省": "I-LOC"}
    folder = tiny_sentencepiece_model(tmp_path / "zh", pieces)
    engine = load_engine("zh-TW", {"zh-TW": ("transformers.v1", folder)}, patterns=False)
    [found] = engine.recognise(["毛澤東出生於湖南省。"])
    assert [(e["BeginOffset"], e["Text"], e["Type"]) for e in found] == [(0, "毛澤東", "PERSON"),
                                                                        (6, "湖南省", "LOCATION")]  # fmt: skip


def test_a_graph_that_wants_token_type_ids_gets_them(tmp_path: Path) -> None:
    folder = tiny_ner_model(tmp_path / "types", PIECES, BIO, token_type_ids=True)
    engine = load_engine("de", {"de": ("transformers.v1", folder)})
    assert spans(engine.recognise(["Zoë in Paris"])[0]) == [("Zoë", "PERSON"), ("Paris", "LOCATION")]


def test_long_documents_are_windowed_with_exact_offsets(tmp_path: Path) -> None:
    # 16 positions: 14 tokens of text a window; the document is hundreds of tokens long.
    folder = tiny_ner_model(tmp_path / "short", PIECES, BIO, max_positions=16)
    engine = load_engine("fr", {"fr": ("transformers.v1", folder)}, overlap=4)
    assert isinstance(engine, TransformersEngine) and engine.window_tokens == 14
    widths: list[int] = []
    run = engine.session.run

    def recording(outputs, feed):  # type: ignore[no-untyped-def]
        widths.append(feed["input_ids"].shape[1])
        return run(outputs, feed)

    engine.session.run = recording  # type: ignore[method-assign]
    rng = random.Random(7)
    names = [("Ada Lovelace", "PERSON"), ("Zoë", "PERSON"), ("Acme Corp", "ORGANIZATION"), ("Paris", "LOCATION"),
             ("Johnson", "PERSON")]  # fmt: skip
    parts, expected, at = [], [], 0
    for i in range(120):
        filler = " ".join(rng.choice(["the", "a", "in", "of", "and", "🙂", "met"]) for _ in range(rng.randint(0, 9)))
        piece = f"{filler} " if filler else ""
        at += len(piece)
        name, kind = names[i % len(names)]
        expected.append((at, at + len(name), name, kind))
        parts.append(piece + name + " ,")
        at += len(name) + 2 + 1  # " ," and the joining space
    text = " ".join(parts)
    [found] = engine.recognise([text])
    assert [(e["BeginOffset"], e["EndOffset"], e["Text"], e["Type"]) for e in found] == expected
    assert max(widths) <= 16 and len(widths) > 1
    for entity in found:
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
        # Johnson's "##son" is an O piece (see test_scores_are_the_mean_of_the_tokens_softmax).
        assert (0.4 if entity["Text"] == "Johnson" else 0.9) < entity["Score"] <= 1.0


def test_windows_cut_between_words_and_overlap() -> None:
    starts = [True, False, False, True, True, False, True, True, True, False, True, True] * 5
    windows = plan_token_windows(starts, 10, 3)
    assert windows[0][0] == 0 and windows[-1][1] == len(starts)
    for (s1, e1), (s2, _e2) in zip(windows, windows[1:], strict=False):
        assert e1 - s1 <= 10 and s2 < e1, "neighbours overlap"
        assert starts[e1] and starts[s2], "cut before a word's first token"


def test_batching_and_padding_change_no_answer(tmp_path: Path) -> None:
    # Random attention and feed-forward layers: every token's logits depend on its context, so padding that
    # leaked through the attention mask, or windows mixed up in a batch, would show in the scores.
    folder = tiny_ner_model(tmp_path / "context", PIECES, BIO, scale=0.05)
    texts = ["Paris", "Ada Lovelace met Johnson in Lyon and Paris", "", "Acme Corp and Zoë", "the the Paris"]
    together = load_engine("fr", {"fr": ModelChoice("transformers.v1", folder, batch_size=8)}).recognise(texts)
    alone = load_engine("fr", {"fr": ModelChoice("transformers.v1", folder, batch_size=1)})
    for text, entities in zip(texts, together, strict=True):
        [single] = alone.recognise([text])
        assert spans(entities) == spans(single)
        assert [e["Score"] for e in entities] == pytest.approx([e["Score"] for e in single], abs=1e-5)
    assert together[2] == []
    scores = {e["Score"] for entities in together for e in entities}
    assert len(scores) > 3, "scores come from the model, not a constant"


def test_a_folder_without_its_onnx_file_is_a_clear_error(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (broken / name).write_bytes((model_dir / name).read_bytes())
    with pytest.raises(ValueError, match="model.onnx is missing"):
        load_engine("fr", {"fr": ("transformers.v1", broken)})
    (broken / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="ONNX Runtime cannot load"):
        load_engine("fr", {"fr": ("transformers.v1", broken)})


def test_without_onnxruntime_the_error_says_what_to_install(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"pip install 'opencomprehend\[transformers\]'"):
        load_engine("fr", {"fr": ("transformers.v1", model_dir)})


# ------------------------------------------------------------------------------------------ spaCy + map


def test_spacy_models_take_a_label_map() -> None:
    # No date or quantity: the CLDR patterns would add them whatever the label map (docs/models.md).
    text = "Angela Merkel besuchte Paris und sprach mit Siemens."
    own = load_engine("de")
    assert {"PERSON", "LOCATION"} <= {e["Type"] for e in own.recognise([text])[0]}
    shipped = registry.DEFAULT_MODELS["de"][1]
    mapped = load_engine("de", {"de": ModelChoice("spacy.v1", shipped, labels={"PERSON": "TITLE"})})
    found = mapped.recognise([text])[0]
    assert found and {e["Type"] for e in found} == {"TITLE"}
    assert "Angela Merkel" in {e["Text"] for e in found}


# ----------------------------------------------------------------------------------------- models file


def write(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_the_models_file_form_of_the_docs(tmp_path: Path, model_dir: Path) -> None:
    (tmp_path / "models").mkdir()
    models = write(
        tmp_path / "models.toml",
        f"""
[languages.de]
engine = "spacy.v1"
model = "{registry.DEFAULT_MODELS['de'][1]}"
labels = {{ PER = "PERSON", LOC = "LOCATION", ORG = "ORGANIZATION", MISC = "OTHER" }}

[languages.fr]
engine = "transformers.v1"
model = "{model_dir}"
labels = {{ PER = "PERSON", LOC = "LOCATION", ORG = "ORGANIZATION" }}
batch_size = 4
device = "cpu"

[languages.es]
model = "./models"
""",
    )
    choices = read_models_file(models)
    assert set(choices) == {"de", "fr", "es"}
    assert choices["fr"] == ModelChoice(
        "transformers.v1", model_dir, {"PER": "PERSON", "LOC": "LOCATION", "ORG": "ORGANIZATION"}, 4, "cpu",
        source=str(models),
    )  # fmt: skip
    assert choices["es"].engine == "spacy.v1" and choices["es"].model == (tmp_path / "models").resolve()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[languages.nl]\nmodel = "x"', "language 'nl': not one of the languages the API serves"),
        ('[languages.fr]\nengine = "bert.v9"\nmodel = "x"', "engine 'bert.v9' does not exist"),
        ('[languages.fr]\nmodel = "x"\nlabels = { PER = "PEOPLE" }', "label 'PER' maps to 'PEOPLE'"),
        ('[languages.fr]\nmodel = "x"\nbatchsize = 4', "unknown key 'batchsize'"),
        ('[languages.fr]\nmodel = "x"\ndevice = "tpu"', "'device' must be one of cpu, cuda"),
        ('[languages.fr]\nengine = "spacy.v1"', "'model' must name a folder"),
        ("[languages.fr\n", "not valid TOML"),
    ],
)
def test_mistakes_in_the_models_file_are_one_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ModelsFileError) as raised:
        read_models_file(write(tmp_path / "models.toml", body))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_configured_languages_resolve_over_the_defaults(model_dir: Path, clean_configuration: None) -> None:
    registry.configure_models({"fr": ModelChoice("transformers.v1", model_dir)})
    assert isinstance(load_engine("fr"), TransformersEngine)
    assert registry.configured_models()["de"].model == registry.DEFAULT_MODELS["de"][1]
    assert "fr" in supported_languages()
    registry.configure_models({"fr": ModelChoice("transformers.v1", model_dir / "gone")})
    assert "fr" not in supported_languages() and "de" in supported_languages()


def test_a_worker_lets_go_of_engines_its_new_configuration_changes(
    model_dir: Path, clean_configuration: None
) -> None:
    worker.configure({"fr": ModelChoice("transformers.v1", model_dir)})
    key = entities_engine("fr")
    french = worker.engine_for(key)
    assert isinstance(french, TransformersEngine)
    assert worker.recognise_texts(key, ["Ada met Johnson"]) == [french.recognise(["Ada met Johnson"])[0]]
    worker.configure({"fr": ModelChoice("transformers.v1", model_dir)})  # the same: kept warm
    assert worker.engine_for(entities_engine("fr")) is french
    worker.configure({"fr": ModelChoice("transformers.v1", model_dir, labels={"LOC": "LOCATION"})})
    assert worker.engine_for(entities_engine("fr")) is not french
    assert worker.recognise_texts(entities_engine("fr"), ["Ada met Johnson in Paris"])[0][0]["Text"] == "Paris"  # type: ignore[index]


def test_the_start_up_check_names_the_language_whose_model_cannot_load(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (broken / name).write_bytes((model_dir / name).read_bytes())
    (broken / "model.onnx").write_bytes(np.arange(64, dtype=np.uint8).tobytes())
    good = ModelChoice("transformers.v1", model_dir, source="m.toml")
    with pytest.raises(ModelsFileError) as raised:
        check_models({"de": good, "fr": ModelChoice("transformers.v1", broken, source="m.toml")})
    message = str(raised.value)
    assert message.startswith(f"models file m.toml, language 'fr': the transformers.v1 model {broken} cannot be loaded")
    assert "ONNX Runtime cannot load" in message and "\n" not in message


def test_eval_measures_an_onnx_model_and_reads_the_models_file(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_configuration: None
) -> None:
    import json

    from typer.testing import CliRunner

    from opencomprehend.cli import app

    rows = [
        {"text": "Ada met Johnson in Paris", "entities": [{"begin": 0, "end": 3, "type": "PER"},
                                                      {"begin": 8, "end": 15, "type": "PER"},
                                                      {"begin": 19, "end": 24, "type": "LOC"}]},
        {"text": "Vander works for Acme Corp", "entities": [{"begin": 0, "end": 6, "type": "PER"},
                                                         {"begin": 17, "end": 26, "type": "ORG"}]},
    ]  # fmt: skip
    dataset = tmp_path / "gold.jsonl"
    dataset.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    direct = CliRunner().invoke(app, ["eval", str(dataset), "-l", "fr", "--model", str(model_dir),
                                      "--engine", "transformers.v1", "--raw-scores"])  # fmt: skip
    assert direct.exit_code == 0, direct.output
    # Vander is missed (its first piece is O): 4 of 5 found, none wrong.
    overall = next(line for line in direct.output.splitlines() if line.startswith("overall"))
    assert overall.split()[2:5] == ["1.000", "0.800", "0.889"], direct.output
    models = tmp_path / "models.toml"
    models.write_text(f'[languages.fr]\nengine = "transformers.v1"\nmodel = "{model_dir}"\n', encoding="utf-8")
    monkeypatch.setenv("OPENCOMPREHEND_MODELS", str(models))
    configured = CliRunner().invoke(app, ["eval", str(dataset), "-l", "fr"])
    assert configured.exit_code == 0, configured.output
    assert f"model {model_dir} (fr)" in configured.output
    assert next(line for line in configured.output.splitlines() if line.startswith("overall")) == overall
