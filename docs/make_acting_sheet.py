"""docs/acting.png: how the face acts, before (expressiveness 0, the still face of earlier releases) and after (the
default), on one portrait reading the bulletin of benchmarks/acting.py. Three rows: the smile taken away for the deaths,
a brow raise on an emphasised word, a nod on an accented word; each the same frame before and after, at 1:1 and 2x.

    .venv/bin/python docs/make_acting_sheet.py [--portrait woman_smile.png]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
from acting import BULLETIN, FPS, MEDIA, MODELS  # noqa: E402  (benchmarks/acting.py: the same bulletin)

BACKGROUND, GAP, LABEL = 32, 6, 20


def main() -> int:
    from announcer import Pipeline, RenderConfig, RenderRequest
    from announcer.config import FaceConfig
    from announcer.face import layout
    from tests.conftest import decode_frames

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portrait", default="woman_smile.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bulletin.md"
        script.write_text(BULLETIN)
        config = RenderConfig(face=FaceConfig(models_dir=MODELS), home=Path(folder) / "home", progress=False, device="cpu")
        clips = {}
        with Pipeline(config) as pipeline:
            avatar = MEDIA / "portraits" / args.portrait
            for name, level in (("before", 0.0), ("after", None)):
                out = Path(folder) / f"{name}.mp4"
                pipeline.render(RenderRequest(script=script, avatar=avatar, output=out, settings={"expressiveness": level}))
                clips[name] = decode_frames(out), json.loads(out.with_suffix(".json").read_text())
            points = pipeline.face_track(_avatar(avatar)).landmarks[0]
    manifest = clips["after"][1]
    grave = next(c for c, t in zip(manifest["captions"], manifest["tones"], strict=True) if t["tone"] == "grave")
    moments = [("a grave line: the smile taken away", int((grave["start"] + 0.6 * (grave["end"] - grave["start"])) * FPS),
                "mouth"),
               ("an *emphasised* word: the brows rise", int((manifest["acting"]["emphasised_s"][0] + 0.2) * FPS), "eyes"),
               ("an accented word: the head nods", int((manifest["acting"]["head_beats_s"][3] + 0.15) * FPS), "face")]
    iod = float(layout.inter_ocular(points[None])[0])
    rows = [_row(label, clips["before"][0][frame], clips["after"][0][frame], _box(points, region, iod))
            for label, frame, region in moments]
    width = max(row.shape[1] for row in rows)
    sheet = np.concatenate([np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=BACKGROUND) for r in rows])
    cv2.imwrite(str(REPO / "docs" / "acting.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"wrote docs/acting.png ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


def _avatar(path: Path):
    from announcer.face import load_avatar

    return load_avatar(path, None, 720, 30)


def _box(points: np.ndarray, region: str, iod: float) -> tuple[int, int, int, int]:
    from announcer.face import layout

    chosen = {"mouth": np.concatenate([layout.LIPS, layout.JAW[4:13], layout.NOSE_BASE]),
              "eyes": np.concatenate([layout.BROWS, layout.RIGHT_EYE, layout.LEFT_EYE]),
              "face": np.arange(68)}[region]
    margin = 0.25 * iod if region != "face" else 0.45 * iod
    low, high = points[chosen].min(axis=0) - margin, points[chosen].max(axis=0) + margin
    return int(low[0]), int(low[1]), int(high[0]), int(high[1])


def _row(label: str, before: np.ndarray, after: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    crops = [frame[max(y0, 0):y1, max(x0, 0):x1] for frame in (before, after)]
    pair = np.concatenate([crops[0], np.full((crops[0].shape[0], GAP, 3), BACKGROUND, np.uint8), crops[1]], axis=1)
    double = cv2.resize(pair, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    pair = np.pad(pair, ((0, double.shape[0] - pair.shape[0]), (0, GAP), (0, 0)), constant_values=BACKGROUND)
    body = np.concatenate([pair, double], axis=1)
    top = np.full((LABEL, body.shape[1], 3), BACKGROUND, np.uint8)
    cv2.putText(top, f"{label}   (before | after, 1:1 and 2x)", (4, LABEL - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                (230, 230, 230), 1, cv2.LINE_AA)
    return np.concatenate([top, body])


if __name__ == "__main__":
    sys.exit(main())
