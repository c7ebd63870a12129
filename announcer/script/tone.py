"""The tone each sentence is read in: warm, neutral, grave or urgent, as a newsroom uses them.

The editor's word wins: an inline `[tone grave]` tag (until the next one), then the clip's `tone:` setting (front
matter, flag, template, spreadsheet column, studio form), then analysis of the text. Analysis reads news-register cues
(deaths, disasters, crime and illness are grave; greetings, sign-offs and good news are warm; breaking news and
warnings are urgent; "no one was hurt" lifts a grave cue), with VADER's sentiment for the rest in English. A story
(a paragraph) sets the mood, and a sentence with no cues of its own keeps its story's tone.

Korean is read by stems: a stem is matched inside the eojeol, so 사망, 사망했다 and 사망자 all count.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config import TONES
from ..errors import InputError
from .parse import Script, Segment

DEATHS_EN = (
    r"died|dies|dead|deaths?|killed|kills?|killing|fatal(ly)?|fatalit(y|ies)|death toll|bod(y|ies)|lost (their|his|her) lives?|"
    r"murder(ed|s)?|shot dead|passed away|funeral|mourn(ing|ers)?|condolences"
)
"""Grave cues that no good news in the same sentence lifts."""
GRAVE_EN = DEATHS_EN + "|" + (
    r"fire|blaze|burn(ed|t)|crash(ed|es)?|collision|derail(ed)?|collapsed?|explosion|exploded|bomb(ing|s)?|"
    r"injur(ed|ies|y)|wounded|hurt|victims?|casualt(y|ies)|survivors|missing|drown(ed|ing)|"
    r"shoot(ing|ings)?|stabb(ed|ing)|attack(ed|s)?|assault(ed)?|abuse|hostages?|"
    r"war|invasion|airstrikes?|shelling|refugees|famine|"
    r"earthquake|flood(s|ing|ed)?|wildfires?|hurricane|tornado|landslide|disaster|tragedy|tragic|catastroph(e|ic)|"
    r"grief|griev(ing|e)|tributes?|vigil|laid to rest|devastat(ed|ing)|heartbroken|loss of|job losses|"
    r"cancer|illness|disease|outbreak|epidemic|pandemic|overdoses?|suicide|"
    r"arrested|charged with|sentenced|convicted|guilty|jailed|on trial|stand trial|crime|"
    r"layoffs|laid off|bankrupt(cy)?|recession|plunged|slumped|crisis|shortage|evicted|homeless"
)
URGENT_EN = (
    r"breaking news|^breaking|just in|urgent|alert|warning|warned|evacuat(e|ed|ion|ions)|emergency|imminent|"
    r"take shelter|stay indoors|immediately|developing story|state of emergency|red alert|amber alert"
)
WARM_EN = (
    r"good (morning|afternoon|evening|night)|hello|welcome|thank you|thanks for (watching|joining)|"
    r"have a (good|great|lovely|wonderful)|see you|take care|happy|congratulations|celebrat\w*|married|"
    r"won|wins?|victory|victorious|champions?|championship|trophy|title win|cup win|gold medal|medal|"
    r"awards?|prize|honou?red|record high|best ever|wedding|born|birth|newborn|baby|reunited|rescued|"
    r"recovered|recovery|cured|festival|parade|cheer(ed|s|ing)?|delight(ed)?|joy|smiles?|heart-?warming|ovation|"
    r"beautiful|"
    r"volunteers|donat(ed|ions)|charity|success(ful)?|triumph|thrilled|proud|birthday|anniversary|"
    r"sunshine|sunny|warm weather|holiday"
)
RELIEF_EN = (
    r"no (one|body) (was|were|is) (hurt|injured|killed|harmed)|no (one|body) died|no injuries|no (deaths|casualties)|"
    r"without injur(y|ies)|unharmed|unhurt|escaped unhurt|(all|everyone) (survived|safe)|safely|"
    r"false alarm|lifted the warning|warning (was|has been) lifted|all clear|found safe|safe and well|reunited"
)
GRAVE_KO = (
    "사망", "숨졌", "숨진", "숨지", "목숨", "희생", "사상자", "부상", "다쳤", "다친", "중상", "화재", "불이 나", "불이 났",
    "폭발", "붕괴", "추락", "충돌", "참사", "사고", "실종", "익사", "살인", "피살", "총격", "흉기", "폭행", "범죄",
    "체포", "구속", "기소", "징역", "전쟁", "공습", "피란", "난민", "지진", "홍수", "산불", "태풍", "산사태", "재난",
    "비극", "애도", "조문", "장례", "추모", "유족", "빈소", "암 ", "질병", "감염", "확진", "전염병", "유행", "자살",
    "해고", "파산", "경기 침체", "폭락", "위기", "부족", "학대", "인질", "억류", "고립", "오열", "범람", "침수", "정전",
    "피해", "대피했", "슬픔", "위독",
)
DEATHS_KO = ("사망", "숨졌", "숨진", "숨지", "목숨", "희생", "살인", "피살", "장례", "빈소", "애도", "유족", "추모")
"""Grave stems that no good news in the same sentence lifts."""
URGENT_KO = ("속보", "긴급", "경보", "주의보", "대피령", "대피해 주", "대피하십시오", "대피하라", "비상", "즉시", "특보",
             "경고", "실내에 머물")
WARM_KO = (
    "안녕하십니까", "안녕하세요", "반갑습니다", "감사합니다", "고맙습니다", "좋은 아침", "좋은 밤", "편안한 밤",
    "행복", "축하", "기쁨", "기뻐", "환호", "우승", "승리", "금메달", "메달", "수상", "영예", "신기록", "결혼",
    "출산", "탄생", "태어", "구조됐", "구조되", "무사히", "회복", "완치", "축제", "기념", "자원봉사", "기부",
    "성공", "자랑", "생일", "맑고", "화창", "따뜻한 날씨", "휴가", "명절", "웃음", "미소", "가족의 품", "초청", "재활 끝에",
    "뵙겠습니다", "아름다운", "주년", "일등", "상을 받", "인파", "박수", "훈훈", "기쁘게", "돌아왔",
)
RELIEF_KO = ("사망자는 없", "숨진 사람은 없", "다친 사람은 없", "인명 피해는 없", "피해는 없", "사상자는 없", "부상자는 없", "무사", "경보가 해제", "해제됐",
             "구조됐", "구조된")
NEGATION_KO = ("없었", "없다", "없습니다", "않았", "않습니다")

STRONG_SENTIMENT = 0.75
"""VADER's compound score past which a sentence with no news cue reads warm (or grave, below its negative)."""
VADER_LEXICON_SHA256 = "1ec9c6e9ee19aade328f8beb393a6afa71a5bb3acf7d3cc22d4ef568df374bf5"
"""vaderSentiment 3.3.2's vader_lexicon.txt (MIT), checked before it is trusted."""
SOURCES = ("tag", "setting", "analysis", "story")


@dataclass(frozen=True)
class SentenceTone:
    tone: str
    """One of config.TONES."""
    source: str
    """tag (an inline [tone X]), setting (the clip's tone:), analysis (this sentence's own cues), story (no cues: its
    paragraph's tone)."""
    cues: tuple[str, ...] = ()
    """What the analysis heard (for the manifest and the studio)."""


def script_tones(script: Script, setting: str | None = None) -> list[SentenceTone]:
    """Each segment's tone, in order: its tag, else the clip's setting, else its own cues, else its story's."""
    heard = [_analysed(segment, script.language) for segment in script.segments]
    stories: dict[int, str] = {}
    for segment, (tone, cues) in zip(script.segments, heard, strict=True):
        if cues:
            stories[segment.line] = _stronger(stories.get(segment.line, "neutral"), tone)
    tones = []
    for segment, (tone, cues) in zip(script.segments, heard, strict=True):
        if segment.tone is not None:
            tones.append(SentenceTone(segment.tone, "tag"))
        elif setting is not None:
            tones.append(SentenceTone(setting, "setting"))
        elif cues:
            tones.append(SentenceTone(tone, "analysis", cues))
        else:
            tones.append(SentenceTone(stories.get(segment.line, "neutral"), "story"))
    return tones


def sentence_tone(text: str, language: str = "en") -> str:
    """One sentence's tone by analysis alone (neutral where nothing is heard)."""
    return _analysed(Segment(text, text, 1), language)[0]


def _analysed(segment: Segment, language: str) -> tuple[str, tuple[str, ...]]:
    """(tone, cues heard) from the sentence as written; no cues: ('neutral', ())."""
    if language.startswith("ko"):
        return _korean(segment.display)
    return _english(segment.display)


def _english(text: str) -> tuple[str, tuple[str, ...]]:
    lowered = text.lower()
    urgent, grave, warm = (_found(pattern, lowered) for pattern in (URGENT_EN, GRAVE_EN, WARM_EN))
    relief = _found(RELIEF_EN, lowered)
    if relief and not _found(DEATHS_EN, re.sub(rf"\b(?:{RELIEF_EN})\b", " ", lowered)):  # lifts a fire, never a death
        grave = []
        urgent = [] if any("warning" in phrase or "alarm" in phrase for phrase in relief) else urgent
    heard = _by_precedence(urgent, grave, warm + relief)
    if heard:
        return heard
    compound = _vader().polarity_scores(text)["compound"]
    if compound >= STRONG_SENTIMENT:
        return "warm", (f"sentiment {compound:+.2f}",)
    if compound <= -STRONG_SENTIMENT:
        return "grave", (f"sentiment {compound:+.2f}",)
    return "neutral", ()


def _korean(text: str) -> tuple[str, tuple[str, ...]]:
    relief = [stem for stem in RELIEF_KO if stem in text]
    unrelieved = re.sub("|".join(map(re.escape, relief)), " ", text) if relief else text
    deaths = any(stem in unrelieved for stem in DEATHS_KO)
    relief = [] if deaths else relief
    urgent = [stem for stem in URGENT_KO if stem in text and not relief]
    grave = [stem for stem in GRAVE_KO if stem in text and not relief]
    warm = [stem for stem in WARM_KO if stem in text]
    if grave and not deaths and any(negation in text for negation in NEGATION_KO) and not urgent:
        relief, grave = relief + grave, []
    return _by_precedence(urgent, grave, warm + relief) or ("neutral", ())


def _by_precedence(urgent: list[str], grave: list[str], warm: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """An urgent cue wins over a grave one, a grave one over a warm one."""
    for tone, cues in (("urgent", urgent), ("grave", grave), ("warm", warm)):
        if cues:
            return tone, tuple(cues)
    return None


def _found(pattern: str, text: str) -> list[str]:
    return [match.group(0) for match in re.finditer(rf"\b(?:{pattern})\b", text)]


def _stronger(story: str, sentence: str) -> str:
    """A story is as grave as its gravest sentence: grave and urgent outweigh warm, and any cue outweighs neutral."""
    order = {"neutral": 0, "warm": 1, "urgent": 2, "grave": 3}
    return sentence if order[sentence] > order[story] else story


@cache
def _vader():
    """VADER's analyser, its lexicon checked against the sha256 it was reviewed with."""
    import vaderSentiment
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    if hashlib.sha256(lexicon.read_bytes()).hexdigest() != VADER_LEXICON_SHA256:
        raise InputError("vaderSentiment's lexicon is not the reviewed one", path=lexicon,
                         fix="pip install vaderSentiment==3.3.2")
    return SentimentIntensityAnalyzer()


__all__ = ["SOURCES", "SentenceTone", "TONES", "script_tones", "sentence_tone"]
