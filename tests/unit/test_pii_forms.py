"""The PII engine of each language on real-world forms (public buildings' addresses, not the benchmark's
generator): addresses written out in full, names cut back to the name, plates in national scripts, phone
numbers whole."""

from __future__ import annotations

import functools

import pytest

from opencomprehend.nlp import pii
from opencomprehend.nlp.pii import labels as pii_labels
from opencomprehend.nlp.pii import names
from opencomprehend.nlp.pii.addresses import find_addresses
from opencomprehend.runtime import worker
from opencomprehend.runtime.runner import entities_engine

ADDRESSES = [
    ("en", "Send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500 by Friday.", "1600 Pennsylvania Avenue NW, Washington, DC 20500"),  # noqa: E501
    ("en", "The office is at 10 Downing Street, London SW1A 2AA now.", "10 Downing Street, London SW1A 2AA"),
    ("en", "Ship to 350 Fifth Avenue Suite 3400, New York, NY 10118", "350 Fifth Avenue Suite 3400, New York, NY 10118"),  # noqa: E501
    ("es", "La sede está en Calle de Alcalá, 48, 28014 Madrid desde 2010.", "Calle de Alcalá, 48, 28014 Madrid"),
    ("es", "Vivo en Avenida Diagonal 640 Piso 3, Barcelona, 08017.", "Avenida Diagonal 640 Piso 3, Barcelona, 08017"),
    ("fr", "Écrivez au 55, rue du Faubourg Saint-Honoré, 75008 Paris.", "55, rue du Faubourg Saint-Honoré, 75008 Paris"),  # noqa: E501
    ("de", "Wir sind in der Friedrichstraße 43, 10117 Berlin zu finden.", "Friedrichstraße 43, 10117 Berlin"),
    ("it", "La mostra è in Piazza del Colosseo, 1, 00184 Roma (RM).", "Piazza del Colosseo, 1, 00184 Roma (RM)"),
    ("pt", "A loja fica na Avenida da Liberdade, 120, 1250-146 Lisboa.", "Avenida da Liberdade, 120, 1250-146 Lisboa"),
    ("ar", "العنوان: شارع الملك فهد، حي العليا، الرياض 12214", "شارع الملك فهد، حي العليا، الرياض 12214"),
    ("hi", "हमारा पता 12 गांधी मार्ग, पुणे 411001 है।", "12 गांधी मार्ग, पुणे 411001"),
    ("ja", "所在地は東京都千代田区千代田1丁目1番1号です。", "東京都千代田区千代田1丁目1番1号"),
    ("ko", "주소는 서울특별시 종로구 세종대로 209입니다.", "서울특별시 종로구 세종대로 209"),
    ("zh", "我们的办公室位于北京市朝阳区建国路88号。", "北京市朝阳区建国路88号"),
    ("zh-TW", "請寄到110 臺北市信義區信義路五段7號。", "110 臺北市信義區信義路五段7號"),
]


@pytest.mark.parametrize(("language", "text", "address"), ADDRESSES, ids=[a[0] + "-" + a[2][:12] for a in ADDRESSES])
def test_an_address_written_out_is_one_span(language: str, text: str, address: str) -> None:
    begin = text.index(address)
    assert [(b, e) for b, e, _ in find_addresses(text, language)] == [(begin, begin + len(address))]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I have 3 cats and 2 dogs, and 14 fish."),
        ("en", "In 2019 the team won 4 of its 6 games."),
        ("es", "La Calle Mayor es muy bonita."),  # a street without a number or town is the model's to find
        ("fr", "Il a pris la rue à gauche 3 fois."),
        ("de", "Das Wetter war 3 Tage lang schön."),
        ("it", "Ho comprato 12 uova."),
        ("ja", "今日は3時に会いましょう。"),
        ("zh", "我有3个苹果。"),
        ("ko", "사과 3개를 샀습니다."),
    ],
)
def test_numbers_in_ordinary_sentences_are_no_address(language: str, text: str) -> None:
    assert find_addresses(text, language) == []


@functools.cache
def engine(language: str) -> pii.PiiEngine:
    return pii.PiiEngine(language, worker.engine_for(entities_engine(language)))


def spans(language: str, text: str) -> set[tuple[str, str]]:
    return {(text[e["BeginOffset"] : e["EndOffset"]], e["Type"]) for e in engine(language).recognise([text])[0]}


def test_a_written_address_is_one_entity_and_its_street_is_no_name() -> None:
    text = "Envíe el paquete a Pasaje de Andrea Hernández 56, Santa Cruz de Tenerife, 29239."
    found = spans("es", text)
    assert ("Pasaje de Andrea Hernández 56, Santa Cruz de Tenerife, 29239", "ADDRESS") in found
    assert not any(t == "NAME" for _, t in found)


def test_house_numbers_and_postcodes_are_no_dates() -> None:
    found = spans("en", "Mail it to 1231 Brian Union, Thompsonside, ID 59145 please.")
    assert found == {("1231 Brian Union, Thompsonside, ID 59145", "ADDRESS")}


@pytest.mark.parametrize(
    ("language", "text", "name"),
    [
        ("fr", "Merci de demander à Théophile Delaunay de signer le contrat.", "Théophile Delaunay"),
        ("es", "Ayer Rita Falcó llamó por la factura.", "Rita Falcó"),
        ("it", "Ieri Rocco Tomasetti ha chiamato per la fattura.", "Rocco Tomasetti"),
    ],
)
def test_a_name_is_cut_back_to_the_name(language: str, text: str, name: str) -> None:
    names = {s for s, t in spans(language, text) if t == "NAME"}
    assert names == {name}


def test_the_name_cutter_keeps_particles_inside_a_name() -> None:
    text = "Bonjour Élisabeth de la Blanchet de Paris"
    begin = text.index("Élisabeth")
    assert names.trim_name(text, 0, len("Bonjour Élisabeth de la Blanchet"), "fr") == (begin, begin + 24)
    assert names.trim_name("hola", 0, 4, "es") == (0, 0)


def test_an_honorific_makes_a_name() -> None:
    assert names.HONORIFIC_AFTER.match("田中直樹さんから", 4)
    assert names.HONORIFIC_AFTER.match("김민수 씨에게", 3)
    assert not names.HONORIFIC_AFTER.match("東京都から", 3)


@pytest.mark.parametrize(
    ("language", "text", "plate"),
    [
        ("ar", "لوحة السيارة: د ص س ٣٩٨٢", "د ص س ٣٩٨٢"),
        ("ja", "ナンバープレート：札幌 597 わ 12-34", "札幌 597 わ 12-34"),
        ("ko", "제 차량 번호는 59러7919입니다.", "59러7919"),
        ("zh", "我的车牌号是吉X-23028。", "吉X-23028"),
    ],
)
def test_plates_in_national_scripts(language: str, text: str, plate: str) -> None:
    assert (plate, "LICENSE_PLATE") in spans(language, text)


@pytest.mark.parametrize(
    ("language", "text", "phone"),
    [
        ("hi", "फ़ोन नंबर: +91 3955185831", "+91 3955185831"),
        ("hi", "फ़ोन नंबर: +91 132 2419027", "+91 132 2419027"),  # not a UK NHS number inside it
        ("zh-TW", "電話：071 60590344", "071 60590344"),
        ("en", "Call me on 01718 906267 tomorrow.", "01718 906267"),
    ],
)
def test_a_phone_number_is_found_whole(language: str, text: str, phone: str) -> None:
    assert {(s, t) for s, t in spans(language, text) if t != "DATE_TIME"} == {(phone, "PHONE")}


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # An IPv6 address right after Japanese text, and nothing inside it.
        ("ja", "私のIPアドレスは5c15:ebe0:1129:8ea3:b713:ca72:aaca:2235です。",
         {("5c15:ebe0:1129:8ea3:b713:ca72:aaca:2235", "IP_ADDRESS")}),
        ("hi", "IP: 876:b34d:77d0:696d:6979:3680:3314:1a2b", {("876:b34d:77d0:696d:6979:3680:3314:1a2b", "IP_ADDRESS")}),  # noqa: E501
        # The words of a label are no name ("my card number"), and a label is no address.
        ("ko", "제 카드 번호는 4111 1111 1111 1111입니다.", {("4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER")}),
        ("ko", "청구지 주소: 서울특별시 종로구 세종대로 209", {("서울특별시 종로구 세종대로 209", "ADDRESS")}),
        # A Korean phone number that happens to pass the NHS checksum is a phone number.
        ("ko", "전화번호: 033-668-2360", {("033-668-2360", "PHONE")}),
    ],
)
def test_what_a_finding_holds_and_what_labels_are(language: str, text: str, expected: set) -> None:
    assert spans(language, text) == expected


def test_weak_checksum_numbers_are_recognized_in_english_only() -> None:
    assert ("110000000", "BANK_ROUTING") in spans("en", "My routing number is 110000000.")
    assert not any(t == "BANK_ROUTING" for _, t in spans("de", "Die Nummer ist 110000000."))


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "Good morning, my name is Ana Lima and I need help.", ["Ana Lima"]),
        ("en", "Call me Ishmael.", ["Ishmael"]),
        ("en", "My name is not important. Call me tomorrow.", []),
        ("de", "Sehr geehrte Frau Schneider, vielen Dank.", ["Schneider"]),
        ("fr", "Je m'appelle Jean-Luc Picard de la Tour.", ["Jean-Luc Picard de la Tour"]),
        ("ko", "저는 김민수라고 합니다.", ["김민수"]),
        ("zh", "我的名字叫李明，来自上海。", ["李明"]),
        ("ja", "私は佐藤と申します。", ["佐藤"]),
        ("ar", "السيد خالد العتيبي في المكتب.", ["خالد العتيبي"]),
    ],
)
def test_a_phrase_introduces_a_name(language: str, text: str, expected: list[str]) -> None:
    assert [text[b:e] for b, e, _ in names.introduced_names(text, language)] == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "My ITIN is 914-78-5725.", {("914-78-5725", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER")}),
        ("en", "My website is http://www.franco.biz/.", {("http://www.franco.biz/", "URL")}),
        ("fr", "Ma clé AWS est AKIAIOSFODNN7EXAMPLE.", {("AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY")}),
        # A weak check digit alone is no identifier: twelve digits that pass My Number's are nothing here...
        ("en", "The order 2316 1691 2560 shipped.", set()),
        # ...and one with its context word is.
        ("ja", "マイナンバー：2316 1691 2560", {("2316 1691 2560", "SSN")}),
    ],
)
def test_identifiers_and_what_is_none(language: str, text: str, expected: set) -> None:
    assert {(s, t) for s, t in spans(language, text) if t != "DATE_TIME"} == expected


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (pii.sa_national_id_valid, "1000000008", "1000000009"),
        (pii.eg_national_id_valid, "29001011234567", "29013011234567"),  # month 13
    ],
)
def test_arabic_national_numbers(check, good: str, bad: str) -> None:
    assert check(good) and not check(bad)


def test_a_saudi_national_id_with_its_context_word() -> None:
    assert ("1000000008", "SSN") in spans("ar", "رقم الهوية: 1000000008")


def test_a_national_number_beats_a_card_number_on_the_same_digits() -> None:
    # 198074604221017 passes both the NIR's mod-97 key and Luhn.
    assert pii.luhn_valid("198074604221017") and pii.fr_nir_valid("198074604221017")
    assert spans("fr", "Mon numéro de sécurité sociale est 198074604221017.") == {("198074604221017", "SSN")}


def test_a_bare_nine_digit_number_after_a_phone_word_is_a_phone_number() -> None:
    assert ("248151415", "PHONE") in spans("pt", "O meu telefone é 248151415.")


@pytest.mark.parametrize(
    ("language", "text", "plate"),
    [
        ("en", "My license plate is 9BF R44.", "9BF R44"),  # "license" after "plate" is no driver's licence
        ("en", "License plate: 7-49428", "7-49428"),
        ("de", "Mein Kennzeichen ist L-DM-76.", "L-DM-76"),  # not an address held in "L-DM-76."
    ],
)
def test_plates_after_their_words(language: str, text: str, plate: str) -> None:
    assert {(s, t) for s, t in spans(language, text) if t != "DATE_TIME"} == {(plate, "LICENSE_PLATE")}


def test_a_place_of_sentence_words_is_none() -> None:
    assert names.only_function_words("Nuestra", "es") and not names.only_function_words("Nuestra Señora", "es")
    text = "Nuestra nueva oficina está en Calle de Alcalá, 48, 28014 Madrid, en la segunda planta."
    assert spans("es", text) == {("Calle de Alcalá, 48, 28014 Madrid", "ADDRESS")}


def _span(text: str, part: str, kind: str = "NAME") -> dict:
    begin = text.index(part)
    return {"BeginOffset": begin, "EndOffset": begin + len(part), "Type": kind, "Score": 0.5}


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Adresse IP : 170.26.75.53", "Adresse IP"),  # a label word before the colon, not only last
        ("البريد الإلكتروني: kal@example.net", "البريد الإلكتروني"),
        ("Meine Telefonnummer ist 08683 72733.", "Telefonnummer"),  # a compound made on "telefon"
    ],
)
def test_form_labels_the_entity_model_takes_for_names_are_no_names(text: str, part: str) -> None:
    assert pii_labels._label_word(text, _span(text, part))


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Jean Dupont : 06 12 34 56 78", "Jean Dupont"),  # a contact list: the name before the colon stays
        ("Peter Handyside rief gestern an.", "Peter Handyside"),
        ("Handyside rief gestern an.", "Handyside"),  # "handy" is too short a stem to count as a compound
    ],
)
def test_names_near_labels_stay_names(text: str, part: str) -> None:
    assert not pii_labels._label_word(text, _span(text, part))


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # The entity model took "Telefon" for a place and the address ran into it: the label dropped it all.
        ("de", "Hauptstraße 12, 10115 Berlin. Telefon: 030 1234567.",
         {("Hauptstraße 12, 10115 Berlin", "ADDRESS"), ("030 1234567", "PHONE")}),
        ("de", "Hauptstraße 12, 10115 Berlin. Telefon: 030 1234567. IBAN: DE89 3704 0044 0532 0130 00",
         {("Hauptstraße 12, 10115 Berlin", "ADDRESS"), ("030 1234567", "PHONE"),
          ("DE89 3704 0044 0532 0130 00", "INTERNATIONAL_BANK_ACCOUNT_NUMBER")}),
        ("de", "Hauptstraße 12, 10115 Berlin, Telefon: 030 1234567.",
         {("Hauptstraße 12, 10115 Berlin", "ADDRESS"), ("030 1234567", "PHONE")}),
    ],
)
def test_an_address_before_other_items_is_found(language: str, text: str, expected: set) -> None:
    assert spans(language, text) == expected


@pytest.mark.parametrize(
    ("language", "text", "address"),
    [
        ("es", "Mi dirección es Calle de Alcalá 45, 28014 Madrid. Gracias", "Calle de Alcalá 45, 28014 Madrid"),
        ("fr", "Mon adresse est 12 rue de la République, 69002 Lyon. Merci", "12 rue de la République, 69002 Lyon"),
        ("de", "Meine Adresse ist Leopoldstraße 5, 80335 München. Danke", "Leopoldstraße 5, 80335 München"),
        # The dot of an abbreviation ends no sentence.
        ("es", "Vivo en Calle Mayor 3, 38001 Sta. Cruz de Tenerife. Hola", "Calle Mayor 3, 38001 Sta. Cruz de Tenerife"),  # noqa: E501
    ],
)
def test_an_address_ends_at_the_end_of_its_sentence(language: str, text: str, address: str) -> None:
    assert {s for s, t in spans(language, text) if t == "ADDRESS"} == {address}
    begin = text.index(address)
    assert [(b, e) for b, e, _ in find_addresses(text, language)] == [(begin, begin + len(address))]


@pytest.mark.parametrize(
    ("language", "text", "word"),
    [
        ("en", "Un café, merci.", "café"),  # a lower-case word is no name (0.17 NAME; 0.31 in a MASK job)
        ("en", "café", "café"),
        ("fr", "Écrivez-moi au café.", "Écrivez"),  # a verb with its pronoun (0.21 ADDRESS)
        ("fr", "Envoyez-le à Lyon.", "Envoyez"),
        ("fr", "Écrivez à support@example.fr.", "Écrivez"),  # the imperative before its object (0.65)
        ("fr", "Écrivez à Marie Dupont.", "Écrivez"),  # a low-scored first word (0.26 ADDRESS)
    ],
)
def test_a_common_word_is_no_name_or_place(language: str, text: str, word: str) -> None:
    assert not any(s == word and t in ("NAME", "ADDRESS") for s, t in spans(language, text))


@pytest.mark.parametrize(
    ("language", "text", "name"),
    [
        ("fr", "Pierre est là.", "Pierre"),  # a one-word name at the start of a sentence (0.34) stays
        ("fr", "Écrivez à Marie Dupont.", "Marie Dupont"),
        ("fr", "Merci Sophie.", "Sophie"),
    ],
)
def test_one_word_names_stay_names(language: str, text: str, name: str) -> None:
    assert (name, "NAME") in spans(language, text)


@pytest.mark.parametrize(
    ("language", "text", "value"),
    [
        ("en", "Passport: 912803456", "912803456"),
        ("es", "Passport: 912803456", "912803456"),  # no Madrid phone number
        # A driver's licence before it lends its context word no more.
        ("en", "License: D1234567. Passport: 912803456", "912803456"),
        ("en", "DL 12345678 Passport: 912803456", "912803456"),
        ("es", "Phone: 555-0100. Passport: 912803456", "912803456"),
    ],
)
def test_the_label_before_a_value_names_it(language: str, text: str, value: str) -> None:
    found = spans(language, text)
    assert (value, "PASSPORT_NUMBER") in found
    assert not any(s == value and t != "PASSPORT_NUMBER" for s, t in found)


def test_a_name_written_with_combining_marks_is_found_in_code_points_of_the_text() -> None:
    text = "Contact Zoe\u0308 Saldan\u0303a today."
    found = engine("en").recognise([text])[0]
    names_found = [(e["BeginOffset"], e["EndOffset"]) for e in found if e["Type"] == "NAME"]
    assert names_found == [(8, 8 + len("Zoe\u0308 Saldan\u0303a"))]


def test_a_control_character_ends_a_name_and_hides_none_of_it() -> None:
    assert spans("en", "Jennifer Walsh\x00") == {("Jennifer Walsh", "NAME")}


@pytest.mark.parametrize("text", ["My SSN is 123-45-6789.", "SSN: 078-05-1120"])
def test_sample_social_security_numbers_are_numbers(text: str) -> None:
    assert {t for _, t in spans("en", text)} == {"SSN"}


@pytest.mark.parametrize(
    ("language", "text", "name"),
    [
        # A list's name label at the start of a line: the model missed the name after it.
        ("de", "Kontaktdaten:\n- Name: Nada Binner\n- Telefon: 0551 521442", "Nada Binner"),
        ("it", "Contatti:\n- Nome: Rita Gentili\n- Telefono: 0906870185", "Rita Gentili"),
        # A letter's closing words and the signature after them: the model read a place.
        ("de", "Bitte überweisen Sie die Erstattung. Danke, Nermin Kreusel", "Nermin Kreusel"),
        ("it", "Versate il rimborso. Grazie, Elvira Surian", "Elvira Surian"),
        # ...or took the given name for a month ("Julio"), and the model's part of the name grows whole.
        ("es", "Un saludo,\nJulio César Losada\nTeléfono: +34 973 321 801", "Julio César Losada"),
        # In the scripts without capitals the name is the rest of its line.
        ("ja", "よろしくお願いいたします。\n斎藤くみ子\n電話：070-1345-5641", "斎藤くみ子"),
        ("zh", "联系方式：\n姓名：周亮\n电话：19759820828", "周亮"),
        ("ko", "감사합니다.\n장경숙 드림\n전화: 016-680-1345", "장경숙"),
        ("hi", "धन्यवाद,\nरजनी जैन\nफ़ोन: +91 896 9316551", "रजनी जैन"),
    ],
)
def test_names_in_lists_and_signatures(language: str, text: str, name: str) -> None:
    found = spans(language, text)
    assert (name, "NAME") in found
    assert not any(t in ("NAME", "ADDRESS", "DATE_TIME") and s != name and s in name for s, t in found)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Viele Grüße\nIhr Team"),  # a closing's signature starts with no function word
        ("en", "Company name: Acme Corp"),  # a name label only at the start of a line
        ("en", "Thanks, Berlin was great."),  # a signature ends its line
        ("zh", "谢谢你的帮助。"),
    ],
)
def test_what_a_closing_or_a_label_does_not_introduce(language: str, text: str) -> None:
    assert names.introduced_names(text, language) == []


def test_a_closing_word_is_no_place() -> None:
    text = "Merci de verser le remboursement sur l'IBAN FR3228598208281696977968013. Cordialement, Simone Dupré"
    assert spans("fr", text) == {
        ("FR3228598208281696977968013", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"),
        ("Simone Dupré", "NAME"),
    }


def test_the_arabic_word_for_iban_is_a_label_and_no_place() -> None:
    text = "أرسل المبلغ إلى الآيبان GB46QHCN71628598208281. شكرا، لبيد حجار"
    assert spans("ar", text) == {
        ("GB46QHCN71628598208281", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"),
        ("لبيد حجار", "NAME"),
    }


def test_the_sentence_start_floor_is_for_cased_scripts_only() -> None:
    assert names.no_name_word("Écrivez à Marie.", 0, 7, 0.2)
    assert not names.no_name_word("田中さんに電話してください。", 0, 2, 0.2)
