"""`announcer` avatar prepare, eval and list: prepared presenters."""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from ..errors import InputError
from .common import config_from


def add_commands(commands, common: argparse.ArgumentParser) -> None:
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


def _avatar_prepare(args) -> int:
    from ..avatar import PrepareConfig, evaluate_bundle, prepare_avatar
    from ..runtime import Runtime

    config = PrepareConfig.quick() if args.quick else PrepareConfig()
    chosen = {"size": args.size, "generator_steps": args.steps, "cleanup_steps": args.cleanup_steps, "batch_size": args.batch_size,
              "width": args.width}
    config = replace(config, **{k: v for k, v in chosen.items() if v is not None})
    with Runtime(config_from(args)) as runtime:
        bundle = prepare_avatar(args.video, args.name, runtime, config)
        report = evaluate_bundle(bundle, runtime)
    _print_avatar_report(bundle, report, args.json)
    return 0


def _avatar_eval(args) -> int:
    from ..avatar import bundle_for, evaluate_bundle
    from ..runtime import Runtime

    with Runtime(config_from(args)) as runtime:
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
    from ..avatar import list_bundles
    from ..home import Home

    for bundle in list_bundles(Home.resolve(args.home).avatars_dir):
        meta = bundle.read_meta()
        entry = {"name": bundle.name, "frames": meta.get("frames"), "size": meta.get("prepare", {}).get("size"),
                 "source": meta.get("source")}
        print(json.dumps(entry) if args.json else f"{bundle.name:20} {entry['frames']} frames, {entry['size']} px, from {entry['source']}")
    return 0
