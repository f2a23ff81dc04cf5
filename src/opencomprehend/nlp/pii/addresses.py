"""Postal addresses in running text, by each language's way of writing them.

The entity models find the places in an address (a city, sometimes a street) but not the address: a
house number, a street type ("Calle", "rue", "-straße", "Road", "路", "로"), a flat, a postcode. Here each
language's address grammar is written down as data (the street-type words, the unit words, the postcode
form, the order of the parts) and compiled into one pattern per language; a match is an ADDRESS part,
which nlp/pii/ joins with the entity model's places next to it.

No well-kept library does this for our twelve languages offline: libpostal (the field's address parser)
is a C library with a 2 GB model to download, and usaddress and pyap parse United States (and a few
English-speaking) addresses only. See docs/pii.md.

What counts as an address here needs structure, never a lone name: a street type with a name and a house
number (or a postcode and town after it), a house number + street + town + postcode in the English
order, or the administrative units and numbering of Chinese, Japanese and Korean addresses.
"""

from __future__ import annotations

import functools

import regex

# ----------------------------------------------------------------------------------------------- parts

# Abbreviations inside a street or town name ("St. Gallen", "Sta. Cruz", "Gral. Paz", an initial "J."):
# the only words of a name that a dot may end and the name go on after. Any other word's dot ends the
# sentence, and the address with it ("… 28014 Madrid. Gracias").
_ABBREVIATIONS = (
    "St", "Ste", "Sta", "Sto", "Sts", "Mt", "Ft", "Dr", "Gen", "Gral", "Pdte", "Pte", "Prof", "Sr", "Sra", "Dña",
    "Nra", "Ntra", "Sgt", "Cdad", "Bd", "Av", "Mme", "Mlle",
)  # fmt: skip
_ABBREVIATION = r"(?:" + "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True)) + r"|[\p{Lu}\p{Lt}])\."
# A capitalised word of a Latin-script name ("Ávila", "Mary-les-Bains", "O'Brien", "St.").
_CAP = rf"(?:{_ABBREVIATION}|[\p{{Lu}}\p{{Lt}}][\p{{L}}\p{{M}}'’-]*(?![\p{{L}}\p{{M}}'’-]))(?![/\p{{N}}])"
# Small words inside a street or town name ("Pasaje de Andrea Hernández", "Santa Cruz de Tenerife").
_PARTICLES = (
    "de la", "de los", "de las", "de", "del", "la", "las", "los", "el", "do", "da", "das", "dos", "di", "della",
    "delle", "dei", "degli", "du", "des", "le", "les", "von", "van", "der", "den", "zu", "am", "an", "of", "the",
    "ao", "e", "y", "et", "und", "sur", "sous", "en", "lès", "al", "d'", "l'",
)  # fmt: skip
_PART = "(?:" + "|".join(regex.escape(p) for p in sorted(_PARTICLES, key=len, reverse=True)) + ")"
_GAP = r"[ \t]+"
# A street or town name: capitalised words, with particles between (or before) them.
_NAME = rf"(?:{_PART}{_GAP})*{_CAP}(?:(?:{_GAP}|-)(?:{_PART}(?:{_GAP}|-))*{_CAP}){{0,5}}"
# A house number: 12, 12B, 14/20, 888-50; "S/N" (sin número, sem número).
_HOUSE = r"(?:\d{1,5}[A-Za-z]?(?:[ ]?[/-][ ]?\d{1,5}[A-Za-z]?)?(?:[ ]?(?:bis|ter))?\b|[Ss]/[Nn]\b|s\.n\.)"
# A flat, floor, door or suite, with its number.
_UNIT_WORDS = (
    "Apartment", "Apartamento", "Appartamento", "Appartement", "Apt", "Apto", "Appt", "Suite", "Ste", "Unit", "Flat",
    "Floor", "Fl", "Piso", "Puerta", "Planta", "Escalera", "Esc", "Piano", "Interno", "Int", "Scala", "Wohnung",
    "Whg", "Etage", "Stock", "Bâtiment", "Bât", "Étage", "Andar", "Sala", "Bloco", "Casa", "Lote", "Bte", "Bus",
)  # fmt: skip
_UNIT = (
    r"(?:(?i:" + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True)) + r")\.?[ ]?(?:n[º°o]\.?[ ]?)?"
    r"\d{1,4}[A-Za-z]?|\d{1,2}[º°ª]\.?(?:[ ]?[A-Z]\b|[ ]?(?:Esq|Dto|Dir|Izq|Izda|Dcha)\.?)?)"
)
_COMMA = r"[ \t]*,[ \t]*"
_SEP = r"(?:[ \t]*,[ \t]*|[ \t]+)"


@functools.cache
def _street_types(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


# Street types written before the street's name, per language (Spanish, Italian, Portuguese, French).
_PREFIX_TYPES = {
    "es": (
        "Calle", "C/", "Avenida", "Avda.", "Av.", "Plaza", "Pza.", "Paseo", "Camino", "Carretera", "Ctra.", "Ronda",
        "Glorieta", "Pasaje", "Pasadizo", "Vial", "Via", "Acceso", "C.", "Rambla", "Travesía", "Urbanización", "Urb.", "Alameda", "Cuesta", "Callejón", "Vía",  # noqa: E501
        "Bulevar", "Costanilla", "Cañada", "Carrera", "Calzada", "Jirón", "Prolongación", "Circuito", "Privada",
        "Cerrada", "Andador", "Barrio", "Polígono", "Parque", "Partida", "Lugar", "Muelle", "Rúa", "Senda",
        "Paraje", "Transversal", "Diagonal",
    ),
    "it": (
        "Via", "Viale", "Piazza", "Piazzale", "Piazzetta", "Corso", "Largo", "Vicolo", "Strada", "Stretto",
        "Contrada", "Borgo", "Rotonda", "Lungomare", "Lungotevere", "Lungarno", "Salita", "Vico", "Calle",
        "Località", "Loc.", "Traversa", "Circonvallazione", "Incrocio", "Galleria", "Canale", "Rampa", "Rione", "Frazione",  # noqa: E501
        "Fraz.", "Quartiere", "Sentiero", "Passaggio", "Vialetto", "Calata", "Discesa", "Campo", "Fondamenta",
        "Rio Terà", "Ruga", "Sottoportego", "Via privata",
    ),
    "pt": (
        "Rua", "R.", "Avenida", "Av.", "Av", "Avda.", "Travessa", "Tv.", "Largo", "Praça", "Pç.", "Alameda", "Estrada",
        "Calçada", "Beco", "Rotunda", "Praceta", "Quinta", "Bairro", "Urbanização", "Viela", "Caminho", "Parque",
        "Rodovia", "Vila", "Ladeira", "Jardim", "Sítio", "Escadinhas", "Cais", "Via", "Azinhaga", "Loteamento",
        "Conjunto", "Quadra",
    ),
    "fr": (
        "rue", "avenue", "av.", "boulevard", "bd", "bd.", "chemin", "allée", "impasse", "place", "quai", "route",
        "cours", "passage", "square", "voie", "sentier", "rond-point", "esplanade", "faubourg", "promenade",
        "parvis", "montée", "cité", "hameau", "lieu-dit", "résidence", "villa", "chaussée", "côte", "ruelle",
        "carrefour", "mail", "traverse", "sente", "clos", "lotissement", "domaine", "rampe", "port",
    ),
}  # fmt: skip
# Street types written after the name (English: "Baker Street", "Collier Dale" is the USPS suffix list's).
_EN_SUFFIX_TYPES = (
    "Street", "St", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Drive", "Dr", "Lane", "Ln", "Court",
    "Ct", "Place", "Pl", "Way", "Terrace", "Ter", "Circle", "Cir", "Parkway", "Pkwy", "Highway", "Hwy", "Square",
    "Sq", "Crescent", "Cres", "Close", "Grove", "Gardens", "Row", "Hill", "Trail", "Trl", "Alley", "Plaza", "Loop",
    "Path", "Pike", "Mews", "Walk", "Run", "Heights", "Expressway", "Expy", "Freeway", "Fwy", "Turnpike", "Tpke",
    "Causeway", "Green", "Park", "Ridge", "View", "Point", "Crossing", "Junction", "Bypass", "Center", "Centre",
    "Port", "Ports", "Union", "Dale", "Cliffs", "Trafficway", "Burgs", "Landing", "Route", "Pass", "Track", "Camp",
    "Forest", "Lake", "Lakes", "Island", "Springs", "Light", "Plains", "Club", "Square", "Wharf", "Quay",
    "Embankment", "Parade", "Broadway", "Esplanade", "Marsh", "Meadows", "Mill", "Mills", "Valley", "Village",
    "Villages", "Ville", "Vista", "Harbor", "Harbour", "Haven", "Estates", "Manor", "Fields", "Falls", "Ferry",
    "Ford", "Fort", "Glen", "Hollow", "Knoll", "Knolls", "Oval", "Rapids", "Rest", "Shoal", "Shore", "Shores",
    "Station", "Summit", "Tunnel", "Underpass", "Well", "Wells", "Ways", "Keys", "Inlet", "Extension", "Drives",
    "Courts", "Coves", "Cove", "Creek", "Crest", "Curve", "Divide", "Fork", "Forks", "Garden", "Gateway", "Greens",
    "Grove", "Groves", "Heights", "Hills", "Isle", "Lock", "Locks", "Lodge", "Motorway", "Neck", "Orchard",
    "Overpass", "Pines", "Plain", "Prairie", "Radial", "Ramp", "Ranch", "Roads", "Route", "Skyway", "Spur",
    "Squares", "Stravenue", "Stream", "Streets", "Throughway", "Trace", "Trak", "Viaduct", "Views", "Mount",
    "Mountain", "Branch", "Brook", "Brooks", "Burg", "Canyon", "Cape", "Causeway", "Common", "Commons", "Corner",
    "Corners", "Dam", "Flat", "Flats", "Gardens", "Harbors", "Ville", "Walks",
)  # fmt: skip
# German street names end in a street word ("Hauptstraße", "Stefania-Bähr-Straße", "Am Kirchweg").
_DE_SUFFIXES = (
    "straße", "strasse", "str.", "weg", "gasse", "platz", "allee", "ring", "damm", "ufer", "steig", "pfad",
    "chaussee", "markt", "hof", "berg", "graben", "wall", "kamp", "stieg", "brücke", "park", "garten", "feld",
    "tor", "zeile", "kai", "promenade", "höhe", "anger", "redder", "twiete", "stiege", "gässchen", "winkel",
    "hain", "siedlung", "bogen", "wiese", "stadt", "dorf", "aue", "tal", "gürtel", "lände", "steg",
)  # fmt: skip

# Postcodes, per language.
_POSTCODE = {
    "es": r"\d{5}", "fr": r"(?:F-)?\d{5}|\d{2}[ ]\d{3}", "de": r"(?:D-)?\d{5}", "it": r"\d{5}", "pt": r"\d{4}-\d{3}|\d{5}-\d{3}",  # noqa: E501
}  # fmt: skip
_US_STATE_ZIP = r"[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?\b"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}\b"
_CA_POSTCODE = r"[A-Z]{1,2}[ \t]+[A-Z]\d[A-Z][ ]?\d[A-Z]\d\b"


def _latin_tail(postcode: str) -> str:
    """", Granada, 40405", ", 57355 Saint Joseph", ", 90046, Poggio San Francesco (PA)", " 1900-754 Caldas"."""
    town = rf"{_NAME}(?:[ \t]*\([A-Z]{{2}}\))?"
    return (
        rf"(?:{_COMMA}(?:(?:{postcode}){_SEP})?{town}(?:{_SEP}(?:{postcode})\b)?"
        rf"|{_SEP}(?:{postcode}){_SEP}{town})"
    )


def _prefix_grammar(language: str) -> str:
    """Street type + name, then a house number and units, then the town and postcode (es, it, pt, fr)."""
    types = _street_types(_PREFIX_TYPES[language])
    type_ = rf"(?i:{types})" if language == "fr" else types
    street = rf"{type_}{_GAP}{_NAME}"
    number = rf"(?:{_SEP}(?:n[º°o]\.?[ ]?)?{_HOUSE}(?:{_SEP}{_UNIT})*)"
    tail = _latin_tail(_POSTCODE[language])
    # French writes the house number first ("13, chemin Bouchet").
    house_first = rf"(?:{_HOUSE}{_SEP})?" if language == "fr" else ""
    # A house number or a town after the street: a bare "Plaza Mayor" is the entity model's to find.
    return rf"{house_first}{street}(?:{tail}|{number}(?:{tail})?)"


def _german_grammar() -> str:
    suffix = "(?i:" + "|".join(regex.escape(s) for s in sorted(_DE_SUFFIXES, key=len, reverse=True)) + ")"
    street = rf"(?:{_CAP}{_GAP}){{0,2}}\p{{Lu}}[\p{{L}}-]*?{suffix}"
    return rf"{street}{_GAP}{_HOUSE}(?:{_SEP}{_UNIT})*(?:{_latin_tail(_POSTCODE['de'])})?"


def _english_grammar() -> str:
    suffix = _street_types(_EN_SUFFIX_TYPES)
    words = r"[^\s,;:()]+(?:[ \t]+[^\s,;:()]+){0,4}?"
    unit = rf"(?:{_SEP}(?:{_UNIT}|\#[ ]?\d{{1,5}}))"
    locality = rf"{words}"
    ending = rf"(?:{_US_STATE_ZIP}|{_UK_POSTCODE}|{_CA_POSTCODE})"
    flat_required = rf"(?:(?:Flat|Apartment|Apt\.?|Unit)[ ]?\d{{1,4}}[A-Za-z]?{_COMMA})"
    flat = f"{flat_required}?"
    return (
        # "1003 Sara Center Suite 666, New Crystalview, MA 11923"; "17 Jones Light, North Holly, S6 7LJ"
        rf"(?:{flat}{_HOUSE}{_GAP}|{flat_required}){words}{unit}?{_COMMA}(?:{locality}{_COMMA}){{0,2}}{locality}{_SEP}{ending}"
        rf"|{flat}{_HOUSE}{_GAP}{words}{unit}?{_COMMA}{ending}"
        # United States military mail: "USNS Singh, FPO AA 34184", "PSC 2835, Box 7753, APO AA 45550"
        rf"|(?:(?:USNS|USNV|USS|USCGC)[ \t]+{_CAP}|(?:PSC|Unit|CMR)[ \t]+\d{{1,5}}(?:,?[ \t]+Box[ \t]+\d{{1,5}})?)"
        rf"{_COMMA}(?:APO|FPO|DPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{{5}}\b"
        # "221B Baker Street", "1600 Pennsylvania Avenue NW, Washington"
        rf"|{_HOUSE}{_GAP}(?:{_CAP}{_GAP}){{1,3}}{suffix}\b\.?(?:[ ]?(?:NW|NE|SW|SE|N|S|E|W)\b)?{unit}?"
        rf"(?:{_COMMA}{_NAME}(?:{_SEP}{ending})?)?"
    )


def _hindi_grammar() -> str:
    deva = r"[\p{Devanagari}\p{M}]+"
    road = r"(?:मार्ग|रोड|गली|नगर|कॉलोनी|सेक्टर|मोहल्ला|चौक|बाज़ार|बाजार|पथ|लेन|एन्क्लेव|विहार|पुरम|पुर)"
    pin = r"\d{3}[ ]?\d{3}\b"
    return (
        # "3/9 शंकर कुमार, अगरतला 636083", "12 गांधी मार्ग, पुणे - 411001"
        rf"{_HOUSE}{_SEP}{deva}(?:[ \t]+{deva}){{0,4}}(?:{_COMMA}{deva}(?:[ \t]+{deva}){{0,3}}){{1,3}}"
        rf"(?:[ \t]*[-–,]?[ \t]*{pin})"
        rf"|(?:{_HOUSE}{_SEP})?(?:{deva}[ \t]+){{0,3}}{road}\b(?:[ \t]+\d{{1,3}})?"
        rf"(?:{_COMMA}{deva}(?:[ \t]+{deva}){{0,3}}){{1,3}}(?:[ \t]*[-–,]?[ \t]*{pin})?"
    )


def _arabic_grammar() -> str:
    word = r"(?!(?:في|من|إلى|على|عن|مع|و)\b)[\p{Arabic}\p{M}]+"
    street = r"(?:شارع|طريق|ميدان|جادة|زقاق|درب|ممر|حي|مبنى|عمارة|ص\.[ ]?ب\.?)"
    part = rf"(?:{street}[ \t]+)?{word}(?:[ \t]+{word}){{0,3}}"
    sep = r"[ \t]*[،,][ \t]*"
    return (
        # "2678 شارع آل صفوان، حي الروضة، جدة 23435"
        rf"(?:\d{{1,5}}[ \t]+)?{street}[ \t]+{word}(?:[ \t]+{word}){{0,3}}(?:[ \t]+\d{{1,5}})?"
        rf"(?:{sep}{part}){{0,4}}(?:[ \t]+\d{{5}}(?:-\d{{4}})?\b)?"
    )


def _japanese_grammar() -> str:
    han = r"[\p{Han}\p{Hiragana}\p{Katakana}ー]"
    num = r"[\d０-９]+"
    prefecture = r"(?:東京都|北海道|(?:京都|大阪)府|\p{Han}{2,3}県)"
    # A municipality's name starts with a kanji or katakana, never a particle ("は", "に").
    municipality = rf"(?:[\p{{Han}}\p{{Katakana}}]{han}{{0,4}}?[市区町村郡])"
    block = rf"(?:{num}丁目)?(?:{num}(?:番地?|-))?(?:{num}号?)?"
    building = rf"(?:[ \t　]*[\p{{Katakana}}\p{{Hiragana}}\p{{Han}}ー]{{1,12}}{num}(?:号室)?)?"
    postcode = r"(?:〒[ ]?\d{3}-\d{4}[ \t　]*)?"
    # "長崎県世田谷区睦26丁目14番7号 丹勢クレスト032": a prefecture or a municipality, then the block numbers.
    return (
        rf"{postcode}(?:{prefecture}{municipality}{{0,3}}|{municipality}{{1,3}}){han}{{0,6}}?"
        rf"{num}(?:丁目|番地?|号|-){block}{building}"
        rf"|{postcode}{prefecture}{municipality}{{1,3}}"
    )


def _korean_grammar() -> str:
    hangul = r"\p{Hangul}"
    region = rf"(?:{hangul}{{1,8}}(?:특별자치시|특별자치도|특별시|광역시|도|시|군|구|읍|면|동|리))"
    road = rf"(?:[{hangul}\d]{{1,12}}?(?:대로|로|길|가|거리|번길))"
    number = r"(?:지하)?\d{1,5}(?:-\d{1,5})?"
    # "대전광역시 서구 개포1로 652", "충청북도 용인시 처인구 백제고분길 758"
    building = r"(?:[ \t]*\([\p{Hangul}\d, ]{1,24}\))?"
    return rf"(?:{region}[ \t]+){{1,4}}{road}[ \t]*{number}(?:[ \t]*(?:\d{{1,4}}(?:동|층|호))+)*{building}"


# China's province-level divisions (Simplified and Traditional), and Taiwan's cities and counties: an
# address that starts with one needs no other cue to where it starts.
_CN_PROVINCES = (
    "北京", "天津", "上海", "重庆", "重慶", "河北", "山西", "辽宁", "遼寧", "吉林", "黑龙江", "黑龍江", "江苏", "江蘇",
    "浙江", "安徽", "福建", "江西", "山东", "山東", "河南", "湖北", "湖南", "广东", "廣東", "海南", "四川", "贵州",
    "貴州", "云南", "雲南", "陕西", "陝西", "甘肃", "甘肅", "青海", "台湾", "臺灣", "台灣", "内蒙古", "內蒙古", "广西",
    "廣西", "西藏", "宁夏", "寧夏", "新疆", "香港", "澳门", "澳門", "臺北", "台北", "新北", "桃園", "臺中", "台中",
    "臺南", "台南", "高雄", "基隆", "新竹", "嘉義", "苗栗", "彰化", "南投", "雲林", "屏東", "宜蘭", "花蓮", "臺東",
    "台東", "澎湖", "金門", "連江",
)  # fmt: skip
# Where an address without a province may start in running Chinese: after a non-Chinese character, or
# after the verb or preposition that introduces it ("住在", "寄到", "位于", "地址是").
_CN_INTRODUCERS = ("在", "到", "于", "於", "至", "往", "寄", "送", "是", "址", "为", "為")


# Characters that are no part of a place's name: pronouns, verbs and particles around an address.
_CN_NOT_IN_NAMES = "我你他她们們住在到寄把请請送的是了与與给給"


def _chinese_grammar() -> str:
    han = rf"[\p{{Han}}--[{_CN_NOT_IN_NAMES}]]"
    names = "|".join(sorted(_CN_PROVINCES, key=len, reverse=True))
    province = rf"(?:(?:{names})(?:省|市|自治区|自治區|壮族自治区|回族自治区|维吾尔自治区|特别行政区|特別行政區|縣|县)?)"  # noqa: E501
    city = rf"(?:{han}{{1,5}}?(?:市|县|縣|区|區|自治州|盟|旗|乡|鄉|镇|鎮))"
    road = rf"(?:{han}{{1,8}}?(?:大道|路|街|巷|道|胡同|里))"
    section = r"(?:[\d一二三四五六七八九十]{1,3}段)?(?:\d{1,4}巷)?(?:\d{1,4}弄)?"
    number = r"(?:\d{1,5}(?:号|號)(?:之\d{1,3})?|[A-Za-z\d]{1,3}座)"
    floor = r"(?:\d{1,3}(?:楼|樓|层|層|室|F))*(?:之\d{1,3})?"
    postcode = r"(?:\d{3}(?:\d{2,3})?[ \t　]*)"
    start = "(?:" + rf"{postcode}|(?<![\p{{Han}}])|(?<=" + "|".join(_CN_INTRODUCERS) + "))"
    # "安徽省帅市沙市刘路y座 111393", "16011 平鎮縣大智巷38號2樓", "北京市朝阳区建国路88号"
    return (
        rf"(?:{postcode}?{province}|{start}{city}){city}{{0,3}}{han}{{0,4}}?{road}{section}{number}{floor}"
        rf"(?:[ \t　]*\d{{6}}\b)?"
        rf"|{start}{city}{{0,2}}{road}{section}{number}{floor}"
        rf"|{postcode}?{province}{city}{{1,3}}"
    )


_GRAMMARS = {
    "en": _english_grammar, "es": lambda: _prefix_grammar("es"), "it": lambda: _prefix_grammar("it"),
    "pt": lambda: _prefix_grammar("pt"), "fr": lambda: _prefix_grammar("fr"), "de": _german_grammar,
    "hi": _hindi_grammar, "ar": _arabic_grammar, "ja": _japanese_grammar, "ko": _korean_grammar,
    "zh": _chinese_grammar, "zh-TW": _chinese_grammar,
}  # fmt: skip


@functools.cache
def _compiled(language: str) -> list[regex.Pattern[str]]:
    patterns = [_GRAMMARS[language]()]
    if language not in ("en",):
        # English-order addresses ("1600 Pennsylvania Avenue NW, Washington, DC 20500") in any language.
        patterns.append(_english_grammar())
    boundary_before = r"(?<![\p{L}\p{N}])" if language not in ("ja", "zh", "zh-TW") else r"(?<![\d])"
    return [regex.compile(boundary_before + f"(?:{p})" + r"(?![\p{N}])", regex.V1) for p in patterns]


# A pattern address has structure; its score says how much: a number and a postcode or town are near
# certain, a street with a number likely.
STRUCTURED_SCORE = 0.95
PARTIAL_SCORE = 0.85


def find_addresses(text: str, language: str) -> list[tuple[int, int, float]]:
    """Addresses written as `language` writes them: (begin, end, score), code-point offsets, no overlaps."""
    if language not in _GRAMMARS:
        return []
    found: list[tuple[int, int, float]] = []
    for pattern in _compiled(language):
        for match in pattern.finditer(text):
            begin = match.start()
            span = match.group().rstrip(" \t.,;:，。、")
            end = begin + len(span)
            if end <= begin or not regex.search(r"\d", span):
                continue
            # A single token ("Via12") is no address.
            if len(span) < 6:
                continue
            parts = len(regex.findall(r"[,،，、]", span)) + (1 if regex.search(r"\d{4,}", span) else 0)
            found.append((begin, end, STRUCTURED_SCORE if parts >= 1 else PARTIAL_SCORE))
    found.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, float]] = []
    for span in found:
        if kept and span[0] < kept[-1][1]:
            if span[1] > kept[-1][1]:
                kept[-1] = (kept[-1][0], span[1], max(kept[-1][2], span[2]))
            continue
        kept.append(span)
    return kept
