"""`announcer` serve and users: the studio and its accounts."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import ROLES
from .common import config_from, log


def add_commands(commands, common: argparse.ArgumentParser) -> None:
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


def _serve(args) -> int:
    from ..studio import StudioConfig, create_app
    from ..studio.server import serve

    config = StudioConfig(config_from(args), max_upload_mb=args.max_upload_mb, schedules=args.schedules,
                          secure_cookies=args.secure_cookies, one_person_team=args.one_person_team,
                          allow_private_webhooks=args.allow_private_webhooks)
    if args.host not in ("127.0.0.1", "localhost", "::1"):  # on stderr even with --quiet: it is about who can get in
        print(f"announcer: warning: serving on {args.host}: anyone who can reach it sees the sign-in page; put it behind "
              f"HTTPS", file=sys.stderr)
    serve(create_app(config), args.host, args.port, log_level="warning" if args.quiet else "info")
    return 0


def _studio_store(args):
    from ..home import Home
    from ..studio.store import StudioStore

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
