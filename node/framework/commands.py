"""`puente framework ...`: import, export, map, approve, publish, resolve, and reads.

Output is JSON on stdout. An invalid import file, and a resolve without a published chain, also print
a JSON answer on stdout (exit 1) so scripts can read which rows were wrong; other errors are one line
on stderr with a non-zero exit code (node.cli.main).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from node.cli import CommandLine, print_json, settings_from_args
from node import jsonio
from node.errors import InvalidInput, NotFound
from node.framework.model import RELATIONS

GROUP_HELP = "Qualification frameworks: the RQF, national frameworks, qualifications and their mappings"


def register(cli: CommandLine) -> None:
    def sub(name: str, help: str, func):
        return cli.subcommand("framework", name, help, func, group_help=GROUP_HELP)

    imp = sub("import", "Load a framework, its qualifications and mappings from one JSON or CSV file (all or nothing).", cmd_import)
    imp.add_argument("file", help="import file; the format follows the extension (.json or .csv), see docs/formats/framework-import.md")

    exp = sub("export", "Print a framework, its qualifications and latest mappings in the import format.", cmd_export)
    exp.add_argument("framework_id", metavar="FRAMEWORK_ID")
    exp.add_argument("--format", choices=("json", "csv"), default="json")

    sub("list", "List the loaded frameworks (newest version of each).", cmd_list)
    show = sub("show", "Print a framework version: levels with descriptors, and qualifications.", cmd_show)
    show.add_argument("framework_id", metavar="FRAMEWORK_ID")
    show.add_argument("--version", dest="framework_version", help="a loaded version (default: the newest)")
    mappings = sub("mappings", "List the mapping versions of a framework (drafts and published).", cmd_mappings)
    mappings.add_argument("framework_id", metavar="FRAMEWORK_ID")

    map_ = sub("map", "Add or replace a row of the draft mapping: a national level or a qualification → a target level.", cmd_map)
    _framework_option(map_)
    source = map_.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-level", help="the national level to map")
    source.add_argument("--qualification", help="a qualification code to map directly")
    map_.add_argument("--to-rqf", metavar="LEVEL", help="the RQF level (shorthand for --target rqf --to-level LEVEL)")
    map_.add_argument("--target", help="target framework id (default: rqf)")
    map_.add_argument("--to-level", help="the target level (leave out with --relation none)")
    map_.add_argument("--relation", required=True, choices=RELATIONS)
    map_.add_argument("--rationale", required=True, help="why the levels correspond")
    map_.add_argument("--author", required=True, help="who proposes the row (a second person approves it)")
    map_.add_argument("--evidence", help="http(s) link to the evidence (e.g. the referencing report)")

    approve = sub("approve", "Approve draft mapping rows as a second person (never the row's author).", cmd_approve)
    _framework_option(approve)
    approve.add_argument("--approver", required=True, help="who approves")
    approve.add_argument("--target", help="target framework id (needed only when the framework has several mappings)")
    which = approve.add_mutually_exclusive_group()
    which.add_argument("--level", help="approve only the row of this national level")
    which.add_argument("--qualification", help="approve only the row of this qualification")

    publish = sub("publish", "Sign the framework and its mapping with the ministry key and print the publication.", cmd_publish)
    publish.add_argument("framework_id", metavar="FRAMEWORK_ID")
    publish.add_argument("--target", help="target framework id (needed only when the framework has several mappings)")

    verify = sub("verify", "Verify a signed framework publication (proof, issuer, schema, complete and approved mapping).", cmd_verify)
    verify.add_argument("file")

    accept = sub("accept", "Verify a peer's signed framework publication and store it verbatim, so resolve can follow it.", cmd_accept)
    accept.add_argument("file")

    resolve = sub("resolve", "What level of another framework does a level or qualification correspond to? Follows published mappings.",
                  cmd_resolve)
    resolve.add_argument("--from", dest="source", required=True, metavar="FRAMEWORK_ID:CODE",
                         help="a level or qualification code, e.g. ie-nfq:7 or gt-mnc:GT-CON-ALB-2")
    resolve.add_argument("--to", dest="goal", required=True, metavar="FRAMEWORK_ID", help="the framework to answer in, e.g. eqf")


def _framework_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("framework_id", metavar="FRAMEWORK_ID", nargs="?", help="the national framework (or use --framework)")
    parser.add_argument("--framework", dest="framework_option", help="the national framework, e.g. gt-mnc")


def _framework_id(args: argparse.Namespace) -> str:
    chosen = args.framework_option or args.framework_id
    if not chosen:
        raise InvalidInput("say which framework: --framework FRAMEWORK_ID")
    if args.framework_option and args.framework_id and args.framework_option != args.framework_id:
        raise InvalidInput("two different frameworks given; use one")
    return chosen


@contextlib.asynccontextmanager
async def _service(args: argparse.Namespace):
    from node.framework.wiring import framework_service
    from node.node_setup import require_initialised
    from node.services import open_services

    async with open_services(require_initialised(settings_from_args(args))) as services:
        yield framework_service(services), services


def _fail_json(problem: dict, message: str) -> int:
    print_json(problem)
    print(f"puente: {message}", file=sys.stderr)
    return 1


async def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("json", "csv"):
        raise InvalidInput(f"{path.name}: the format follows the extension, .json or .csv")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    async with _service(args) as (service, _):
        try:
            summary = await service.import_text(text, fmt)
        except InvalidInput as exc:  # ValidationFailed too: the rows and paths go to stdout as JSON
            errors = exc.extensions.get("errors") or [{"path": "$", "error": exc.detail}]
            return _fail_json({"imported": False, "file": str(path), "error": exc.detail, "errors": errors}, exc.detail)
    print_json({"imported": True, "file": str(path), **summary})
    return 0


async def cmd_export(args: argparse.Namespace) -> int:
    async with _service(args) as (service, _):
        text = await service.export(args.framework_id, args.format)
    sys.stdout.write(text)
    return 0


async def cmd_list(args: argparse.Namespace) -> int:
    async with _service(args) as (service, _):
        print_json(await service.frameworks())
    return 0


async def cmd_show(args: argparse.Namespace) -> int:
    async with _service(args) as (service, _):
        framework = await service.framework(args.framework_id, args.framework_version)
    print_json({**framework.to_json(), "qualifications": [q.to_json() for q in framework.qualifications]})
    return 0


async def cmd_mappings(args: argparse.Namespace) -> int:
    async with _service(args) as (service, _):
        print_json(await service.mappings(args.framework_id))
    return 0


async def cmd_map(args: argparse.Namespace) -> int:
    if args.to_rqf is not None and (args.to_level is not None or args.target not in (None, "rqf")):
        raise InvalidInput("use either --to-rqf LEVEL or --target T --to-level LEVEL")
    target = "rqf" if args.to_rqf is not None else (args.target or "rqf")
    to_level = args.to_rqf if args.to_rqf is not None else args.to_level
    row = {"from": {"level": args.from_level} if args.from_level is not None else {"qualification": args.qualification},
           "relation": args.relation, "rationale": args.rationale, "author": args.author}
    if to_level is not None:
        row["to"] = to_level
    if args.evidence:
        row["evidence"] = args.evidence
    async with _service(args) as (service, _):
        print_json(await service.map(_framework_id(args), target, row))
    return 0


async def cmd_approve(args: argparse.Namespace) -> int:
    async with _service(args) as (service, _):
        print_json(await service.approve(_framework_id(args), args.approver, target_id=args.target,
                                         level=args.level, qualification=args.qualification))
    return 0


async def cmd_publish(args: argparse.Namespace) -> int:
    async with _service(args) as (service, _):
        published = await service.publish(args.framework_id, args.target)
    sys.stdout.write(published.body.decode("utf-8") + "\n")  # exactly the stored, served bytes
    return 0


async def cmd_verify(args: argparse.Namespace) -> int:
    document = jsonio.load_file(args.file)
    async with _service(args) as (service, services):
        result = await service.verify(document, services.resolver)
    print_json({"verified": result.verified, "checks": [c.to_json() for c in result.checks]})
    return 0 if result.verified else 1


async def cmd_accept(args: argparse.Namespace) -> int:
    from node.framework.wiring import peer_publications

    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {args.file}: {exc.strerror}") from None
    async with _service(args) as (_, services):
        print_json(await peer_publications(services).accept(body, services.resolver))
    return 0


async def cmd_resolve(args: argparse.Namespace) -> int:
    async with _service(args) as (service, _):
        try:
            answer = await service.resolve(args.source, args.goal)
        except NotFound as exc:
            return _fail_json({"from": args.source, "to": args.goal, "error": "no mapping", "detail": exc.detail}, exc.detail)
    print_json(answer)
    return 0
