"""Korean text normalisation: Sino-Korean numbers in general, native numbers before native counters."""
from __future__ import annotations

import re

from num2words import num2words

NATIVE_UNITS = ["", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉"]
NATIVE_TENS = ["", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔"]
# Before a counter, 1-4 and 20 take their short forms: 한 시, 두 명, 세 개, 네 살, 스무 살.
SHORT_FORMS = {"하나": "한", "둘": "두", "셋": "세", "넷": "네", "스물": "스무"}
NATIVE_COUNTERS = ("시", "개", "명", "살", "마리", "권", "번째", "가지", "사람", "잔", "달")
CURRENCIES = {"$": "달러", "€": "유로", "£": "파운드", "¥": "엔", "₩": "원"}

_COUNTED = re.compile(r"(\d{1,2})\s?(" + "|".join(NATIVE_COUNTERS) + r")")
_MONEY = re.compile(r"([$€£¥₩])\s?(\d[\d,]*(?:\.\d+)?)")
_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def native_number(value: int) -> str:
    """1..99 in native Korean, as used before a counter (한, 두, 스무 ...)."""
    tens, units = divmod(value, 10)
    unit_word = NATIVE_UNITS[units]
    tens_word = NATIVE_TENS[tens]
    if unit_word:
        return tens_word + SHORT_FORMS.get(unit_word, unit_word)
    return SHORT_FORMS.get(tens_word, tens_word)


def sino_number(token: str) -> str:
    token = token.replace(",", "")
    value = float(token) if "." in token else int(token)
    return num2words(value, lang="ko")


def _counted(match: re.Match) -> str:
    value, counter = int(match.group(1)), match.group(2)
    if value == 0 or value > 99 or (counter == "시" and value > 12):
        return f"{sino_number(match.group(1))} {counter}"
    return f"{native_number(value)} {counter}"


def normalize_korean(text: str) -> str:
    """'3시에 2,500원, 5% 올라' -> '세 시에 이천오백 원, 오 퍼센트 올라'."""
    text = _COUNTED.sub(_counted, text)
    text = _MONEY.sub(lambda m: f"{sino_number(m.group(2))} {CURRENCIES[m.group(1)]}", text)
    text = _PERCENT.sub(lambda m: f"{sino_number(m.group(1))} 퍼센트", text)
    text = re.sub(r"(\d[\d,]*)\s?원", lambda m: f"{sino_number(m.group(1))} 원", text)
    text = _NUMBER.sub(lambda m: sino_number(m.group(0)), text)
    return re.sub(r"\s+", " ", text).strip()
