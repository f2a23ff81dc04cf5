"""PII detection measured on a generated corpus with known spans, in all twelve languages.

    .venv/bin/python bench/pii.py [--per-type N] [--mixed N] [--languages en,es,...] [--seed S] [--json out.json]

The corpus: for each language, sentences made from templates in that language with one value each from
Faker's locale for it (seeded, so every run sees the same corpus), the value's span known exactly.
Names and addresses sit in ordinary sentences; structured identifiers follow the label a person would
write before them ("My IBAN is …", "電話番号: …"). A type is generated for a language only where Faker
makes a realistic value for it (national numbers only in their own country's locale).

Then, where MIXED_FRAMES has frames for the language, mixed-item documents (several items in one
sentence, items at sentence ends, contact lists, e-mail signatures), scored the same way on their own.

Printed, per language and type: precision, recall and F1, strict (type and exact offsets) and lenient
(type and overlapping offsets); redaction on the same corpus with every type redacted (PiiEntityTypes
ALL): PII characters left (non-space characters of a known span not masked) and non-PII characters
changed (masked characters outside every known span); throughput of the PII engine against the entity
engine on the same documents (the work of a PII job and of an entities job per shard); and
DetectPiiEntities latency for a 1 KB text through the wire, in-process.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faker import Faker

from opencomprehend.io.pii_output import Redaction
from opencomprehend.nlp.pii import PiiEngine, sa_national_id_valid
from opencomprehend.nlp.registry import load_engine

LOCALES = {
    "en": "en_US", "es": "es_ES", "fr": "fr_FR", "de": "de_DE", "it": "it_IT", "pt": "pt_PT", "ar": "ar_SA",
    "hi": "hi_IN", "ja": "ja_JP", "ko": "ko_KR", "zh": "zh_CN", "zh-TW": "zh_TW",
}  # fmt: skip

# "My <label> is <value>." and "<label>: <value>" in each language.
FRAMES = {
    "en": ["My {label} is {value}.", "{Label}: {value}"],
    "es": ["Mi {label} es {value}.", "{Label}: {value}"],
    "fr": ["Mon {label} est {value}.", "{Label} : {value}"],
    "de": ["Meine {label} ist {value}.", "{Label}: {value}"],
    "it": ["Il mio {label} è {value}.", "{Label}: {value}"],
    "pt": ["O meu {label} é {value}.", "{Label}: {value}"],
    "ar": ["{label} الخاص بي هو {value}.", "{label}: {value}"],
    "hi": ["मेरा {label} {value} है।", "{label}: {value}"],
    "ja": ["私の{label}は{value}です。", "{label}：{value}"],
    "ko": ["제 {label}는 {value}입니다.", "{label}: {value}"],
    "zh": ["我的{label}是{value}。", "{label}：{value}"],
    "zh-TW": ["我的{label}是{value}。", "{label}：{value}"],
}
NAME_FRAMES = {
    "en": ["Hello, my name is {value}.", "Please ask {value} to sign the contract.",
           "The customer {value} called about the invoice.", "The report was written by {value} and sent to the board."],  # noqa: E501
    "es": ["Hola, me llamo {value}.", "Por favor, pida a {value} que firme el contrato.",
           "El cliente {value} llamó por la factura.", "El informe lo escribió {value} y se envió a la junta."],
    "fr": ["Bonjour, je m'appelle {value}.", "Merci de demander à {value} de signer le contrat.",
           "Le client {value} a appelé au sujet de la facture.", "Le rapport a été rédigé par {value} et envoyé au conseil."],  # noqa: E501
    "de": ["Hallo, mein Name ist {value}.", "Bitte bitten Sie {value}, den Vertrag zu unterschreiben.",
           "Der Kunde {value} hat wegen der Rechnung angerufen.", "Der Bericht wurde von {value} geschrieben und an den Vorstand geschickt."],  # noqa: E501
    "it": ["Ciao, mi chiamo {value}.", "Per favore chieda a {value} di firmare il contratto.",
           "Il cliente {value} ha chiamato per la fattura.", "La relazione è stata scritta da {value} e inviata al consiglio."],  # noqa: E501
    "pt": ["Olá, o meu nome é {value}.", "Peça a {value} que assine o contrato.",
           "O cliente {value} ligou por causa da fatura.", "O relatório foi escrito por {value} e enviado à direção."],  # noqa: E501
    "ar": ["مرحبا، اسمي {value}.", "يرجى أن تطلب من {value} توقيع العقد.",
           "اتصل العميل {value} بخصوص الفاتورة.", "كتب {value} التقرير وأرسله إلى مجلس الإدارة."],
    "hi": ["नमस्ते, मेरा नाम {value} है।", "कृपया {value} से अनुबंध पर हस्ताक्षर करने को कहें।",
           "ग्राहक {value} ने बिल के बारे में फ़ोन किया।", "यह रिपोर्ट {value} ने लिखी और बोर्ड को भेजी।"],
    "ja": ["こんにちは、{value}と申します。", "{value}さんに契約書への署名をお願いしてください。",
           "お客様の{value}さんから請求書の件で電話がありました。", "報告書は{value}が作成し、役員会に送付しました。"],
    "ko": ["안녕하세요, 제 이름은 {value}입니다.", "{value} 씨에게 계약서 서명을 부탁해 주세요.",
           "고객 {value} 씨가 청구서 때문에 전화했습니다.", "보고서는 {value}이 작성해서 이사회에 보냈습니다."],
    "zh": ["你好，我叫{value}。", "请让{value}签署合同。", "客户{value}打电话询问发票的事。", "这份报告由{value}撰写，已发给董事会。"],  # noqa: E501
    "zh-TW": ["你好，我叫{value}。", "請讓{value}簽署合約。", "客戶{value}打電話詢問發票的事。", "這份報告由{value}撰寫，已寄給董事會。"],  # noqa: E501
}  # fmt: skip
ADDRESS_FRAMES = {
    "en": ["I live at {value}.", "Send the package to {value}.", "Our new office is at {value}, on the second floor.",
           "The invoice address is {value}"],
    "es": ["Vivo en {value}.", "Envíe el paquete a {value}.", "Nuestra nueva oficina está en {value}, en la segunda planta.",  # noqa: E501
           "La dirección de facturación es {value}"],
    "fr": ["J'habite au {value}.", "Envoyez le colis au {value}.", "Notre nouveau bureau se trouve au {value}, au deuxième étage.",  # noqa: E501
           "L'adresse de facturation est {value}"],
    "de": ["Ich wohne in der {value}.", "Schicken Sie das Paket an {value}.",
           "Unser neues Büro ist in der {value}, im zweiten Stock.", "Die Rechnungsadresse lautet {value}"],
    "it": ["Abito in {value}.", "Spedisca il pacco a {value}.", "Il nostro nuovo ufficio è in {value}, al secondo piano.",  # noqa: E501
           "L'indirizzo di fatturazione è {value}"],
    "pt": ["Moro na {value}.", "Envie a encomenda para {value}.", "O nosso novo escritório fica na {value}, no segundo andar.",  # noqa: E501
           "A morada de faturação é {value}"],
    "ar": ["أسكن في {value}.", "أرسل الطرد إلى {value}.", "مكتبنا الجديد في {value}.",
           "عنوان الفاتورة هو {value}"],
    "hi": ["मैं {value} में रहता हूँ।", "पैकेज {value} पर भेजें।", "हमारा नया दफ़्तर {value} में है।",
           "बिल का पता है {value}"],
    "ja": ["住所は{value}です。", "荷物を{value}に送ってください。", "新しい事務所の所在地は{value}です。", "請求先：{value}"],  # noqa: E501
    "ko": ["저는 {value}에 삽니다.", "소포를 {value}로 보내 주세요.", "새 사무실 주소는 {value}입니다.", "청구지 주소: {value}"],  # noqa: E501
    "zh": ["我住在{value}。", "请把包裹寄到{value}。", "我们的新办公室位于{value}。", "账单地址：{value}"],
    "zh-TW": ["我住在{value}。", "請把包裹寄到{value}。", "我們的新辦公室位於{value}。", "帳單地址：{value}"],
}  # fmt: skip
# Saudi cities for Arabic addresses (Faker's ar_SA addresses are United States ones with Arabic names).
AR_CITIES = ["الرياض", "جدة", "مكة المكرمة", "المدينة المنورة", "الدمام", "الطائف", "تبوك", "بريدة", "أبها", "الخبر"]
# The label a person writes before each type, per language.
LABELS: dict[str, dict[str, str]] = {
    "EMAIL": {"en": "email", "es": "correo", "fr": "courriel", "de": "E-Mail", "it": "email", "pt": "email",
              "ar": "البريد الإلكتروني", "hi": "ईमेल", "ja": "メール", "ko": "이메일", "zh": "邮箱", "zh-TW": "郵箱"},
    "PHONE": {"en": "phone number", "es": "teléfono", "fr": "téléphone", "de": "Telefonnummer", "it": "telefono",
              "pt": "telefone", "ar": "رقم الهاتف", "hi": "फ़ोन नंबर", "ja": "電話番号", "ko": "전화번호", "zh": "电话",
              "zh-TW": "電話"},
    "CREDIT_DEBIT_NUMBER": {"en": "card number", "es": "tarjeta", "fr": "carte", "de": "Kreditkarte",
                            "it": "carta", "pt": "cartão", "ar": "رقم البطاقة", "hi": "कार्ड नंबर", "ja": "カード番号",
                            "ko": "카드 번호", "zh": "信用卡号", "zh-TW": "信用卡號"},
    "CREDIT_DEBIT_CVV": {"en": "CVV", "es": "CVV", "fr": "CVV", "de": "CVV", "it": "CVV", "pt": "CVV", "ar": "CVV",
                         "hi": "CVV", "ja": "セキュリティコード", "ko": "CVV", "zh": "CVV", "zh-TW": "CVV"},
    "CREDIT_DEBIT_EXPIRY": {"en": "card expiry", "es": "vencimiento", "fr": "date d'expiration",
                            "de": "Ablaufdatum", "it": "scadenza", "pt": "validade", "ar": "تاريخ انتهاء",
                            "hi": "समाप्ति", "ja": "有効期限", "ko": "유효기간", "zh": "有效期", "zh-TW": "有效期"},
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER": {lang: "IBAN" for lang in LOCALES},
    "SWIFT_CODE": {lang: "SWIFT" for lang in LOCALES},
    "IP_ADDRESS": {"en": "IP address", "es": "IP", "fr": "adresse IP", "de": "IP-Adresse", "it": "IP",
                   "pt": "IP", "ar": "IP", "hi": "IP", "ja": "IPアドレス", "ko": "IP 주소", "zh": "IP地址", "zh-TW": "IP位址"},  # noqa: E501
    "MAC_ADDRESS": {"en": "MAC address", "es": "MAC", "fr": "adresse MAC", "de": "MAC-Adresse", "it": "MAC",
                    "pt": "MAC", "ar": "MAC", "hi": "MAC", "ja": "MACアドレス", "ko": "MAC 주소", "zh": "MAC地址",
                    "zh-TW": "MAC位址"},
    "URL": {"en": "website", "es": "web", "fr": "site", "de": "Webseite", "it": "sito", "pt": "site", "ar": "موقعي",
            "hi": "वेबसाइट", "ja": "サイト", "ko": "웹사이트", "zh": "网站", "zh-TW": "網站"},
    "USERNAME": {"en": "username", "es": "usuario", "fr": "identifiant", "de": "Benutzername", "it": "nome utente",
                 "pt": "utilizador", "ar": "اسم المستخدم", "hi": "यूज़रनेम", "ja": "ユーザー名", "ko": "아이디",
                 "zh": "用户名", "zh-TW": "使用者名稱"},
    "PASSWORD": {"en": "password", "es": "contraseña", "fr": "mot de passe", "de": "Passwort", "it": "password",
                 "pt": "senha", "ar": "كلمة المرور", "hi": "पासवर्ड", "ja": "パスワード", "ko": "비밀번호", "zh": "密码",
                 "zh-TW": "密碼"},
    "AWS_ACCESS_KEY": {lang: "AWS access key" for lang in LOCALES},
    "PIN": {"en": "PIN", "es": "PIN", "fr": "code PIN", "de": "PIN", "it": "PIN", "pt": "PIN", "ar": "الرقم السري",
            "hi": "पिन", "ja": "暗証番号", "ko": "핀", "zh": "PIN码", "zh-TW": "PIN碼"},
    "VEHICLE_IDENTIFICATION_NUMBER": {"en": "VIN", "es": "número de bastidor", "fr": "numéro de châssis",
                                      "de": "Fahrgestellnummer", "it": "numero di telaio", "pt": "chassi",
                                      "ar": "VIN", "hi": "VIN", "ja": "車台番号", "ko": "차대번호", "zh": "车架号",
                                      "zh-TW": "車身號碼"},
    "SSN": {"en": "social security number", "es": "DNI", "fr": "numéro de sécurité sociale", "ar": "رقم الهوية",
            "it": "codice fiscale", "ko": "주민등록번호", "zh": "身份证号码"},
    "BANK_ROUTING": {"en": "routing number"},
    "PASSPORT_NUMBER": {"en": "passport number"},
    "LICENSE_PLATE": {"en": "license plate", "es": "matrícula", "fr": "plaque d'immatriculation", "de": "Kennzeichen",
                      "it": "targa", "pt": "matrícula", "ar": "لوحة السيارة", "hi": "गाड़ी नंबर", "ja": "ナンバープレート",  # noqa: E501
                      "ko": "차량 번호", "zh": "车牌号", "zh-TW": "車牌號碼"},
    "AWS_SECRET_KEY": {lang: "AWS secret access key" for lang in LOCALES},
    "DRIVER_ID": {"en": "driver's license number", "ko": "운전면허번호"},
    # National numbers of the countries whose language is English, in the English corpus.
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER": {"en": "ITIN"},
    "UK_NATIONAL_INSURANCE_NUMBER": {"en": "National Insurance number"},
    "CA_SOCIAL_INSURANCE_NUMBER": {"en": "SIN"},
    "IN_AADHAAR": {"en": "Aadhaar number", "hi": "आधार नंबर"},
}  # fmt: skip
AGE_FRAMES = {
    "en": "I am {n} years old.", "es": "Tengo {n} años.", "fr": "J'ai {n} ans.", "de": "Ich bin {n} Jahre alt.",
    "it": "Ho {n} anni.", "pt": "Tenho {n} anos.", "ar": "عمري {n} عامًا.", "hi": "मेरी उम्र {n} वर्ष है।",
    "ja": "私は{n}歳です。", "ko": "저는 {n}세입니다.", "zh": "我今年{n}岁。", "zh-TW": "我今年{n}歲。",
}  # fmt: skip
AGE_SPAN = {"en": "{n} years", "ja": "{n}歳", "ko": "{n}세", "zh": "{n}岁", "zh-TW": "{n}歲", "hi": "{n} वर्ष",
            "ar": "{n} عامًا", "es": "{n} años", "fr": "{n} ans", "de": "{n} Jahre", "it": "{n} anni", "pt": "{n} anos"}  # fmt: skip  # noqa: E501


# Mixed-item documents: several PII items in one text, as people write them: in one sentence, at the end
# of a sentence followed by another ("… 28014 Madrid. Gracias"), in lists, and in e-mail signatures, in
# every language. {TYPE} is a value of that type (NAME, ADDRESS, PHONE, EMAIL, IBAN, CARD, EXPIRY, CVV,
# and in English the United States' numbers), drawn as for the single-item corpus.
MIXED_FRAMES = {
    "en": [
        "Hi, my name is {NAME} and I live at {ADDRESS}. Call me on {PHONE} or write to {EMAIL}.",
        "Ship it to {ADDRESS}. Thank you!",
        "Please send the refund to IBAN {IBAN}. Thanks, {NAME}",
        "Contact details:\n- Name: {NAME}\n- Phone: {PHONE}\n- Email: {EMAIL}\n- Address: {ADDRESS}",
        "Best regards,\n{NAME}\n{ADDRESS}\nPhone: {PHONE}\nEmail: {EMAIL}",
        "My card {CARD} expires {EXPIRY}, CVV {CVV}. Phone: {PHONE}.",
        "License: {DRIVER_ID}. Passport: {PASSPORT}. SSN: {SSN}.",
        "Phone: {PHONE}. Passport: {PASSPORT}",
    ],
    "es": [
        "Hola, me llamo {NAME} y vivo en {ADDRESS}. Llámeme al {PHONE} o escriba a {EMAIL}.",
        "Mi dirección es {ADDRESS}. Gracias",
        "Envíe el reembolso al IBAN {IBAN}. Gracias, {NAME}",
        "Datos de contacto:\n- Nombre: {NAME}\n- Teléfono: {PHONE}\n- Correo: {EMAIL}\n- Dirección: {ADDRESS}",
        "Un saludo,\n{NAME}\n{ADDRESS}\nTeléfono: {PHONE}\nCorreo: {EMAIL}",
        "Mi tarjeta {CARD} vence el {EXPIRY}, código de seguridad {CVV}. Teléfono: {PHONE}.",
        "{ADDRESS}. Teléfono: {PHONE}. IBAN: {IBAN}",
    ],
    "fr": [
        "Bonjour, je m'appelle {NAME} et j'habite au {ADDRESS}. Appelez-moi au {PHONE} ou écrivez à {EMAIL}.",
        "Mon adresse est {ADDRESS}. Merci",
        "Merci de verser le remboursement sur l'IBAN {IBAN}. Cordialement, {NAME}",
        "Coordonnées :\n- Nom : {NAME}\n- Téléphone : {PHONE}\n- Courriel : {EMAIL}\n- Adresse : {ADDRESS}",
        "Cordialement,\n{NAME}\n{ADDRESS}\nTél. : {PHONE}\nCourriel : {EMAIL}",
        "Ma carte {CARD} expire le {EXPIRY}, cryptogramme {CVV}. Téléphone : {PHONE}.",
        "{ADDRESS}. Téléphone : {PHONE}. IBAN : {IBAN}",
    ],
    "de": [
        "Hallo, mein Name ist {NAME} und ich wohne in der {ADDRESS}. Rufen Sie mich unter {PHONE} an oder schreiben Sie an {EMAIL}.",  # noqa: E501
        "Meine Adresse ist {ADDRESS}. Danke",
        "Bitte überweisen Sie die Erstattung auf IBAN {IBAN}. Danke, {NAME}",
        "Kontaktdaten:\n- Name: {NAME}\n- Telefon: {PHONE}\n- E-Mail: {EMAIL}\n- Anschrift: {ADDRESS}",
        "Mit freundlichen Grüßen\n{NAME}\n{ADDRESS}\nTelefon: {PHONE}\nE-Mail: {EMAIL}",
        "Meine Kreditkarte {CARD} ist gültig bis {EXPIRY}, Prüfnummer {CVV}. Telefon: {PHONE}.",
        "{ADDRESS}. Telefon: {PHONE}. IBAN: {IBAN}",
    ],
    "it": [
        "Ciao, mi chiamo {NAME} e abito in {ADDRESS}. Chiamami al {PHONE} o scrivi a {EMAIL}.",
        "Il mio indirizzo è {ADDRESS}. Grazie",
        "Versate il rimborso sull'IBAN {IBAN}. Grazie, {NAME}",
        "Contatti:\n- Nome: {NAME}\n- Telefono: {PHONE}\n- Email: {EMAIL}\n- Indirizzo: {ADDRESS}",
        "Cordiali saluti,\n{NAME}\n{ADDRESS}\nTelefono: {PHONE}\nEmail: {EMAIL}",
        "La mia carta {CARD} scade il {EXPIRY}, codice di sicurezza {CVV}. Telefono: {PHONE}.",
        "{ADDRESS}. Telefono: {PHONE}. IBAN: {IBAN}",
    ],
    "pt": [
        "Olá, o meu nome é {NAME} e moro na {ADDRESS}. Ligue-me para o {PHONE} ou escreva para {EMAIL}.",
        "A minha morada é {ADDRESS}. Obrigado",
        "Envie o reembolso para o IBAN {IBAN}. Obrigado, {NAME}",
        "Contactos:\n- Nome: {NAME}\n- Telefone: {PHONE}\n- Email: {EMAIL}\n- Morada: {ADDRESS}",
        "Com os melhores cumprimentos,\n{NAME}\n{ADDRESS}\nTelefone: {PHONE}\nEmail: {EMAIL}",
        "O meu cartão {CARD} tem validade {EXPIRY}, código de segurança {CVV}. Telefone: {PHONE}.",
        "{ADDRESS}. Telefone: {PHONE}. IBAN: {IBAN}",
    ],
    "ar": [
        "مرحبا، اسمي {NAME} وأسكن في {ADDRESS}. هاتفي {PHONE} وبريدي {EMAIL}.",
        "عنواني {ADDRESS}. شكرا",
        "أرسل المبلغ إلى الآيبان {IBAN}. شكرا، {NAME}",
        "بيانات الاتصال:\n- الاسم: {NAME}\n- الهاتف: {PHONE}\n- البريد الإلكتروني: {EMAIL}\n- العنوان: {ADDRESS}",
        "مع التحية،\n{NAME}\nالهاتف: {PHONE}\nالبريد الإلكتروني: {EMAIL}",
        "رقم البطاقة {CARD}، تاريخ انتهاء {EXPIRY}، رمز الأمان {CVV}. الهاتف: {PHONE}.",
    ],
    "hi": [
        "नमस्ते, मेरा नाम {NAME} है। मेरा पता {ADDRESS} है। मेरा फ़ोन नंबर {PHONE} है और ईमेल {EMAIL} है।",
        "मेरा पता {ADDRESS} है। धन्यवाद",
        "संपर्क:\n- नाम: {NAME}\n- फ़ोन: {PHONE}\n- ईमेल: {EMAIL}\n- पता: {ADDRESS}",
        "धन्यवाद,\n{NAME}\nफ़ोन: {PHONE}\nईमेल: {EMAIL}",
        "कार्ड नंबर: {CARD}, समाप्ति: {EXPIRY}, CVV: {CVV}। फ़ोन: {PHONE}",
    ],
    "ja": [
        "{NAME}と申します。住所は{ADDRESS}です。電話は{PHONE}、メールは{EMAIL}です。",
        "連絡先：\n氏名：{NAME}\n電話：{PHONE}\nメール：{EMAIL}\n住所：{ADDRESS}",
        "よろしくお願いいたします。\n{NAME}\n電話：{PHONE}\nメール：{EMAIL}",
        "カード番号：{CARD}、有効期限：{EXPIRY}、セキュリティコード：{CVV}。電話：{PHONE}",
    ],
    "ko": [
        "안녕하세요, 제 이름은 {NAME}입니다. 주소는 {ADDRESS}입니다. 전화번호: {PHONE}, 이메일: {EMAIL}",
        "연락처:\n- 이름: {NAME}\n- 전화: {PHONE}\n- 이메일: {EMAIL}\n- 주소: {ADDRESS}",
        "감사합니다.\n{NAME} 드림\n전화: {PHONE}\n이메일: {EMAIL}",
        "카드 번호: {CARD}, 유효기간: {EXPIRY}, CVV: {CVV}. 전화: {PHONE}",
    ],
    "zh": [
        "你好，我叫{NAME}，住在{ADDRESS}。电话：{PHONE}，邮箱：{EMAIL}。",
        "联系方式：\n姓名：{NAME}\n电话：{PHONE}\n邮箱：{EMAIL}\n地址：{ADDRESS}",
        "谢谢！\n{NAME}\n电话：{PHONE}\n邮箱：{EMAIL}",
        "信用卡号：{CARD}，有效期：{EXPIRY}，安全码：{CVV}。电话：{PHONE}",
    ],
    "zh-TW": [
        "你好，我叫{NAME}，住在{ADDRESS}。電話：{PHONE}，郵箱：{EMAIL}。",
        "聯絡方式：\n姓名：{NAME}\n電話：{PHONE}\n郵箱：{EMAIL}\n地址：{ADDRESS}",
        "謝謝！\n{NAME}\n電話：{PHONE}\n郵箱：{EMAIL}",
        "信用卡號：{CARD}，有效期：{EXPIRY}，安全碼：{CVV}。電話：{PHONE}",
    ],
}  # fmt: skip
# The placeholders' types.
MIXED_TYPES = {
    "IBAN": "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "CARD": "CREDIT_DEBIT_NUMBER", "EXPIRY": "CREDIT_DEBIT_EXPIRY",
    "CVV": "CREDIT_DEBIT_CVV", "PASSPORT": "PASSPORT_NUMBER",
}  # fmt: skip


def _luhn_card(rng: random.Random) -> str:
    body = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(body)):
        total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d
    digits = "".join(map(str, body)) + str((10 - total % 10) % 10)
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4)) if rng.random() < 0.5 else digits


IBAN_LENGTHS = {"GB": 22, "DE": 22, "FR": 27, "ES": 24, "IT": 27, "PT": 25, "SA": 24, "NL": 18, "BE": 16}


def _iban_valid(iban: str) -> bool:
    if len(iban) != IBAN_LENGTHS.get(iban[:2], len(iban)):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _value(pii_type: str, fake: Faker, rng: random.Random, language: str) -> str | None:
    match pii_type:
        case "NAME":
            # Given and family name, as people write them (Faker's name() adds titles: "Dr.", "السيد", and
            # in hi_IN the word "honorific" itself).
            if language in ("ja", "zh", "zh-TW", "ko"):
                return fake.last_name() + ("" if language != "ko" or rng.random() < 0.9 else " ") + fake.first_name()
            return f"{fake.first_name()} {fake.last_name()}"
        case "ADDRESS":
            if language == "ar":
                district = fake.first_name()
                return (f"{fake.building_number()} شارع {fake.last_name()}، حي {district}، "
                        f"{rng.choice(AR_CITIES)} {fake.postcode()}")
            return fake.address().replace("\n", ", ")
        case "EMAIL":
            return fake.email()
        case "PHONE":
            return fake.phone_number().split("x")[0].strip()
        case "CREDIT_DEBIT_NUMBER":
            return _luhn_card(rng)
        case "CREDIT_DEBIT_CVV":
            return f"{rng.randrange(100, 1000)}"
        case "CREDIT_DEBIT_EXPIRY":
            return f"{rng.randrange(1, 13):02d}/{rng.randrange(25, 35)}"
        case "INTERNATIONAL_BANK_ACCOUNT_NUMBER":
            # Some locales' IBANs fail their own check digits (zh_CN's GB IBANs are a character short):
            # those are not IBANs, so they are left out of the corpus.
            iban = fake.iban()
            return iban if _iban_valid(iban) else None
        case "SWIFT_CODE":
            return fake.swift()
        case "IP_ADDRESS":
            return fake.ipv4() if rng.random() < 0.7 else fake.ipv6()
        case "MAC_ADDRESS":
            return fake.mac_address()
        case "URL":
            return fake.url()
        case "USERNAME":
            return fake.user_name()
        case "PASSWORD":
            return fake.password(length=rng.randrange(8, 16), special_chars=False)
        case "AWS_ACCESS_KEY":
            return "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        case "PIN":
            return f"{rng.randrange(0, 10_000):04d}"
        case "VEHICLE_IDENTIFICATION_NUMBER":
            return fake.vin()
        case "SSN":
            if language == "ar":  # a Saudi national ID: 1 + nine digits, Luhn
                while True:
                    number = "1" + "".join(str(rng.randrange(10)) for _ in range(9))
                    if sa_national_id_valid(number):
                        return number
            number = {"es": fake.nif() if hasattr(fake, "nif") else None}.get(language) or fake.ssn()
            # Some of Faker's Korean resident numbers have month 00: no such number exists, so they are left out.
            if language == "ko" and not (1 <= int(number[2:4]) <= 12 and 1 <= int(number[4:6]) <= 31):
                return None
            return number
        case "BANK_ROUTING":
            return fake.aba()
        case "PASSPORT_NUMBER":
            return fake.passport_number()
        case "LICENSE_PLATE":
            return fake.license_plate()
        case "AWS_SECRET_KEY":
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            while True:
                key = "".join(rng.choice(alphabet) for _ in range(40))
                if any(c.isdigit() for c in key) and any(c.islower() for c in key) and any(c.isupper() for c in key):
                    return key
        case "DRIVER_ID":
            if language == "ko":  # region code (11-26, 28), year, serial, check: 11-12-345678-90
                return f"{rng.choice([*range(11, 27), 28])}-{rng.randrange(100):02d}-{rng.randrange(1_000_000):06d}-{rng.randrange(100):02d}"  # noqa: E501
            # United States forms: California's letter + 7 digits, Florida's letter + 12 digits.
            letter = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            return letter + "".join(str(rng.randrange(10)) for _ in range(rng.choice([7, 12])))
        case "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER":
            return _itin(rng)
        case "UK_NATIONAL_INSURANCE_NUMBER":
            return _nino(rng)
        case "CA_SOCIAL_INSURANCE_NUMBER":
            return _ca_sin(rng)
        case "IN_AADHAAR":
            return _aadhaar(rng)
    return None


def _itin(rng: random.Random) -> str:
    """A US ITIN: 9NN-GG-NNNN, the group in the IRS ranges (50-65, 70-88, 90-92, 94-99)."""
    group = rng.choice([*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)])
    return f"9{rng.randrange(100):02d}-{group}-{rng.randrange(10_000):04d}"


def _nino(rng: random.Random) -> str:
    """A UK National Insurance number: two prefix letters HMRC allocates, six digits, A-D."""
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while first + second in ("BG", "GB", "NK", "KN", "NT", "TN", "ZZ"):
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    digits = f"{rng.randrange(1_000_000):06d}"
    sep = " " if rng.random() < 0.5 else ""
    return f"{first}{second}{sep}{digits[:2]}{sep}{digits[2:4]}{sep}{digits[4:]}{sep}{rng.choice('ABCD')}"


def _ca_sin(rng: random.Random) -> str:
    """A Canadian SIN that passes Luhn, grouped 3-3-3."""
    while True:
        body = [rng.choice([1, 2, 3, 4, 5, 6, 7, 9])] + [rng.randrange(10) for _ in range(7)]
        for check in range(10):
            digits = body + [check]
            total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
            if total % 10 == 0:
                text = "".join(map(str, digits))
                return f"{text[:3]} {text[3:6]} {text[6:]}"


def _aadhaar(rng: random.Random) -> str:
    """An Aadhaar number (12 digits, first 2-9, Verhoeff check digit), grouped 4-4-4."""
    d = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
         [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
         [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
         [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]  # fmt: skip
    p = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
         [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
         [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]  # fmt: skip
    inverse = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]
    body = [rng.randrange(2, 10)] + [rng.randrange(10) for _ in range(10)]
    c = 0
    for i, digit in enumerate(reversed(body)):
        c = d[c][p[(i + 1) % 8][digit]]
    text = "".join(map(str, body)) + str(inverse[c])
    return f"{text[:4]} {text[4:8]} {text[8:]}"


@dataclass
class Example:
    text: str
    spans: list[tuple[int, int, str]]


def _framed(frame: str, label: str, value: str) -> Example:
    capital = label[:1].upper() + label[1:]
    before = frame.split("{value}")[0].format(label=label, Label=capital)
    after = frame.split("{value}")[1].format(label=label, Label=capital)
    return Example(before + value + after, [(len(before), len(before) + len(value), "")])


def corpus(language: str, per_type: int, seed: int) -> list[Example]:
    fake = Faker(LOCALES[language])
    fake.seed_instance(seed)
    rng = random.Random(f"{seed}-{language}")
    examples: list[Example] = []
    types = ["NAME", "ADDRESS", "AGE"] + [t for t, labels in LABELS.items() if language in labels]
    for pii_type in types:
        for i in range(per_type):
            if pii_type == "AGE":
                n = rng.randrange(18, 95)
                text = AGE_FRAMES[language].format(n=n)
                span = AGE_SPAN[language].format(n=n)
                begin = text.index(span)
                examples.append(Example(text, [(begin, begin + len(span), "AGE")]))
                continue
            value = _value(pii_type, fake, rng, language)
            if not value:
                continue
            if pii_type == "NAME":
                example = _framed(NAME_FRAMES[language][i % len(NAME_FRAMES[language])], "", value)
            elif pii_type == "ADDRESS":
                example = _framed(ADDRESS_FRAMES[language][i % len(ADDRESS_FRAMES[language])], "", value)
            else:
                example = _framed(FRAMES[language][i % 2], LABELS[pii_type][language], value)
            begin, end, _ = example.spans[0]
            examples.append(Example(example.text, [(begin, end, pii_type)]))
    return examples


def mixed_corpus(language: str, documents: int, seed: int) -> list[Example]:
    """`documents` mixed-item documents (MIXED_FRAMES, in turn), every item's span known."""
    frames = MIXED_FRAMES.get(language, [])
    if not frames:
        return []
    fake = Faker(LOCALES[language])
    fake.seed_instance(seed + 1)
    rng = random.Random(f"{seed}-{language}-mixed")
    examples = []
    for i in range(documents):
        frame = frames[i % len(frames)]
        text, spans, at = "", [], 0
        for match in re.finditer(r"\{([A-Z_]+)\}", frame):
            pii_type = MIXED_TYPES.get(match.group(1), match.group(1))
            value = None
            for _ in range(20):  # a few of Faker's values are left out (an IBAN failing its own check)
                value = value or _value(pii_type, fake, rng, language)
            if not value:
                raise ValueError(f"no {pii_type} value for {language}")
            text += frame[at : match.start()]
            spans.append((len(text), len(text) + len(value), pii_type))
            text += value
            at = match.end()
        examples.append(Example(text + frame[at:], spans))
    return examples


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(examples: list[Example], predicted: list[list[dict[str, Any]]]) -> dict[str, Any]:
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"strict": [0, 0, 0], "lenient": [0, 0, 0]})
    leaked = changed = pii_chars = 0
    redaction = Redaction.from_config({"PiiEntityTypes": ["ALL"], "MaskMode": "MASK", "MaskCharacter": "*"})
    for example, entities in zip(examples, predicted, strict=True):
        gold = {(b, e, t) for b, e, t in example.spans}
        pred = {(x["BeginOffset"], x["EndOffset"], x["Type"]) for x in entities}
        for b, e, t in pred:
            strict = (b, e, t) in gold
            lenient = any(t == gt and b < ge and gb < e for gb, ge, gt in gold)
            counts[t]["strict"][0 if strict else 1] += 1
            counts[t]["lenient"][0 if lenient else 1] += 1
        for b, e, t in gold:
            if (b, e, t) not in pred:
                counts[t]["strict"][2] += 1
            if not any(t == pt and b < pe and pb < e for pb, pe, pt in pred):
                counts[t]["lenient"][2] += 1
        redacted = redaction.apply(example.text, entities)
        inside = set()
        for b, e, _ in example.spans:
            inside.update(range(b, e))
        for i, (original, now) in enumerate(zip(example.text, redacted, strict=True)):
            if i in inside and not original.isspace():
                pii_chars += 1
                leaked += original == now and original != "*"
            elif i not in inside and original != now:
                changed += 1
    per_type = {}
    for pii_type, c in sorted(counts.items()):
        tp, fp, fn = c["strict"]
        ltp, lfp, lfn = c["lenient"]
        per_type[pii_type] = {
            "gold": tp + fn,
            "strict": _f1(tp, fp, fn),
            "lenient": _f1(ltp, lfp, lfn),
        }
    return {"types": per_type, "pii_chars": pii_chars, "leaked": leaked, "changed": changed}


def throughput(language: str, engine: PiiEngine, texts: list[str], rounds: int = 2) -> tuple[float, float]:
    """Characters a second, entity engine and PII engine, over the same texts (best of `rounds`)."""
    chars = sum(len(t) for t in texts)
    ner_best = pii_best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(0, len(texts), 64):
            engine.ner.recognise(texts[i : i + 64])
        ner_best = min(ner_best, time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(0, len(texts), 64):
            engine.recognise(texts[i : i + 64])
        pii_best = min(pii_best, time.perf_counter() - start)
    return chars / ner_best, chars / pii_best


def latency_1kb(samples: int = 30) -> tuple[float, float]:
    """DetectPiiEntities for a 1 KB English text through the wire, in-process (inline worker): ms p50, p95."""
    from starlette.testclient import TestClient

    from opencomprehend.config import Settings
    from opencomprehend.server import create_app

    sentence = "Hello John Smith, your card 4111 1111 1111 1111 is linked to john.smith@example.com. "
    text = (sentence * (1024 // len(sentence) + 1))[:1024]
    body = json.dumps({"Text": text, "LanguageCode": "en"})
    headers = {
        "X-Amz-Target": "Comprehend_20171127.DetectPiiEntities",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/comprehend/aws4_request, "
        "SignedHeaders=host, Signature=00",
    }
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp)), run_workers=False)
        with TestClient(app) as client:
            client.post("/", content=body, headers=headers)  # warm: load the engines once
            times = []
            for _ in range(samples):
                start = time.perf_counter()
                response = client.post("/", content=body, headers=headers)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def _f1_table(results: dict[str, dict[str, Any]]) -> list[str]:
    languages = list(results)
    types = sorted({t for result in results.values() for t, row in result["types"].items() if row["gold"]})
    lines = ["| Type | " + " | ".join(languages) + " |", "|---|" + "---|" * len(languages)]
    for pii_type in types:
        cells = []
        for language in languages:
            row = results[language]["types"].get(pii_type)
            if not row or not row["gold"]:
                cells.append("–")
                continue
            cell = f"{row['strict'][2]:.2f}"
            if pii_type in ("NAME", "ADDRESS"):
                cell += f" ({row['lenient'][2]:.2f})"
            cells.append(cell)
        lines.append(f"| {pii_type} | " + " | ".join(cells) + " |")
    return lines


def _left(result: dict[str, Any]) -> str:
    return f"{result['leaked']:,} of {result['pii_chars']:,} ({result['leaked'] / result['pii_chars']:.2%})"


def markdown(report: dict[str, Any]) -> str:
    """docs/pii.md's tables from a --json report: strict F1 per type and language (lenient in brackets
    for NAME and ADDRESS), then redaction and throughput per language; then the same for the mixed-item
    documents."""
    lines = _f1_table(report["languages"])
    lines += ["", "| Language | PII characters left | non-PII characters changed | PII engine / entity engine |",
              "|---|---|---|---|"]  # fmt: skip
    for language, result in report["languages"].items():
        t = result["throughput"]
        speed = f"{t['pii_chars_per_s']:,.0f} / {t['entities_chars_per_s']:,.0f} chars/s = {t['ratio']:.2f}"
        lines.append(f"| {language} | {_left(result)} | {result['changed']:,} | {speed} |")
    mixed = {language: result["mixed"] for language, result in report["languages"].items() if "mixed" in result}
    if mixed:
        lines += ["", *_f1_table(mixed), "", "| Language | PII characters left | non-PII characters changed |"]
        lines += ["|---|---|---|"]
        lines += [f"| {language} | {_left(result)} | {result['changed']:,} |" for language, result in mixed.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-type", type=int, default=200)
    parser.add_argument("--languages", default=",".join(LOCALES))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--mixed", type=int, help="mixed-item documents per language (default: --per-type)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path, help="print docs/pii.md's tables from this --json report, and exit")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    report: dict[str, Any] = {"per_type": args.per_type, "seed": args.seed, "languages": {}}
    print(f"{'lang':6} {'type':36} {'gold':>5} {'P':>6} {'R':>6} {'F1':>6} {'F1 lenient':>10}")
    for language in args.languages.split(","):
        examples = corpus(language, args.per_type, args.seed)
        engine = PiiEngine(language, load_engine(language))
        predicted = []
        for i in range(0, len(examples), 64):
            predicted += engine.recognise([e.text for e in examples[i : i + 64]])
        result = evaluate(examples, predicted)
        ner_cps, pii_cps = throughput(language, engine, [e.text for e in examples][:1000])
        result["throughput"] = {"entities_chars_per_s": ner_cps, "pii_chars_per_s": pii_cps, "ratio": pii_cps / ner_cps}
        report["languages"][language] = result
        for pii_type, row in result["types"].items():
            p, r, f = row["strict"]
            print(f"{language:6} {pii_type:36} {row['gold']:5d} {p:6.3f} {r:6.3f} {f:6.3f} {row['lenient'][2]:10.3f}")
        print(
            f"{language:6} redaction: {result['leaked']} of {result['pii_chars']} PII characters left, "
            f"{result['changed']} non-PII characters changed; PII engine {pii_cps:,.0f} chars/s vs entities "
            f"{ner_cps:,.0f} chars/s (ratio {pii_cps / ner_cps:.2f})"
        )
        mixed = mixed_corpus(language, args.per_type if args.mixed is None else args.mixed, args.seed)
        if mixed:
            predicted = []
            for i in range(0, len(mixed), 64):
                predicted += engine.recognise([e.text for e in mixed[i : i + 64]])
            result["mixed"] = evaluate(mixed, predicted)
            for pii_type, row in result["mixed"]["types"].items():
                p, r, f = row["strict"]
                name = f"mixed {pii_type}"
                print(f"{language:6} {name:36} {row['gold']:5d} {p:6.3f} {r:6.3f} {f:6.3f} {row['lenient'][2]:10.3f}")
            print(
                f"{language:6} mixed redaction: {result['mixed']['leaked']} of {result['mixed']['pii_chars']} PII "
                f"characters left, {result['mixed']['changed']} non-PII characters changed ({len(mixed)} documents)"
            )
        sys.stdout.flush()
    p50, p95 = latency_1kb()
    report["latency_1kb_ms"] = {"p50": p50, "p95": p95}
    print(f"DetectPiiEntities, 1 KB English text, in-process: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
