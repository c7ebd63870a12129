"""Presenters: avatar, voice and captions kept together in presenters/NAME.yaml."""
from pathlib import Path

import pytest

from announcer import RenderRequest
from announcer.errors import InputError
from announcer.presenters import find_presenter, read_presenter

from .conftest import MEDIA, write_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_presenters_read_as_written():
    jiwoo = read_presenter(EXAMPLES / "presenters" / "jiwoo.yaml")
    assert (jiwoo.name, jiwoo.title, jiwoo.language, jiwoo.speed) == ("김지우", "아침 뉴스", "ko", 1.0)
    assert jiwoo.settings() == {"language": "ko", "speed": 1.0} and jiwoo.avatar_path() is None  # the voice: Supertonic, else espeak-ng
    assert read_presenter(EXAMPLES / "presenters" / "jordan.yaml").settings() == {"voice": "piper", "language": "en",
                                                                           "loudness": "broadcast"}


def test_a_presenter_is_found_in_the_first_folder_that_has_it(tmp_path):
    near, far = tmp_path / "near", tmp_path / "far"
    write(far, "anna.yaml", "name: Far Anna\n")
    assert find_presenter("anna", [near, far]).name == "Far Anna"
    write(near, "anna.yml", "name: Near Anna\navatar: anna.jpg\n")
    anna = find_presenter("anna", [near, far])
    assert anna.name == "Near Anna" and anna.avatar_path() == near / "anna.jpg"  # a file name: beside its file
    assert find_presenter(str(far / "anna.yaml"), []).name == "Far Anna"  # a file, wherever it is
    write(near, "bob.yaml", "avatar: bob\n")
    assert find_presenter("bob", [near]).avatar_path() == Path("bob")  # no such file, no suffix: a prepared avatar's name
    with pytest.raises(InputError, match="no presenter 'carl'") as missing:
        find_presenter("carl", [near, far])
    assert str(near) in missing.value.one_line() and str(far) in missing.value.one_line()


def test_a_prepared_avatar_can_carry_its_own_presenter(tmp_path):
    avatars = tmp_path / "avatars"
    write(avatars / "dana", "presenter.yaml", "name: Dana Cho\ntitle: Weather\nvoice: piper:en_US-lessac-low\n")
    dana = find_presenter("dana", [tmp_path / "presenters"], avatars)
    assert (dana.key, dana.name, dana.title) == ("dana", "Dana Cho", "Weather")
    assert dana.avatar_path() == Path("dana") and dana.settings() == {"avatar": "dana", "voice": "piper:en_US-lessac-low"}
    write(tmp_path / "presenters", "dana.yaml", "name: Dana (desk)\n")  # a presenters folder still comes first
    assert find_presenter("dana", [tmp_path / "presenters"], avatars).name == "Dana (desk)"


@pytest.mark.parametrize("text,message,line", [
    ("name: Anna\nvoice: piper\ncolour: red\n", "unknown presenter key 'colour'", 3),
    ("name: Anna\nspeed: fast\n", "speed 'fast' is not a number", 2),
    ("name: [Anna\n", "not valid YAML", 2),
    ("- Anna\n", "key: value lines", 1),
    ("name: Anna\nvoice:\n  engine: piper\n", "voice must be a single value", 2),
])
def test_a_bad_presenter_file_is_refused_at_its_line(tmp_path, text, message, line):
    path = write(tmp_path, "anna.yaml", text)
    with pytest.raises(InputError, match=message) as refused:
        read_presenter(path)
    assert refused.value.path == path and refused.value.line == line


def test_a_presenter_with_a_voice_that_does_not_exist_is_refused_naming_its_file(pipeline, tmp_path):
    write(tmp_path / "presenters", "anna.yaml", "voice: nonsense\n")
    script = write_script(tmp_path, "news.md", "---\npresenter: anna\n---\nGood evening.\n")
    with pytest.raises(InputError, match="presenter anna: unknown voice engine 'nonsense'") as refused:
        pipeline.prepare(RenderRequest(avatar=None, output=tmp_path / "news.mp4", script=script))
    assert refused.value.path == tmp_path / "presenters" / "anna.yaml"
    script = write_script(tmp_path, "other.md", "---\npresenter: nobody\n---\nGood evening.\n")
    with pytest.raises(InputError, match="front matter presenter: no presenter 'nobody'") as missing:
        pipeline.prepare(RenderRequest(avatar=None, output=tmp_path / "other.mp4", script=script))
    assert missing.value.path == script and missing.value.line == 2


@pytest.mark.slow
def test_the_korean_example_renders_with_its_presenters_voice_language_and_captions(pipeline, tmp_path):
    result = pipeline.render(RenderRequest(avatar=None, output=tmp_path / "ko.mp4", script=EXAMPLES / "morning-news-ko.md"))
    manifest = result.manifest
    assert manifest["voice"]["engine"] == "espeak" and manifest["inputs"]["language"] == "ko"
    presenter = manifest["inputs"]["presenter"]
    assert presenter["name"] == "김지우" and presenter["title"] == "아침 뉴스" and presenter["file"].endswith("jiwoo.yaml")
    assert "감사합니다." in result.outputs.subtitles_srt.read_text()


@pytest.mark.slow
def test_the_command_lines_presenter_brings_its_avatar_and_the_script_still_wins_on_the_voice(pipeline, tmp_path):
    portrait = MEDIA / "portraits" / "woman_smile.png"
    write(tmp_path / "people", "anna.yaml", f"name: Anna Kim\navatar: {portrait}\nvoice: espeak\n")
    script = write_script(tmp_path, "news.md", "---\nvoice: piper\n---\nGood evening, this is the news.\n")
    result = pipeline.render(RenderRequest(avatar=None, output=tmp_path / "news.mp4", script=script,
                                           settings={"presenter": str(tmp_path / "people" / "anna.yaml")}))
    manifest = result.manifest
    assert manifest["inputs"]["avatar"]["path"] == str(portrait.resolve())
    assert manifest["voice"]["engine"] == "piper"  # the script's own front matter wins over the presenter
    assert manifest["inputs"]["presenter"]["name"] == "Anna Kim"


def test_a_batch_queues_every_clip_with_the_presenter_it_was_given(tmp_path):
    from announcer.jobs.runner import job_request
    from announcer.jobs.store import JobStore

    from .conftest import run_cli

    home, scripts = tmp_path / "home", tmp_path / "scripts"
    scripts.mkdir()
    for k in range(2):
        write_script(scripts, f"clip{k}.md", f"Story number {k}.\n")
    queued = run_cli("batch", scripts, "--presenter", "jiwoo", "--out", tmp_path / "out", "--queue-only", cwd=tmp_path, home=home)
    assert queued.returncode == 0, queued.stderr
    requests = [job_request(job) for job in JobStore(home / "work" / "jobs.sqlite").jobs()]
    assert [request.defaults.get("presenter") for request in requests] == ["jiwoo", "jiwoo"]  # a default: front matter wins
