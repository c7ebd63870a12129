"""`announcer` render, eval and train-mouth: one clip, a lip-sync measurement, the speech-to-mouth model."""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from ..config import ASPECTS, aspects_named
from ..errors import InputError
from .common import config_from, log


def add_commands(commands, common: argparse.ArgumentParser) -> None:
    render = commands.add_parser("render", parents=[common], help="render one clip")
    render.add_argument("script", nargs="?", type=Path, help=".txt, .md (with front matter) or .srt")
    render.add_argument("--audio", type=Path, help="recorded narration instead of TTS")
    _add_setting_flags(render)
    render.add_argument("--fps", type=int, help="frames per second (default 25)")
    render.add_argument("--height", type=int, help="output height in pixels (default: the avatar's, at most 1080)")
    render.add_argument("--no-cache", action="store_true", help="recompute every stage")
    render.add_argument("--face", type=int, help="with several faces in the picture, the presenter's: 1 is the "
                                                 "leftmost (default: the largest)")
    render.add_argument("--strict", action="store_true",
                        help="fail, rather than warn, on input that is probably wrong (narration far too short for its script)")
    render.add_argument("--closeups", action="store_true",
                        help="also write OUT.closeups.png: eyes and mouth at 1:1 and 2x at the widest mouths and a blink")
    render.add_argument("-o", "--output", type=Path, help="OUT.mp4 (default: front matter output, else the script's name)")
    render.set_defaults(handler=_render)

    evaluate = commands.add_parser("eval", parents=[common], help="measure lip sync on a real talking video")
    evaluate.add_argument("video", type=Path, help="a talking-head video with its own speech")
    evaluate.add_argument("-o", "--output", type=Path, required=True, help="folder for report.json, mouth.png, side_by_side.mp4")
    evaluate.add_argument("--max-seconds", type=float, default=30.0, help="evaluate at most this much of the video")
    evaluate.add_argument("--language", help="the speech's language (default en): another language's phones are heard "
                                             "by hama's phone recogniser rather than aligned by the English one")
    evaluate.add_argument("--drive", choices=("speech", "landmarks"), default="speech",
                          help="speech: the video's audio drives the mouth (lip sync); landmarks: held-out frames are "
                               "rendered from their own real landmarks (teeth and lips, apart from timing)")
    evaluate.add_argument("--script", type=Path, help="the video's transcript: its speech is aligned to it and the face "
                                                      "acts it, as a render would")
    evaluate.set_defaults(handler=_evaluate)

    train = commands.add_parser("train-mouth", parents=[common], help="train the speech-to-mouth model")
    train.add_argument("-o", "--output", type=Path, help="weights file (default: the home's models/mouth_net.safetensors, "
                       "which renders then use)")
    train.add_argument("--videos", type=Path, required=True, help="folder of talking videos (.mp4) to learn from")
    train.add_argument("--steps", type=int, default=1500)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quick", action="store_true", help="a tiny run: few sentences, few steps (for tests)")
    train.set_defaults(handler=_train_mouth)


def _add_setting_flags(render: argparse.ArgumentParser) -> None:
    """A flag for each of a clip's settings (announcer.settings), which wins over the script's front matter."""
    from ..settings import SETTINGS

    types = {"number": float, "integer": int, "file": Path, "aspects": _aspect_list}
    for key, setting in SETTINGS.items():
        if key == "output":
            continue  # -o
        where = f" (or set {key}: in front matter)"
        if setting.kind == "switch":
            render.add_argument(setting.flag, dest=key, action="store_true", default=None, help=setting.help + where)
        else:
            render.add_argument(setting.flag, dest=key, type=types.get(setting.kind), choices=setting.choices or None,
                                metavar="16:9,9:16" if setting.kind == "aspects" else None, help=setting.help + where)


def _render(args) -> int:
    from ..api import Pipeline, RenderRequest
    from ..settings import SETTINGS

    config = config_from(args)
    config = replace(config, motion=replace(config.motion, fps=config.motion.fps if args.fps is None else args.fps),
                     encode=replace(config.encode, height=args.height), face=replace(config.face, face_number=args.face),
                     use_cache=not args.no_cache, strict=args.strict)
    if args.script is None and args.audio is None:
        raise InputError("nothing to read", fix="give a SCRIPT, or --audio NARRATION.wav")
    output = args.output or _default_output(args.script, args.audio)
    settings = {key: getattr(args, key) for key in SETTINGS if key not in ("output", "avatar")}
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in settings.items() if value is not None}
    started = time.perf_counter()
    with Pipeline(config) as pipeline:
        result = pipeline.render(RenderRequest(avatar=args.avatar, output=output, script=args.script, audio=args.audio,
                                               settings=settings, closeups=args.closeups))
    delivered = result.all_outputs()
    log.info("wrote %s in %.1fs", ", ".join(str(o.video) for o in delivered), time.perf_counter() - started,
             extra={"outputs": [str(p) for o in delivered for p in [*o.all(), *o.for_review()] if p.is_file()]})
    if not args.quiet and not args.json:
        print("\n".join(str(o.video) for o in delivered))
    return 0


def _aspect_list(text: str) -> list[str]:
    """'16:9,9:16' -> ['16:9', '9:16'], each a known aspect."""
    aspects = aspects_named(text)
    unknown = [a for a in aspects if a not in ASPECTS]
    if not aspects or unknown:
        raise argparse.ArgumentTypeError(f"unknown layout {', '.join(unknown) if unknown else repr(text)}: use {', '.join(ASPECTS)}")
    return aspects


def _default_output(script: Path | None, audio: Path | None) -> Path:
    from ..script import read_script

    if script is not None and script.suffix.lower() == ".md" and script.is_file():
        read = read_script(script)
        name = read.options.get("output")
        if name:
            from ..deliver import OutputSet

            try:
                return OutputSet.inside(Path.cwd(), str(name)).video
            except InputError as error:
                raise InputError(f"front matter output: {error.what}", path=script, line=read.option_lines.get("output"),
                                 fix=error.fix) from None
    return Path((script or audio).stem).with_suffix(".mp4").resolve()


def _evaluate(args) -> int:
    from ..eval import evaluate
    from ..eval.texture import evaluate_texture
    from ..runtime import Runtime

    config = config_from(args)
    if args.language:
        config = replace(config, voice=replace(config.voice, language=args.language))
    with Runtime(config) as runtime:
        if args.drive == "landmarks":
            report = evaluate_texture(args.video, args.output, runtime, args.max_seconds)
        else:
            report = evaluate(args.video, args.output, runtime, args.max_seconds, args.script)
    if args.json:
        print(json.dumps(report))
    elif args.quiet:
        pass
    elif args.drive == "landmarks":
        print(f"{'':18} {'real':>8} {'painted':>8}")
        for key in ("mouth_psnr_db", "mouth_ssim", "interior_flicker"):
            print(f"{key:18} {report[key]:>8} {report['painted'][key]:>8}")
        print(f"real footage's interior flicker {report['real_interior_flicker']}; wrote {args.output / 'report.json'}, closeups.png")
    else:
        keys = ("mouth_open_r", "lip_landmark_distance", "offset_frames", "silence_close_ms", "above_mouth_psnr_db")
        print(f"{'':22} {'announcer':>10} {'baseline':>10}")
        for key in keys:
            print(f"{key:22} {report[key]:>10} {report['baseline'][key]:>10}")
        print(f"\n{'':22} {'real':>10} {'announcer':>10}")
        for key, real in report["acting"]["real"].items():
            print(f"{key:22} {real:>10} {report['acting']['generated'][key]:>10}")
        offset = report["source_av_offset_frames"]
        if abs(offset) > 2:
            print(f"note: the video itself looks {abs(offset)} frames out of sync (audio {'late' if offset > 0 else 'early'}); "
                  "lag-0 figures are limited by that")
        print(f"wrote {args.output / 'report.json'}, mouth.png, side_by_side.mp4")
    return 0


def _train_mouth(args) -> int:
    from ..api import Pipeline, resolve_device
    from ..home import Home
    from ..motion.model import TRAINED_WEIGHTS_NAME, MouthNetSettings
    from ..motion.train import VALIDATION_VIDEOS, synthetic_clips, train, video_clips

    settings = MouthNetSettings()
    folder = args.videos
    videos = sorted(folder.glob("*.mp4"))
    if not videos:
        raise InputError("no talking videos found", path=folder, fix="pass --videos DIR with .mp4 files")
    if args.quick:
        videos = [v for v in videos if v.name in ("talk_face5.mp4", "talk_face2.mp4")]
    with Pipeline(config_from(args)) as pipeline:
        real, offsets = video_clips(videos, pipeline.face_stage, settings)
    held_out = [clip for clip in real if clip.name in VALIDATION_VIDEOS]
    training = synthetic_clips(settings, args.quick, Home.resolve(args.home).models_dir, seed=args.seed) + [clip for clip in real if clip.name not in VALIDATION_VIDEOS]
    steps = min(args.steps, 40) if args.quick else args.steps
    model, report = train(training, held_out, settings, steps, str(resolve_device(args.device)), args.seed)
    output = args.output or Home.resolve(args.home).models_dir / TRAINED_WEIGHTS_NAME
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output, {"validation_r": report.validation, "video_offsets": offsets, "steps": steps, "seed": args.seed,
                        "quick": args.quick, "held_out": list(VALIDATION_VIDEOS)})
    summary = {"weights": str(output), "loss_first": round(report.losses[0], 4), "loss_last": round(sum(report.losses[-20:]) / min(20, len(report.losses)), 4),
               "validation_r": report.validation, "video_offsets": offsets}
    print(json.dumps(summary) if args.json else "\n".join(f"{k}: {v}" for k, v in summary.items()))
    return 0
