"""`announcer` doctor and voices: what is installed, and hearing a voice."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from ..config import VOICE_ENGINES
from .common import config_from, log


def add_commands(commands, common: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser("doctor", parents=[common], help="check ffmpeg, CUDA, models and voices")
    doctor.set_defaults(handler=_doctor)
    voices = commands.add_parser("voices", parents=[common], help="list voices; `voices say` plays one")
    voices.add_argument("--engine", choices=VOICE_ENGINES)
    voices.add_argument("--language", help="only voices for this language (de, en_GB, ...)")
    voices.add_argument("--gender", choices=("female", "male", "mixed"))
    voices.set_defaults(handler=_voices)
    voices_commands = voices.add_subparsers(dest="voices_command")
    say = voices_commands.add_parser("say", parents=[common], help="speak a line with a voice, to hear it before a clip")
    say.add_argument("text")
    say.add_argument("--voice", required=True, help="e.g. piper:de_DE-thorsten-medium (fetched on first use), espeak:ko")
    say.add_argument("--language", help="the text's language (default: the voice's, else en)")
    say.add_argument("--speed", type=float, default=1.0)
    say.add_argument("-o", "--output", type=Path, required=True, help="the .wav to write")
    say.set_defaults(handler=_voices_say)


def _doctor(args) -> int:
    from ..doctor import run_checks

    checks = run_checks(config_from(args))
    for check in checks:
        line = {"check": check.name, "ok": check.ok, "detail": check.detail}
        status = "ok" if check.ok else "MISSING" if check.required else "optional"
        print(json.dumps(line) if args.json else f"{status:8} {check.name}: {check.detail}")
    return 0 if all(c.ok or not c.required for c in checks) else 1


def _voices(args) -> int:
    from ..home import Home
    from ..voice import available_voices
    from ..voice.catalogue import VoiceCatalogue, is_installed

    models_dir, catalogue = Home.resolve(args.home).models_dir, VoiceCatalogue.load()
    if args.engine in (None, "piper"):
        catalogued = catalogue.matching(args.language, args.gender)
        if catalogued and not args.json:
            print("piper, by name (--voice piper:NAME; fetched and checked on first use):")
        for voice in catalogued:
            installed = is_installed(voice, models_dir / "voices")
            if args.json:
                print(json.dumps({**asdict(voice), "voice": voice.spec, "installed": installed}))
                continue
            state = "installed" if installed else f"{voice.size / 1e6:.0f} MB"
            print(f"  {voice.name:36} {voice.language:6} {voice.gender:7} {voice.quality:7} {state:10} {voice.licence}")
    if args.engine in (None, "supertonic"):
        _list_supertonic(args, catalogue.supertonic, models_dir)
    if args.language or args.gender:
        if not args.json:
            _list_espeak(args.language)
        return 0
    for engine, names in available_voices().items():
        if args.engine and engine != args.engine:
            continue
        if args.json:
            print(json.dumps({"engine": engine, "voices": names}))
            continue
        print(f"{engine}:")
        for name in names[:60] if engine == "espeak" else names:
            print(f"  {name}")
        if engine == "espeak" and len(names) > 60:
            print(f"  ... and {len(names) - 60} more (announcer voices --engine espeak --json)")
    return 0


def _list_espeak(language: str | None) -> None:
    from ..voice.espeak_engine import available_voices as espeak_voices

    code = (language or "").replace("_", "-").lower()
    if code and any(voice == code or voice == code.split("-")[0] for voice in espeak_voices()):
        print(f"espeak (always installed; intelligible, not natural): --voice espeak:{code.split('-')[0]}")


def _list_supertonic(args, release, models_dir: Path) -> None:
    from ..voice.catalogue import supertonic_installed
    from ..voice.supertonic_engine import MODEL_NAME

    styles = release.styles_matching(args.language, args.gender) if release else []
    if not styles:
        return
    installed = supertonic_installed(release, models_dir / MODEL_NAME)
    size = sum(size for _, size in release.files.values())
    if args.json:
        for style in styles:
            print(json.dumps({"voice": f"supertonic:{style}", "engine": "supertonic", "name": style,
                              "gender": release.styles[style], "languages": list(release.languages),
                              "licence": release.licence, "installed": installed}))
        return
    state = "installed" if installed else f"{size / 1e6:.0f} MB on first use, for all of them"
    print(f"supertonic, by style (--voice supertonic:STYLE; {len(release.languages)} languages, Korean included; "
          f"{state}; {release.licence}):")
    for gender in ("female", "male"):
        chosen = [style for style in styles if release.styles[style] == gender]
        if chosen:
            print(f"  {gender:7} {' '.join(chosen)}")


def _voices_say(args) -> int:
    """One line through the whole voice stage (loudness included), written as 16-bit WAV."""
    from ..config import VoiceConfig
    from ..home import Home
    from ..scratch import scratch_file
    from ..settings import parse_voice
    from ..voice import load_engine, spoken_wav

    engine, voice = parse_voice(args.voice)
    config = VoiceConfig(engine=engine, voice=voice, language=args.language or _catalogued_language(engine, voice),
                         speed=args.speed, device=args.device if args.device != "auto" else "cpu")
    wav = spoken_wav(args.text, config, load_engine(config, models_dir=Home.resolve(args.home).models_dir))
    output = args.output.with_suffix(".wav") if args.output.suffix.lower() != ".wav" else args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = scratch_file(output.parent, f".{output.stem}", ".part.wav")
    partial.write_bytes(wav)
    partial.replace(output)
    log.info("%s said it in %.1f kB of 16-bit WAV", voice or engine, len(wav) / 1000)
    if not args.quiet and not args.json:
        print(output)
    return 0


def _catalogued_language(engine: str, voice: str | None) -> str | None:
    """A catalogued voice speaks its own language unless told otherwise."""
    from ..voice.catalogue import VoiceCatalogue

    catalogue = VoiceCatalogue.load()
    if engine == "piper" and voice in catalogue.voices:
        return catalogue.voices[voice].language.split("_")[0]
    return None
