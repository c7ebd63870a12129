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


def _vtt_cues(vtt: str) -> list[tuple[str, str]]:
    """(timing line, text) of each cue, as a WebVTT reader splits them: a cue is a block with a '-->' line."""
    cues = []
    for block in vtt.split("\n\n")[1:]:
        lines = [line for line in block.splitlines() if line]
        timing = next((k for k, line in enumerate(lines) if "-->" in line), None)
        if timing is not None:
            cues.append((lines[timing], "\n".join(lines[timing + 1:])))
    return cues


def test_script_text_cannot_write_cues_or_markup_into_the_subtitles(tmp_path):
    """A line `00:00:00.000 --> 00:59:00.000 line:0 HACKED` had become a cue over the whole clip."""
    from announcer.media.subtitles import to_srt, to_vtt
    from announcer.timeline import TimedUnit

    path = tmp_path / "news.txt"
    path.write_text("Good evening.\n\n00:00:00.000 --> 00:59:00.000 line:0 HACKED\n\n"
                    "Tom \x1b[2J& Jerry\x07 said\u202e <c.red>hello</c>\u200b.\n\n{\\an8}Top of the screen.\n")
    script = read_script(path)
    captions = [TimedUnit(s.display, k * 2.0, k * 2.0 + 1.5) for k, s in enumerate(script.segments)]
    vtt, srt = to_vtt(captions), to_srt(captions)
    cues = _vtt_cues(vtt)
    assert len(cues) == len(captions)
    assert [timing.split(" --> ")[0] for timing, _ in cues] == ["00:00:00.000", "00:00:02.000", "00:00:04.000",
                                                                 "00:00:06.000"]
    assert "HACKED" in cues[1][1] and "59:00" in cues[1][1]  # the words are still there, as words
    assert "&amp; Jerry" in cues[2][1] and "&lt;c.red&gt;" in cues[2][1]
    for text in (vtt, srt):
        assert not any(ch in text for ch in "\x1b\x07\u202e\u200b") and "{\\an8}" not in text
    assert srt.count("-->") == len(captions) and "<c.red>" not in srt
    assert [block.split("\n")[0] for block in srt.strip().split("\n\n")] == ["1", "2", "3", "4"]


def test_markdown_tables_and_srt_markup_are_read_as_words(tmp_path):
    table = tmp_path / "results.md"
    table.write_text("Tonight's results.\n\n| Team | Score |\n|------|:-----:|\n| Reds | 3 |\n| Blues | 1 |\n")
    words = " ".join(s.display for s in read_script(table).segments)
    assert "|" not in words and "---" not in words and "Reds, 3" in words and "Blues, 1" in words
    cues = tmp_path / "cues.srt"
    cues.write_text("1\n00:00:01,000 --> 00:00:03,000\n{\\an8}<i>Breaking</i> news [pause 1s] tonight.\n")
    (segment,) = read_script(cues).segments
    assert segment.display == "Breaking news tonight." and segment.start_s == 1.0
