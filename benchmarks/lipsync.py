"""Lip-sync figures on every talking video in ../shared/media/videos (self-reenactment, `announcer eval`).

    .venv/bin/python benchmarks/lipsync.py [--out eval-results]

Prints one row per video for the pipeline and for the loudness baseline, then the pipeline's error by class of
the phone driving each frame (standardised openings; negative: our mouth opens less than the real one there).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIDEOS = sorted((REPO.parent / "shared" / "media" / "videos").glob("*.mp4"))
MODELS = REPO.parent / "shared" / "models"
COLUMNS = ("mouth_open_r", "offset_frames", "mouth_open_r_at_offset", "lip_landmark_distance", "silence_close_ms",
           "above_mouth_psnr_db")


def main() -> None:
    from announcer import Pipeline, RenderConfig
    from announcer.config import FaceConfig, GenerateConfig, MotionConfig, VoiceConfig
    from announcer.eval import evaluate

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, help="keep each video's report, plot and side-by-side here")
    parser.add_argument("--videos", nargs="*", help="only these file names (default: all)")
    parser.add_argument("--mouth-model", default="auto", help="speech-to-mouth weights (default: the shipped ones)")
    parser.add_argument("--no-align", action="store_true",
                        help="no phoneme alignment of the narration: the speech-to-mouth model reads the audio")
    parser.add_argument("--phones", choices=("auto", "recognise"), default="auto",
                        help="recognise: hama's phone recogniser times English narration too (VoiceConfig.narration_phones)")
    parser.add_argument("--mouth-interior", choices=("real", "painted", "off"), default="real",
                        help="the renderer's mouth interiors (GenerateConfig.mouth_interior)")
    args = parser.parse_args()
    videos = [v for v in VIDEOS if not args.videos or v.name in args.videos]
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        config = RenderConfig(face=FaceConfig(models_dir=MODELS), motion=MotionConfig(mouth_model=args.mouth_model),
                              voice=VoiceConfig(align_narration=not args.no_align, narration_phones=args.phones),
                              generate=GenerateConfig(mouth_interior=args.mouth_interior), home=Path(scratch) / "home", progress=False)
        print(f"{'video':34} {'run':9} " + " ".join(f"{c:>22}" for c in COLUMNS))
        by_class = {}
        with Pipeline(config) as pipeline:
            for video in videos:
                report = evaluate(video, out / video.stem, pipeline.runtime)
                by_class[video.name] = report["by_phone_class"]
                for name, figures in (("announcer", report), ("baseline", report["baseline"])):
                    print(f"{video.name:34} {name:9} " + " ".join(f"{figures[c]:>22}" for c in COLUMNS), flush=True)
        print_by_class(by_class)


def print_by_class(by_class: dict[str, dict]) -> None:
    classes = ("silence", "bilabial", "labiodental", "open vowel", "other vowel", "other consonant")
    print(f"\n{'error by phone class (frames)':34} " + " ".join(f"{c:>20}" for c in classes))
    for video, table in by_class.items():
        cells = [f"{table[c]['error']:+.2f} ({table[c]['frames']})" if c in table else "-" for c in classes]
        print(f"{video:34} " + " ".join(f"{cell:>20}" for cell in cells))


if __name__ == "__main__":
    main()
