"""Korean text normalisation for news copy: Sino-Korean numbers in general, native numbers before native counters,
the irregular months (유월, 시월), phone numbers digit by digit, ranges, and Latin acronyms by their letter names."""
from __future__ import annotations

import re

from num2words import num2words

NATIVE_UNITS = ["", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉"]
NATIVE_TENS = ["", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔"]
# Before a counter, 1-4 and 20 take their short forms: 한 시, 두 명, 세 개, 네 살, 스무 살.
SHORT_FORMS = {"하나": "한", "둘": "두", "셋": "세", "넷": "네", "스물": "스무"}
NATIVE_COUNTERS = ("시간", "시", "개", "명", "살", "마리", "권", "번째", "가지", "사람", "잔", "달")
CURRENCIES = {"$": "달러", "€": "유로", "£": "파운드", "¥": "엔", "₩": "원"}

# (?<![\d,.]): the last digits of a longer number (130명) are not a small count.
_COUNTED = re.compile(r"(?<![\d,.])(\d{1,2})\s?(" + "|".join(NATIVE_COUNTERS) + r")")
_MONTH = re.compile(r"(?<![\d,.])(6|10)\s?월")
_PHONE = re.compile(r"(?<!\d)(\d{2,4})-(\d{3,4})-(\d{4})(?!\d)")
_COUNTED_RANGE = re.compile(r"(?<![\d,.])(\d{1,2})\s?~\s?(\d{1,2})\s?(" + "|".join(NATIVE_COUNTERS) + r")")
_RANGE = re.compile(r"(\d)\s?~\s?(\d)")
_ACRONYM = re.compile(r"(?<![A-Za-z])([A-Z]{2,4})(?![A-Za-z])")
LETTER_NAMES = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                        ["에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠", "엔", "오",
                         "피", "큐", "알", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "제트"], strict=True))
DIGIT_NAMES = dict(zip("0123456789", ["공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"], strict=True))
IRREGULAR_MONTHS = {"6": "유월", "10": "시월"}
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
    if value == 0 or (counter == "시" and value > 12):  # 0시, and 13시-24시 on the 24-hour clock, are Sino-Korean
        return f"{sino_number(match.group(1))} {counter}"
    return f"{native_number(value)} {counter}"


def normalize_korean(text: str) -> str:
    """'3시에 2,500원, 5% 올라' -> '세 시에 이천오백 원, 오 퍼센트 올라'."""
    text = _PHONE.sub(lambda m: " ".join("".join(DIGIT_NAMES[d] for d in group) for group in m.groups()), text)
    text = _COUNTED_RANGE.sub(r"\1\3에서 \2\3", text)  # 3~5명: 세 명에서 다섯 명
    text = _RANGE.sub(r"\1에서 \2", text)
    text = _MONTH.sub(lambda m: IRREGULAR_MONTHS[m.group(1)], text)
    text = _ACRONYM.sub(lambda m: "".join(LETTER_NAMES[c] for c in m.group(1)), text)
    text = _COUNTED.sub(_counted, text)
    text = _MONEY.sub(lambda m: f"{sino_number(m.group(2))} {CURRENCIES[m.group(1)]}", text)
    text = _PERCENT.sub(lambda m: f"{sino_number(m.group(1))} 퍼센트", text)
    text = re.sub(r"(\d[\d,]*)\s?원", lambda m: f"{sino_number(m.group(1))} 원", text)
    text = _NUMBER.sub(lambda m: sino_number(m.group(0)), text)
    return re.sub(r"\s+", " ", text).strip()
