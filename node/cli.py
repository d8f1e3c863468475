"""The `puente` command: parse arguments, call services, print JSON.

Each capability adds its commands in its own `commands.py` through `register(cli)`; this module
only builds the parser, runs the chosen command and turns errors into one-line messages and exit
codes (0 ok, 1 failure/bad input, 2 usage or configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
from typing import Any, Callable

from node import __version__
from node.errors import InvalidInput, PuenteError
from node.optional import import_optional
from node.settings import Settings, load_settings
from node.tokens import Principal, acting_as

COMMAND_MODULES = (
    "node.credential_commands",
    "node.commands",
    "node.framework.commands",
    "node.rpl.commands",
    "node.issuance.commands",
    "node.federation.commands",
)


class CommandLine:
    """What a capability sees when it registers commands: groups shared by name."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser
        self._top = parser.add_subparsers(dest="command", metavar="COMMAND")
        self._groups: dict[str, argparse._SubParsersAction] = {}

    def command(self, name: str, help: str, func: Callable[..., Any]) -> argparse.ArgumentParser:
        """A top-level command, e.g. `puente init`."""
        sub = self._top.add_parser(name, help=help, description=help)
        sub.set_defaults(func=func)
        return sub

    def group(self, name: str, help: str) -> argparse._SubParsersAction:
        """A command group, e.g. `puente credential ...`; several capabilities may add to one group."""
        if name not in self._groups:
            grp = self._top.add_parser(name, help=help, description=help)
            grp.set_defaults(func=lambda args: _missing_subcommand(grp))
            self._groups[name] = grp.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")
        return self._groups[name]

    def subcommand(self, group: str, name: str, help: str, func: Callable[..., Any], group_help: str = "") -> argparse.ArgumentParser:
        sub = self.group(group, group_help or f"{group} commands").add_parser(name, help=help, description=help)
        sub.set_defaults(func=func)
        return sub


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="puente", description="Puente node: credentials, frameworks and recognition across borders.")
    parser.add_argument("--version", action="version", version=f"puente {__version__}")
    parser.add_argument("--data-dir", help="node data directory (default: $PUENTE_DATA_DIR or ./var/node)")
    parser.add_argument("--database-url", help="sqlite:///path or postgresql://... (default: SQLite in the data directory)")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an unexpected error")
    parser.add_argument("--as", dest="acting_subject", metavar="NAME",
                        help="who runs this command, recorded in the audit trail (default: your operating-system user)")
    cli = CommandLine(parser)
    for name in COMMAND_MODULES:
        module = import_optional(name)  # a capability not built yet has no commands
        if module is not None:
            module.register(cli)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    return load_settings(data_dir=getattr(args, "data_dir", None), database_url=getattr(args, "database_url", None))


def cli_principal(args: argparse.Namespace) -> Principal:
    """The CLI acts as the operator of the node (it holds the data directory and the database); who runs
    it is recorded as given with --as, else the operating-system user."""
    name = getattr(args, "acting_subject", None)
    if name is not None and (not name.strip() or len(name.strip()) > 300 or any(ord(c) < 32 for c in name)):
        raise InvalidInput("--as needs a name (1-300 characters, no control characters)")
    return Principal(subject=(name or "").strip() or _os_user(), role="operator")


def _os_user() -> str:
    import os
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def print_json(value: Any, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        with acting_as(cli_principal(args)):  # asyncio.run copies this context into the command's task
            outcome = args.func(args)
            if inspect.iscoroutine(outcome):
                outcome = asyncio.run(outcome)
        return int(outcome or 0)
    except PuenteError as exc:
        print(f"puente: {exc.detail}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("puente: interrupted", file=sys.stderr)
        return 130
    # Last resorts: a person at a terminal gets one line and an exit code, never a traceback
    # (--debug shows it for a bug report).
    except OSError as exc:
        if getattr(args, "debug", False):
            raise
        from node.cli_files import describe_os_error

        print(f"puente: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    except RecursionError:
        if getattr(args, "debug", False):
            raise
        print("puente: the input is nested too deeply to process", file=sys.stderr)
        return 1
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        print(f"puente: unexpected error ({type(exc).__name__}: {_first_line(exc)}); run again with --debug "
              "to see where", file=sys.stderr)
        return 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else "no details"
