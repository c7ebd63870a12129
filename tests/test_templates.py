"""Templates: a newsroom's layout and graphics in templates/NAME.yaml, applied with template: or --template."""
from pathlib import Path

import numpy as np
import pytest

from announcer import RenderRequest
from announcer.config import GraphicsConfig, LayoutConfig, ProgrammeConfig
from announcer.errors import InputError
from announcer.templates import find_template, read_template

from .conftest import MEDIA, decode_frames, probe, write_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_the_example_templates_read_as_written():
    evening = read_template(EXAMPLES / "templates" / "evening-news.yaml")
    layout, graphics, _ = evening.applied(LayoutConfig(), GraphicsConfig(), ProgrammeConfig())
    assert (layout.aspect, layout.position) == ("16:9", "right") and graphics.burn_captions
    assert Path(graphics.logo) == EXAMPLES / "templates" / "a1-logo.png"  # relative to the template's folder
    morning = read_template(EXAMPLES / "templates" / "achim-news.yaml")
    assert morning.applied(LayoutConfig(), GraphicsConfig(), ProgrammeConfig())[0].aspect == "9:16"  # unquoted or not


@pytest.mark.parametrize("text,message,line", [
    ("layout:\n  aspect: '16:9'\n  colour: red\n", "unknown layout key 'colour'", 3),
    ("captions:\n  size: 3\n", "unknown template section 'captions'", 1),
    ("layout:\n  scale: big\n", "scale 'big' is not a number", 2),
    ("graphics:\n  burn_captions: maybe\n", "burn_captions must be true or false", 2),
    ("layout:\n  aspect: '3:2'\n", "template bad: unknown layout '3:2'", None),
])
def test_a_bad_template_is_refused_naming_its_file_and_line(tmp_path, text, message, line):
    path = write_script(tmp_path, "bad.yaml", text)
    with pytest.raises(InputError, match=message) as refused:
        read_template(path).applied(LayoutConfig(), GraphicsConfig(), ProgrammeConfig())
    assert refused.value.path == path and refused.value.line == line


def test_a_template_is_found_beside_the_script_first(tmp_path):
    near, far = tmp_path / "near", tmp_path / "far"
    for folder, aspect in ((near, "9:16"), (far, "1:1")):
        folder.mkdir()
        write_script(folder, "brand.yaml", f"layout:\n  aspect: '{aspect}'\n")
    assert find_template("brand", [near, far]).layout["aspect"] == "9:16"
    with pytest.raises(InputError, match="no template 'other'"):
        find_template("other", [near, far])


@pytest.mark.slow
def test_a_script_renders_with_the_example_template(pipeline, tmp_path):
    import shutil

    shutil.copytree(EXAMPLES / "templates", tmp_path / "templates")
    script = write_script(tmp_path, "news.md", "---\ntemplate: evening-news\nposition: left\nheadline: City budget agreed\n"
                                               "---\nGood evening. The council agreed the budget.\n")
    result = pipeline.render(RenderRequest(avatar=MEDIA / "portraits" / "woman_smile.png", output=tmp_path / "n.mp4",
                                           script=script, settings={"short_side": 360}))
    manifest = result.manifest
    assert manifest["inputs"]["template"]["key"] == "evening-news"
    assert manifest["layout"]["aspect"] == "16:9" and manifest["layout"]["position"] == "left"  # front matter wins
    video = next(s for s in probe(result.outputs.video)["streams"] if s["codec_type"] == "video")
    assert (int(video["width"]), int(video["height"])) == (640, 360)
    assert manifest["graphics"]["captions"] and manifest["graphics"]["overlays"]  # captions and the logo
    strap, logo = manifest["graphics"]["overlays"][-2:]
    frames = decode_frames(result.outputs.video)
    assert strap["y"] >= logo["y"] + logo["height"] and strap["x"] == logo["x"]  # the headline sits under the logo
    shown = frames[int((strap["from_s"] + 0.5) * manifest["video"]["fps"])]
    read = _ocr(shown[strap["y"]:strap["y"] + strap["height"], strap["x"]:strap["x"] + strap["width"]], "eng")
    assert "City budget agreed" in " ".join(read.split()), read
    after_intro = manifest["video"]["presenter_from_s"]  # the template opens with its sting
    assert after_intro > 1 and manifest["programme"]["intro"]["seconds"] == after_intro
    frame = frames[int((after_intro + 0.6) * manifest["video"]["fps"])].astype(float)  # the logo, after its 0.3 s fade-in
    shown = frame[logo["y"]:logo["y"] + logo["height"], logo["x"]:logo["x"] + logo["width"]].reshape(-1, 3).mean(axis=0)
    expected = _over_background(EXAMPLES / "templates" / "a1-logo.png", (logo["width"], logo["height"]), (11, 31, 51))
    assert np.abs(shown - expected).max() < 20, (shown, expected)


def _ocr(image, language: str) -> str:
    from .test_compose import _ocr as read

    return read(image, language)


def _over_background(path: Path, size: tuple[int, int], background: tuple[int, int, int]) -> np.ndarray:
    """The mean colour of the logo at `size`, drawn over a plain background."""
    from PIL import Image

    image = np.asarray(Image.open(path).convert("RGBA").resize(size, Image.LANCZOS)).astype(float)
    alpha = image[..., 3:4] / 255
    return (image[..., :3] * alpha + np.array(background) * (1 - alpha)).reshape(-1, 3).mean(axis=0)
