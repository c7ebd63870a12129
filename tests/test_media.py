"""Stage 7 pieces: the ffmpeg command as data, subtitles, atomic delivery."""

import pytest

from announcer.config import EncodeConfig
from announcer.deliver import OutputSet, StagedOutputs
from announcer.errors import InputError
from announcer.media.encode import encode_command
from announcer.media.subtitles import display_width, to_srt, to_vtt, wrap_columns
from announcer.voice.types import TimedUnit


def test_encode_command_is_an_argument_list_with_broadcast_settings(tmp_path):
    args = encode_command(tmp_path / "out.mp4", tmp_path / "voice.wav", (1280, 720), 25, 250, EncodeConfig(crf=18))
    assert isinstance(args, list) and args[0].endswith("ffmpeg")
    joined = " ".join(args)
    for expected in ("-f rawvideo", "-pix_fmt rgb24", "-s 1280x720", "-framerate 25", "-vcodec libx264",
                     "-pix_fmt yuv420p", "-crf 18", "-acodec aac", "-ar 48000", "-movflags +faststart", "-t 10.000000"):
        assert expected in joined
    assert str(tmp_path / "out.mp4") in args and "pipe:" in args and "-y" in args


def test_subtitles_split_long_lines_and_keep_times():
    captions = [TimedUnit("Short one.", 0.4, 0.8),  # a 0.7 s pause after it: long enough to clear the screen
                TimedUnit("This is a much longer sentence that will not fit on two subtitle lines of forty-two "
                          "characters each, so it has to become two cues.", 1.5, 9.5)]
    srt = to_srt(captions)
    assert srt.startswith("1\n00:00:00,400 --> 00:00:00,800\nShort one.\n")
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == 3
    for block in blocks:
        for line in block.split("\n")[2:]:
            assert len(line) <= 42
    assert "00:00:09,500" in blocks[-1]
    vtt = to_vtt(captions)
    assert vtt.startswith("WEBVTT\n\n00:00:00.400 --> 00:00:00.800\nShort one.")


def test_staged_outputs_appear_together_or_not_at_all(tmp_path):
    outputs = OutputSet.for_path(tmp_path / "clip.mp4")
    staged = StagedOutputs(outputs)
    staged.write_text(outputs.subtitles_srt, "1\n")
    staged.write_text(outputs.manifest, "{}")
    assert not outputs.subtitles_srt.exists() and len(list(tmp_path.iterdir())) == 2
    staged.discard()
    assert list(tmp_path.iterdir()) == []
    staged.write_text(outputs.subtitles_srt, "1\n")
    staged.commit()
    assert outputs.subtitles_srt.read_text() == "1\n" and list(tmp_path.iterdir()) == [outputs.subtitles_srt]


def test_output_names_from_scripts_stay_inside_the_output_folder(tmp_path):
    assert OutputSet.inside(tmp_path, "bulletin").video == (tmp_path / "bulletin.mp4").resolve()
    for bad in ("../escape", "/etc/passwd", "a/../../b"):
        with pytest.raises(InputError, match="outside"):
            OutputSet.inside(tmp_path, bad)
    with pytest.raises(InputError, match=".mp4"):
        OutputSet.for_path(tmp_path / "clip.mov")
    assert OutputSet.for_path(tmp_path / "new" / "folder" / "clip.mp4").video.parent.is_dir()  # made for the clip
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(InputError, match="cannot create the output folder"):
        OutputSet.for_path(tmp_path / "taken" / "clip.mp4")


@pytest.mark.parametrize("video", ["talk_480.mp4", "talk_vertical_hevc_1080x1920.mp4"])
def test_probe_without_ffprobe_reads_the_same_facts(video, monkeypatch):
    """Where only ffmpeg exists (imageio-ffmpeg's binary), the banner gives what ffprobe would."""
    from announcer.media import ffmpeg as media_ffmpeg

    from .conftest import MEDIA

    path = MEDIA / "videos" / video
    real = media_ffmpeg.probe(path)
    monkeypatch.setattr(media_ffmpeg, "ffprobe_binary", lambda: None)
    parsed = media_ffmpeg.probe(path)
    real_video = next(s for s in real["streams"] if s["codec_type"] == "video")
    parsed_video = next(s for s in parsed["streams"] if s["codec_type"] == "video")
    assert (parsed_video["width"], parsed_video["height"]) == (real_video["width"], real_video["height"])
    assert parsed_video["codec_name"] == real_video["codec_name"]
    assert float(parsed_video["avg_frame_rate"]) == pytest.approx(25)
    assert [s["codec_type"] for s in parsed["streams"]] == [s["codec_type"] for s in real["streams"]]
    with pytest.raises(InputError, match="cannot read media"):
        media_ffmpeg.probe(MEDIA / "audio" / "jfk.txt")


def test_korean_subtitles_break_between_eojeol_within_the_width_a_screen_gives_them():
    sentence = ("서울시는 오늘 2026년 12월 1일 오전 열 시, 시청 대회의실에서 열두 개 도시의 시장들이 참석한 가운데 "
                "기후 대응 협약을 체결했다고 밝혔습니다.")
    blocks = to_srt([TimedUnit(sentence, 0.0, 8.0)]).strip().split("\n\n")
    lines = [line for block in blocks for line in block.split("\n")[2:]]
    assert len(blocks) == 2 and all(len(block.split("\n")[2:]) <= 2 for block in blocks)
    assert " ".join(lines) == sentence  # every break is at a space: no eojeol is cut
    assert all(display_width(line) <= 42 for line in lines)  # a syllable takes two columns: about 21 per line
    assert max(sum("가" <= ch <= "힣" for ch in line) for line in lines) <= 21
    assert display_width("한국어 news") == 11 and display_width("é") == 1


def test_text_without_spaces_is_cut_only_where_a_line_is_full():
    japanese = "今日は東京で十二の都市の市長が集まり、気候変動への対応について話し合いました。"
    lines = wrap_columns(japanese, 42)
    assert "".join(lines) == japanese and [display_width(line) for line in lines] == [42, 36]


def test_a_cue_stays_up_through_a_short_pause_but_not_a_long_one():
    from announcer.media.subtitles import CUE_GAP_S, readable_cues

    captions = [TimedUnit("Good evening.", 0.0, 1.2), TimedUnit("Here is the news.", 1.5, 2.8),
                TimedUnit("After a long pause.", 4.0, 5.0)]
    cues = readable_cues(captions)
    assert abs(cues[0].end - (1.5 - CUE_GAP_S)) < 1e-9  # held through the 0.3 s breath, two frames short of the next
    assert cues[1].end == 2.8 and cues[2].start == 4.0  # a 1.2 s pause still clears the screen
    blocks = to_srt(captions).split("\n\n")
    assert "00:00:01,420" in blocks[0] and "00:00:02,800" in blocks[1]


def test_no_captions_make_empty_subtitle_files_not_an_error():
    """Narration with no script has no captions: the .srt is empty and the .vtt only its header."""
    from announcer.media.subtitles import readable_cues

    assert readable_cues([]) == [] and to_srt([]) == "" and to_vtt([]).strip() == "WEBVTT"
    one = [TimedUnit("Good evening.", 0.5, 1.5)]
    assert readable_cues(one) == one


def test_frames_are_read_from_ffmpeg_a_batch_at_a_time_exactly_as_decoded_whole(tmp_path):
    import subprocess

    import numpy as np

    from announcer.errors import ToolError
    from announcer.media.ffmpeg import ffmpeg_binary
    from announcer.media.frames import FrameReader, read_all

    command = [ffmpeg_binary(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=25:d=1.2", "-f", "rawvideo",
               "-pix_fmt", "rgb24", "pipe:1"]
    whole = np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, np.uint8).reshape(-1, 64, 96, 3)
    with FrameReader(command, (96, 64)) as reader:
        batches = list(reader.batches(7))
    assert [len(b) for b in batches] == [7, 7, 7, 7, 2] and np.array_equal(np.concatenate(batches), whole)
    with FrameReader(command, (96, 64)) as reader:
        assert np.array_equal(read_all(reader, 100), whole) and len(list(reader.batches(4))) == 0
    with FrameReader(command, (96, 64)) as reader:
        assert len(list(reader.batches(8, limit=10))) == 2  # 8 then 2
    broken = [ffmpeg_binary(), "-v", "error", "-i", str(tmp_path / "missing.mp4"), "-f", "rawvideo", "pipe:1"]
    with FrameReader(broken, (96, 64)) as reader, pytest.raises(ToolError) as failed:
        assert len(reader.read(4)) == 0
        reader.finish("decode the missing video")
    assert "missing.mp4" in failed.value.detail
