"""A clip's settings come through one path (announcer.settings): every source read alike, the precedence applied once,
a bad value reported at its own source, and every channel (flags, front matter, spreadsheet, studio, API) made from the
one table."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from announcer.config import RenderConfig
from announcer.errors import InputError
from announcer.home import Home
from announcer.settings import SETTINGS, ClipSources, Setting, Source, resolve

from .conftest import MEDIA, write_script

PORTRAIT = MEDIA / "portraits" / "woman_smile.png"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def clip(tmp_path: Path, front_matter: str, overrides: dict | None = None, defaults: dict | None = None,
         run: RenderConfig | None = None):
    script = write_script(tmp_path, "news.md", f"---\n{front_matter}---\nGood evening.\n")
    sources = ClipSources(script, Source.flags({"avatar": str(PORTRAIT), **(overrides or {})}), Source("{key}", defaults or {}))
    return resolve(sources, run or RenderConfig(), Home.resolve(tmp_path / "home"))


def test_each_source_wins_over_the_one_before(tmp_path):
    write(tmp_path / "presenters", "anna.yaml", "name: Anna\nspeed: 0.9\nloudness: broadcast\n")
    write(tmp_path / "templates", "wide.yaml", 'layout:\n  aspect: "16:9"\n  position: left\n')
    run = replace(RenderConfig(), voice=replace(RenderConfig().voice, speed=0.8))
    assert clip(tmp_path, "", run=run).voice.speed == 0.8  # the run's
    assert clip(tmp_path, "presenter: anna\n", run=run).voice.speed == 0.9  # the presenter's
    settled = clip(tmp_path, "presenter: anna\ntemplate: wide\nspeed: 1.1\nposition: right\n", run=run)
    assert settled.voice.speed == 1.1 and settled.voice.loudness_lufs == -23.0  # front matter, presenter's loudness kept
    assert (settled.layouts[0].aspect, settled.layouts[0].position) == ("16:9", "right")  # template, then front matter
    flagged = clip(tmp_path, "presenter: anna\ntemplate: wide\nspeed: 1.1\n", {"speed": 1.3, "position": "centre"})
    assert flagged.voice.speed == 1.3 and flagged.layouts[0].position == "centre"  # the clip's own overrides win
    assert clip(tmp_path, "layouts: 16:9, 9:16\n").layouts[1].aspect == "9:16"


def test_a_batch_default_yields_to_the_scripts_own_choice(tmp_path):
    write(tmp_path / "presenters", "anna.yaml", "name: Anna\n")
    write(tmp_path / "presenters", "ben.yaml", "name: Ben\n")
    assert clip(tmp_path, "", defaults={"presenter": "anna"}).presenter.name == "Anna"
    assert clip(tmp_path, "presenter: ben\n", defaults={"presenter": "anna"}).presenter.name == "Ben"


@pytest.mark.parametrize("front_matter,line,fragment", [
    ("title: x\nspeed: fast\n", 3, "front matter speed: 'fast' is not a number"),
    ("speed: 9\n", 2, "front matter speed: speed 9.0 is out of range"),
    ("title: x\ncolour: red\n", 3, "unknown front matter key 'colour'"),
    ("layout: 3:2\n", 2, "front matter layout: unknown layout '3:2'"),
    ("cutout: maybe\n", 2, "front matter cutout: 'maybe' is not a switch"),
    ("intro: nowhere.mp4\n", 2, "front matter intro: file not found"),
    ("layouts: 16:9, 16:9\n", None, "name one twice"),
])
def test_a_bad_front_matter_value_is_reported_at_its_line(tmp_path, front_matter, line, fragment):
    with pytest.raises(InputError) as raised:
        clip(tmp_path, front_matter)
    assert fragment in raised.value.what and raised.value.line == line
    assert line is None or raised.value.path == tmp_path / "news.md"


def test_a_bad_value_elsewhere_is_reported_at_its_own_source(tmp_path):
    presenter = write(tmp_path / "presenters", "anna.yaml", "name: Anna\nspeed: 9\n")
    with pytest.raises(InputError, match="presenter anna: speed 9.0 is out of range") as raised:
        clip(tmp_path, "presenter: anna\n")
    assert raised.value.path == presenter
    with pytest.raises(InputError, match="--speed: 'quick' is not a number"):
        clip(tmp_path, "", {"speed": "quick"})
    with pytest.raises(InputError, match="front matter presenter: no presenter 'carl'"):
        clip(tmp_path, "presenter: carl\n")


CHANNELS = """
import json, sys
import announcer.settings as settings
settings.SETTINGS["mouth_scale"] = settings.Setting("mouth_scale", "how far the mouth opens", "number", "motion.mouth_scale")
from announcer.cli import _parser
from announcer.studio.api import ClipOptions
from announcer.studio.pages import FORM_SETTINGS
from announcer.jobs import table
from pathlib import Path
rows = Path(sys.argv[1])
rows.write_text("text,mouth_scale\\nHello.,0.8\\n")
made = table.row_settings(table.scripts_from_table(rows, rows.parent / "out")[0])
print(json.dumps({"flag": _parser().parse_args(["render", "news.md", "--mouth-scale", "0.7"]).mouth_scale,
                  "api": "mouth_scale" in ClipOptions.model_fields, "form": "mouth_scale" in FORM_SETTINGS,
                  "table": made}))
"""


def test_every_channel_offers_every_setting_from_the_one_table(tmp_path):
    """A setting added to the table alone reaches the render command's flags, the studio's form and API schema, and
    a spreadsheet's columns (each is made from the table, none keeps its own list); run in a process of its own, so
    the added setting goes nowhere else."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", CHANNELS, str(tmp_path / "rows.csv")], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    reached = json.loads(done.stdout.strip().splitlines()[-1])
    assert reached["flag"] == 0.7 and reached["api"] and reached["form"] and reached["table"] == {"mouth_scale": "0.8"}


def test_a_setting_in_the_table_is_read_from_the_front_matter(tmp_path, monkeypatch):
    extra = Setting("mouth_scale", "how far the mouth opens", "number", "motion.mouth_scale")
    monkeypatch.setitem(SETTINGS, extra.key, extra)
    assert clip(tmp_path, "mouth_scale: 1.2\n").motion.mouth_scale == 1.2


def test_the_studio_is_offered_no_setting_that_names_a_file():
    from announcer.studio.api import ClipOptions

    for key, setting in SETTINGS.items():
        assert (key in ClipOptions.model_fields) == (setting.kind != "file" and key not in ("background", "output"))


def test_a_job_carries_its_settings_to_the_render(tmp_path):
    from announcer.jobs.runner import job_request
    from announcer.jobs.store import JobSpec, JobStore

    store = JobStore(tmp_path / "jobs.sqlite")
    job = store.enqueue(JobSpec(batch="b", output=str(tmp_path / "a.mp4"), script=str(tmp_path / "a.md"), avatar="anna",
                                options={"settings": {"speed": 1.2, "layout": "9:16"}, "presenter": "ben"}, key="k"))
    request = job_request(job)
    assert request.settings == {"speed": 1.2, "layout": "9:16"}
    assert request.defaults == {"avatar": "anna", "presenter": "ben"}


@pytest.mark.slow
def test_the_manifest_records_the_settings_the_clip_was_rendered_with(pipeline, tmp_path):
    import json

    from announcer import RenderRequest

    script = write_script(tmp_path, "news.md", "---\nspeed: 1.2\nposition: left\n---\nGood evening.\n")
    result = pipeline.render(RenderRequest(avatar=PORTRAIT, output=tmp_path / "news.mp4", script=script,
                                           settings={"voice": "espeak", "layout": "1:1", "short_side": 360}))
    config = json.loads(result.outputs.manifest.read_text())["config"]
    assert config["voice"]["speed"] == 1.2 and config["voice"]["engine"] == "espeak"  # not the run's 1.0 and piper
    assert (config["layout"]["aspect"], config["layout"]["position"], config["layout"]["short_side"]) == ("1:1", "left", 360)


@pytest.mark.slow
def test_head_motion_set_in_front_matter_stills_or_moves_the_rendered_head(pipeline, face_stage, tmp_path):
    """Re-detected on the rendered frames: `head_motion: 0` keeps the eyes and nose where they are (only the mouth,
    the lids and the brows move); the usual sway moves them."""
    import json

    import numpy as np

    from announcer import RenderRequest
    from announcer.face import layout

    from .conftest import decode_frames

    spread = {}
    for amount in (0, 1):
        script = write_script(tmp_path, f"news{amount}.md", f"---\nhead_motion: {amount}\n---\n"
                              "Good evening. The head moves as she reads the news tonight.\n")
        result = pipeline.render(RenderRequest(avatar=PORTRAIT, output=tmp_path / f"news{amount}.mp4", script=script,
                                               settings={"voice": "espeak"}))
        assert json.loads(result.outputs.manifest.read_text())["config"]["motion"]["head_motion"] == amount
        landmarks = face_stage.landmarker.landmarks(decode_frames(result.outputs.video), 25)
        head = np.setdiff1d(layout.UPPER_FACE, layout.BROWS)  # the brows still act on emphasis
        centre = np.nanmean(landmarks[:, head], axis=1)
        spread[amount] = float(np.linalg.norm(np.nanstd(centre, axis=0)))
    assert spread[0] < 0.45 and spread[1] > 2 * spread[0], spread
    with pytest.raises(InputError, match="front matter head_motion: head_motion 5 is out of range"):
        clip(tmp_path, "head_motion: 5\n")


def test_how_the_face_acts_comes_from_the_presenter_the_template_and_the_script(tmp_path):
    write(tmp_path / "presenters", "anna.yaml", "name: Anna\nstyle: calm\n")
    write(tmp_path / "presenters", "max.yaml", "name: Max\nexpressiveness: 0.95\n")
    write(tmp_path / "templates", "sombre.yaml", "expression:\n  tone: grave\n  style: still\n")
    assert clip(tmp_path, "").expression.level == 0.8  # the anchor's
    assert clip(tmp_path, "presenter: anna\n").expression.level == 0.5
    assert clip(tmp_path, "presenter: max\n").expression.level == 0.95
    sombre = clip(tmp_path, "template: sombre\n")
    assert (sombre.expression.tone, sombre.expression.level) == ("grave", 0.0)
    assert clip(tmp_path, "template: sombre\npresenter: anna\n").expression.level == 0.5  # the presenter over the template
    assert clip(tmp_path, "presenter: anna\nexpressiveness: 0.3\n").expression.level == 0.3  # the script over both
    assert clip(tmp_path, "presenter: anna\n", {"expressiveness": 0}).expression.level == 0.0
    write(tmp_path / "templates", "bad.yaml", "expression:\n  style: shouty\n")
    with pytest.raises(InputError, match="template bad style: unknown style 'shouty'") as raised:
        clip(tmp_path, "template: bad\n")
    assert raised.value.path.name == "bad.yaml" and raised.value.line == 2
    with pytest.raises(InputError, match="front matter expressiveness: expressiveness 1.5 is out of range"):
        clip(tmp_path, "expressiveness: 1.5\n")
