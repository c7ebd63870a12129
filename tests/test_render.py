"""End to end on the real media: script in, clip out; probed, re-detected and compared with the avatar."""
import importlib.util
import json
from pathlib import Path
import subprocess

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from announcer import RenderRequest
from announcer.face import Avatar, layout, load_avatar
from announcer.motion.idle import ping_pong

from .conftest import MEDIA, decode_frames, probe, run_cli, write_script

pytestmark = pytest.mark.slow
FPS = 25


def render_clip(pipeline, folder, avatar, script_name, script_text, audio=None):
    script = write_script(folder, script_name, script_text)
    output = folder / f"{script.stem}.mp4"
    return pipeline.render(RenderRequest(avatar=avatar, output=output, script=script, audio=audio)), avatar


@pytest.fixture(scope="module")
def photo_clip(pipeline, tmp_path_factory):
    return render_clip(pipeline, tmp_path_factory.mktemp("photo"), MEDIA / "portraits" / "woman_brown_hair.jpg", "news.md",
                       "---\ntitle: Evening news\nvoice: piper\n---\n"
                       "Good evening. [pause 1200ms] Tonight, mayors from twelve cities met in Seoul.\n")


@pytest.fixture(scope="module")
def video_clip(pipeline, tmp_path_factory):
    return render_clip(pipeline, tmp_path_factory.mktemp("video"), MEDIA / "videos" / "talk_480.mp4", "ko.md",
                       "---\nvoice: espeak\nlanguage: ko\n---\n안녕하세요. 오늘의 뉴스입니다. [pause 1s] 감사합니다.\n")


@pytest.fixture(scope="module")
def narration_clip(pipeline, tmp_path_factory):
    return render_clip(pipeline, tmp_path_factory.mktemp("narration"), MEDIA / "portraits" / "woman_white_top.png", "jfk.txt",
                       (MEDIA / "audio" / "jfk.txt").read_text(), audio=MEDIA / "audio" / "jfk.wav")


def assert_deliverables(result):
    outputs = result.outputs
    for path in outputs.all():
        assert path.is_file() and path.stat().st_size > 0
    assert not [p for p in outputs.video.parent.iterdir() if ".part" in p.name]
    info = probe(outputs.video)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p" and video["r_frame_rate"] == "25/1"
    assert audio["codec_name"] == "aac" and audio["sample_rate"] == "48000"
    assert abs(float(video["duration"]) - float(audio["duration"])) <= 1 / FPS
    head = outputs.video.read_bytes()[:200_000]
    assert head.find(b"moov") < head.find(b"mdat") or head.find(b"mdat") == -1  # +faststart: index first
    manifest = json.loads(outputs.manifest.read_text())
    assert manifest["video"]["frames"] == int(video["nb_frames"])
    shas = {m["sha256"] for m in manifest["models"]}
    assert "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff" in shas  # face landmarker
    thumbnail = cv2.imread(str(outputs.thumbnail))
    assert thumbnail.shape[:2] == (int(video["height"]), int(video["width"]))
    srt = outputs.subtitles_srt.read_text()
    assert srt.startswith("1\n00:00:") and outputs.subtitles_vtt.read_text().startswith("WEBVTT")
    return manifest


def speech_and_silence_frames(manifest, n_frames):
    times = (np.arange(n_frames) + 0.5) / FPS
    speaking = np.zeros(n_frames, bool)
    near_speech = np.zeros(n_frames, bool)
    for caption in manifest["captions"]:
        speaking |= (times > caption["start"] + 0.15) & (times < caption["end"] - 0.15)
        near_speech |= (times > caption["start"] - 0.25) & (times < caption["end"] + 0.25)
    return speaking, ~near_speech


def speech_and_silence_from_audio(video, n_frames):
    """For recorded speech: loud frames are speech; frames in a quiet stretch of 200 ms or more are silence."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    audio = np.frombuffer(raw, np.float32)[:n_frames * 640]
    rms = np.sqrt((np.pad(audio, (0, n_frames * 640 - len(audio))).reshape(n_frames, 640) ** 2).mean(axis=1))
    loud = rms > 0.1 * rms.max()
    quiet = rms < 0.03 * rms.max()
    run = 5
    silent = np.array([quiet[max(0, k - run // 2):k + run // 2 + 1].all() for k in range(n_frames)])
    return loud, silent


def assert_lips_follow_speech(face_stage, result, speech_max_floor=0.06, from_audio=False):
    frames = decode_frames(result.outputs.video)
    landmarks = face_stage.landmarker.landmarks(frames, FPS)
    found = ~np.isnan(landmarks[:, 0, 0])
    assert found.mean() > 0.95
    opening = layout.mouth_opening(landmarks)
    speaking, silent = speech_and_silence_from_audio(result.outputs.video, len(frames)) if from_audio else \
        speech_and_silence_frames(result.manifest, len(frames))
    speaking &= found
    silent &= found
    assert speaking.sum() > 10 and silent.sum() > 5
    assert np.nanmax(opening[speaking]) > speech_max_floor
    assert np.nanpercentile(opening[speaking], 75) > np.nanmedian(opening[silent]) + 0.02
    assert np.nanpercentile(opening[silent], 90) < 0.05  # closed in silence
    return frames, landmarks


def upper_face_ssim(frame, frame_points, reference, reference_points):
    """SSIM of the eyes-brows-nose region after aligning the frame to the reference by those landmarks."""
    matrix, _ = cv2.estimateAffinePartial2D(frame_points[layout.UPPER_FACE], reference_points[layout.UPPER_FACE])
    aligned = cv2.warpAffine(frame, matrix, (reference.shape[1], reference.shape[0]))
    x0, y0 = reference_points[layout.UPPER_FACE].min(axis=0).astype(int)
    x1, y1 = reference_points[layout.UPPER_FACE].max(axis=0).astype(int)
    gray = [cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY) for image in (aligned, reference)]
    return structural_similarity(gray[0], gray[1])


def test_photo_avatar_clip(photo_clip, face_stage):
    result, avatar_path = photo_clip
    manifest = assert_deliverables(result)
    assert manifest["voice"]["engine"] == "piper" and abs(manifest["voice"]["loudness_lufs"] - -16) < 0.5
    assert manifest["inputs"]["title"] == "Evening news" and manifest["video"]["motion_driver"] == "phonemes"
    frames, landmarks = assert_lips_follow_speech(face_stage, result)
    avatar = load_avatar(avatar_path, None, 1080, 1)
    reference = face_stage(avatar).landmarks[0]
    assert frames.shape[1:3] == avatar.frames.shape[1:3]
    eyes_open = layout.eye_opening(landmarks) > 0.8 * layout.eye_opening(reference)
    blinking = layout.eye_opening(landmarks) < 0.6 * layout.eye_opening(reference)  # MediaPipe reads a shut lid as ~0.45
    assert 0 < blinking.sum() < 0.1 * len(frames)  # the photo blinks, briefly
    scores = [upper_face_ssim(frames[k], landmarks[k], avatar.frames[0], reference) for k in np.flatnonzero(eyes_open)[::4]]
    assert np.median(scores) > 0.85
    # The far background never moves: the warp is confined to the face region.
    assert np.abs(frames[:, :20, :20].astype(int) - avatar.frames[0, :20, :20].astype(int)).mean() < 3


def test_video_avatar_clip_in_korean(video_clip, face_stage):
    result, avatar_path = video_clip
    manifest = assert_deliverables(result)
    assert manifest["inputs"]["language"] == "ko" and manifest["voice"]["engine"] == "espeak"
    assert "안녕하세요." in result.outputs.subtitles_srt.read_text()
    frames, landmarks = assert_lips_follow_speech(face_stage, result, speech_max_floor=0.05)
    avatar = load_avatar(avatar_path, None, 1080, 60)
    source = ping_pong(len(frames), FPS, len(avatar.frames), avatar.fps)
    reference_points = face_stage(avatar).landmarks
    scores = [upper_face_ssim(frames[k], landmarks[k], avatar.frames[source[k]], reference_points[source[k]])
              for k in range(0, len(frames), 6)]
    assert np.median(scores) > 0.8
    # Outside the face, each frame is the avatar footage it was drawn from (up to H.264 loss).
    corner = np.abs(frames[:, :48, :48].astype(float) - avatar.frames[source][:, :48, :48].astype(float)).mean()
    assert corner < 6


def test_recorded_narration_clip(narration_clip, face_stage):
    result, _ = narration_clip
    manifest = assert_deliverables(result)
    # English narration is aligned to phonemes, which drive the mouth; the recogniser's files are in the manifest.
    assert manifest["video"]["motion_driver"] == "phonemes" and manifest["voice"]["engine"] == "narration"
    assert any(model["path"].endswith("en-us.lm.bin") and len(model["sha256"]) == 64 for model in manifest["models"])
    assert 10.5 < manifest["video"]["duration_s"] < 11.6
    assert "ask not what your country can do for you" in result.outputs.subtitles_vtt.read_text().lower().replace("\n", " ")
    assert_lips_follow_speech(face_stage, result, speech_max_floor=0.05, from_audio=True)


def test_second_render_reuses_cached_stages(photo_clip, pipeline, tmp_path):
    result, avatar = photo_clip
    cache_files = sorted(pipeline.cache.root.rglob("*.npz"))
    again = pipeline.render(RenderRequest(avatar=avatar, output=tmp_path / "again.mp4",
                                          script=result.manifest["inputs"]["script"]["path"]))
    assert sorted(pipeline.cache.root.rglob("*.npz")) == cache_files
    first = subprocess.run(["ffmpeg", "-v", "error", "-i", str(result.outputs.video), "-f", "s16le", "-"], capture_output=True).stdout
    second = subprocess.run(["ffmpeg", "-v", "error", "-i", str(again.outputs.video), "-f", "s16le", "-"], capture_output=True).stdout
    assert first == second


def test_speech_made_on_one_device_is_reused_on_another(pipeline, tmp_path):
    """A cluster makes the speech in a CPU task and renders in a GPU task: the voice artifact must not
    depend on the device it was made on, or the GPU task synthesises it again."""
    script = write_script(tmp_path, "device.txt", "The speech is made once, wherever it is made.")
    avatar = MEDIA / "portraits" / "woman_smile.png"

    def voice_artifacts():
        return set((pipeline.cache.root / "voice").glob("*.json"))

    before, own_device = voice_artifacts(), pipeline.device
    try:
        for device in ("cpu", "cuda:1"):  # the voice config carries the device its pipeline runs on
            pipeline.device = device
            pipeline.prepare(RenderRequest(avatar=avatar, output=tmp_path / "clip.mp4", script=script,
                                           settings={"voice": "espeak"}))
    finally:
        pipeline.device = own_device
    assert len(voice_artifacts() - before) == 1


def test_second_render_of_a_narration_reuses_its_alignment(narration_clip, pipeline, tmp_path):
    result, avatar = narration_clip

    def narration_artifacts():
        # This clip's narration only: other tests render other narration with the same pipeline.
        return {p: p.stat().st_mtime_ns for p in (pipeline.cache.root / "voice").glob("*.json")
                if json.loads(p.read_text())["meta"]["engine"] == "narration"
                and json.loads(p.read_text())["meta"]["voice"] == "jfk.wav"}

    before = narration_artifacts()
    assert len(before) == 1  # the aligned narration was kept in the work dir
    again = pipeline.render(RenderRequest(avatar=avatar, output=tmp_path / "again.mp4", audio=MEDIA / "audio" / "jfk.wav",
                                          script=result.manifest["inputs"]["script"]["path"]))
    assert narration_artifacts() == before  # read back, not aligned and written again
    assert again.manifest["captions"] == result.manifest["captions"]


def test_cli_renders_with_front_matter_avatar_and_flags_win(tmp_path, home):
    avatar = MEDIA / "portraits" / "woman_smile.png"
    write_script(tmp_path, "short.md", f"---\navatar: {avatar}\nvoice: piper\nlanguage: en\noutput: bulletin\n---\n"
                 "Hello and welcome.\n")
    done = run_cli("render", "short.md", "--quiet", "--voice", "espeak:en-us", "--loudness", "broadcast", cwd=tmp_path, home=home)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "bulletin.json").read_text())
    assert manifest["voice"]["engine"] == "espeak" and manifest["voice"]["voice"] == "en-us"  # the flag beats front matter
    assert abs(manifest["voice"]["loudness_lufs"] - -23) < 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bulletin.jpg", "bulletin.json", "bulletin.mp4", "bulletin.srt",
                                                          "bulletin.vtt", "short.md"]


@pytest.mark.slow
def test_with_no_avatar_the_default_presenter_reads(tmp_path, face_stage):
    """The README's first command: no --avatar, and nothing from ../shared/media."""
    write_script(tmp_path, "hello.txt", "Good evening.\n")
    home = tmp_path / "home"
    done = run_cli("render", "hello.txt", "--quiet", "-o", "hello.mp4", cwd=tmp_path, home=home)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "hello.json").read_text())
    assert Path(manifest["inputs"]["avatar"]["path"]) == home / "avatars" / "default-presenter.png"
    assert (manifest["video"]["width"], manifest["video"]["height"]) == (384, 384)
    frames = decode_frames(tmp_path / "hello.mp4")
    track = face_stage(Avatar(tmp_path / "f.png", frames[len(frames) // 2][None], 0.0, False, "x"))
    assert 150 < track.landmarks[0][:, 0].mean() < 230  # her face, in the upper middle of the frame


def test_json_errors_for_schedulers(tmp_path, home):
    done = run_cli("render", "missing.md", "--avatar", "x.jpg", "--json", "-o", tmp_path / "o.mp4", cwd=tmp_path, home=home)
    assert done.returncode == 2
    error = json.loads(done.stderr.strip().splitlines()[-1])
    assert error["level"] == "error" and error["exit_code"] == 2 and error["path"].endswith("missing.md")


def test_doctor_and_voices(tmp_path, home):
    doctor = run_cli("doctor", cwd=tmp_path, home=home)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    report = doctor.stdout
    for line in ("ok       ffmpeg", "ok       model face_landmarker", "ok       model yunet", "ok       voice espeak",
                 "ok       narration aligner", "ok       narration phones"):
        assert line in report
    assert "cuda" in report
    voices = run_cli("voices", "--json", cwd=tmp_path, home=home)
    entries = list(map(json.loads, voices.stdout.strip().splitlines()))
    catalogued = {entry["voice"]: entry for entry in entries if "voice" in entry}
    assert catalogued["piper:en_US-joe-medium"]["installed"] and not catalogued["piper:de_DE-thorsten-medium"]["installed"]
    assert "supertonic:F1" in catalogued
    listed = {entry["engine"]: entry["voices"] for entry in entries if "voices" in entry}
    assert "ko" in listed["espeak"] and "en-us" in [name.lower() for name in listed["espeak"]]
    zoo_names = [entry.split(" ")[0] for entry in listed["coqui"] if entry.startswith("tts_models/")]
    assert zoo_names
    spec = importlib.util.find_spec("TTS")
    if spec is not None:  # each listed model is one the installed coqui-tts knows by that name
        zoo = json.loads((Path(spec.origin).parent / ".models.json").read_text())["tts_models"]
        for name in zoo_names:
            _, language, dataset, model = name.split("/")
            assert model in zoo.get(language, {}).get(dataset, {}), name
