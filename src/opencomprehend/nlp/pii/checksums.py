"""Check digits of the identifiers that have one (Luhn, VIN, French NIR, national numbers)."""

from __future__ import annotations

import regex


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
