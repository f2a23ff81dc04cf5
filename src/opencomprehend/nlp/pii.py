"""The PII engine (PiiEngine, under the worker's "pii:<language>" engine key): Comprehend's PII entity
types in text, in every language that has an entity model.

Two sources, one answer:

- Microsoft Presidio's analyzer finds the structured identifiers: its own pattern, checksum and context
  recognizers (credit cards with Luhn, IBAN with its mod-97 check, ABA routing numbers, phone numbers
  through libphonenumber, national numbers...), plus the recognizers below for the types of
  Comprehend's `PiiEntityType` enum that Presidio has no recognizer for (AWS keys, SWIFT codes, VINs with
  their check digit, CVV, expiry, PIN, passwords, user names, ages...). Every recognizer is built once
  per language with that language's context words (PII_CONTEXT), so "contraseña: …" counts as "password:".
- Our own entity models (the language's spaCy engine, already warm in the worker) give NAME (PERSON),
  ADDRESS (LOCATION, with adjacent address parts such as a house number or postcode joined in) and
  DATE_TIME (DATE).

Presidio runs without any model of its own: its NLP engine here is only a tokenizer (TokenNlpEngine),
which is all its context enhancer needs. So nothing is loaded from the network, ever (Presidio's default
engine would download a spaCy model; its e-mail recognizer's domain check would fetch the public suffix
list, and here reads the snapshot that tldextract ships instead).

Overlaps resolve as Comprehend's output shows them: entities never overlap; the higher score wins, then
the longer span, then the earlier one.

Each entity is {"Score", "Type", "BeginOffset", "EndOffset"}: code-point offsets, EndOffset exclusive,
no "Text" member (as DetectPiiEntities answers).
"""

from __future__ import annotations

import bisect
import functools
import logging
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import regex
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer import predefined_recognizers as presidio
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from spacy.tokens import Doc
from spacy.vocab import Vocab

from opencomprehend.nlp.addresses import find_addresses
from opencomprehend.nlp.names import (
    HONORIFIC_AFTER,
    NOT_A_FIRST_WORD,
    introduced_names,
    no_name_word,
    only_function_words,
    trim_name,
)
from opencomprehend.nlp.registry import Engine

log = logging.getLogger("opencomprehend.pii")


# Presidio's patterns score low until a context word (or a checksum) confirms them; below this a finding
# is not reported. 0.4 is what Presidio gives any finding with a supporting context word.
MIN_SCORE = 0.4

# What the entity models give, as PII.
NER_TYPES = {"PERSON": "NAME", "LOCATION": "ADDRESS", "DATE": "DATE_TIME"}

# Presidio's entity names (its own recognizers' and ours) -> Comprehend's PiiEntityType.
PRESIDIO_TYPES: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "URL": "URL",
    "IP_ADDRESS": "IP_ADDRESS",
    "MAC_ADDRESS": "MAC_ADDRESS",
    "CREDIT_CARD": "CREDIT_DEBIT_NUMBER",
    "IBAN_CODE": "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "ABA_ROUTING_NUMBER": "BANK_ROUTING",
    "US_BANK_NUMBER": "BANK_ACCOUNT_NUMBER",
    "US_SSN": "SSN",
    "US_ITIN": "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_DRIVER_LICENSE": "DRIVER_ID",
    "US_PASSPORT": "PASSPORT_NUMBER",
    "UK_NHS": "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NINO": "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_PASSPORT": "PASSPORT_NUMBER",
    "UK_DRIVING_LICENCE": "DRIVER_ID",
    "UK_VEHICLE_REGISTRATION": "LICENSE_PLATE",
    "CA_SIN": "CA_SOCIAL_INSURANCE_NUMBER",
    "IN_PAN": "IN_PERMANENT_ACCOUNT_NUMBER",
    "IN_AADHAAR": "IN_AADHAAR",
    "IN_VOTER": "IN_VOTER_NUMBER",
    "IN_PASSPORT": "PASSPORT_NUMBER",
    "IN_VEHICLE_REGISTRATION": "LICENSE_PLATE",
    "DATE_TIME": "DATE_TIME",
    # National identifiers. Comprehend's enum has no generic national-id type; SSN is its national
    # identification number (docs/pii.md), so each country's own number is reported as SSN.
    "ES_NIF": "SSN",
    "ES_NIE": "SSN",
    "ES_PASSPORT": "PASSPORT_NUMBER",
    "IT_FISCAL_CODE": "SSN",
    "IT_IDENTITY_CARD": "SSN",
    "IT_PASSPORT": "PASSPORT_NUMBER",
    "IT_DRIVER_LICENSE": "DRIVER_ID",
    "DE_TAX_ID": "SSN",
    "DE_SOCIAL_SECURITY": "SSN",
    "DE_ID_CARD": "SSN",
    "DE_PASSPORT": "PASSPORT_NUMBER",
    "DE_FUEHRERSCHEIN": "DRIVER_ID",
    "DE_KFZ": "LICENSE_PLATE",
    "KR_RRN": "SSN",
    "KR_PASSPORT": "PASSPORT_NUMBER",
    "KR_DRIVER_LICENSE": "DRIVER_ID",
    "FR_NIR": "SSN",
    "CN_RESIDENT_ID": "SSN",
    "JP_MY_NUMBER": "SSN",
    "PT_NIF": "SSN",
    "SA_NATIONAL_ID": "SSN",
    "EG_NATIONAL_ID": "SSN",
}

# Context words per type and language: a word within a few tokens before a finding raises its score.
# English words are added for every language (they are common in any text about accounts and cards).
PII_CONTEXT: dict[str, dict[str, list[str]]] = {
    "PHONE": {
        "en": ["phone", "telephone", "tel", "mobile", "cell", "call", "fax"],
        "es": ["teléfono", "tel", "móvil", "celular", "llame"],
        "fr": ["téléphone", "tél", "portable", "mobile", "appelez"],
        "de": ["telefon", "tel", "handy", "mobil", "rufnummer", "anrufen"],
        "it": ["telefono", "tel", "cellulare", "chiamare"],
        "pt": ["telefone", "tel", "celular", "telemóvel", "ligue"],
        "ar": ["هاتف", "الهاتف", "هاتفي", "جوال", "جوالي", "رقم"],
        "hi": ["फ़ोन", "फोन", "मोबाइल", "नंबर"],
        "ja": ["電話", "携帯", "tel"],
        "ko": ["전화", "휴대폰", "연락처"],
        "zh": ["电话", "手机", "联系"],
        "zh-TW": ["電話", "手機", "聯絡"],
    },
    "EMAIL": {
        "en": ["email", "e-mail", "mail"],
        "es": ["correo"],
        "fr": ["courriel"],
        "de": ["e-mail"],
        "it": ["posta"],
        "pt": ["correio"],
        "ar": ["البريد"],
        "hi": ["ईमेल"],
        "ja": ["メール"],
        "ko": ["이메일"],
        "zh": ["邮箱", "邮件"],
        "zh-TW": ["郵箱", "郵件", "信箱"],
    },
    "CREDIT_DEBIT_NUMBER": {
        "en": ["card", "credit", "debit", "visa", "mastercard", "amex"],
        "es": ["tarjeta", "crédito", "débito"],
        "fr": ["carte", "crédit"],
        "de": ["karte", "kreditkarte"],
        "it": ["carta", "credito"],
        "pt": ["cartão", "crédito"],
        "ar": ["بطاقة", "ائتمان"],
        "hi": ["कार्ड", "क्रेडिट"],
        "ja": ["カード", "クレジット"],
        "ko": ["카드", "신용카드"],
        "zh": ["卡号", "信用卡", "银行卡"],
        "zh-TW": ["卡號", "信用卡"],
    },
    "CREDIT_DEBIT_CVV": {
        "en": ["cvv", "cvc", "cvv2", "cvc2", "csc", "security code"],
        "es": ["código de seguridad"],
        "fr": ["cryptogramme", "code de sécurité"],
        "de": ["prüfnummer", "sicherheitscode"],
        "it": ["codice di sicurezza"],
        "pt": ["código de segurança"],
        "ar": ["رمز الأمان"],
        "hi": ["सुरक्षा कोड"],
        "ja": ["セキュリティコード"],
        "ko": ["보안코드"],
        "zh": ["安全码"],
        "zh-TW": ["安全碼"],
    },
    "CREDIT_DEBIT_EXPIRY": {
        "en": ["exp", "expiry", "expires", "expiration", "valid thru", "valid until"],
        "es": ["vencimiento", "caducidad", "vence"],
        "fr": ["expiration", "expire"],
        "de": ["ablaufdatum", "gültig bis"],
        "it": ["scadenza", "scade"],
        "pt": ["validade", "vencimento"],
        "ar": ["انتهاء"],
        "hi": ["समाप्ति"],
        "ja": ["有効期限"],
        "ko": ["유효기간", "만료"],
        "zh": ["有效期", "到期"],
        "zh-TW": ["有效期", "到期"],
    },
    "PIN": {
        "en": ["pin"],
        "es": ["pin", "nip"],
        "fr": ["code pin", "pin"],
        "de": ["pin", "geheimzahl"],
        "it": ["pin"],
        "pt": ["pin", "senha do cartão"],
        "ar": ["الرقم السري"],
        "hi": ["पिन"],
        "ja": ["暗証番号"],
        "ko": ["비밀번호", "핀"],
        "zh": ["密码", "pin码"],
        "zh-TW": ["密碼"],
    },
    "BANK_ACCOUNT_NUMBER": {
        "en": ["account", "acct", "bank"],
        "es": ["cuenta", "banco"],
        "fr": ["compte", "banque"],
        "de": ["konto", "kontonummer", "bank"],
        "it": ["conto", "banca"],
        "pt": ["conta", "banco"],
        "ar": ["حساب", "بنك"],
        "hi": ["खाता", "बैंक"],
        "ja": ["口座", "銀行"],
        "ko": ["계좌", "은행"],
        "zh": ["账号", "账户", "银行"],
        "zh-TW": ["帳號", "帳戶", "銀行"],
    },
    "BANK_ROUTING": {
        "en": ["routing", "aba", "transit"],
        "es": ["ruta", "enrutamiento"],
        "fr": ["acheminement"],
        "de": ["bankleitzahl"],
        "it": ["instradamento"],
        "pt": ["roteamento"],
    },
    "SWIFT_CODE": {
        "en": ["swift", "bic"],
        "es": ["código swift"],
        "fr": ["code swift"],
        "de": ["bic", "swift"],
        "ja": ["スウィフト"],
        "zh": ["银行代码"],
        "zh-TW": ["銀行代碼"],
    },
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER": {"en": ["iban"], "ar": ["الآيبان", "آيبان", "الايبان", "ايبان"]},
    "IN_AADHAAR": {"en": ["aadhaar", "aadhar", "uidai", "uid"], "hi": ["आधार", "आधार नंबर", "आधार संख्या"]},
    "SSN": {
        "en": ["ssn", "social security", "national id", "identity number"],
        "es": ["dni", "nie", "nif", "documento", "identidad"],
        "fr": ["sécurité sociale", "nir", "insee", "numéro de sécu"],
        "de": ["sozialversicherungsnummer", "steuer-id", "personalausweis"],
        "it": ["codice fiscale"],
        "pt": ["nif", "contribuinte", "cpf"],
        "ar": ["الهوية", "رقم الهوية", "الهوية الوطنية", "السجل المدني", "الإقامة", "رقم الإقامة", "البطاقة الشخصية", "الرقم القومي"],  # noqa: E501
        "hi": ["पहचान"],
        "ja": ["マイナンバー", "個人番号"],
        "ko": ["주민등록번호", "주민번호"],
        "zh": ["身份证"],
        "zh-TW": ["身分證", "身份證"],
    },
    "PASSPORT_NUMBER": {
        "en": ["passport"],
        "es": ["pasaporte"],
        "fr": ["passeport"],
        "de": ["reisepass", "pass"],
        "it": ["passaporto"],
        "pt": ["passaporte"],
        "ar": ["جواز", "جواز السفر"],
        "hi": ["पासपोर्ट"],
        "ja": ["旅券", "パスポート"],
        "ko": ["여권"],
        "zh": ["护照"],
        "zh-TW": ["護照"],
    },
    "DRIVER_ID": {
        "en": ["driver", "license", "licence", "dl"],
        "es": ["licencia", "permiso de conducir", "carné"],
        "fr": ["permis"],
        "de": ["führerschein"],
        "it": ["patente"],
        "pt": ["carta de condução", "habilitação", "cnh"],
        "ar": ["رخصة"],
        "hi": ["ड्राइविंग", "लाइसेंस"],
        "ja": ["運転免許"],
        "ko": ["운전면허"],
        "zh": ["驾驶证", "驾照"],
        "zh-TW": ["駕照", "駕駛執照"],
    },
    "LICENSE_PLATE": {
        "en": ["plate", "registration", "license plate", "licence plate"],
        "es": ["matrícula", "placa"],
        "fr": ["plaque", "immatriculation"],
        "de": ["kennzeichen", "nummernschild"],
        "it": ["targa"],
        "pt": ["matrícula", "placa"],
        "ar": ["لوحة"],
        "hi": ["नंबर प्लेट", "पंजीकरण"],
        "ja": ["ナンバー"],
        "ko": ["번호판", "차량"],
        "zh": ["车牌"],
        "zh-TW": ["車牌"],
    },
    "VEHICLE_IDENTIFICATION_NUMBER": {
        "en": ["vin", "vehicle identification", "chassis"],
        "es": ["bastidor"],
        "fr": ["châssis"],
        "de": ["fahrgestellnummer", "fin"],
        "it": ["telaio"],
        "pt": ["chassi"],
        "ja": ["車台番号"],
        "ko": ["차대번호"],
        "zh": ["车架号", "车辆识别"],
        "zh-TW": ["車身號碼"],
    },
    "AWS_SECRET_KEY": {"en": ["secret", "aws_secret_access_key", "secret key", "secret access key"]},
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER": {"en": ["utr", "unique taxpayer reference", "taxpayer reference"]},
    "CA_HEALTH_NUMBER": {"en": ["health card", "ohip", "health number", "carte santé", "ramq"]},
    "IN_NREGA": {"en": ["nrega", "job card", "mgnrega"]},
    "AGE": {
        "en": ["age", "aged"],
        "es": ["edad"],
        "fr": ["âge"],
        "de": ["alter"],
        "it": ["età"],
        "pt": ["idade"],
        "ar": ["العمر"],
        "hi": ["उम्र", "आयु"],
        "ja": ["年齢"],
        "ko": ["나이"],
        "zh": ["年龄"],
        "zh-TW": ["年齡"],
    },
}

# The words that introduce a password or a user name ("password: …"), per language.
PASSWORD_WORDS = [
    "password", "passwd", "pwd", "passcode", "contraseña", "clave", "mot de passe", "passwort", "kennwort",
    "senha", "palavra-passe", "كلمة المرور", "كلمة السر", "पासवर्ड", "パスワード", "비밀번호", "密码", "密碼",
]  # fmt: skip
USERNAME_WORDS = [
    "username", "user name", "user id", "userid", "login", "nombre de usuario", "usuario",
    "nom d'utilisateur", "identifiant", "benutzername", "nome utente", "nome de usuário", "utilizador",
    "اسم المستخدم", "यूज़रनेम", "उपयोगकर्ता नाम", "ユーザー名", "ユーザーid", "사용자 이름", "아이디", "用户名", "使用者名稱", "帳號名稱",  # noqa: E501
]  # fmt: skip
# "<n> years (old)" in each language; the span is the number and its unit, as Comprehend's AGE is.
AGE_UNITS = [
    "years", "year", "yrs", "años", "ans", "jahre", "jahren", "anni", "anos",
    "عامًا", "عاما", "سنة", "वर्ष", "साल", "歳", "세", "살", "岁", "歲",
]  # fmt: skip

# ISO 3166 country codes, for SWIFT/BIC codes (letters 5-6).
_COUNTRIES = set(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW "
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI "
    "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN "
    "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF "
    "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE "
    "YT ZA ZM ZW XK".split()
)

# Phone numbers are parsed for the regions where each language is spoken (libphonenumber needs a region
# for numbers written without their country code).
PHONE_REGIONS: dict[str, list[str]] = {
    "en": ["US", "GB", "CA", "AU", "IN", "IE", "NZ"],
    "es": ["ES", "MX", "AR", "CO", "CL", "US"],
    "fr": ["FR", "BE", "CH", "CA"],
    "de": ["DE", "AT", "CH"],
    "it": ["IT", "CH"],
    "pt": ["PT", "BR"],
    "ar": ["SA", "AE", "EG", "JO", "MA"],
    "hi": ["IN"],
    "ja": ["JP"],
    "ko": ["KR"],
    "zh": ["CN", "HK", "SG"],
    "zh-TW": ["TW", "HK"],
}


# Words of a phrase that say nothing on their own ("code" is in both "code PIN" and "code de sécurité").
_CONTEXT_STOPWORDS = frozenset(
    {"de", "la", "le", "di", "da", "do", "the", "of", "von", "code", "código", "codice", "número", "numéro",
     "numero", "nummer", "date", "data", "fecha", "carta", "carte", "cartão", "tarjeta"}
)  # fmt: skip


def context_for(pii_type: str, language: str) -> list[str]:
    """English and the language's own context words. Presidio compares a context word with one word of
    the text at a time, so a phrase of the language ("código de seguridad", "الرقم السري") also counts by
    its own words."""
    words = PII_CONTEXT.get(pii_type, {})
    merged = list(words.get("en", []))
    if language == "en":
        return merged
    for phrase in words.get(language, []):
        # English phrases stay whole: their words ("code", "valid") say too little on their own.
        split = [w for w in phrase.split() if len(w) >= 3 and w not in _CONTEXT_STOPWORDS] if " " in phrase else []
        merged += [w for w in [phrase, *split] if w not in merged]
    return merged


# ------------------------------------------------------------------------------------------- checksums


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in _digits(number)]
    if not digits:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True))}
_VIN_VALUES.update(dict(zip("JKLMN", range(1, 6), strict=True)))
_VIN_VALUES.update({"P": 7, "R": 9})
_VIN_VALUES.update(dict(zip("STUVWXYZ", range(2, 10), strict=True)))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def sa_national_id_valid(number: str) -> bool:
    """Saudi Arabia's national ID (1…) or residence permit (iqama, 2…): ten digits, Luhn."""
    digits = _digits(number)
    return len(digits) == 10 and digits[0] in "12" and luhn_valid(digits)


def eg_national_id_valid(number: str) -> bool:
    """Egypt's national ID: 14 digits, century (2: 1900s, 3: 2000s), a real birth date, a governorate."""
    digits = _digits(number)
    if len(digits) != 14 or digits[0] not in "23":
        return False
    month, day, governorate = int(digits[3:5]), int(digits[5:7]), int(digits[7:9])
    return 1 <= month <= 12 and 1 <= day <= 31 and (1 <= governorate <= 35 or governorate == 88)


def vin_valid(vin: str) -> bool:
    """North American VINs carry a check digit in position 9 (ISO 3779 leaves it optional elsewhere)."""
    vin = vin.upper()
    if len(vin) != 17 or any(ch not in _VIN_VALUES for ch in vin):
        return False
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return vin[8] == ("X" if check == 10 else str(check))


def fr_nir_valid(nir: str) -> bool:
    """French social security number: 13 characters (Corsica: 2A/2B) and a key, 97 - (number mod 97)."""
    compact = regex.sub(r"\s", "", nir).upper()
    if len(compact) != 15:
        return False
    body, key = compact[:13], compact[13:]
    body = body.replace("2A", "19").replace("2B", "18")
    if not body.isdigit() or not key.isdigit():
        return False
    return 97 - int(body) % 97 == int(key)


def cn_resident_id_valid(number: str) -> bool:
    """Chinese resident identity card: 17 digits and an ISO 7064 MOD 11-2 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def jp_my_number_valid(number: str) -> bool:
    """Japanese individual number: 11 digits and a check digit (Cabinet Office ordinance)."""
    digits = _digits(number)
    if len(digits) != 12:
        return False
    body = [int(d) for d in digits[:11]]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), start=1))
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def pt_nif_valid(number: str) -> bool:
    """Portuguese tax number (NIF): 9 digits, mod 11 check digit."""
    digits = _digits(number)
    if len(digits) != 9 or digits[0] not in "1235689":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    check = 11 - total % 11
    return (0 if check >= 10 else check) == int(digits[8])


# ------------------------------------------------------------------------------------------ recognizers


class _Checked(PatternRecognizer):
    """A pattern recognizer whose matches a function validates (True: certain, or only possible when
    `certain` is off; False: not this type, unless `reject` is off)."""

    def __init__(
        self, check: Callable[[str], bool], *, reject: bool = True, certain: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._check = check
        self._reject = reject
        self._certain = certain

    def validate_result(self, pattern_text: str) -> bool | None:
        if self._check(pattern_text):
            return True if self._certain else None
        return False if self._reject else None


class _WeakChecksum:
    """Mixin for a recognizer whose checksum one random number in 10 or 11 passes: the checksum filters (a
    number that fails it is none), and one that passes scores _CHECKSUM_PASSED rather than certainty, so
    context words decide (see _uncertain)."""

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if super().validate_result(pattern_text) else False  # type: ignore[misc]

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, **kw: Any) -> Any:
        # What is left passed the checksum: likelier than the bare pattern, short of certain.
        results = super().analyze(text, entities, nlp_artifacts, **kw)  # type: ignore[misc]
        for result in results:
            result.score = max(result.score, _CHECKSUM_PASSED)
        return results


class _PhoneRecognizer(presidio.PhoneRecognizer):
    """Presidio's libphonenumber recognizer, skipped for a text with fewer digits than any phone number
    has (seven): libphonenumber tries every region of the language on each text, the analyzer's largest
    cost."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:  # noqa: E501
        if sum(ch.isdigit() for ch in text) < 7:
            return []
        return super().analyze(text, entities, nlp_artifacts)


class _OfflineEmailRecognizer(presidio.EmailRecognizer):
    """Presidio's e-mail recognizer with its domain check on tldextract's shipped suffix list (no fetch)."""

    def validate_result(self, pattern_text: str) -> bool:
        return _offline_tld(pattern_text).fqdn != ""


@functools.cache
def _tld_extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _offline_tld(text: str) -> Any:
    return _tld_extractor()(text)


def _words(words: Iterable[str]) -> str:
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


# What stands between "password" and the password: a colon, or a verb ("is", "es", "ist", は, 는, 是...).
_INTRODUCED = (
    r"(?:\s*[:=：]\s*|\s+(?:is|es|est|ist|è|é)\s+|\s+(?:الخاص بي\s+)?هو\s+|\s*(?:は|는|은|是|為|为)\s*)"
)
# Hindi puts the verb after the value: "मेरा पासवर्ड abc123 है".
_HINDI_VALUE = r"(?=\s+है)"


def _pattern(name: str, expression: str, score: float) -> Pattern:
    return Pattern(name=name, regex=expression, score=score)


def _own_recognizers(language: str) -> list[EntityRecognizer]:
    """Recognizers for the enum's types that Presidio has none for, in one language."""

    def make(
        entity: str, patterns: list[Pattern], check: Callable[[str], bool] | None = None, weak: bool = False, **kw: Any
    ):
        context = context_for(PRESIDIO_TYPES.get(entity, entity), language) or None
        common = {"supported_entity": entity, "patterns": patterns, "context": context, "supported_language": language}
        if check is None:
            return PatternRecognizer(**common)
        return (_WeakChecked if weak else _Checked)(check, **common, **kw)

    swift = r"(?-i:\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b)"
    return [
        # A URL with its scheme, whole ("http://www.franco.biz/": Presidio's pattern stops inside a TLD
        # that another one starts, ".bi", and before a trailing slash); _widest keeps the longer.
        make("URL", [_pattern("url with scheme", r"(?i:\b(?:https?|ftp)://[^\s<>\"'()\[\]{}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+)", 0.6)]),  # noqa: E501
        make("AWS_ACCESS_KEY", [_pattern("aws access key", r"(?-i:\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b)", 0.9)]),  # noqa: E501
        make(
            "AWS_SECRET_KEY",
            [_pattern("aws secret key", r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", 0.3)],
            lambda t: any(c.isupper() for c in t) and any(c.islower() for c in t) and any(c.isdigit() for c in t),
        ),
        make("SWIFT_CODE", [_pattern("swift", swift, 0.3)], lambda t: t[4:6].upper() in _COUNTRIES, reject=True),
        make(
            "VEHICLE_IDENTIFICATION_NUMBER",
            [_pattern("vin", r"(?-i:\b[A-HJ-NPR-Z0-9]{17}\b)", 0.3)],
            vin_valid,
            reject=False,
        ),
        # libphonenumber accepts only numbers that could be assigned; a number written as a phone number
        # after a word such as "phone" is one all the same.
        make(
            "PHONE",
            [
                _pattern("grouped", r"(?<![\d+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?|\d{1,5}[\s.-])(?:\d{2,4}[\s.-]){0,2}\d{3,10}(?![\d-])", 0.1),  # noqa: E501
                _pattern("international", r"(?<![\d+])\+\d{1,3}[\s.-]?\d{6,12}(?!\d)", 0.1),
                _pattern("digits", r"(?<![\d+])\+?\d{9,12}(?!\d)", 0.05),
            ],
            # A phone number has 7 to 15 digits (ITU-T E.164).
            lambda t: 7 <= len(_digits(t)) <= 15,
            certain=False,
        ),
        make("CREDIT_DEBIT_CVV", [_pattern("cvv", r"\b\d{3,4}\b", 0.01)]),
        make(
            "CREDIT_DEBIT_EXPIRY",
            [
                _pattern("mm/yy", r"\b(?:0[1-9]|1[0-2])\s?[/-]\s?(?:\d{2}|20\d{2})\b", 0.2),
                _pattern("yyyy/mm", r"\b20\d{2}[/-](?:0[1-9]|1[0-2])\b", 0.1),
            ],
        ),
        make("PIN", [_pattern("pin", r"\b\d{4,6}\b", 0.01)]),
        make("BANK_ACCOUNT_NUMBER", [_pattern("account", r"\b\d{6,17}\b", 0.05)]),
        make(
            "LICENSE_PLATE",
            [
                _pattern("plate", r"(?-i:\b(?=[A-Z0-9 ·•-]*\d)(?=[A-Z0-9 ·•-]*[A-Z])[A-Z0-9]{1,4}(?:[ ·•-]?[A-Z0-9]{1,4}){1,2}\b)", 0.05),  # noqa: E501
                _pattern("plate digits", r"\b\d{1,4}[ ·•-]\d{2,5}\b", 0.05),
                # Plates in the national scripts: Saudi Arabia (three Arabic letters, up to four digits),
                # Japan (office, class number, kana, serial: "札幌 597 わ 12-34"), Korea ("59러7919",
                # "서울12가3456") and mainland China (province, letter, serial: "黑S-82597").
                _pattern("plate sa", r"(?<!\p{Arabic})\p{Arabic}(?:\s\p{Arabic}){1,2}\s[0-9٠-٩]{1,4}(?![0-9٠-٩])", 0.05),  # noqa: E501
                _pattern("plate jp", r"(?<!\p{Han})\p{Han}{1,4}\s?\d{2,3}\s?\p{Hiragana}\s?(?:[\d・]{1,2}-[\d・]{2}|[\d・]{4}|[\d・]{1,4})(?![\d・])", 0.05),  # noqa: E501
                _pattern("plate kr", r"(?<![\p{Hangul}\d])(?:\p{Hangul}{2}\s?)?\d{2,3}\s?\p{Hangul}\s?\d{4}(?!\d)", 0.05),  # noqa: E501
                _pattern("plate cn", r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][-·•]?[A-Z0-9]{5,6}(?![A-Z0-9])", 0.3),  # noqa: E501
            ],
        ),
        make(
            "CA_HEALTH_NUMBER",
            [_pattern("ohip", r"(?-i:\b\d{4}[- ]?\d{3}[- ]?\d{3}[- ]?[A-Z]{2}\b)", 0.3)],
        ),
        make("UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", [_pattern("utr", r"\b\d{5}\s?\d{5}\b", 0.05)]),
        make("IN_NREGA", [_pattern("nrega", r"(?-i:\b[A-Z]{2}-\d{2}-\d{3}-\d{3}-\d{3}/\d{2,3}\b)", 0.5)]),
        make(
            "PASSWORD",
            [
                _pattern("password", rf"(?<=(?:{_words(PASSWORD_WORDS)}){_INTRODUCED})[\x21-\x7e]{{4,64}}", 0.6),
                _pattern("password hi", rf"(?<=(?:पासवर्ड)\s+)[\x21-\x7e]{{4,64}}{_HINDI_VALUE}", 0.6),
            ],  # noqa: E501
        ),
        make(
            "USERNAME",
            [
                _pattern("username", rf"(?<=(?:{_words(USERNAME_WORDS)}){_INTRODUCED})[A-Za-z0-9._@+-]{{3,64}}", 0.6),
                _pattern("username hi", rf"(?<=(?:यूज़रनेम|उपयोगकर्ता नाम)\s+)[A-Za-z0-9._@+-]{{3,64}}{_HINDI_VALUE}", 0.6),
            ],  # noqa: E501
        ),
        make("AGE", [_pattern("age", rf"\b\d{{1,3}}\s?(?:{_words(AGE_UNITS)})(?!\w)", 0.85)]),
        make("FR_NIR", [_pattern("nir", r"(?-i:\b[12]\s?\d{2}\s?(?:0[1-9]|1[0-2])\s?(?:\d{2}|2A|2B)\s?\d{3}\s?\d{3}\s?\d{2}\b)", 0.3)], fr_nir_valid),  # noqa: E501
        make("CN_RESIDENT_ID", [_pattern("resident id", r"\b\d{17}[\dXx]\b", 0.3)], cn_resident_id_valid),
        # Weak check digits (about one random number in 11 passes): they filter, and context words decide.
        make("JP_MY_NUMBER", [_pattern("my number", r"\b\d{4}\s?\d{4}\s?\d{4}\b", 0.1)], jp_my_number_valid, weak=True),  # noqa: E501
        make("PT_NIF", [_pattern("nif", r"\b\d{9}\b", 0.1)], pt_nif_valid, weak=True),
        make("SA_NATIONAL_ID", [_pattern("sa id", r"\b[12]\d{9}\b", 0.1)], sa_national_id_valid, weak=True),
        make("EG_NATIONAL_ID", [_pattern("eg id", r"\b[23]\d{13}\b", 0.3)], eg_national_id_valid),
    ]  # fmt: skip


class _UsSsnRecognizer(presidio.UsSsnRecognizer):
    """Presidio's SSN recognizer without its list of sample values ("123-45-6789", "078-05-1120"): they
    are well-formed numbers, Comprehend reports them, and every test and form example uses them."""

    _SAMPLES = frozenset({"123456789", "987654320", "078051120"})

    def invalidate_result(self, pattern_text: str) -> bool:
        if _digits(pattern_text) in self._SAMPLES:
            return len({ch for ch in pattern_text if ch in ".- "}) > 1
        return super().invalidate_result(pattern_text)


# Presidio's recognizers by class; each gets the language and the context words of its Comprehend type.
_PRESIDIO_CLASSES: tuple[type[EntityRecognizer], ...] = (
    presidio.CreditCardRecognizer,
    presidio.IbanRecognizer,
    presidio.IpRecognizer,
    presidio.MacAddressRecognizer,
    presidio.UrlRecognizer,
    presidio.DateRecognizer,
    _UsSsnRecognizer,
    presidio.UsItinRecognizer,
    presidio.UsLicenseRecognizer,
    presidio.UsPassportRecognizer,
    presidio.UkNinoRecognizer,
    presidio.UkPassportRecognizer,
    presidio.UkDrivingLicenceRecognizer,
    presidio.UkVehicleRegistrationRecognizer,
    presidio.CaSinRecognizer,
    presidio.InPanRecognizer,
    presidio.InVoterRecognizer,
    presidio.InPassportRecognizer,
    presidio.InVehicleRegistrationRecognizer,
)
def _uncertain(cls: type[PatternRecognizer]) -> type[PatternRecognizer]:
    """`cls` with its checksum made a filter only (_WeakChecksum)."""
    return type(cls.__name__, (_WeakChecksum, cls), {})


# The score of a number that passed a weak checksum, before context words raise it.
_CHECKSUM_PASSED = 0.3
# Our own recognizers with a weak check digit (My Number, Portuguese NIF, Saudi ID).
_WeakChecked = _uncertain(_Checked)


# Numbers whose only check is a weak checksum (one random number in 10 or 11 passes it: ABA routing, NHS,
# Aadhaar): a pass is no certainty (a phone number written "447-310-5903" passes NHS's), so they need
# their context words; and in other languages' text they took local phone and account numbers for those
# of the US, the UK and India, so they are recognized in English (and Aadhaar in Hindi) only.
_WEAK_CHECKSUM_CLASSES = tuple(
    _uncertain(cls) for cls in (presidio.AbaRoutingRecognizer, presidio.NhsRecognizer, presidio.InAadhaarRecognizer)
)
# Country recognizers that only make sense in their own language (and English).
_NATIONAL_CLASSES: dict[str, tuple[type[EntityRecognizer], ...]] = {
    "en": _WEAK_CHECKSUM_CLASSES,
    "hi": (_WEAK_CHECKSUM_CLASSES[2],),
    "es": (presidio.EsNifRecognizer, presidio.EsNieRecognizer, presidio.EsPassportRecognizer),
    "it": (
        presidio.ItFiscalCodeRecognizer,
        presidio.ItIdentityCardRecognizer,
        presidio.ItPassportRecognizer,
        presidio.ItDriverLicenseRecognizer,
    ),
    "de": (
        presidio.DeTaxIdRecognizer,
        presidio.DeSocialSecurityRecognizer,
        presidio.DeIdCardRecognizer,
        presidio.DePassportRecognizer,
        presidio.DeFuehrerscheinRecognizer,
        presidio.DeKfzRecognizer,
    ),
    "ko": (presidio.KrRrnRecognizer, presidio.KrPassportRecognizer, presidio.KrDriverLicenseRecognizer),
}


def _presidio_recognizers(language: str) -> list[EntityRecognizer]:
    found: list[EntityRecognizer] = []
    for cls in _PRESIDIO_CLASSES + _NATIONAL_CLASSES.get(language, ()):
        probe = cls()
        pii_type = PRESIDIO_TYPES[probe.supported_entities[0]]
        context = list(dict.fromkeys(list(getattr(probe, "context", None) or []) + context_for(pii_type, language)))
        found.append(cls(supported_language=language, context=context))
    found.append(
        _OfflineEmailRecognizer(supported_language=language, context=context_for("EMAIL", language) or None)
    )
    found.append(
        _PhoneRecognizer(
            supported_language=language,
            context=context_for("PHONE", language),
            supported_regions=PHONE_REGIONS.get(language, ["US"]),
        )
    )
    return found


# ------------------------------------------------------------------------------------------- tokens

# Words are runs of letters and marks (a run of Han, kana or Hangul is one "word", so a context word such
# as 電話 is found inside 電話番号), runs of digits, or single other characters.
_TOKEN = regex.compile(r"[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]")
_STOPWORDS = frozenset({"the", "a", "an", "of", "is", "my", "your", "de", "la", "le", "el", "der", "die", "das"})


class TokenNlpEngine(NlpEngine):
    """Presidio's NLP engine as a tokenizer only: what its context enhancer reads, and nothing to load."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.vocab = Vocab()

    def load(self) -> None:
        """Nothing to load."""

    def is_loaded(self) -> bool:
        return True

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        matches = list(_TOKEN.finditer(text))
        words = [m.group() for m in matches]
        spaces = [
            (matches[i + 1].start() > m.end()) if i + 1 < len(matches) else m.end() < len(text)
            for i, m in enumerate(matches)
        ]
        doc = Doc(self.vocab, words=words, spaces=spaces)
        artifacts = NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[m.start() for m in matches],
            lemmas=[w.lower() for w in words],
            nlp_engine=self,
            language=language,
        )
        # Looked up once per context word of every match (_ContextEnhancer): a set, not Presidio's list.
        artifacts.keywords = frozenset(artifacts.keywords)
        return artifacts

    def process_batch(self, texts: Iterable[str], language: str, batch_size: int = 1, n_process: int = 1, **kwargs: Any) -> Iterator[tuple[str, NlpArtifacts]]:  # noqa: E501
        for text in texts:
            yield text, self.process_text(text, language)

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() in _STOPWORDS

    def is_punct(self, word: str, language: str) -> bool:
        return len(word) == 1 and not word.isalnum()

    def get_supported_entities(self) -> list[str]:
        return []

    def get_supported_languages(self) -> list[str]:
        return [self.language]


# `\b` between 是 and 1 is no boundary (both are word characters), and Chinese, Japanese and Korean put
# numbers right next to words. Every pattern's word boundaries are ASCII-alphanumeric boundaries instead.
_ASCII_BOUNDARY = r"(?:(?<![0-9A-Za-z])(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])(?![0-9A-Za-z]))"


def _ascii_boundaries(recognizers: list[EntityRecognizer]) -> list[EntityRecognizer]:
    for recognizer in recognizers:
        for pattern in getattr(recognizer, "patterns", None) or []:
            pattern.regex = (
                pattern.regex.replace(r"\b", _ASCII_BOUNDARY)
                .replace(r"(?!\w)", r"(?![0-9A-Za-z])")
                .replace(r"(?<![\w:]", r"(?<![0-9A-Za-z_:]")
                .replace(r"(?![\w:]", r"(?![0-9A-Za-z_:]")
            )
            pattern.compiled_regex = pattern.compiled_with_flags = None
    return recognizers


# Presidio patterns that cost time out of proportion to the text, rewritten to match the same values:
# - the URL without a scheme tries every start inside a run of dots and digits ("1.1.1.…"), each time
#   reading 253 characters and then the ~1,500 top-level domains at every dot: it now starts only where
#   such a run starts (a host name is never part of a longer one);
# - PAN (Low) looked ahead for a letter and four digits anywhere in the rest of the text (`.*?` under
#   DOTALL) at every word: it now looks inside the ten characters it matches.
_LINEAR_PATTERNS = {
    ("UrlRecognizer", "Non schema URL"): ("(?i)((www", r"(?i)(?<![a-z0-9.\-])((www"),
    ("InPanRecognizer", "PAN (Low)"): (
        r"((?=.*?[a-zA-Z])(?=.*?[0-9]{4})[\w@#$%^?~-]{10})",
        r"((?=[\w@#$%^?~-]{0,9}[a-zA-Z])(?=[\w@#$%^?~-]{0,6}[0-9]{4})[\w@#$%^?~-]{10})",
    ),
}


def _linear_patterns(recognizers: list[EntityRecognizer]) -> list[EntityRecognizer]:
    """Rewrite the patterns of _LINEAR_PATTERNS; a Presidio release whose pattern differs fails loudly."""
    for recognizer in recognizers:
        for pattern in getattr(recognizer, "patterns", None) or []:
            rewrite = _LINEAR_PATTERNS.get((type(recognizer).__name__, pattern.name))
            if rewrite is None:
                continue
            old, new = rewrite
            if new in pattern.regex:  # Presidio's recognizers of every language share their Patterns
                continue
            if old not in pattern.regex:
                raise RuntimeError(f"Presidio's {pattern.name!r} pattern changed; review _LINEAR_PATTERNS")
            pattern.regex = pattern.regex.replace(old, new, 1)
            pattern.compiled_regex = pattern.compiled_with_flags = None
    return recognizers


# How many tokens on each side of a match the context enhancer reads looking for its context words.
_CONTEXT_REACH = 40


class _ContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer, in time linear in the text.

    Presidio finds each match's token by walking every token from the text's start, and looks for its n
    context words by walking on past stop words and punctuation to the text's start: a text of many matches
    ("1.1.1.…", "a@a@…") cost the square of its length. Here the token is found by bisection and the
    context words are looked for among the _CONTEXT_REACH tokens on each side (keywords are a set:
    TokenNlpEngine makes them so).
    """

    @staticmethod
    def _find_index_of_match_token(word: str, start: int, tokens: Any, tokens_indices: list[int]) -> int:
        # The first token that ends after `start` (tokens are in order and never overlap), as Presidio's.
        index = bisect.bisect_right(tokens_indices, start) - 1
        if index >= 0 and start < tokens_indices[index] + len(tokens[index]):
            return index
        if index + 1 < len(tokens_indices):
            return index + 1
        raise ValueError(f"Did not find word {word!r} in the list of tokens although it is expected to be found")

    @staticmethod
    def _add_n_words(
        index: int, n_words: int, lemmas: list[str], lemmatized_filtered_keywords: Any, is_backward: bool
    ) -> list[str]:
        step = -1 if is_backward else 1
        stop = max(-1, index - _CONTEXT_REACH) if is_backward else min(len(lemmas), index + _CONTEXT_REACH)
        words: list[str] = []
        # The match's own token counts, for a context word written onto it ("IBAN:DE89…"), as in Presidio.
        for i in range(index, stop, step):
            if len(words) > n_words:
                break
            lemma = lemmas[i].lower()
            if lemma in lemmatized_filtered_keywords:
                words.append(lemma)
        return words


def build_analyzer(language: str) -> AnalyzerEngine:
    """Presidio's analyzer for one language: its recognizers and ours, our tokenizer, nothing downloaded."""
    registry = RecognizerRegistry(
        recognizers=_ascii_boundaries(_linear_patterns(_presidio_recognizers(language) + _own_recognizers(language))),
        supported_languages=[language],
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=TokenNlpEngine(language),
        supported_languages=[language],
        # Context words come before the value ("IBAN: …") or, less often, right after it.
        context_aware_enhancer=_ContextEnhancer(context_prefix_count=6, context_suffix_count=1),
    )


# ------------------------------------------------------------------------------------------- spans

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


@functools.cache
def _label_words() -> frozenset[str]:
    words = {w.lower() for by_language in PII_CONTEXT.values() for ws in by_language.values() for w in ws}
    return frozenset(words | {w.lower() for w in PASSWORD_WORDS + USERNAME_WORDS + ADDRESS_WORDS})


# The word for "address" in each language: a label before one, never a place itself.
ADDRESS_WORDS = [
    "address", "dirección", "domicilio", "adresse", "anschrift", "indirizzo", "morada", "endereço", "عنوان",
    "العنوان", "पता", "住所", "주소", "地址", "地點", "地点",
]  # fmt: skip


def _label_word(text: str, entity: dict[str, Any]) -> bool:
    """The entity model sometimes takes a label ("Email:", "VIN:") or a sentence's first words ("Mon CVV")
    for a name or a place: they are no PII."""
    span = text[entity["BeginOffset"] : entity["EndOffset"]]
    followed_by_colon = text[entity["EndOffset"] : entity["EndOffset"] + 2].lstrip().startswith((":", "："))
    first = span.split(maxsplit=1)[0].strip(",.").lower() if span.strip() else ""
    words = [w.strip(":：.,").lower() for w in span.split()]
    return (
        span.lower().strip(":：.,") in _label_words()
        # "Adresse IP :", "البريد الإلكتروني:": a label word anywhere in what a colon follows.
        or (followed_by_colon and (len(words) == 1 or any(w in _label_words() for w in words)))
        # A compound made on a label word ("Telefonnummer", "Handynummer"): one word, no name.
        or (len(words) == 1 and any(len(w) >= 6 and words[0].startswith(w) for w in _label_words()))
        or (entity["Type"] in ("NAME", "ADDRESS") and first in NOT_A_FIRST_WORD)
        or (entity["Type"] in ("NAME", "ADDRESS") and _label_fragments(span))
        # An acronym ("AWS", "MAC", "CVV") is no person's name.
        or (entity["Type"] == "NAME" and regex.fullmatch(r"[A-Z]{2,5}", span) is not None)
    )


def _after_label(text: str, entity: dict[str, Any]) -> dict[str, Any]:
    """A name or an address never holds the label before it: "청구지 주소: 광주광역시 …" is cut after the colon."""
    if entity["Type"] not in ("NAME", "ADDRESS"):
        return entity
    span = text[entity["BeginOffset"] : entity["EndOffset"]]
    colon = max(span.rfind(":"), span.rfind("："))
    if colon < 0:
        return entity
    begin = entity["BeginOffset"] + colon + 1
    while begin < entity["EndOffset"] and text[begin].isspace():
        begin += 1
    return {**entity, "BeginOffset": begin} if begin < entity["EndOffset"] else entity


def _before_label(text: str, entity: dict[str, Any]) -> dict[str, Any]:
    """Nor an address the label after it: "Hauptstraße 12, 10115 Berlin, Telefon: …" is cut before
    "Telefon" (the entity model took the label for a place, and the address joined it), where label words
    end an address that a colon follows and what is left has a number (a label alone, "청구지 주소:", stays
    whole, and is no address)."""
    if entity["Type"] != "ADDRESS":
        return entity
    begin, end = entity["BeginOffset"], entity["EndOffset"]
    if not text[end : end + 2].lstrip().startswith((":", "：")):
        return entity
    labels = _label_words()
    words = list(regex.finditer(r"\S+", text, pos=begin, endpos=end))
    cut = len(words)
    while cut > 1 and (
        (word := words[cut - 1].group().strip(":：.,").lower()) in labels
        or any(len(w) >= 6 and word.startswith(w) for w in labels)
    ):
        cut -= 1
    if cut == len(words):
        return entity
    new_end = words[cut - 1].end()
    while new_end > begin and text[new_end - 1] in " \t\r\n.,;:":
        new_end -= 1
    return {**entity, "EndOffset": new_end} if regex.search(r"\d", text[begin:new_end]) else entity


def _label_fragments(span: str) -> bool:
    """A "name" made of the words of a label ("제 카드 번호", "제 주민" of 주민등록번호): in a script without
    capitals, where nothing else tells a name from the words around it, every word a possessive or a
    label word, or the start of one."""
    words = span.split()
    if not words or any(ch.isupper() or ch.islower() for ch in span):
        return False
    labels = _label_words()
    return all(
        word in _POSSESSIVES or word in labels or (len(word) >= 2 and any(label.startswith(word) for label in labels))
        for word in words
    )


# Possessives before a label in scripts without capitals ("제 이메일", "私の", "我的", "मेरा", "بريدي").
_POSSESSIVES = frozenset({"제", "저의", "나의", "내", "私の", "我的", "मेरा", "मेरी", "मेरे"})


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


# How far before a value its label may stand ("Passport number: …").
_LABEL_REACH = 60


@functools.cache
def _label_pattern(pii_type: str, language: str) -> regex.Pattern[str] | None:
    """The type's context words, each at the start of a token ("telefon" in "Telefonnummer")."""
    words = context_for(pii_type, language)
    return regex.compile(rf"(?i)(?<![\p{{L}}\p{{M}}])(?:{_words(words)})") if words else None


def _labelled(text: str, found: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """A value is what the label before it names: of the findings of different types on the same
    characters, those whose type's context word stands nearest before them, after the previous value
    ("Passport: 912803456" is a passport number, not a driver's licence that "License: D1234567." before
    it lent its context word to, nor a Madrid phone number), unless a checksum made another certain."""
    spans = Spans((e["BeginOffset"], e["EndOffset"], i) for i, e in enumerate(found))
    contested = [
        i
        for i, entity in enumerate(found)
        if any(found[j]["Type"] != entity["Type"] for j in spans.crossing(entity["BeginOffset"], entity["EndOffset"]))
    ]
    if not contested:
        return found
    ends = sorted(f["EndOffset"] for f in found)
    distances: dict[int, int | None] = {}
    for i in contested:
        entity = found[i]
        # The previous value's end: the last end at or before this value's begin.
        previous = bisect.bisect_right(ends, entity["BeginOffset"])
        start = max(entity["BeginOffset"] - _LABEL_REACH, 0, ends[previous - 1] if previous else 0)
        pattern = _label_pattern(entity["Type"], language)
        label_ends = [m.end() for m in pattern.finditer(text, start, entity["BeginOffset"])] if pattern else []
        # How many characters before the value its nearest label word ends; None: no label word.
        distances[i] = entity["BeginOffset"] - label_ends[-1] if label_ends else None
    kept = []
    for i, entity in enumerate(found):
        distance = distances.get(i)
        rivals = [
            distances[j]
            for j in spans.crossing(entity["BeginOffset"], entity["EndOffset"])
            if distances.get(j) is not None and found[j]["Type"] != entity["Type"]
        ]
        if entity["Score"] < 1.0 and rivals and (distance is None or min(rivals) < distance):  # type: ignore[type-var]
            continue
        kept.append(entity)
    return kept


# Control characters other than tabs and line ends: the entity models read one as part of the word it
# touches ("Walsh\x00" was no name); read as a space, it ends the word, and offsets stay as they are.
_CONTROL = regex.compile(r"[^\P{Cc}\t\n\r]")
# A letter and the combining marks after it ("e\u0308"): one character in NFC.
_WITH_MARKS = regex.compile(r"\P{M}\p{M}*|\p{M}+")


def _for_models(text: str) -> tuple[str, Callable[[int, int], tuple[int, int]] | None]:
    """The text the entity models and the address finder read: control characters as spaces, and letters
    written with combining marks composed (NFC: the models learned "Zoë", not "Zoe" and a mark); with the
    map of its offsets back to `text`'s code points (None where they are the same)."""
    text = _CONTROL.sub(" ", text)
    if unicodedata.is_normalized("NFC", text):
        return text, None
    starts: list[int] = []
    ends: list[int] = []
    parts = []
    for segment in _WITH_MARKS.finditer(text):
        composed = unicodedata.normalize("NFC", segment.group())
        parts.append(composed)
        starts += [segment.start()] * len(composed)
        ends += [segment.end()] * len(composed)
    normalised = "".join(parts)
    if normalised != unicodedata.normalize("NFC", text):  # composition across letters (conjoining jamo)
        return text, None

    def back(begin: int, end: int) -> tuple[int, int]:
        return starts[begin] if begin < len(starts) else len(text), ends[end - 1] if end > 0 else 0

    return normalised, back


def _mapped(
    entities: list[dict[str, Any]], back: Callable[[int, int], tuple[int, int]] | None
) -> list[dict[str, Any]]:
    """Entities found in _for_models' text, with the offsets of the original text."""
    if back is None:
        return entities
    mapped = []
    for entity in entities:
        begin, end = back(entity["BeginOffset"], entity["EndOffset"])
        mapped.append({**entity, "BeginOffset": begin, "EndOffset": end})
    return mapped


class PiiEngine:
    """PII entities for texts of one language: Presidio for structured identifiers, `ner` for the rest.

    Same shape as an entity engine (registry.Engine), so the warm workers run it like any other.
    """

    def __init__(self, language: str, ner: Engine) -> None:
        self.language = language
        self.ner = ner
        self.analyzer = build_analyzer(language)

    def _structured(self, text: str) -> list[dict[str, Any]]:
        found = []
        for own_begin, own_end, begin, end in windows(text):
            found += self._structured_window(text, own_begin, own_end, begin, end)
        return _widest(text, found)

    def _structured_window(
        self, text: str, own_begin: int, own_end: int, window_begin: int, window_end: int
    ) -> list[dict[str, Any]]:
        """The identifiers that start in text[own_begin:own_end], analysed with the context around it."""
        results: list[RecognizerResult] = self.analyzer.analyze(
            text=text[window_begin:window_end], language=self.language, score_threshold=MIN_SCORE
        )
        found = []
        for result in results:
            if not own_begin <= result.start + window_begin < own_end:
                continue
            pii_type = PRESIDIO_TYPES.get(result.entity_type, result.entity_type)
            begin, end = _trim(text, result.start + window_begin, result.end + window_begin, pii_type)
            # "License" is a context word of both: after "license plate" or "registration" it is a plate.
            if pii_type == "DRIVER_ID" and _PLATE_BEFORE.search(text[max(0, begin - 40) : begin]):
                pii_type = "LICENSE_PLATE"
            # The Social Security Administration never issues a number that starts with 9: those are ITINs.
            if pii_type == "SSN" and result.entity_type == "US_SSN" and text[begin : begin + 1] == "9":
                continue
            if end > begin:
                found.append(_entity(pii_type, begin, end, result.score))
        return found

    def _named(self, text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        # Addresses written out in full (street, number, town, postcode): inside one, a name is a street's,
        # a number no date, and a place one of its parts.
        written = find_addresses(text, self.language)
        written_spans = Spans((b, e, (b, e)) for b, e, _ in written)
        places = []
        for entity in entities:
            begin, end = entity["BeginOffset"], entity["EndOffset"]
            if entity["Type"] in ("PERSON", "DATE", "LOCATION") and any(
                entity["Type"] != "LOCATION" or b <= begin and end <= e for b, e in written_spans.crossing(begin, end)
            ):
                continue
            if entity["Type"] == "LOCATION" and only_function_words(text[begin:end], self.language):
                continue
            pii_type = NER_TYPES.get(entity["Type"])
            if entity["Type"] in ("PERSON", "LOCATION", "ORGANIZATION") and HONORIFIC_AFTER.match(text, end):
                pii_type = "NAME"
            if pii_type == "NAME":
                trimmed = trim_name(text, begin, end, self.language)
                if trimmed[1] <= trimmed[0]:
                    continue
                entity = {**entity, "BeginOffset": trimmed[0], "EndOffset": trimmed[1]}
            # A one-word name or place that is none: "café", "Écrivez-moi", a low-scored first word.
            if pii_type in ("NAME", "ADDRESS") and no_name_word(
                text, entity["BeginOffset"], entity["EndOffset"], entity["Score"]
            ):
                continue
            if pii_type == "NAME" and _HOUSE_NUMBER_BEFORE.search(text[max(0, entity["BeginOffset"] - 12) : entity["BeginOffset"]]):  # noqa: E501
                pii_type = "ADDRESS"
            if pii_type == "ADDRESS":
                places.append((entity["BeginOffset"], entity["EndOffset"], entity["Score"]))
            elif pii_type is not None:
                found.append(_entity(pii_type, entity["BeginOffset"], entity["EndOffset"], entity["Score"]))
        # A name that a phrase introduces ("my name is …", "Herr …", "我叫…"): unless the entity model found
        # that name, the phrase's reading wins over the model's (a place or nothing).
        model_names = Spans.of(f for f in found if f["Type"] == "NAME")
        introduced = []
        for begin, end, score in introduced_names(text, self.language):
            crossed = list(model_names.crossing(begin, end))
            # The model's name stands, unless it is only a part of the introduced one ("César Losada" of
            # "Un saludo,\nJulio César Losada", whose "Julio" it read as a month).
            if any(f["BeginOffset"] < begin or end < f["EndOffset"] for f in crossed):
                continue
            if written_spans.any_crossing(begin, end):
                continue
            introduced.append(_entity("NAME", begin, end, max([score, *(f["Score"] for f in crossed)])))
        names = resolve_overlaps(introduced)
        if names:
            kept = Spans.of(names)
            places = [p for p in places if not kept.any_crossing(p[0], p[1])]
            found = [f for f in found if not kept.any_crossing(f["BeginOffset"], f["EndOffset"])] + names
        found += [_entity("ADDRESS", b, e, s) for b, e, s in _addresses(text, places, written)]
        return [_before_label(text, _after_label(text, e)) for e in found]

    def recognise(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        readable = [_for_models(text) for text in texts]
        named = self.ner.recognise([r[0] for r in readable])
        results = []
        for text, (read, back), entities in zip(texts, readable, named, strict=True):
            if not text.strip():
                results.append([])
                continue
            structured = _labelled(text, self._structured(text), self.language)
            known = Spans.of(structured)
            named_found = [
                e
                for e in _mapped(self._named(read, entities), back)
                # What a recognizer knows (a user name, an age, a card expiry) beats the entity model's guess
                # at the same characters; only an address that holds the finding whole keeps its chance.
                if not any(not _holds(text, e, s) for s in known.crossing(e["BeginOffset"], e["EndOffset"]))
                and not _label_word(text, e)
            ]
            results.append(resolve_overlaps(structured + named_found))
        return results
