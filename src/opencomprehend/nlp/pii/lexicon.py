"""The words and types of PII detection: Comprehend's types for Presidio's and the entity models', the
context words of each type in each language, and the phone regions of each language."""

from __future__ import annotations

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
