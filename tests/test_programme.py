"""The programme around and under the presenter: intro and outro clips joined without a glitch, a music bed ducked
under speech with the mix at the loudness target, and several layouts from one render."""
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from announcer import RenderRequest
from announcer.compose.bookends import bookend_decode_command, load_bookend
from announcer.compose.soundtrack import PROGRAMME_RATE, programme_sound
from announcer.config import ProgrammeConfig
from announcer.errors import InputError
from announcer.voice.loudness import normalize_loudness

from .conftest import MEDIA, decode_frames, probe, run_cli, write_script

PORTRAIT = MEDIA / "portraits" / "woman_brown_hair.jpg"
SPEECH = MEDIA / "audio" / "jfk.wav"
TARGET_LUFS = -16.0


def _ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)], check=True)


def ebur128_lufs(path: Path) -> float:
    """Integrated loudness as ffmpeg's own EBU R128 meter reads it (a second meter, not the one that set the gain)."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", out)[-1])


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """A stand-in music bed (a pulsing chord in stereo), an intro with a 440 Hz tone at another size and frame rate,
    and a silent red outro in portrait."""
    folder = tmp_path_factory.mktemp("programme")
    chord = "0.3*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*2*t))+0.2*sin(2*PI*277.2*t)+0.2*sin(2*PI*329.6*t)"
    _ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{chord}':s=44100:d=6", "-ac", "2", folder / "bed.wav")
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=1.2", "-f", "lavfi", "-i", "sine=f=440:d=1.2",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", folder / "intro.mp4")
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=720x1280:r=25:d=0.8", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            folder / "outro.mp4")
    return {"bed": folder / "bed.wav", "intro": folder / "intro.mp4", "outro": folder / "outro.mp4"}


def _speech() -> tuple[np.ndarray, int]:
    audio, rate = soundfile.read(SPEECH, dtype="float32")
    return normalize_loudness(audio, rate, TARGET_LUFS, -1.0)[0], rate


def _level_db(audio: np.ndarray, start_s: float, end_s: float) -> float:
    part = audio[int(start_s * PROGRAMME_RATE):int(end_s * PROGRAMME_RATE)].astype(np.float64)
    return 10 * np.log10(np.mean(part ** 2) + 1e-20)


def test_the_bed_sits_12_db_under_speech_on_the_stems_and_the_mix_meets_the_target(media, tmp_path):
    speech, rate = _speech()
    sound = programme_sound(speech, rate, len(speech) / rate + 0.5, None, None, media["bed"], ProgrammeConfig(),
                            TARGET_LUFS, -1.0)
    for name, audio in (("speech", sound.speech), ("bed", sound.bed), ("mix", sound.audio)):
        soundfile.write(tmp_path / f"{name}.wav", audio, PROGRAMME_RATE, subtype="FLOAT")
    speech_lufs, bed_lufs = ebur128_lufs(tmp_path / "speech.wav"), ebur128_lufs(tmp_path / "bed.wav")
    assert speech_lufs - bed_lufs >= 12
    assert abs(ebur128_lufs(tmp_path / "mix.wav") - TARGET_LUFS) <= 0.5
    assert sound.true_peak_dbtp <= -1.0 + 0.1
    report = sound.bed_report()
    assert report["speech_over_bed_db"] >= 12 and report["speech_over_bed_while_speaking_db"] >= 12
    # jfk.wav: "And so, my fellow Americans," then a pause from 2.2 s to 3.2 s: the bed rises in it, and dips again
    assert _level_db(sound.bed, 2.8, 3.15) - _level_db(sound.bed, 1.0, 1.9) >= 8
    assert _level_db(sound.bed, 2.8, 3.15) - _level_db(sound.bed, 3.5, 3.65) >= 8


def test_the_mix_is_the_speech_plus_the_bed_and_nothing_else(media):
    speech, rate = _speech()
    sound = programme_sound(speech, rate, len(speech) / rate, None, None, media["bed"], ProgrammeConfig(), TARGET_LUFS, -1.0)
    residual = sound.audio - (sound.speech + sound.bed)
    assert np.sqrt(np.mean(residual ** 2)) < 0.01 * np.sqrt(np.mean(sound.audio ** 2))  # only the limiter's touch


def test_without_a_bed_the_programme_is_intro_speech_outro_in_that_order(media):
    speech, rate = _speech()
    intro, outro = load_bookend(media["intro"], "intro", 25), load_bookend(media["outro"], "outro", 25)
    sound = programme_sound(speech, rate, 11.5, intro.audio, outro.audio, None, ProgrammeConfig(), TARGET_LUFS, -1.0)
    assert len(sound.audio) == len(intro.audio) + round(11.5 * PROGRAMME_RATE) + len(outro.audio)
    assert sound.bed is None and abs(sound.loudness_lufs - TARGET_LUFS) <= 0.5
    tone = sound.audio[PROGRAMME_RATE // 10:len(intro.audio) - PROGRAMME_RATE // 10]
    spectrum = np.abs(np.fft.rfft(tone))
    assert abs(np.argmax(spectrum) * PROGRAMME_RATE / len(tone) - 440) < 3  # the intro's own sound, first
    assert np.abs(sound.audio[-len(outro.audio):]).max() < 1e-4  # the outro is silent


def test_a_bookend_is_fitted_inside_the_picture_with_bars_never_cropped(media):
    outro = load_bookend(media["outro"], "outro", 25)
    assert outro.n_frames == 20 and len(outro.audio) == round(0.8 * PROGRAMME_RATE)
    frames = np.concatenate(list(outro.frames((640, 360))))
    assert frames.shape == (20, 360, 640, 3)
    middle, bars = frames[:, :, 320], frames[:, :, :100]
    assert (middle[..., 0] > 200).all() and (middle[..., 1] < 60).all()  # red, top to bottom
    assert bars.max() < 20  # black bars either side of a portrait clip
    assert "-vf" in bookend_decode_command(media["outro"], (640, 360), 25)  # a command as data, never a shell


def test_bookends_and_beds_that_cannot_be_used_are_refused_naming_the_file(media, tmp_path):
    with pytest.raises(InputError, match="bed.wav: intro has no pictures"):
        load_bookend(media["bed"], "intro", 25)
    silence = tmp_path / "silence.wav"
    soundfile.write(silence, np.zeros(48000 * 2, np.float32), 48000)
    speech, rate = _speech()
    with pytest.raises(InputError, match="silence.wav: music bed is shorter than a second or silent"):
        programme_sound(speech, rate, 5.0, None, None, silence, ProgrammeConfig(), TARGET_LUFS, -1.0)
    with pytest.raises(InputError, match="music level"):
        ProgrammeConfig(music_level_db=6).validate()


def test_a_missing_intro_fails_in_one_line_before_any_work_and_leaves_nothing(media, home, tmp_path):
    script = write_script(tmp_path, "news.md", "---\nintro: sting.mp4\n---\nGood evening.\n")
    result = run_cli("render", script, "--avatar", PORTRAIT, "-o", tmp_path / "out" / "clip.mp4", cwd=tmp_path, home=home)
    assert result.returncode != 0
    assert re.search(r"news\.md:2: front matter intro: file not found: .*sting\.mp4", result.stderr)
    assert not list((tmp_path / "out").glob("*.mp4"))
    result = run_cli("render", script, "--layouts", "16:9,7:5", cwd=tmp_path, home=home)
    assert result.returncode != 0 and "unknown layout 7:5" in result.stderr


@pytest.mark.slow
def test_intro_presenter_and_outro_join_without_a_glitch_in_each_layout(pipeline, media, tmp_path):
    script = write_script(tmp_path, "news.md", "Good evening. Here is the news at nine.\n")
    result = pipeline.render(RenderRequest(script=script, avatar=PORTRAIT, output=tmp_path / "clip.mp4",
                                           settings={"layouts": ["16:9", "9:16"], "intro": str(media["intro"]),
                                                     "outro": str(media["outro"]), "music": str(media["bed"])}))
    assert [o.video.name for o in result.all_outputs()] == ["clip.16x9.mp4", "clip.9x16.mp4"]
    assert not (tmp_path / "clip.mp4").exists()
    intro_frames, outro_frames = 30, 20  # 1.2 s and 0.8 s at 25 fps
    for outputs, size in zip(result.all_outputs(), [(1920, 1080), (1080, 1920)], strict=True):
        manifest = json.loads(outputs.manifest.read_text())
        streams = {s["codec_type"]: s for s in probe(outputs.video)["streams"]}
        assert (streams["video"]["width"], streams["video"]["height"]) == size
        n_frames = int(streams["video"]["nb_frames"])
        assert n_frames == manifest["video"]["frames"] > intro_frames + outro_frames
        assert abs(float(streams["audio"]["duration"]) - n_frames / 25) <= 1 / 25  # sound and pictures end together
        _assert_constant_frame_rate(outputs.video)
        frames = decode_frames(outputs.video)
        expected_intro = np.concatenate(list(load_bookend(media["intro"], "intro", 25).frames(size)))
        assert np.abs(frames[:intro_frames].astype(int) - expected_intro).mean() < 6  # the intro, frame for frame
        assert np.abs(frames[intro_frames].astype(int) - expected_intro[-1]).mean() > 30  # then the presenter at once
        tail = frames[-outro_frames:, size[1] // 2, size[0] // 2]
        assert (tail[:, 0] > 200).all() and (tail[:, 1] < 60).all()  # the outro, to the last frame
        assert not (frames[-outro_frames - 1, size[1] // 2, size[0] // 2, 0] > 200 and
                    frames[-outro_frames - 1, size[1] // 2, size[0] // 2, 1] < 60)
        assert abs(ebur128_lufs(outputs.video) - TARGET_LUFS) <= 0.5
        assert manifest["programme"]["music"]["speech_over_bed_db"] >= 12
        first_cue = outputs.subtitles_srt.read_text().splitlines()[1]
        assert first_cue.startswith("00:00:01,2") or first_cue > "00:00:01,200"  # subtitles start after the intro
        assert manifest["captions"][0]["start"] >= 1.2 and manifest["video"]["presenter_from_s"] == 1.2
        assert manifest["other_layouts"] == [o.video.name for o in result.all_outputs() if o != outputs]


def _assert_constant_frame_rate(video: Path) -> None:
    """Every frame 1/25 s after the one before: no timestamp jump, frozen or doubled frame at the joins."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                          "-of", "csv=p=0", str(video)], capture_output=True, text=True, check=True).stdout
    times = np.array([float(line.strip().strip(",")) for line in out.split() if line.strip()])
    assert np.allclose(np.diff(np.sort(times)), 1 / 25, atol=1e-3)
