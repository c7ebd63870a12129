"""The README's contact sheet of the example templates: one frame of each, rendered for real.

    .venv/bin/python docs/make_template_sheet.py [--out docs/templates.png]

Renders a two-sentence script with a headline and examples/templates/evening-news.yaml (16:9) and achim-news.yaml (9:16), takes
the frame 2.2 s after the intro (lower third and a caption showing) and lays the two side by side at the same height.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MEDIA = REPO.parent / "shared" / "media"
CLIPS = [
    ("evening-news", "Anna Kim", "Evening news", "Parks budget agreed",
     "Good evening. The council agreed a new budget for the city's parks today.", MEDIA / "portraits" / "woman_brown_hair.jpg"),
    ("achim-news", "김지우", "아침 뉴스 앵커", "오늘의 날씨", "안녕하세요. 오늘 서울은 맑고 낮 기온은 십이 도까지 오르겠습니다.",
     MEDIA / "portraits" / "woman_smile.png"),
]
AT_S = 2.2
HEIGHT = 720


def frame_of(template: str, name: str, title: str, headline: str, text: str, avatar: Path, folder: Path) -> np.ndarray:
    from announcer import Pipeline, RenderConfig, RenderRequest
    from announcer.config import FaceConfig

    (folder / "presenters").mkdir(exist_ok=True)
    (folder / "presenters" / "host.yaml").write_text(f"name: {name}\ntitle: {title}\n", encoding="utf-8")
    script = folder / f"{template}.md"
    script.write_text(f"---\ntemplate: {REPO / 'examples' / 'templates' / template}.yaml\npresenter: host\n"
                      f"headline: {headline}\n---\n{text}\n", encoding="utf-8")
    config = RenderConfig(face=FaceConfig(models_dir=REPO.parent / "shared" / "models"), home=folder / "home", progress=False)
    with Pipeline(config) as pipeline:
        result = pipeline.render(RenderRequest(avatar=avatar, output=folder / f"{template}.mp4", script=script))
    width, height = result.manifest["video"]["width"], result.manifest["video"]["height"]
    at = result.manifest["video"]["presenter_from_s"] + AT_S  # after the template's intro sting
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(result.outputs.video), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3)


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "templates.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        frames = [frame_of(*clip, Path(folder)) for clip in CLIPS]
    scaled = [cv2.resize(f, (round(f.shape[1] * HEIGHT / f.shape[0]), HEIGHT), interpolation=cv2.INTER_AREA) for f in frames]
    gap = np.full((HEIGHT, 24, 3), 255, np.uint8)
    sheet = np.concatenate([scaled[0], gap, scaled[1]], axis=1)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(args.out)


if __name__ == "__main__":
    main()
