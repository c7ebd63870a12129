"""The face acts the script, on real renders of the shared portraits and a talking video, measured as a viewer's eye
would be by MediaPipe re-detecting every frame: the smile follows the tone, the head beats on accented words, the
brows rise on emphasis, and expressiveness 0 is the still face of before."""
import json

import cv2
import numpy as np
import pytest

from announcer.api import RenderRequest
from announcer.eval.acting import (BEAT_WINDOW_S, BROW_WINDOW_S, acting_statistics, beat_times, brow_raise_times,
                                   hit_rate, shuffled_hit_rate)

from .conftest import MEDIA, decode_frames, write_script

BULLETIN = """Good evening, and welcome to the news at six. It is lovely to have you with us.

Three people died overnight when a fire swept through an apartment block. Two children remain in hospital.

In sport, the home side won the cup for the *first* time in forty years, and the fans *celebrated* in the streets.

That is all from us tonight. Have a wonderful evening.
"""
FPS = 25


def rendered(pipeline, tmp_path, avatar: str, settings: dict | None = None, text: str = BULLETIN, closeups: bool = False):
    """(manifest, MediaPipe's readings of every frame, the frames) of the bulletin read by `avatar`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    script = write_script(tmp_path, "bulletin.md", text)
    out = tmp_path / f"{avatar.split('/')[-1]}.mp4"
    pipeline.render(RenderRequest(script=script, avatar=MEDIA / avatar, output=out, settings=settings or {},
                                  closeups=closeups))
    frames = decode_frames(out)
    return json.loads(out.with_suffix(".json").read_text()), pipeline.runtime.face_meter.read(frames), frames


def by_tone(manifest: dict, values: np.ndarray) -> dict[str, float]:
    """The mean of a per-frame reading over each tone's sentences."""
    spans: dict[str, list[float]] = {}
    for caption, tone in zip(manifest["captions"], manifest["tones"], strict=True):
        frames = slice(int(caption["start"] * FPS), int(caption["end"] * FPS))
        spans.setdefault(tone["tone"], []).extend(values[frames][~np.isnan(values[frames])])
    return {tone: float(np.mean(found)) for tone, found in spans.items()}


@pytest.mark.slow
@pytest.mark.parametrize("portrait", ["woman_smile.png", "woman_brown_hair.jpg"])
def test_a_portrait_reads_the_deaths_without_a_smile_and_beats_on_its_words(pipeline, tmp_path, face_stage, portrait):
    manifest, readings, frames = rendered(pipeline, tmp_path, f"portraits/{portrait}", closeups=True)
    assert [t["tone"] for t in manifest["tones"]] == ["warm", "warm", "grave", "grave", "warm", "warm", "warm"]
    smile = by_tone(manifest, readings.smile)
    assert smile["warm"] - smile["grave"] >= 0.15
    own = float(pipeline.runtime.face_meter.read(cv2.cvtColor(cv2.imread(str(MEDIA / "portraits" / portrait)),
                                                              cv2.COLOR_BGR2RGB)[None]).smile[0])
    if own > 0.2:  # a smiling photo: the grave lines at most half its own smile
        assert smile["grave"] <= own / 2
    figures = acting_statistics(readings, FPS)
    assert 1.5 <= figures["pitch_std_deg"] <= 4 and 0.5 <= figures["yaw_std_deg"] <= 3 and 0.5 <= figures["roll_std_deg"] <= 3
    assert figures["pitch_speed_p95_deg_s"] <= 30 and figures["longest_frozen_s"] == 0
    beats, duration = np.array(manifest["acting"]["head_beats_s"]), len(frames) / FPS
    measured = beat_times(readings, FPS)
    assert hit_rate(measured, beats, BEAT_WINDOW_S) >= 0.6
    assert hit_rate(measured, beats, BEAT_WINDOW_S) >= shuffled_hit_rate(measured, beats, BEAT_WINDOW_S, duration) + 0.15
    emphasised = np.array(manifest["acting"]["emphasised_s"])
    assert len(emphasised) == 2 and hit_rate(brow_raise_times(readings, FPS), emphasised, BROW_WINDOW_S) >= 0.5
    assert 0.05 <= figures["brow_raises_per_s"] <= 0.3
    sheet = cv2.imread(str((tmp_path / f"{portrait}.mp4").with_suffix(".tone.png")))
    assert sheet is not None and sheet.shape[0] > 400  # two rows of sentences


@pytest.mark.slow
def test_expressiveness_0_is_the_still_face_whatever_the_text_says(pipeline, tmp_path):
    still = {"expressiveness": 0}
    tagged, _, acted = rendered(pipeline, tmp_path / "a", "portraits/woman_white_top.png", still,
                                "[tone grave] Good *evening*, and welcome.\n")
    plain, _, unacted = rendered(pipeline, tmp_path / "b", "portraits/woman_white_top.png", still,
                                 "[tone warm] Good evening, and welcome.\n")
    assert tagged["acting"]["expressiveness"] == 0 and not tagged["acting"]["head_beats_s"]
    assert np.array_equal(acted, unacted)  # neither the tone nor the emphasis moves anything
    _, _, lively = rendered(pipeline, tmp_path / "c", "portraits/woman_white_top.png", {"expressiveness": 1},
                            "[tone grave] Good *evening*, and welcome.\n")
    assert lively.shape == acted.shape and not np.array_equal(lively, acted)


@pytest.mark.slow
def test_a_video_presenter_smiles_with_the_tone_and_nods_on_top_of_the_footage(pipeline, tmp_path):
    manifest, readings, frames = rendered(pipeline, tmp_path, "videos/talk_face1.mp4")
    smile = by_tone(manifest, readings.smile)
    assert smile["warm"] - smile["grave"] >= 0.15
    beats, duration = np.array(manifest["acting"]["head_beats_s"]), len(frames) / FPS
    measured = beat_times(readings, FPS)
    assert hit_rate(measured, beats, BEAT_WINDOW_S) >= shuffled_hit_rate(measured, beats, BEAT_WINDOW_S, duration) + 0.15
