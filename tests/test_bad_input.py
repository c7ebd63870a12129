"""Bad and odd input, as a new user gives it: each case must end with the contract of the CLI.

- the expected exit code (2 for bad input);
- exactly one line on stderr, naming the file (or flag) at fault;
- nothing at the output path, no companion and no temp file beside it;
- no temp file left in the home's work folder.

Most cases run `announcer.cli.main` in this process (a case takes milliseconds to a second). The ones that
need a process of their own (a memory limit, Ctrl-C) run the real command.
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from announcer.cli import main
from announcer.deliver import OutputSet, StagedOutputs
from announcer.errors import InputError

from .conftest import MEDIA, MODELS, NON_FACES, decode_frames, probe, run_cli

PORTRAIT = MEDIA / "portraits" / "woman_brown_hair.jpg"
VIDEO = MEDIA / "videos" / "talk_face1.mp4"
SPEECH = MEDIA / "audio" / "jfk.wav"
HELLO = "Hello there, this is a short test.\n"
OUT = "out/clip.mp4"


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    names: str
    """What the one-line message must contain: the file (or flag value) at fault."""
    files: tuple[tuple[str, bytes], ...] = ()
    """Inputs to write into the case's folder first: (relative path, bytes); a path ending in / is a folder."""
    exit_code: int = 2


def md(front_matter: str, body: str = HELLO) -> bytes:
    return f"---\n{front_matter}\n---\n{body}".encode()


def random_bytes(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def script_case(name: str, filename: str, content: bytes, names: str | None = None) -> Case:
    return Case(name, (filename, "--avatar", str(PORTRAIT), "-o", OUT), names or filename, ((filename, content),))


def avatar_case(name: str, filename: str, content: bytes | None, names: str | None = None) -> Case:
    files = (("hello.txt", HELLO.encode()),) + (((filename, content),) if content is not None else ())
    return Case(name, ("hello.txt", "--avatar", filename, "-o", OUT), names or Path(filename.rstrip("/")).name, files)


def audio_case(name: str, filename: str, content: bytes | None, *extra: str) -> Case:
    files = (("hello.txt", HELLO.encode()),) + (((filename, content),) if content is not None else ())
    return Case(name, ("hello.txt", "--audio", filename, "--avatar", str(PORTRAIT), "-o", OUT, *extra),
                Path(filename.rstrip("/")).name, files)


def option_case(name: str, *options: str, names: str) -> Case:
    return Case(name, ("hello.txt", "--avatar", str(PORTRAIT), "-o", OUT, *options), names, (("hello.txt", HELLO.encode()),))


def srt(*cues: str) -> bytes:
    return "\n\n".join(cues).encode()


def _wav(seconds: float, amplitude: float, rate: int = 16000) -> bytes:
    import io

    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    soundfile.write(buffer, (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, format="WAV")
    return buffer.getvalue()


def _png(width: int, height: int) -> bytes:
    import cv2

    return cv2.imencode(".png", np.full((height, width, 3), 128, np.uint8))[1].tobytes()


def _png_header(width: int, height: int) -> bytes:
    """A small PNG whose header says it is `width` x `height` (decoding it would take gigabytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))


def _jpeg_header(width: int, height: int) -> bytes:
    """A JPEG's start and frame header saying it is `width` x `height`, and nothing more."""
    import struct

    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + frame + b"\xff\xd9"


YAML_BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]")

SILENT_VIDEO = subprocess.run(["ffmpeg", "-v", "error", "-i", str(VIDEO), "-t", "1", "-an", "-c:v", "copy", "-f", "mp4",
                               "-movflags", "frag_keyframe+empty_moov", "pipe:1"], capture_output=True, check=True).stdout

CASES = [
    # Scripts
    script_case("empty script", "empty.txt", b""),
    script_case("blank script", "blank.txt", b"  \n\n \t\n"),
    script_case("binary script", "binary.txt", random_bytes(3000) + b"\x00"),
    script_case("latin-1 script", "latin1.txt", "Caf\u00e9 au lait.\n".encode("latin-1")),
    script_case("utf-16 without a byte-order mark", "utf16.txt", "Hello there.".encode("utf-16-le")),
    script_case("script over 2 MB", "huge.txt", b"word " * 500_000),
    script_case("only punctuation", "dots.txt", b"... !!! ???\n"),
    script_case("unknown marker", "marker.txt", b"Hello.\n\nThen [laugh] here.\n", names="marker.txt:3"),
    script_case("pause of 61 s", "pause61.txt", b"Hello [pause 61s] there.\n", names="pause61.txt:1"),
    script_case("pauses adding up past an hour", "pauses.txt", b"Hello [pause 59s] there. " * 70),
    script_case("markdown without closing front matter", "open.md", b"---\ntitle: x\nHello there.\n"),
    script_case("markdown front matter not YAML", "yaml.md", md("title: [unclosed"), names="yaml.md"),
    script_case("markdown front matter a list", "list.md", md("- a\n- b")),
    script_case("markdown unknown key", "key.md", md("title: x\ncolour: red"), names="key.md:3"),
    script_case("front matter unknown voice", "voice.md", md("title: x\nvoice: nosuchvoice"), names="voice.md:3"),
    script_case("front matter speed a word", "speedword.md", md("speed: fast"), names="speedword.md:2"),
    script_case("front matter speed out of range", "speed9.md", md("speed: 9"), names="speed9.md:2"),
    script_case("front matter loudness a word", "loud.md", md("loudness: loud"), names="loud.md:2"),
    script_case("front matter loudness out of range", "loud100.md", md("loudness: -100"), names="loud100.md:2"),
    Case("front matter avatar missing", ("avatar.md", "-o", OUT), "missing_person.jpg",
         (("avatar.md", md("avatar: missing_person.jpg")),)),
    script_case("front matter of YAML aliases", "bomb.md", md(YAML_BOMB), names="bomb.md:3"),
    script_case("title of 20,000 nested [", "nested.md", md("title: " + "[" * 20000), names="nested.md:2"),
    script_case("front matter language klingon", "klingon.md", md("language: klingon"), names="klingon.md:2"),
    option_case("language klingon", "--language", "klingon", names="--language: unknown language 'klingon'"),
    avatar_case("avatar PNG claiming 32000x32000", "huge.png", _png_header(32000, 32000), names="huge.png: the avatar "
                "photo is 32000x32000 pixels"),
    avatar_case("avatar JPEG claiming 65000x65000", "huge.jpg", _jpeg_header(65000, 65000), names="65000x65000 pixels"),
    Case("background PNG claiming 32000x32000", ("bg.md", "--avatar", str(PORTRAIT), "-o", OUT),
         "the background image is 32000x32000 pixels",
         (("bg.md", md("layout: 16:9\nbackground: wall.png")), ("wall.png", _png_header(32000, 32000)))),
    Case("logo PNG claiming 32000x32000", ("hello.txt", "--avatar", str(PORTRAIT), "--template", "t.yaml", "-o", OUT),
         "logo.png", (("hello.txt", HELLO.encode()), ("t.yaml", b"graphics:\n  logo: logo.png\n"),
                      ("logo.png", _png_header(32000, 32000)))),
    Case("a 300-character output name", ("hello.txt", "--avatar", str(PORTRAIT), "-o", "out/" + "x" * 300 + ".mp4"),
         "output name is 304 bytes long", (("hello.txt", HELLO.encode()),)),
    Case("--home is a file", ("hello.txt", "--home", "hello.txt", "--avatar", str(PORTRAIT), "-o", OUT),
         "--home is a file", (("hello.txt", HELLO.encode()),)),
    Case("front matter output names a folder", ("folder.md", "--avatar", str(PORTRAIT)), "folder.md:2",
         (("folder.md", md("output: clips/")),)),
    option_case("face 3 of a portrait with one face", "--face", "3", names="shows 1 face"),
    option_case("intro that is not media", "--intro", "hello.txt", names="hello.txt"),
    option_case("music that is not sound", "--music", str(PORTRAIT), names="music has no sound"),
    Case("template music that is not media", ("hello.txt", "--avatar", str(PORTRAIT), "--template", "t.yaml", "-o", OUT),
         "t.yaml: template t music", (("hello.txt", HELLO.encode()), ("t.yaml", b"programme:\n  music: notes.wav\n"),
                                      ("notes.wav", b"these are notes\n"))),
    Case("template background that is missing", ("hello.txt", "--avatar", str(PORTRAIT), "--template", "t.yaml", "-o", OUT),
         "t.yaml: template t background", (("hello.txt", HELLO.encode()),
                                           ("t.yaml", b"layout:\n  aspect: '16:9'\n  background: nothere.png\n"))),
    Case("front matter background that is not a picture", ("bg2.md", "--avatar", str(PORTRAIT), "-o", OUT),
         "bg2.md:3: front matter background", (("bg2.md", md("layout: 16:9\nbackground: notes.png")),
                                                ("notes.png", b"just text\n"))),
    Case("presenter whose name the font cannot write", ("hello.txt", "--presenter", "p.yaml", "-o", OUT),
         "p.yaml: presenter p's name", (("hello.txt", HELLO.encode()),
                                        ("p.yaml", f"name: \u12a0\u1260\u1260\navatar: {PORTRAIT}\n".encode()))),
    script_case("srt bad timing line", "timing.srt", srt("1\n00:00:01 -> 00:00:02\nHello."), names="timing.srt:2"),
    script_case("srt cue ends before it starts", "back.srt", srt("1\n00:00:03,000 --> 00:00:01,000\nHello."),
                names="back.srt:2"),
    script_case("srt cues out of order", "order.srt",
                srt("1\n00:00:05,000 --> 00:00:06,000\nOne.", "2\n00:00:01,000 --> 00:00:02,000\nTwo."), names="order.srt:6"),
    script_case("srt cue without text", "notext.srt", srt("1\n00:00:01,000 --> 00:00:02,000\n", "2\n00:00:03,000 --> 00:00:04,000\nHi.")),
    script_case("srt with no cues", "nocues.srt", b"\n\n\n"),
    script_case("srt ten hours long", "long.srt", srt("1\n10:00:00,000 --> 10:00:02,000\nHello.")),
    script_case("srt binary", "binary.srt", random_bytes(500, 1) + b"\x00"),
    script_case("a word-processor file", "letter.docx", b"PK\x03\x04" + random_bytes(800, 2)),
    Case("script is a folder", ("scripts/", "--avatar", str(PORTRAIT), "-o", OUT), "scripts: script is a folder",
         (("scripts/", b""),)),
    Case("script missing", ("nowhere.txt", "--avatar", str(PORTRAIT), "-o", OUT), "nowhere.txt"),
    # Avatars
    avatar_case("avatar missing", "missing_person.jpg", None),
    avatar_case("avatar is a folder", "faces/", b""),
    avatar_case("avatar empty file", "empty.jpg", b""),
    avatar_case("avatar random bytes", "noise.jpg", random_bytes(5000, 3)),
    avatar_case("avatar text renamed .png", "notes.png", b"just some text\n"),
    avatar_case("avatar of an unknown type", "face.gif", b"GIF89a" + random_bytes(100, 4)),
    avatar_case("avatar too small", "tiny.png", _png(32, 32)),
    avatar_case("avatar a grey card", "grey.png", _png(400, 400)),
    avatar_case("avatar truncated video", "cut.mp4", VIDEO.read_bytes()[:30000]),
    avatar_case("avatar video header only", "header.mp4", VIDEO.read_bytes()[:200]),
    avatar_case("avatar sound only", "sound.mp4", SPEECH.read_bytes()),
    avatar_case("prepared avatar that does not exist", "nosuchbundle", None),
    *[avatar_case(f"avatar without a human face ({path.stem})", path.name, path.read_bytes()) for path in NON_FACES],
    # Narration
    audio_case("narration missing", "missing.wav", None),
    audio_case("narration is a folder", "takes/", b""),
    audio_case("narration random bytes", "noise.wav", random_bytes(4000, 5)),
    audio_case("narration silent", "silent.wav", _wav(2.0, 0.0)),
    audio_case("narration of 0.1 s", "blip.wav", _wav(0.1, 0.5)),
    audio_case("narration is a photo", "photo.m4a", PORTRAIT.read_bytes()),
    audio_case("narration is a video without sound", "silent.mp4", SILENT_VIDEO),
    audio_case("narration far too short for its script, strict", "short.wav", _wav(0.3, 0.5), "--strict"),
    # Options
    option_case("fps 0", "--fps", "0", names="fps 0"),
    option_case("fps 5", "--fps", "5", names="fps 5"),
    option_case("fps 1000", "--fps", "1000", names="fps 1000"),
    option_case("speed 0", "--speed", "0", names="speed 0"),
    option_case("speed -1", "--speed", "-1", names="speed -1"),
    option_case("speed 5", "--speed", "5", names="speed 5"),
    option_case("height 0", "--height", "0", names="height 0"),
    option_case("height 10000", "--height", "10000", names="height 10000"),
    option_case("loudness a word", "--loudness", "loud", names="loud"),
    option_case("loudness -100", "--loudness", "-100", names="-100"),
    option_case("unknown voice engine", "--voice", "nosuchengine", names="nosuchengine"),
    option_case("unknown espeak voice", "--voice", "espeak:zz-zz", names="no voice 'zz-zz'"),
    option_case("unknown device", "--device", "tpu", names="tpu"),
    option_case("face number 0", "--face", "0", names="face 0"),
    option_case("face number 9", "--face", "9", names="face 9"),
    Case("output not .mp4", ("hello.txt", "--avatar", str(PORTRAIT), "-o", "out/clip.mov"), "clip.mov",
         (("hello.txt", HELLO.encode()), ("out/", b""))),
    Case("a file in the way of the output folder", ("hello.txt", "--avatar", str(PORTRAIT), "-o", "hello.txt/clip.mp4"),
         "cannot create the output folder", (("hello.txt", HELLO.encode()),)),
    Case("a folder in the way of the subtitles", ("hello.txt", "--avatar", str(PORTRAIT), "-o", OUT), "clip.srt",
         (("hello.txt", HELLO.encode()), ("out/clip.srt/", b""))),
    Case("front matter output outside the folder", ("escape.md", "--avatar", str(PORTRAIT)), "../escaped",
         (("escape.md", md("output: ../escaped")),)),
    Case("nothing to read", ("--avatar", str(PORTRAIT), "-o", OUT), "nothing to read"),
]


def _write_inputs(folder: Path, case: Case) -> None:
    (folder / "out").mkdir(parents=True, exist_ok=True)
    for relative, content in case.files:
        target = folder / relative
        if relative.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def _assert_nothing_delivered(folder: Path, home: Path, before: set[str]) -> None:
    out = folder / "out"
    delivered = sorted(p.name for p in out.iterdir() if p.name not in before) if out.is_dir() else []
    assert delivered == [], f"left in the output folder: {delivered}"
    leftovers = sorted(p.name for p in (home / "work" / "tmp").glob("*")) if (home / "work" / "tmp").is_dir() else []
    assert leftovers == [], f"temp files left in the home: {leftovers}"


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_one_line_naming_the_file(case, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("ANNOUNCER_HOME", str(home))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    monkeypatch.chdir(tmp_path)
    _write_inputs(tmp_path, case)
    before = {p.name for p in (tmp_path / "out").iterdir()}
    code = main(["render", "--quiet", *case.args])
    stderr = capsys.readouterr().err
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == case.exit_code, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("announcer: error: ") and case.names in lines[0], lines[0]
    assert "unexpected error" not in lines[0]
    _assert_nothing_delivered(tmp_path, home, before)


def test_a_failed_render_leaves_no_new_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    (tmp_path / "hello.txt").write_text(HELLO)
    code = main(["render", "--quiet", str(tmp_path / "hello.txt"), "--avatar", str(tmp_path / "nobody.jpg"), "-o",
                 str(tmp_path / "new" / "deeper" / "clip.mp4")])
    assert code == 2 and not (tmp_path / "new").exists(), capsys.readouterr().err


@pytest.mark.parametrize("args, names", [
    (["render", "--speed", "abc", "x.txt"], "render: argument --speed: invalid float value: 'abc'"),
    (["render", "--layouts", "7:3", "x.txt"], "render: argument --layouts: unknown layout 7:3"),
    (["jobs", "show", "abc"], "jobs show: argument id: invalid int value: 'abc'"),
])
def test_a_malformed_option_gets_one_line_not_the_usage(args, names, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(args)
    lines = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 2 and len(lines) == 1 and names in lines[0] and "--help" in lines[0], lines


@pytest.mark.parametrize("damage", ["malformed", "read-only"])
def test_a_damaged_or_read_only_job_store_is_named(damage, tmp_path, capsys):
    store = tmp_path / "home" / "work" / "jobs.sqlite"
    store.parent.mkdir(parents=True)
    if damage == "malformed":
        store.write_bytes(random_bytes(8192, 7))
    else:
        main(["jobs", "list", "--home", str(tmp_path / "home")])
        capsys.readouterr()
        locked = _lock(store.parent)
    try:
        code = main(["batch", "--quiet", str(tmp_path / "none.txt"), "--out", str(tmp_path / "out"), "--home",
                     str(tmp_path / "home")]) if damage == "read-only" else main(["jobs", "list", "--home", str(tmp_path / "home")])
    finally:
        if damage == "read-only":
            _unlock(store.parent, locked)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(store) in lines[0], lines
    assert ("damaged" if damage == "malformed" else "cannot write") in lines[0]


def test_the_job_store_is_readable_by_its_owner_only(tmp_path):
    main(["jobs", "list", "--home", str(tmp_path / "home")])
    assert (tmp_path / "home" / "work" / "jobs.sqlite").stat().st_mode & 0o777 == 0o600


def test_batch_refuses_an_output_folder_that_is_a_file_and_an_unclosed_csv_quote(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(HELLO)
    (tmp_path / "taken").write_text("a file")
    assert main(["batch", "--quiet", str(tmp_path / "a.txt"), "--out", str(tmp_path / "taken"), "--home",
                 str(tmp_path / "home")]) == 2
    assert "taken: the batch's output folder is a file" in capsys.readouterr().err
    table = tmp_path / "rows.csv"
    table.write_text('text,title\nFirst story.,One\n"Second story, never closed,Two\nThird story.,Three\n')
    assert main(["batch", "--quiet", str(table), "--out", str(tmp_path / "out"), "--home", str(tmp_path / "home")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "rows.csv:3: row is not valid CSV" in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_csv_cell_over_128_kb_fails_its_own_row_and_the_others_render(tmp_path):
    table = tmp_path / "b.csv"
    table.write_text("text,output\nFirst story.,one\n\"" + "word " * 40_000 + "\",two\nThird story.,three\n")
    result = run_cli("batch", "--quiet", table, "--avatar", PORTRAIT, "--out", tmp_path / "out", cwd=tmp_path,
                     home=tmp_path / "home")
    assert result.returncode == 1, result.stderr
    assert (tmp_path / "out" / "one.mp4").is_file() and (tmp_path / "out" / "three.mp4").is_file()
    assert not (tmp_path / "out" / "two.mp4").exists()
    assert f"{table} line 3" in result.stderr or f"{table}:3" in result.stderr, result.stderr


def test_utf16_with_a_byte_order_mark_is_read(tmp_path):
    from announcer.script import read_script

    path = tmp_path / "utf16.txt"
    path.write_bytes("Good evening, and welcome.".encode("utf-16"))
    assert read_script(path).text == "Good evening, and welcome."


@pytest.mark.slow
def test_a_huge_pause_is_refused_before_any_memory_is_taken(tmp_path):
    """Today's code allocated the pause's samples first and was killed by the kernel; here 3 GB of data would stop
    it (RLIMIT_DATA: the address space limit would also stop torch mapping its CUDA libraries)."""
    (tmp_path / "pause.txt").write_text("Hello [pause 99999s] there.\n")
    limit = 3 * 1024 ** 3
    env = {**os.environ, "ANNOUNCER_MODELS": str(MODELS), "ANNOUNCER_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "announcer", "render", "--quiet", "pause.txt", "--avatar", str(PORTRAIT)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "announcer: error: pause.txt:1: pause of 99999s is longer than 60s (use pauses of at most 60s)"]
    assert not (tmp_path / "pause.mp4").exists()


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.15, 0.6, 2.0])
def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(tmp_path, after_s):
    (tmp_path / "hello.txt").write_text(HELLO)
    env = {**os.environ, "ANNOUNCER_MODELS": str(MODELS), "ANNOUNCER_HOME": str(tmp_path / "home")}
    # As from a terminal: a runner started in the background (as CI may be) passes SIGINT on ignored, and Python
    # then leaves it ignored.
    process = subprocess.Popen([sys.executable, "-m", "announcer", "render", "--quiet", "hello.txt", "--avatar", str(PORTRAIT),
                                "-o", "clip.mp4"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(after_s)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert process.returncode == 130, stderr
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["hello.txt"]


def test_a_read_only_output_folder_is_bad_input(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "hello.txt").write_text(HELLO)
    locked = _lock(out)
    try:
        monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
        code = main(["render", "--quiet", str(tmp_path / "hello.txt"), "--avatar", str(PORTRAIT), "-o", str(out / "x.mp4")])
    finally:
        _unlock(out, locked)
    stderr = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(stderr) == 1 and str(out) in stderr[0] and "writable" in stderr[0], stderr
    assert list(out.iterdir()) == []
    assert not list((tmp_path / "home" / "work" / "tmp").glob("*")) if (tmp_path / "home" / "work" / "tmp").exists() else True


def _lock(folder: Path) -> str:
    """Make a folder unwritable, even for root (chattr +i), else by its mode; returns how."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)]).returncode != 0:
            pytest.skip("running as root on a file system without chattr +i")
        return "chattr"
    folder.chmod(0o555)
    return "chmod"


def _unlock(folder: Path, how: str) -> None:
    if how == "chattr":
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o755)


def test_delivery_puts_back_what_was_there_when_a_rename_fails(tmp_path):
    video = tmp_path / "clip.mp4"
    outputs = OutputSet.for_path(video)
    video.write_bytes(b"yesterday's clip")
    outputs.manifest.write_text("{}")
    staged = StagedOutputs(outputs)
    for final in outputs.all():
        staged.write_bytes(final, b"new " + final.suffix.encode())
    locked = _lock_file(outputs.manifest)  # renaming onto the manifest, the last file, fails
    try:
        with pytest.raises(InputError, match="cannot write the clip's files"):
            staged.commit()
    finally:
        _unlock(outputs.manifest, locked)
    assert video.read_bytes() == b"yesterday's clip"
    assert outputs.manifest.read_text() == "{}"
    assert not outputs.subtitles_srt.exists() and not outputs.thumbnail.exists()
    staged.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.json", "clip.mp4"]


def _lock_file(path: Path) -> str:
    """A file that cannot be renamed or replaced: immutable as root, else in a folder made read-only around it."""
    if os.geteuid() != 0:
        pytest.skip("needs chattr +i (root): a non-root user cannot pin one file of a writable folder")
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("chattr +i is not available here")
    return "chattr"


@pytest.mark.slow
def test_a_face_that_leaves_the_video_is_cut_out_not_drawn_black(tmp_path):
    """talk_face1 panned out of the picture from 1.5 s to 5 s: today's code drew black frames there."""
    avatar = tmp_path / "leaving.mp4"
    pan = "if(lt(t,1.5),0,if(lt(t,2.5),(t-1.5)*iw/2,if(lt(t,4.5),iw/2,max(0,iw/2-(t-4.5)*iw/2))))"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(VIDEO), "-t", "7", "-vf",
                    f"pad=iw*2:ih:0:0:black,crop=iw/2:ih:'{pan}':0", "-c:a", "copy", str(avatar)], check=True)
    (tmp_path / "long.txt").write_text("Good evening. " * 6 + "Tonight the river rose again, and the town stayed dry.\n")
    result = run_cli("render", "long.txt", "--avatar", avatar, "-o", "clip.mp4", "--height", "256", cwd=tmp_path,
                     home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "out of the picture" in result.stderr
    import json

    used = json.loads((tmp_path / "clip.json").read_text())["inputs"]["avatar"]["frames_used"]
    assert used[0] == 0 and 25 < used[1] < 100  # the first stretch, up to where the face leaves
    brightness = decode_frames(tmp_path / "clip.mp4").reshape(-1, 256 * 256 * 3).mean(axis=1)
    assert float(probe(tmp_path / "clip.mp4")["format"]["duration"]) > 5
    assert brightness.min() > 40  # no frame without the presenter


@pytest.mark.slow
def test_a_video_with_a_face_for_half_a_second_is_refused(tmp_path, monkeypatch, capsys):
    avatar = tmp_path / "glimpse.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(VIDEO), "-t", "3", "-vf",
                    "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gt(t,0.5)'", "-an", str(avatar)], check=True)
    (tmp_path / "hello.txt").write_text(HELLO)
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    code = main(["render", "--quiet", str(tmp_path / "hello.txt"), "--avatar", str(avatar), "-o", str(tmp_path / "x.mp4")])
    stderr = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(stderr) == 1 and "glimpse.mp4" in stderr[0], stderr
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.slow
def test_narration_far_too_short_for_its_script_warns_and_still_renders(tmp_path, monkeypatch, capsys):
    (tmp_path / "four.txt").write_text("Good evening to everyone here.\n")
    (tmp_path / "short.wav").write_bytes(_wav(0.3, 0.5))
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    code = main(["render", str(tmp_path / "four.txt"), "--audio", str(tmp_path / "short.wav"), "--avatar", str(PORTRAIT),
                 "--height", "128", "-o", str(tmp_path / "clip.mp4")])
    assert code == 0
    assert "short.wav: narration of 0.3s can hold at most 24% of the script's 5 words" in capsys.readouterr().err
    assert (tmp_path / "clip.mp4").is_file()


OVERWRITE_CASES = {
    # name: (files to write (relative path, source file or bytes), render arguments, the input the message names)
    "video avatar is the clip": ((("out/a.mp4", VIDEO),), ("hello.txt", "--avatar", "out/a.mp4"), "out/a.mp4"),
    "photo avatar is the thumbnail": ((("out/a.jpg", PORTRAIT),), ("hello.txt", "--avatar", "out/a.jpg"), "out/a.jpg"),
    "script is the subtitles": ((("out/a.srt", srt("1\n00:00:00,500 --> 00:00:02,000\nHello there.")),),
                                ("out/a.srt", "--avatar", str(PORTRAIT)), "out/a.srt"),
    "intro is the clip": ((("out/a.mp4", VIDEO),), ("hello.txt", "--avatar", str(PORTRAIT), "--intro", "out/a.mp4"),
                          "out/a.mp4"),
    "front matter background is the thumbnail": ((("out/a.jpg", PORTRAIT), ("out/news.md", md("background: a.jpg\nlayout: 16:9"))),
                                                 ("out/news.md", "--avatar", str(PORTRAIT)), "out/a.jpg"),
}


@pytest.mark.parametrize("name", OVERWRITE_CASES)
def test_an_input_that_is_one_of_the_clips_own_files_is_refused_and_kept(name, tmp_path, monkeypatch, capsys):
    files, args, named = OVERWRITE_CASES[name]
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hello.txt").write_text(HELLO)
    for relative, source in files:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(source.read_bytes() if isinstance(source, Path) else source)
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    code = main(["render", "--quiet", *args, "-o", "out/a.mp4"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert named in lines[0] and "overwritten" in lines[0], lines[0]
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before  # the input is as it was


def test_a_hard_link_to_the_avatar_among_the_outputs_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    (tmp_path / "hello.txt").write_text(HELLO)
    photo = tmp_path / "anchor.jpg"
    photo.write_bytes(PORTRAIT.read_bytes())
    (tmp_path / "out").mkdir()
    os.link(photo, tmp_path / "out" / "a.jpg")
    code = main(["render", "--quiet", str(tmp_path / "hello.txt"), "--avatar", str(photo), "-o", str(tmp_path / "out" / "a.mp4")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "anchor.jpg" in lines[0] and "thumbnail" in lines[0], lines
    assert photo.read_bytes() == PORTRAIT.read_bytes()


@pytest.mark.parametrize("scripts, clash", [
    ({"a.txt": HELLO, "a.md": md("title: A")}, ["a.md", "a.txt", "a.mp4"]),
    ({"one.md": md("output: same"), "two.md": md("output: same.mp4")}, ["one.md", "two.md", "same.mp4"]),
    ({"index.txt": HELLO, "b.txt": HELLO}, ["index.txt", "index.json"]),
])
def test_a_batch_whose_clips_would_overwrite_each_other_is_refused_before_rendering(scripts, clash, tmp_path, monkeypatch,
                                                                                   capsys):
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    for name, text in scripts.items():
        (tmp_path / "scripts").mkdir(exist_ok=True)
        (tmp_path / "scripts" / name).write_bytes(text.encode() if isinstance(text, str) else text)
    code = main(["batch", "--quiet", str(tmp_path / "scripts"), "--avatar", str(PORTRAIT), "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert all(word in lines[0] for word in clash), lines[0]
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_two_spreadsheet_rows_with_one_output_are_refused_naming_both_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    table = tmp_path / "b.csv"
    table.write_text("text,output\nFirst story.,lead\nSecond story.,other\nThird story.,lead\n")
    code = main(["batch", "--quiet", str(table), "--avatar", str(PORTRAIT), "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert "b.csv line 2" in lines[0] and "b.csv line 4" in lines[0] and "lead.mp4" in lines[0], lines[0]


def _render_until_encoding(tmp_path: Path, name: str = "a") -> subprocess.Popen:
    """`render hello.txt -o out/NAME.mp4` in its own process, returned once its clip is being encoded."""
    (tmp_path / "hello.txt").write_text(HELLO)
    (tmp_path / "out").mkdir(exist_ok=True)
    env = {**os.environ, "ANNOUNCER_MODELS": str(MODELS), "ANNOUNCER_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([sys.executable, "-m", "announcer", "render", "--quiet", "hello.txt", "--avatar", str(PORTRAIT),
                                "-o", f"out/{name}.mp4"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.stat().st_size > 0 for p in (tmp_path / "out").glob(f".{name}.*.part.mp4")):
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    return process


def _temp_files(tmp_path: Path) -> list[str]:
    return sorted(p.name for folder in (tmp_path / "out", tmp_path / "home" / "work" / "tmp") if folder.is_dir()
                  for p in folder.iterdir())


@pytest.mark.slow
def test_sigterm_during_encode_is_like_ctrl_c(tmp_path):
    process = _render_until_encoding(tmp_path)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert process.returncode == 130, stderr
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert _temp_files(tmp_path) == []


@pytest.mark.slow
def test_the_next_run_sweeps_what_a_kill_9_left_and_never_a_live_runs_files(tmp_path):
    process = _render_until_encoding(tmp_path)
    process.kill()
    process.communicate()
    left = _temp_files(tmp_path)
    assert any(name.endswith(".part.mp4") for name in left) and any(name.endswith(".wav") for name in left), left
    live = _render_until_encoding(tmp_path, "b")  # another run, live, with its temp files in the same folders
    its_files = [p for p in (tmp_path / "out").glob(".b.*")] + [p for p in (tmp_path / "home" / "work" / "tmp").iterdir()
                                                               if p.name not in left]
    assert len(its_files) >= 2, its_files
    os.kill(live.pid, signal.SIGSTOP)  # held where it is while the next run sweeps
    again = run_cli("render", "--quiet", "hello.txt", "--avatar", PORTRAIT, "-o", "out/a.mp4", cwd=tmp_path,
                    home=tmp_path / "home")
    assert again.returncode == 0, again.stderr
    assert all(path.exists() for path in its_files)  # the live run's temp files were left alone
    assert sorted(set(_temp_files(tmp_path)) - {p.name for p in its_files}) == ["a.jpg", "a.json", "a.mp4", "a.srt", "a.vtt"]
    live.kill()
    live.communicate()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB file system of its own (tmpfs), where the machine lets this user mount one."""
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small file system here")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_disk_too_small_for_the_clip_is_refused_naming_it_and_the_space(small_disk, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANNOUNCER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    (tmp_path / "hello.txt").write_text(HELLO * 3)
    code = main(["render", "--quiet", str(tmp_path / "hello.txt"), "--avatar", str(PORTRAIT), "--layout", "16:9",
                 "-o", str(small_disk / "clip.mp4")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(small_disk) in lines[0], lines
    assert "not enough disk space" in lines[0] and "MB are free" in lines[0]
    assert list(small_disk.iterdir()) == []


def test_a_disk_that_fills_while_writing_is_bad_input_naming_it(small_disk):
    from announcer.config import EncodeConfig
    from announcer.media.encode import VideoEncoder, encode_command

    sound = small_disk.parent / "sound.wav"
    sound.write_bytes(_wav(4.0, 0.3))
    outputs = OutputSet.for_path(small_disk / "clip.mp4")
    staged = StagedOutputs(outputs)
    with pytest.raises(InputError, match="not enough disk space") as full:
        staged.write_bytes(outputs.thumbnail, random_bytes(2_000_000))
    assert full.value.path == small_disk
    staged.discard()
    noise = np.random.default_rng(0).integers(0, 256, (100, 480, 640, 3), dtype=np.uint8)
    with pytest.raises(InputError, match="disk is full") as full:
        with VideoEncoder(encode_command(small_disk / "clip.mp4", sound, (640, 480), 25, 100, EncodeConfig()),
                          small_disk / "clip.mp4") as encoder:
            encoder.write(noise)
    assert full.value.path == small_disk


@pytest.mark.slow
def test_a_full_home_disk_is_named_and_the_cache_that_did_not_fit_is_not_fatal(small_disk, tmp_path, monkeypatch,
                                                                                  capsys):
    monkeypatch.setenv("ANNOUNCER_HOME", str(small_disk / "home"))
    monkeypatch.setenv("ANNOUNCER_MODELS", str(MODELS))
    (tmp_path / "long.txt").write_text(HELLO * 25)  # about 50 s: its sound for ffmpeg is 2 MB
    (tmp_path / "out").mkdir()
    code = main(["render", "--quiet", str(tmp_path / "long.txt"), "--avatar", str(PORTRAIT), "-o", str(tmp_path / "out" / "a.mp4")])
    lines = [line for line in capsys.readouterr().err.strip().splitlines() if "error" in line]
    assert code == 2 and len(lines) == 1 and str(small_disk / "home") in lines[0], lines
    assert "not enough disk space" in lines[0]
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.slow
def test_a_photo_claiming_a_billion_pixels_is_refused_before_any_memory_is_taken(tmp_path):
    """Decoding a 3 MB PNG whose header says 32000x32000 had taken the worker to 6.6-7.3 GB before 'no human face';
    here 2 GB of data would stop it."""
    (tmp_path / "hello.txt").write_text(HELLO)
    (tmp_path / "huge.png").write_bytes(_png_header(32000, 32000))
    limit = 2 * 1024 ** 3
    env = {**os.environ, "ANNOUNCER_MODELS": str(MODELS), "ANNOUNCER_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "announcer", "render", "--quiet", "hello.txt", "--avatar", "huge.png"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "announcer: error: huge.png: the avatar photo is 32000x32000 pixels, more than the 100 megapixels announcer "
        "decodes (scale it down; 8K, 7680x4320, is plenty)"]
