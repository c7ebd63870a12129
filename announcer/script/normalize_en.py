"""English text normalisation: what a newsreader says for numbers, money, dates, times, abbreviations."""
from __future__ import annotations

import re

from num2words import num2words

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
ABBREVIATIONS = {
    "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Dr.": "Doctor", "Prof.": "Professor",
    "St.": "Saint", "Jr.": "Junior", "Sr.": "Senior", "vs.": "versus", "etc.": "et cetera",
    "e.g.": "for example", "i.e.": "that is", "approx.": "approximately", "No.": "number",
    "Gov.": "Governor", "Sen.": "Senator", "Rep.": "Representative", "Gen.": "General",
    "Jan.": "January", "Feb.": "February", "Aug.": "August", "Sept.": "September", "Oct.": "October",
    "Nov.": "November", "Dec.": "December", "U.S.": "U S", "U.K.": "U K", "a.m.": "A M", "p.m.": "P M",
}
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
              "£": ("pound", "pounds", "penny", "pence"), "₩": ("won", "won", "", ""),
              "¥": ("yen", "yen", "", "")}
SCALES = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion", "million": "million",
          "billion": "billion", "trillion": "trillion", "thousand": "thousand"}

_ABBREVIATION = re.compile("|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True)))
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_MONTH_DAY = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\s*([ap])\.?m\.?(?=\W|$)|\b(\d{1,2}):(\d{2})\b", re.IGNORECASE)
_MONEY = re.compile(r"([$€£₩¥])\s?(\d[\d,]*(?:\.\d+)?)(?:\s?(bn|billion|million|trillion|thousand|[kmb])\b)?",
                    re.IGNORECASE)
_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_YEAR = re.compile(r"\b(1[1-9]\d\d|20\d\d)\b(?!\s*(?:%|percent))")
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")


def _number_words(token: str) -> str:
    return num2words(float(token) if "." in token else int(token))


def _money(match: re.Match) -> str:
    symbol, amount, scale = match.group(1), match.group(2).replace(",", ""), match.group(3)
    one, many, sub_one, sub_many = CURRENCIES[symbol]
    if scale:
        return f"{_number_words(amount)} {SCALES[scale.lower()]} {many}"
    whole, _, fraction = amount.partition(".")
    words = f"{num2words(int(whole))} {one if int(whole) == 1 else many}"
    cents = int((fraction + "00")[:2]) if fraction else 0
    if cents and sub_many:
        words += f" and {num2words(cents)} {sub_one if cents == 1 else sub_many}"
    return words


def _date(year: int, month: int, day: int) -> str:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return f"{year} {month} {day}"
    return f"{MONTHS[month - 1]} {num2words(day, to='ordinal')}, {num2words(year, to='year')}"


def _time(match: re.Match) -> str:
    hour, minute, half = (match.group(1), match.group(2), match.group(3)) if match.group(1) else \
        (match.group(4), match.group(5), None)
    hour_i, minute_i = int(hour), int(minute)
    if hour_i > 23 or minute_i > 59:
        return match.group(0)
    spoken_minute = "o'clock" if minute_i == 0 else (f"oh {num2words(minute_i)}" if minute_i < 10 else num2words(minute_i))
    suffix = f" {half.upper()} M" if half else ""
    return f"{num2words(hour_i)} {spoken_minute}{suffix}"


def normalize_english(text: str) -> str:
    """'Dr. Kim paid $3.50 on 2026-11-22 at 6:30 pm, up 4.5%' -> words a TTS voice reads correctly."""
    text = _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(0)], text)
    text = _ISO_DATE.sub(lambda m: _date(int(m.group(1)), int(m.group(2)), int(m.group(3))), text)
    text = _US_DATE.sub(lambda m: _date(int(m.group(3)), int(m.group(1)), int(m.group(2))), text)
    text = _MONTH_DAY.sub(lambda m: f"{m.group(1)} {num2words(int(m.group(2)), to='ordinal')}", text)
    text = _TIME.sub(_time, text)
    text = _MONEY.sub(_money, text)
    text = _PERCENT.sub(lambda m: f"{_number_words(m.group(1).replace(',', ''))} percent", text)
    text = _ORDINAL.sub(lambda m: num2words(int(m.group(1)), to="ordinal"), text)
    text = _YEAR.sub(lambda m: num2words(int(m.group(1)), to="year"), text)
    text = _NUMBER.sub(lambda m: _number_words(m.group(0).replace(",", "")), text)
    text = text.replace("&", " and ").replace("%", " percent")
    return re.sub(r"\s+", " ", text).strip()
