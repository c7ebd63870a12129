"""Layouts: the presenter's frame on a broadcast canvas (16:9, 9:16, 1:1, 4:5) over a colour or an image."""
from pathlib import Path

import numpy as np
import pytest

from announcer import RenderRequest
from announcer.compose import Canvas, canvas_size
from announcer.config import LayoutConfig
from announcer.errors import InputError

from .conftest import MEDIA, decode_frames, probe, write_script

PORTRAIT = MEDIA / "portraits" / "woman_smile.png"


@pytest.mark.parametrize("aspect,size", [("16:9", (1920, 1080)), ("9:16", (1080, 1920)), ("1:1", (1080, 1080)),
                                         ("4:5", (1080, 1350))])
def test_each_layout_is_1080_on_its_shorter_side(aspect, size):
    assert canvas_size(LayoutConfig(aspect=aspect)) == size


@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1", "4:5"])
@pytest.mark.parametrize("presenter", [(972, 972), (720, 1280), (1280, 720)])
def test_the_presenter_box_keeps_its_shape_inside_the_safe_margins(aspect, presenter):
    layout = LayoutConfig(aspect=aspect)
    canvas = Canvas.for_layout(layout, presenter)
    x, y, width, height = canvas.box
    margin = round(min(canvas.size) * layout.margin)
    assert x >= margin - 1 and y >= margin - 1 and x + width <= canvas.size[0] - margin + 1
    portrait = canvas.size[1] > canvas.size[0]
    floor = margin + (round(min(canvas.size) * 0.17 / 2) * 2 if portrait else 0)
    assert y + height == canvas.size[1] - floor  # standing on the bottom margin (above the captions' room in portrait)
    assert abs(width / height - presenter[0] / presenter[1]) < 0.02
    assert all(value % 2 == 0 for value in (*canvas.size, *canvas.box))  # H.264 4:2:0 wants even sizes


def test_left_centre_and_right_place_the_presenter_in_that_order():
    boxes = [Canvas.for_layout(LayoutConfig(aspect="16:9", position=side, scale=0.6), (600, 600)).box
             for side in ("left", "centre", "right")]
    assert boxes[0][0] < boxes[1][0] < boxes[2][0] and len({box[1:] for box in boxes}) == 1


def test_placing_keeps_the_background_outside_the_box_and_the_frame_inside():
    canvas = Canvas.for_layout(LayoutConfig(aspect="16:9", short_side=360, background="#102a43", border_px=4), (200, 200))
    x, y, width, height = canvas.box
    frames = np.random.default_rng(0).integers(0, 255, (2, height, width, 3), dtype=np.uint8)
    placed = canvas.place(frames)
    assert placed.shape == (2, 360, 640, 3)
    assert np.array_equal(placed[:, y:y + height, x:x + width], frames)
    assert (placed[:, :y - 4] == (16, 42, 67)).all() and (placed[:, y - 2, x + 10] == 255).all()  # the border


def test_an_image_background_covers_the_canvas(tmp_path):
    canvas = Canvas.for_layout(LayoutConfig(aspect="9:16", short_side=360, background=str(PORTRAIT)), (300, 300))
    assert canvas.background.shape == (640, 360, 3) and canvas.background.std() > 10
    with pytest.raises(InputError, match="not a colour"):
        Canvas.for_layout(LayoutConfig(aspect="1:1", background="#12345"), (300, 300))
    with pytest.raises(InputError, match="nowhere.jpg: background is neither"):
        Canvas.for_layout(LayoutConfig(aspect="1:1", background="nowhere.jpg"), (300, 300), tmp_path)


def test_a_bad_layout_in_front_matter_is_refused_at_its_line(pipeline, tmp_path):
    script = write_script(tmp_path, "news.md", "---\ntitle: News\nlayout: 3:2\n---\nGood evening.\n")
    with pytest.raises(InputError, match="front matter layout: unknown layout '3:2'") as refused:
        pipeline.prepare(RenderRequest(avatar=PORTRAIT, output=tmp_path / "news.mp4", script=script))
    assert refused.value.path == script and refused.value.line == 3


@pytest.mark.slow
@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1", "4:5"])
def test_a_clip_renders_in_each_layout_with_the_presenter_in_the_box(aspect, pipeline, face_stage, tmp_path):
    # An unquoted 9:16 in YAML is the number 556 (base 60): it must still read as the layout.
    script = write_script(tmp_path, "news.md", f"---\nlayout: {aspect}\nbackground: '#204060'\n---\nGood evening.\n")
    result = pipeline.render(RenderRequest(avatar=PORTRAIT, output=tmp_path / "news.mp4", script=script,
                                           settings={"short_side": 360, "position": "right", "scale": 0.7}))
    video = next(s for s in probe(result.outputs.video)["streams"] if s["codec_type"] == "video")
    width, height = canvas_size(LayoutConfig(aspect=aspect, short_side=360))
    assert (int(video["width"]), int(video["height"])) == (width, height)
    manifest = result.manifest
    assert (manifest["video"]["width"], manifest["video"]["height"]) == (width, height)
    x, y, box_w, box_h = manifest["layout"]["presenter_box"]
    frames = decode_frames(result.outputs.video)
    corner = frames[:, 2:y - 4, 2:x - 4].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - (32, 64, 96)).max() < 4  # the background colour, through H.264
    landmarks = face_stage.landmarker.landmarks(frames[::8], 25.0)
    found = ~np.isnan(landmarks[:, 0, 0])
    assert found.all()
    centres = landmarks[found].mean(axis=1)
    assert ((centres[:, 0] > x) & (centres[:, 0] < x + box_w) & (centres[:, 1] > y) & (centres[:, 1] < y + box_h)).all()


# Graphics: the lower third and the logo.

def _ocr(image: np.ndarray, language: str) -> str:
    import shutil
    import subprocess
    import tempfile

    import cv2

    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (install.sh installs tesseract-ocr and tesseract-ocr-kor)")
    languages = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    if language not in languages:
        pytest.skip(f"tesseract has no '{language}' data (apt install tesseract-ocr-{language})")
    with tempfile.NamedTemporaryFile(suffix=".png") as png:
        cv2.imwrite(png.name, cv2.cvtColor(cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
                                           cv2.COLOR_RGB2BGR))
        return subprocess.run(["tesseract", png.name, "-", "-l", language, "--psm", "6"], capture_output=True,
                              text=True).stdout


def _render_with_presenter(pipeline, tmp_path, name, title, text, aspect, graphics=None):
    from dataclasses import replace

    from announcer import Pipeline

    (tmp_path / "presenters").mkdir(exist_ok=True)
    write_script(tmp_path / "presenters", "host.yaml", f"name: {name}\ntitle: {title}\n")
    script = write_script(tmp_path, "news.md", f"---\npresenter: host\nlayout: '{aspect}'\n---\n{text}\n")
    request = RenderRequest(avatar=PORTRAIT, output=tmp_path / "news.mp4", script=script,
                            settings={"short_side": 540})
    if graphics is None:
        return pipeline.render(request)
    with Pipeline(replace(pipeline.config, graphics=graphics), runtime=None) as own:
        return own.render(request)


@pytest.mark.slow
@pytest.mark.parametrize("aspect,name,title,text,language", [
    ("16:9", "Anna Kim", "Evening news", "Good evening. The council met today to agree the budget.", "eng"),
    ("9:16", "김지우", "아침 뉴스 앵커", "안녕하세요. 아침 뉴스입니다. 오늘 서울은 맑겠습니다.", "kor"),
])
def test_the_lower_third_reads_back_its_name_and_title_and_keeps_off_the_face(aspect, name, title, text, language,
                                                                             pipeline, face_stage, tmp_path):
    result = _render_with_presenter(pipeline, tmp_path, name, title, text, aspect)
    band = result.manifest["graphics"]["overlays"][0]
    frames = decode_frames(result.outputs.video)
    fps = result.manifest["video"]["fps"]
    shown = frames[int((band["from_s"] + 0.5) * fps)]
    region = shown[band["y"]:band["y"] + band["height"], band["x"]:band["x"] + band["width"]]
    read = _ocr(region, language).replace(" ", "")
    assert name.replace(" ", "") in read and title.replace(" ", "") in read, read
    before = frames[int(band["from_s"] * fps) - 2]
    assert band["from_s"] > 0.2 and np.abs(before[band["y"]:band["y"] + band["height"], band["x"]:band["x"] + 20].astype(int)
                                           - shown[band["y"]:band["y"] + band["height"], band["x"]:band["x"] + 20]).mean() > 10
    landmarks = face_stage.landmarker.landmarks(shown[None], 25.0)[0]
    top, bottom = landmarks[:, 1].min(), landmarks[:, 1].max()
    left, right = landmarks[:, 0].min(), landmarks[:, 0].max()
    clear = (band["y"] + band["height"] <= top or band["y"] >= bottom or band["x"] + band["width"] <= left
             or band["x"] >= right)
    assert clear, "the lower third covers the presenter's face"


def test_a_font_without_hangul_is_refused_rather_than_drawing_boxes():
    import matplotlib

    from announcer.compose.graphics import lower_third
    from announcer.config import GraphicsConfig

    latin_only = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    config = GraphicsConfig(font=str(latin_only))
    assert lower_third(config, (1920, 1080), "Anna Kim", "Evening news").rgba.shape[2] == 4
    with pytest.raises(InputError, match="DejaVuSans.ttf: font has no glyph for '김지우'"):
        lower_third(config, (1920, 1080), "김지우", "아침 뉴스")


@pytest.mark.slow
def test_the_logo_sits_within_2_px_of_its_box(pipeline, tmp_path):
    from PIL import Image

    from announcer.compose.graphics import logo_box
    from announcer.config import GraphicsConfig

    Image.new("RGBA", (300, 120), (255, 0, 255, 255)).save(tmp_path / "logo.png")
    graphics = GraphicsConfig(logo=str(tmp_path / "logo.png"), logo_corner="top-left", lower_third=False)
    result = _render_with_presenter(pipeline, tmp_path, "Anna Kim", "News", "Good evening.", "16:9", graphics)
    frame = decode_frames(result.outputs.video)[10].astype(int)
    magenta = (np.abs(frame - (255, 0, 255)).max(axis=2) < 60)
    rows, cols = np.flatnonzero(magenta.any(axis=1)), np.flatnonzero(magenta.any(axis=0))
    x, y, width, height = logo_box(graphics, (960, 540), (300, 120))
    assert abs(cols[0] - x) <= 2 and abs(rows[0] - y) <= 2
    assert abs(cols[-1] + 1 - (x + width)) <= 2 and abs(rows[-1] + 1 - (y + height)) <= 2


@pytest.mark.slow
def test_burned_captions_show_exactly_during_their_cues(pipeline, tmp_path):
    from dataclasses import replace

    from announcer import Pipeline
    from announcer.config import GraphicsConfig

    script = write_script(tmp_path, "news.md", "---\nlayout: '16:9'\nbackground: '#204060'\n---\n"
                                               "Good evening. [pause 1s] The council met today.\n")
    request = RenderRequest(avatar=PORTRAIT, output=tmp_path / "news.mp4", script=script,
                            settings={"short_side": 360, "position": "right", "scale": 0.7})
    with Pipeline(replace(pipeline.config, graphics=GraphicsConfig(burn_captions=True))) as own:
        result = own.render(request)
    fps = result.manifest["video"]["fps"]
    cues = result.manifest["graphics"]["captions"]
    assert [cue["text"] for cue in cues] == ["Good evening.", "The council met today."]
    presenter_x = result.manifest["layout"]["presenter_box"][0]
    frames = decode_frames(result.outputs.video).astype(int)
    for cue in cues:
        # Where the cue's box lies on the background only (left of the presenter), it is there or it is not.
        rows, cols = slice(cue["y"], cue["y"] + cue["height"]), slice(cue["x"], min(cue["x"] + cue["width"], presenter_x - 2))
        first, last = round(cue["from_s"] * fps), round(cue["to_s"] * fps) - 1
        window = range(max(first - 5, 0), min(last + 6, len(frames)))  # the cues are a second apart
        visible = [k for k in window if np.abs(frames[k][rows, cols] - (32, 64, 96)).mean() > 15]
        assert abs(visible[0] - first) <= 1 and abs(visible[-1] - last) <= 1, (cue, visible[0], visible[-1])
    shown = frames[int((cues[1]["from_s"] + 0.3) * fps)]
    cue = cues[1]
    read = _ocr(shown[cue["y"]:cue["y"] + cue["height"], cue["x"]:cue["x"] + cue["width"]].astype(np.uint8), "eng")
    assert "council met today" in " ".join(read.split()), read
