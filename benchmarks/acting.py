"""Does the face act the script? A four-paragraph bulletin (a greeting, deaths in a fire, a cup win with two
*emphasised* words, a sign-off) is rendered on every shared portrait and on a talking video, and every frame is
re-detected with MediaPipe Face Landmarker (blendshapes and transformation matrix). The real talking videos are
measured the same way, as the yardstick.

    .venv/bin/python benchmarks/acting.py [--expressiveness 0.8] [--portraits woman_smile.png ...] [--no-real]

Per render: the mean smile over warm and over grave sentences (and the photo's own), head pitch/yaw/roll std, the
95th percentile of pitch speed, beats per second, the longest frozen stretch of speech, the share of accented words
with a head-speed peak within -100..+200 ms of their stressed vowel (and the same against shuffled word times), the
share of emphasised words with a brow raise, brow raises per second.

Targets (issue 26): warm minus grave smile >= 0.15 over the portraits, grave <= half the photo's own smile on smiling
photos; pitch std 1.5-4, yaw and roll std 0.5-3; pitch speed p95 <= 30 deg/s; no frozen stretch over 2 s; beat hit
rate >= 0.6 and >= shuffled + 0.15; brow raises on >= half the emphasised words, 0.05-0.3 per second.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from announcer.face.meter import BROW_CHANNELS

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MEDIA = REPO.parent / "shared" / "media"
MODELS = REPO.parent / "shared" / "models"
BULLETIN = """Good evening, and welcome to the news at six. It is lovely to have you with us.

Three people died overnight when a fire swept through an apartment block in the city centre. Firefighters worked for
hours, and two children remain in hospital in a critical condition.

In sport, the home side won the cup for the *first* time in forty years, and thousands of fans *celebrated* in the
streets.

That is all from us tonight. Have a wonderful evening.
"""
FPS = 25
REAL_SECONDS = 20
NEUTRAL_DEGREES = 0.75


def main() -> int:
    from announcer import Pipeline, RenderConfig, RenderRequest
    from announcer.config import FaceConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expressiveness", type=float, default=None)
    parser.add_argument("--portraits", nargs="*", default=sorted(p.name for p in (MEDIA / "portraits").iterdir()))
    parser.add_argument("--videos", nargs="*", default=["talk_face1.mp4"])
    parser.add_argument("--no-real", action="store_true", help="skip measuring the real videos")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bulletin.md"
        script.write_text(BULLETIN)
        config = RenderConfig(face=FaceConfig(models_dir=MODELS), home=Path(folder) / "home", progress=False, device="cpu")
        with Pipeline(config) as pipeline:
            if not args.no_real:
                print_real(pipeline)
            avatars = [MEDIA / "portraits" / name for name in args.portraits] + [MEDIA / "videos" / v for v in args.videos]
            for avatar in avatars:
                out = Path(folder) / f"{avatar.stem}.mp4"
                pipeline.render(RenderRequest(script=script, avatar=avatar, output=out,
                                              settings={"expressiveness": args.expressiveness}))
                rows.append(measure(avatar, out, pipeline))
                print(json.dumps(rows[-1]))
    print_table(rows)
    return 0


def measure(avatar: Path, out: Path, pipeline) -> dict:
    from announcer.eval.acting import (BEAT_WINDOW_S, BROW_WINDOW_S, acting_statistics, beat_times, brow_raise_times,
                                       hit_rate, shuffled_hit_rate)
    from tests.conftest import decode_frames

    meter = pipeline.runtime.face_meter
    manifest = json.loads(out.with_suffix(".json").read_text())
    frames = decode_frames(out)
    readings = meter.read(frames)
    smile = {}
    for caption, tone in zip(manifest["captions"], manifest["tones"], strict=True):
        span = readings.smile[int(caption["start"] * FPS):int(caption["end"] * FPS)]
        smile.setdefault(tone["tone"], []).extend(span[~np.isnan(span)])
    own, identity = float("nan"), float("nan")
    if avatar.suffix.lower() in (".png", ".jpg", ".jpeg"):
        own = float(meter.read(cv2.cvtColor(cv2.imread(str(avatar)), cv2.COLOR_BGR2RGB)[None]).smile[0])
        identity = neutral_upper_face_ssim(avatar, frames, readings, pipeline)
    duration = len(frames) / FPS
    beats, emphasised = np.array(manifest["acting"]["head_beats_s"]), np.array(manifest["acting"]["emphasised_s"])
    peaks = beat_times(readings, FPS)
    return {"avatar": avatar.name, "own_smile": round(own, 3),
            **{f"smile_{tone}": round(float(np.mean(values)), 3) for tone, values in smile.items()},
            **acting_statistics(readings, FPS),
            "beat_hit": round(hit_rate(peaks, beats, BEAT_WINDOW_S), 3),
            "beat_hit_shuffled": round(shuffled_hit_rate(peaks, beats, BEAT_WINDOW_S, duration), 3),
            "brow_on_emphasis": round(hit_rate(brow_raise_times(readings, FPS), emphasised, BROW_WINDOW_S), 3),
            "upper_face_ssim_neutral": round(identity, 4)}


def neutral_upper_face_ssim(avatar: Path, frames: np.ndarray, readings, pipeline) -> float:
    """Identity: the upper face (brows to nose tip) against the photo's, on the frames where the head is back where
    the photo holds it (MediaPipe's angles within NEUTRAL_DEGREES of the photo's), the eyes open and the brows at
    rest, each aligned to the photo first; the mean SSIM, NaN where no frame is neutral."""
    from announcer.eval import metrics
    from announcer.face import load_avatar

    photo = load_avatar(avatar, None, 720, 30)
    points = pipeline.face_track(photo).landmarks[0]
    own = pipeline.runtime.face_meter.read(photo.frames[:1])
    rows, cols = metrics.above_mouth_box(points, photo.frames[0].shape)
    still = (np.abs(readings.head - own.head[0]).max(axis=1) < NEUTRAL_DEGREES) & (readings.blink < 0.2)
    still &= np.abs(readings.score(*BROW_CHANNELS) - own.score(*BROW_CHANNELS)[0]) < 0.05
    scores = [metrics.ssim(_aligned(frames[k], photo.frames[0], rows, cols), photo.frames[0][rows, cols])
              for k in np.flatnonzero(still)[::3]]
    return float(np.mean(scores)) if scores else float("nan")


def _aligned(frame: np.ndarray, photo: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """The frame's upper face moved onto the photo's by the rotation and shift that best match them (OpenCV's ECC),
    so a head a pixel or two away from where the photo holds it does not read as a changed face."""
    target = cv2.cvtColor(photo[rows, cols], cv2.COLOR_RGB2GRAY).astype(np.float32)
    moving = cv2.cvtColor(frame[rows, cols], cv2.COLOR_RGB2GRAY).astype(np.float32)
    warp = np.eye(2, 3, dtype=np.float32)
    try:
        _, warp = cv2.findTransformECC(target, moving, warp, cv2.MOTION_EUCLIDEAN,
                                       (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-5), None, 5)
    except cv2.error:
        return frame[rows, cols]
    height, width = target.shape
    return cv2.warpAffine(frame[rows, cols], warp, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def print_real(pipeline) -> None:
    from announcer.eval.acting import acting_statistics
    from announcer.face import load_avatar

    print(f"real footage, first {REAL_SECONDS} s at 480 lines:")
    for video in sorted((MEDIA / "videos").glob("*.mp4")):
        avatar = load_avatar(video, None, 480, REAL_SECONDS)
        print(f"  {video.name}: {json.dumps(acting_statistics(pipeline.runtime.face_meter.read(avatar.frames), avatar.fps))}")


def print_table(rows: list[dict]) -> None:
    columns = ("own_smile", "smile_warm", "smile_grave", "pitch_std_deg", "yaw_std_deg", "roll_std_deg",
               "pitch_speed_p95_deg_s", "longest_frozen_s", "beat_hit", "beat_hit_shuffled", "brow_on_emphasis",
               "brow_raises_per_s", "upper_face_ssim_neutral")
    print("| avatar | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for row in rows:
        print(f"| {row['avatar']} | " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    portraits = [r for r in rows if not r["avatar"].endswith(".mp4")]
    if portraits:
        separation = np.mean([r["smile_warm"] for r in portraits]) - np.mean([r["smile_grave"] for r in portraits])
        print(f"mean warm minus grave smile over the portraits: {separation:.3f} (target >= 0.15)")


if __name__ == "__main__":
    sys.exit(main())
