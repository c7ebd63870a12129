"""The `announcer` command: a thin layer over the Python API.

Exit codes: 0 when the clip was delivered, 2 for bad input, 130 when interrupted (Ctrl-C, SIGTERM), 1 for anything else.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

from .config import ASPECTS, ROLES, VOICE_ENGINES, aspects_named
from .errors import AnnouncerError, InputError
from .jobs import ENGINES
from .jobs.store import STATES
from .version import __version__

log = logging.getLogger("announcer")


def main(argv: list[str] | None = None) -> int:
    _interrupt_on_sigterm()
    try:
        args = _parser().parse_args(argv)
        _setup_logging(args.quiet, args.json, args.verbose)
    except KeyboardInterrupt:
        _report(AnnouncerError("interrupted; nothing was written"), False)
        return 130
    try:
        return args.handler(args)
    except AnnouncerError as error:
        _report(error, args.json)
        return error.exit_code
    except KeyboardInterrupt:
        _report(AnnouncerError("interrupted; nothing was written at the output path"), args.json)
        return 130
    except BrokenPipeError:  # a listing piped into `head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # the one place that turns any failure into a one-line message
        log.debug("unexpected failure", exc_info=True)
        _report(AnnouncerError(f"unexpected error: {type(error).__name__}: {error}", fix="run with -v for details"), args.json)
        return 1


def _interrupt_on_sigterm() -> None:
    """SIGTERM (a scheduler's stop, `kill`) stops a command as Ctrl-C does: nothing partial is left, exit 130.
    Batch and worker commands replace this with a request to stop after the clip in hand."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


class _Parser(argparse.ArgumentParser):
    """A malformed command line gets one line saying what is wrong and where the usage is, not the whole usage."""

    def error(self, message: str):
        command = self.prog.removeprefix("announcer").strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"announcer: error: {where}{message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="announcer", description="Script in, lip-synced announcer clip out.")
    parser.add_argument("--version", action="version", version=f"announcer {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", type=Path, help="folder for work files, models and avatars (default: $ANNOUNCER_HOME)")
    common.add_argument("--models-dir", type=Path, help="look for model files here first (default: $ANNOUNCER_MODELS)")
    common.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars, errors only")
    common.add_argument("--json", action="store_true", help="log JSON lines (for schedulers); implies --quiet bars")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

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
    evaluate.set_defaults(handler=_evaluate)

    train = commands.add_parser("train-mouth", parents=[common], help="train the speech-to-mouth model")
    train.add_argument("-o", "--output", type=Path, help="weights file (default: the home's models/mouth_net.safetensors, "
                       "which renders then use)")
    train.add_argument("--videos", type=Path, required=True, help="folder of talking videos (.mp4) to learn from")
    train.add_argument("--steps", type=int, default=1500)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quick", action="store_true", help="a tiny run: few sentences, few steps (for tests)")
    train.set_defaults(handler=_train_mouth)

    batch = commands.add_parser("batch", parents=[common], help="render every script in a folder or glob")
    batch.add_argument("scripts", help="a folder of scripts, a glob such as 'news/*.md' (quote it), or a .csv "
                                       "spreadsheet with a row per clip (columns: text, title, presenter, layout, ...)")
    batch.add_argument("--avatar", help="presenter photo, video or prepared avatar name for every script that names none "
                                        "(avatar: in a script's front matter, or its presenter's, wins)")
    batch.add_argument("--presenter", help="the presenter (presenters/NAME.yaml) of every script that names none "
                                           "(presenter: in a script's front matter wins)")
    batch.add_argument("--out", type=Path, required=True, help="folder for the clips and index.json / index.html")
    batch.add_argument("--engine", choices=ENGINES, default="local", help="where clips render (default: this process)")
    batch.add_argument("--address", help="Ray cluster address (with --engine ray; default: start a local Ray)")
    batch.add_argument("--queue-only", action="store_true", help="only queue the jobs; `announcer worker` renders them")
    batch.set_defaults(handler=_batch)

    jobs = commands.add_parser("jobs", help="the job store: list, show, retry, cancel")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_list = jobs_commands.add_parser("list", parents=[common], help="every job, newest last")
    jobs_list.add_argument("--state", choices=STATES)
    jobs_list.set_defaults(handler=_jobs_list)
    for verb, helptext in (("show", "one job in full"), ("retry", "queue a failed or cancelled job again"),
                           ("cancel", "cancel a queued, running or failed job")):
        command = jobs_commands.add_parser(verb, parents=[common], help=helptext)
        command.add_argument("id", type=int)
        command.set_defaults(handler=_jobs_verb, verb=verb)

    schedule = commands.add_parser("schedule", help="schedules in workflows/: list, run-now")
    schedule_commands = schedule.add_subparsers(dest="schedule_command", required=True)
    schedule_list = schedule_commands.add_parser("list", parents=[common], help="schedules and their next runs")
    schedule_list.add_argument("--dir", type=Path, default=Path("workflows"), help="folder of schedule YAML files")
    schedule_list.set_defaults(handler=_schedule_list)
    run_now = schedule_commands.add_parser("run-now", parents=[common], help="queue and render one schedule's scripts now")
    run_now.add_argument("name")
    run_now.add_argument("--dir", type=Path, default=Path("workflows"), help="folder of schedule YAML files")
    run_now.set_defaults(handler=_schedule_run_now)

    worker = commands.add_parser("worker", parents=[common], help="run schedules and queued jobs until stopped (SIGTERM)")
    worker.add_argument("--schedules", type=Path, default=Path("workflows"), help="folder of schedule YAML files")
    worker.add_argument("--engine", choices=ENGINES, default="local")
    worker.add_argument("--address", help="Ray cluster address (with --engine ray)")
    worker.add_argument("--until-empty", action="store_true", help="exit when no job is queued or running")
    worker.add_argument("--nice", type=int, default=10,
                        help="run at this lower CPU priority (default 10), so a studio or shell on the same machine "
                             "stays quick while clips render; 0 keeps the normal priority")
    worker.set_defaults(handler=_worker)

    serve = commands.add_parser("serve", parents=[common], help="the studio: web app and HTTP API (`announcer worker` renders)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--schedules", type=Path, default=Path("workflows"), help="folder of schedule YAML files")
    serve.add_argument("--max-upload-mb", type=float, default=200.0, help="largest request body accepted (default 200)")
    serve.add_argument("--secure-cookies", action="store_true", help="served over HTTPS (behind a reverse proxy)")
    serve.add_argument("--allow-private-webhooks", action="store_true",
                       help="let webhooks point at loopback or private addresses (a CMS inside your own network)")
    serve.add_argument("--one-person-team", action="store_true",
                       help="let a reviewer approve a clip they submitted (a newsroom of one; otherwise another reviewer must)")
    serve.set_defaults(handler=_serve)

    users = commands.add_parser("users", help="studio accounts and their API tokens")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    add_user = user_commands.add_parser("add", parents=[common], help="add an account; prints its token once")
    add_user.add_argument("name")
    add_user.add_argument("--role", choices=ROLES, required=True)
    add_user.set_defaults(handler=_users_add)
    new_token = user_commands.add_parser("token", parents=[common], help="replace an account's token; prints it once")
    new_token.add_argument("name")
    new_token.set_defaults(handler=_users_token)
    remove_user = user_commands.add_parser("remove", parents=[common], help="remove an account")
    remove_user.add_argument("name")
    remove_user.set_defaults(handler=_users_remove)
    list_users = user_commands.add_parser("list", parents=[common], help="list the accounts and their roles")
    list_users.set_defaults(handler=_users_list)

    avatar = commands.add_parser("avatar", help="prepared presenters: their own generator and cleanup model")
    avatar_commands = avatar.add_subparsers(dest="avatar_command", required=True)
    prepare = avatar_commands.add_parser("prepare", parents=[common], help="train a presenter's models from a video of them")
    prepare.add_argument("video", type=Path, help="the presenter talking (a minute or more is best)")
    prepare.add_argument("--name", required=True, help="the name `render --avatar NAME` will use")
    prepare.add_argument("--size", type=int, help="crop side the generator works at (default 256; 512 on a GPU)")
    prepare.add_argument("--steps", type=int, help="generator training steps (default 3000)")
    prepare.add_argument("--cleanup-steps", type=int, help="cleanup model training steps (default 1500; 0: no cleanup model)")
    prepare.add_argument("--width", type=int, help="generator channels at full resolution (default 32)")
    prepare.add_argument("--batch-size", type=int, help="frames per training step (default 8)")
    prepare.add_argument("--quick", action="store_true", help="a short CPU run: 64-pixel crops, a few steps")
    prepare.set_defaults(handler=_avatar_prepare)
    avatar_eval = avatar_commands.add_parser("eval", parents=[common], help="score a prepared avatar on its held-out frames")
    avatar_eval.add_argument("name")
    avatar_eval.set_defaults(handler=_avatar_eval)
    avatar_list = avatar_commands.add_parser("list", parents=[common], help="list prepared avatars")
    avatar_list.set_defaults(handler=_avatar_list)

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
    return parser


def _config(args):
    from .config import FaceConfig, RenderConfig

    return RenderConfig(face=FaceConfig(models_dir=args.models_dir), device=args.device, home=args.home,
                        progress=not (args.quiet or args.json))


def _add_setting_flags(render: argparse.ArgumentParser) -> None:
    """A flag for each of a clip's settings (announcer.settings), which wins over the script's front matter."""
    from .settings import SETTINGS

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
    from .api import Pipeline, RenderRequest
    from .settings import SETTINGS

    config = _config(args)
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
             extra={"outputs": [str(p) for o in delivered for p in [*o.all(), o.closeups] if p.is_file()]})
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
    from .script import read_script

    if script is not None and script.suffix.lower() == ".md" and script.is_file():
        read = read_script(script)
        name = read.options.get("output")
        if name:
            from .deliver import OutputSet

            try:
                return OutputSet.inside(Path.cwd(), str(name)).video
            except InputError as error:
                raise InputError(f"front matter output: {error.what}", path=script, line=read.option_lines.get("output"),
                                 fix=error.fix) from None
    return Path((script or audio).stem).with_suffix(".mp4").resolve()


def _evaluate(args) -> int:
    from .eval import evaluate
    from .runtime import Runtime
    from .eval.texture import evaluate_texture

    config = _config(args)
    if args.language:
        config = replace(config, voice=replace(config.voice, language=args.language))
    with Runtime(config) as runtime:
        if args.drive == "landmarks":
            report = evaluate_texture(args.video, args.output, runtime, args.max_seconds)
        else:
            report = evaluate(args.video, args.output, runtime, args.max_seconds)
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
        offset = report["source_av_offset_frames"]
        if abs(offset) > 2:
            print(f"note: the video itself looks {abs(offset)} frames out of sync (audio {'late' if offset > 0 else 'early'}); "
                  "lag-0 figures are limited by that")
        print(f"wrote {args.output / 'report.json'}, mouth.png, side_by_side.mp4")
    return 0


def _train_mouth(args) -> int:
    from .api import Pipeline, resolve_device
    from .home import Home
    from .motion.model import TRAINED_WEIGHTS_NAME, MouthNetSettings
    from .motion.train import VALIDATION_VIDEOS, synthetic_clips, train, video_clips

    settings = MouthNetSettings()
    folder = args.videos
    videos = sorted(folder.glob("*.mp4"))
    if not videos:
        raise InputError("no talking videos found", path=folder, fix="pass --videos DIR with .mp4 files")
    if args.quick:
        videos = [v for v in videos if v.name in ("talk_face5.mp4", "talk_face2.mp4")]
    with Pipeline(_config(args)) as pipeline:
        real, offsets = video_clips(videos, pipeline.face_stage, settings)
    held_out = [clip for clip in real if clip.name in VALIDATION_VIDEOS]
    training = synthetic_clips(settings, args.quick, seed=args.seed) + [clip for clip in real if clip.name not in VALIDATION_VIDEOS]
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


def _batch(args) -> int:
    from .home import Home
    from .jobs import enqueue_batch, open_store, run_batch
    from .jobs.batch import batch_jobs, find_scripts

    config = _config(args)
    if args.queue_only:
        options = {"presenter": args.presenter} if args.presenter else None
        scripts = find_scripts(args.scripts, Home.resolve(args.home).work_dir / "tables")
        jobs, skipped = enqueue_batch(open_store(config), batch_jobs(scripts, args.avatar, args.out, options))
        print(f"queued {len(jobs) - len(skipped)} job(s), {len(skipped)} already done; run `announcer worker` to render")
        return 0
    with _stop_on_signals() as stop:
        result = run_batch(args.scripts, args.avatar, args.out, config, engine=args.engine, address=args.address, stop=stop,
                           presenter=args.presenter)
    for job in result.failed:
        print(json.dumps({"job": job.id, "script": job.script, "state": job.state, "error": job.error}) if args.json
              else f"job {job.id} {job.state}: {job.error or 'not finished'}", file=sys.stderr)
    done, waiting = len(result.jobs) - len(result.failed) - len(result.unfinished), len(result.unfinished)
    summary = {"done": done, "failed": len(result.failed), "not_rendered_yet": waiting,
               "skipped_already_done": len(result.skipped), "index": str(result.index), "interrupted": result.interrupted}
    print(json.dumps(summary) if args.json else
          f"{done} of {len(result.jobs)} clip(s) done ({len(result.skipped)} from an earlier run), {len(result.failed)} failed"
          + (f", {waiting} not rendered yet" if waiting else "") + f"; {result.index}"
          + ("; stopped early: run the same command again to finish" if result.interrupted else ""))
    if result.interrupted:
        return 130
    return 0 if result.ok else 1


@contextmanager
def _stop_on_signals():
    """SIGTERM and SIGINT ask the runner to stop taking jobs; the clip in hand is finished and delivered first."""
    import signal
    import threading

    stop = threading.Event()

    def request_stop(signum, frame):
        log.warning("stopping after the clip in hand (signal %s)", signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _jobs_list(args) -> int:
    from .jobs import open_store

    for job in open_store(_config(args)).jobs(state=args.state):
        entry = {"id": job.id, "state": job.state, "attempts": job.attempts, "script": job.script, "output": job.output,
                 "error": job.error}
        print(json.dumps(entry) if args.json else
              f"{job.id:5} {job.state:9} {job.attempts}x  {Path(job.script or '').name:30} {job.error or job.output}")
    return 0


def _jobs_verb(args) -> int:
    from .jobs import open_store

    store = open_store(_config(args))
    job = {"show": store.get, "retry": store.retry, "cancel": store.cancel}[args.verb](args.id)
    print(json.dumps({**job.as_dict(), "stages": store.stages(job.id)}, indent=None if args.json else 2))
    return 0


def _schedule_list(args) -> int:
    from .jobs.schedule import load_schedules, next_runs

    for schedule in load_schedules(args.dir):
        entry = {"name": schedule.name, "file": str(schedule.path), "scripts": schedule.scripts, "out": str(schedule.out),
                 "cron": schedule.cron, "every_seconds": schedule.every_seconds, "watch": schedule.watch,
                 "timezone": schedule.timezone, "next": next_runs(schedule)}
        print(json.dumps(entry) if args.json else
              f"{schedule.name:20} next {', '.join(entry['next'])}  {schedule.scripts} -> {schedule.out}")
    return 0


def _schedule_run_now(args) -> int:
    from .jobs import open_store, write_index
    from .jobs.schedule import fire, load_schedules

    config = _config(args)
    schedule = next((s for s in load_schedules(args.dir) if s.name == args.name), None)
    if schedule is None:
        raise InputError(f"no schedule named '{args.name}'", path=args.dir, fix="see `announcer schedule list`")
    fire(str(schedule.path), str(config.home) if config.home else None)
    with _stop_on_signals() as stop:
        summary = _work(config, "local", None, stop, until_empty=True, batch=str(schedule.out))
    jobs = open_store(config).jobs(batch=str(schedule.out))
    write_index(schedule.out, jobs)
    print(f"{len(summary.done)} done, {len(summary.failed)} failed; {schedule.out / 'index.json'}")
    return 0 if not summary.failed else 1


def _worker(args) -> int:
    from .jobs.schedule import ScheduleRunner, load_schedules

    config = _config(args)
    if args.nice > 0:
        os.nice(args.nice)  # rendering is batch work: an interactive server on the same cores answers first
    schedules = load_schedules(args.schedules)
    runner = ScheduleRunner(schedules, config) if schedules else None
    with _stop_on_signals() as stop:
        if runner is not None:
            runner.start()
            log.info("worker: %d schedule(s) from %s", len(schedules), args.schedules)
        try:
            summary = _work(config, args.engine, args.address, stop, until_empty=args.until_empty)
        finally:
            if runner is not None:
                runner.shutdown()
    log.info("worker stopped: %d done, %d failed", len(summary.done), len(summary.failed))
    return 0


def _work(config, engine_name: str, address: str | None, stop, until_empty: bool, batch: str | None = None):
    """The job loop with an engine, rewriting each batch's index as its jobs finish."""
    from .jobs import close_engine, make_engine, open_store, work, worker_name, write_index

    store = open_store(config)
    engine = make_engine(engine_name, config, address, store)

    def refresh_index(job) -> None:
        write_index(Path(job.batch), store.jobs(batch=job.batch))

    try:
        return work(store, engine, worker_name(), batch=batch, until_empty=until_empty, stop=stop, on_recorded=refresh_index)
    finally:
        close_engine(engine)


def _serve(args) -> int:
    from .studio import StudioConfig, create_app
    from .studio.server import serve

    config = StudioConfig(_config(args), max_upload_mb=args.max_upload_mb, schedules=args.schedules,
                          secure_cookies=args.secure_cookies, one_person_team=args.one_person_team,
                          allow_private_webhooks=args.allow_private_webhooks)
    if args.host not in ("127.0.0.1", "localhost", "::1"):  # on stderr even with --quiet: it is about who can get in
        print(f"announcer: warning: serving on {args.host}: anyone who can reach it sees the sign-in page; put it behind "
              f"HTTPS", file=sys.stderr)
    serve(create_app(config), args.host, args.port, log_level="warning" if args.quiet else "info")
    return 0


def _studio_store(args):
    from .home import Home
    from .studio.store import StudioStore

    return StudioStore(Home.resolve(args.home).job_store)


def _users_add(args) -> int:
    token = _studio_store(args).add_user(args.name, args.role)
    print(token)
    log.info("added %s (%s); the token above is shown only now", args.name, args.role)
    return 0


def _users_token(args) -> int:
    print(_studio_store(args).new_token(args.name))
    log.info("%s has a new token (the old one no longer works); it is shown only now", args.name)
    return 0


def _users_remove(args) -> int:
    _studio_store(args).remove_user(args.name)
    return 0


def _users_list(args) -> int:
    for user in _studio_store(args).users():
        print(f"{user.name}\t{user.role}")
    return 0


def _avatar_prepare(args) -> int:
    from .avatar import PrepareConfig, evaluate_bundle, prepare_avatar
    from .runtime import Runtime

    config = PrepareConfig.quick() if args.quick else PrepareConfig()
    chosen = {"size": args.size, "generator_steps": args.steps, "cleanup_steps": args.cleanup_steps, "batch_size": args.batch_size,
              "width": args.width}
    config = replace(config, **{k: v for k, v in chosen.items() if v is not None})
    with Runtime(_config(args)) as runtime:
        bundle = prepare_avatar(args.video, args.name, runtime, config)
        report = evaluate_bundle(bundle, runtime)
    _print_avatar_report(bundle, report, args.json)
    return 0


def _avatar_eval(args) -> int:
    from .avatar import bundle_for, evaluate_bundle
    from .runtime import Runtime

    with Runtime(_config(args)) as runtime:
        bundle = bundle_for(runtime.home.avatars_dir, args.name)
        if not bundle.is_ready:
            raise InputError(f"no prepared avatar '{args.name}'", path=bundle.root,
                             fix=f"prepare it with `announcer avatar prepare VIDEO --name {args.name}`")
        report = evaluate_bundle(bundle, runtime)
    _print_avatar_report(bundle, report, args.json)
    return 0


def _print_avatar_report(bundle, report: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"avatar": bundle.name, "path": str(bundle.root), **report}))
        return
    print(f"avatar {bundle.name}: {bundle.root}")
    print(f"held-out frames {report['held_out_frames'][0]}-{report['held_out_frames'][1]}, lower face at {report['crop_size']} px:")
    for name, scores in report["generation"].items():
        print(f"  {name:18} PSNR {scores['psnr_db']:6.2f} dB   SSIM {scores['ssim']:.4f}")
    cleanup = report.get("cleanup")
    if cleanup:
        print(f"  cleanup on corrupted crops ({cleanup['corrupted_psnr_db']:.2f} dB): autoencoder {cleanup['autoencoder']['psnr_db']:.2f} dB "
              f"({cleanup['autoencoder']['seconds_per_crop'] * 1000:.1f} ms/crop), fastNlMeans {cleanup['fast_nl_means']['psnr_db']:.2f} dB "
              f"({cleanup['fast_nl_means']['seconds_per_crop'] * 1000:.1f} ms/crop)")
    print(f"preview: {bundle.preview_path}")


def _avatar_list(args) -> int:
    from .avatar import list_bundles
    from .home import Home

    for bundle in list_bundles(Home.resolve(args.home).avatars_dir):
        meta = bundle.read_meta()
        entry = {"name": bundle.name, "frames": meta.get("frames"), "size": meta.get("prepare", {}).get("size"),
                 "source": meta.get("source")}
        print(json.dumps(entry) if args.json else f"{bundle.name:20} {entry['frames']} frames, {entry['size']} px, from {entry['source']}")
    return 0


def _doctor(args) -> int:
    from .doctor import run_checks

    checks = run_checks(_config(args))
    for check in checks:
        line = {"check": check.name, "ok": check.ok, "detail": check.detail}
        status = "ok" if check.ok else "MISSING" if check.required else "optional"
        print(json.dumps(line) if args.json else f"{status:8} {check.name}: {check.detail}")
    return 0 if all(c.ok or not c.required for c in checks) else 1


def _voices(args) -> int:
    from .home import Home
    from .voice import available_voices
    from .voice.catalogue import VoiceCatalogue, is_installed

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
    from .voice.espeak_engine import available_voices as espeak_voices

    code = (language or "").replace("_", "-").lower()
    if code and any(voice == code or voice == code.split("-")[0] for voice in espeak_voices()):
        print(f"espeak (always installed; intelligible, not natural): --voice espeak:{code.split('-')[0]}")


def _list_supertonic(args, release, models_dir: Path) -> None:
    from .voice.catalogue import supertonic_installed
    from .voice.supertonic_engine import MODEL_NAME

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
    from .settings import parse_voice
    from .config import VoiceConfig
    from .home import Home
    from .scratch import scratch_file
    from .voice import load_engine, spoken_wav

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
    from .voice.catalogue import VoiceCatalogue

    catalogue = VoiceCatalogue.load()
    if engine == "piper" and voice in catalogue.voices:
        return catalogue.voices[voice].language.split("_")[0]
    return None


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        for key in ("outputs", "path", "line", "fix"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=False)


def _setup_logging(quiet: bool, as_json: bool, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if as_json else logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO)
    if not verbose:
        _quiet_native_libraries()
    for noisy in ("numba", "matplotlib", "urllib3", "TTS", "trainer", "fsspec", "piper", "supertonic"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def _quiet_native_libraries() -> None:
    """MediaPipe (glog), TFLite and OpenCV log INFO/WARNING lines to stderr from C++; keep the CLI's stderr for errors.

    Set before their libraries start; a user's own environment setting wins.
    """
    import cv2

    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def _report(error: AnnouncerError, as_json: bool) -> None:
    if as_json:
        entry = {"level": "error", "message": error.what, "path": str(error.path) if error.path else None,
                 "line": error.line, "fix": error.fix, "exit_code": error.exit_code}
        detail = getattr(error, "detail", "")
        if detail:
            entry["detail"] = detail
        print(json.dumps(entry, ensure_ascii=False), file=sys.stderr)
        return
    print(f"announcer: error: {error.one_line()}", file=sys.stderr)
    detail = getattr(error, "detail", "")
    if detail:
        log.debug("%s", detail)


if __name__ == "__main__":
    sys.exit(main())
