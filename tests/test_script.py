"""Stage 1: parsing, sentence splitting, normalisation, and errors that name file and line."""
from pathlib import Path
import re

import pytest

from announcer.errors import InputError
from announcer.script import parse_text, read_script, split_sentences
from announcer.script.normalize_en import normalize_english
from announcer.script.normalize_ko import normalize_korean

from .conftest import write_script


def test_markdown_front_matter_and_pauses(tmp_path):
    path = write_script(tmp_path, "news.md", "---\ntitle: Morning\nlanguage: en\nspeed: 1.1\nloudness: broadcast\n---\n"
                        "# Headline\n\nGood morning. Dr. Kim met **U.S.** officials. [pause 800ms] That is all.\n")
    script = read_script(path)
    assert script.title == "Morning" and script.options["speed"] == 1.1 and script.options["loudness"] == "broadcast"
    assert [s.display for s in script.segments] == ["Headline", "Good morning.", "Dr. Kim met U.S. officials.", "That is all."]
    assert script.segments[2].pause_after_ms == 800
    assert script.segments[2].spoken == "Doctor Kim met U S officials."
    assert script.segments[0].line == 7 and script.segments[1].line == 9


def test_srt_cues_keep_their_times(tmp_path):
    path = write_script(tmp_path, "c.srt", "1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n"
                        "2\n00:00:03,250 --> 00:00:05,000\n<i>Second</i> line.\n")
    segments = read_script(path).segments
    assert [(s.display, s.start_s, s.end_s) for s in segments] == [("Hello there.", 0.5, 2.0), ("Second line.", 3.25, 5.0)]


@pytest.mark.parametrize("text,language,expected", [
    ("Dr. Smith arrived at 3.5 p.m. in the U.S. today. She left.", "en",
     ["Dr. Smith arrived at 3.5 p.m. in the U.S. today.", "She left."]),
    ("He said \"Stop!\" Then he left. Really?", "en", ["He said \"Stop!\"", "Then he left.", "Really?"]),
    ("오늘 날씨는 맑습니다. 내일은 비가 옵니다! 우산을 챙기세요?", "ko", ["오늘 날씨는 맑습니다.", "내일은 비가 옵니다!", "우산을 챙기세요?"]),
])
def test_sentence_splitting(text, language, expected):
    assert split_sentences(text, language) == expected


@pytest.mark.parametrize("text,expected", [
    ("$3.50", "three dollars and fifty cents"),
    ("€2bn", "two billion euros"),
    ("up 4.5%", "up four point five percent"),
    ("on 2026-11-22", "on November twenty-second, twenty twenty-six"),
    ("at 6:30 pm", "at six thirty P M"),
    ("the 3rd time", "the third time"),
    ("in 1999", "in nineteen ninety-nine"),
    ("12,000 people", "twelve thousand people"),
])
def test_english_normalisation(text, expected):
    assert normalize_english(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("3시에", "세 시에"),
    ("2,500원", "이천오백 원"),
    ("5%", "오 퍼센트"),
    ("20살 1명", "스무 살 한 명"),
    ("2026년", "이천이십육년"),
    ("130명이 참석했다", "백삼십명이 참석했다"),  # not 일서른 명: a count is native only up to 99
    ("6월과 10월", "유월과 시월"),
    ("24시간 운영", "스물네 시간 운영"),
    ("오후 2시, 16시", "오후 두 시, 십육 시"),
    ("3~5명", "세 명에서 다섯 명"),
    ("10~20%", "십에서 이십 퍼센트"),
    ("KBS와 AI, GDP", "케이비에스와 에이아이, 지디피"),
    ("문의 02-123-4567", "문의 공이 일이삼 사오육칠"),
])
def test_korean_normalisation(text, expected):
    assert normalize_korean(text) == expected


def test_korean_news_copy_is_split_into_sentences_and_read_out_in_full():
    script = parse_text("서울시는 2026년 12월 1일 오전 10시, 시청에서 KBS 기자 등 130명이 참석한 가운데 협약을 맺었다. "
                        "예산은 1조 2천억 원으로, 작년보다 3.5% 늘었다! 문의는 02-123-4567로 하면 된다.")
    assert script.language == "ko" and len(script.segments) == 3
    spoken = " ".join(segment.spoken for segment in script.segments)
    assert not re.search(r"[0-9A-Za-z%~]", spoken), spoken  # every number, sign and acronym is read out in Hangul
    assert "이천이십육년 십이월 일일 오전 열 시" in spoken and "케이비에스 기자 등 백삼십명" in spoken
    assert "일조 이천억 원" in spoken and "삼 점 오 퍼센트" in spoken and "공이 일이삼 사오육칠" in spoken
    assert script.segments[0].display.startswith("서울시는 2026년 12월 1일")  # subtitles keep the copy as written


def test_language_is_detected_from_hangul():
    assert parse_text("안녕하세요. 뉴스입니다.").language == "ko"
    assert parse_text("Hello. This is the news.").language == "en"


@pytest.mark.parametrize("name,content,line,fragment", [
    ("empty.txt", "   \n\n", None, "empty"),
    ("bad.md", "---\ntitle: [unclosed\n---\nHello.\n", 2, "not valid YAML"),
    ("unknown.md", "---\ntitle: x\ncolour: red\n---\nHello.\n", 3, "unknown front matter key 'colour'"),
    ("open.md", "---\ntitle: x\nHello.\n", 1, "no closing"),
    ("marker.txt", "Hello.\n\nWorld [laugh] here.\n", 3, "unknown marker '[laugh]'"),
    ("timing.srt", "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\nnot a time\ntext\n", 6, "SRT timing line"),
    ("backwards.srt", "1\n00:00:03,000 --> 00:00:02,000\ntext\n", 2, "ends before it starts"),
    ("nowords.txt", "... !!! ---\n", 1, "no words"),
])
def test_bad_scripts_name_file_and_line(tmp_path, name, content, line, fragment):
    path = write_script(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        read_script(path)
    error = caught.value
    assert fragment in error.what and error.path == path and error.line == line and error.exit_code == 2
    assert str(path) in str(error)


def test_binary_and_non_utf8_scripts(tmp_path):
    binary = tmp_path / "clip.txt"
    binary.write_bytes(b"\x00\x01\x02PNG" * 10)
    with pytest.raises(InputError, match="binary"):
        read_script(binary)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("First line.\nCaf\xe9 au lait.\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        read_script(latin)
    assert caught.value.line == 2 and "UTF-8" in caught.value.what


def test_missing_script():
    with pytest.raises(InputError, match="not found"):
        read_script(Path("/no/such/script.md"))
