"""`puente readiness ...` (checkpoint catalogue, readiness assessments) and `puente rpl ...` (RPL cases).

Output is JSON on stdout; errors are one line on stderr with a non-zero exit code (node.cli.main).
`puente readiness publish CC` prints the signed readiness assessment exactly as stored and served.
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
from pathlib import Path

from node.cli import CommandLine, print_json, settings_from_args
from node import jsonio
from node.errors import InvalidInput
from node.rpl.model import APPEAL_OUTCOMES, OUTCOMES, STATES

READINESS_HELP = "Readiness of a jurisdiction against the Regional Scheme checkpoints"
RPL_HELP = "Recognition of prior learning (RPL) cases of individual workers"


def register(cli: CommandLine) -> None:
    _register_readiness(cli)
    _register_rpl(cli)


# -- readiness -------------------------------------------------------------------------------------


def _register_readiness(cli: CommandLine) -> None:
    catalogue = cli.subcommand("readiness", "catalogue", "Show or load versions of the checkpoint catalogue.",
                               _missing("catalogue"), group_help=READINESS_HELP)
    actions = catalogue.add_subparsers(dest="catalogue_command", metavar="ACTION")
    show = actions.add_parser("show", help="print a loaded catalogue (default: the newest)",
                              description="Print a loaded checkpoint catalogue as JSON (default: the newest loaded).")
    show.add_argument("--id", dest="catalogue_id", help="catalogue id (default: any)")
    show.add_argument("--version", dest="catalogue_version", help="catalogue version (default: the newest loaded)")
    show.add_argument("--list", action="store_true", help="list the loaded versions instead")
    show.set_defaults(func=cmd_catalogue_show)
    load = actions.add_parser("load", help="load a catalogue version from a JSON file",
                              description="Load a checkpoint catalogue version (JSON, see node/rpl/schemas/checkpoint-catalogue.schema.json). "
                                          "Loading the same version again is a no-op; changing a loaded version is refused.")
    load.add_argument("file", help="catalogue JSON file (use 'bundled' for the draft shipped with Puente)")
    load.set_defaults(func=cmd_catalogue_load)

    record = cli.subcommand("readiness", "record", "Record a jurisdiction's answers to the checkpoints (validated; not yet published).",
                            cmd_readiness_record)
    record.add_argument("jurisdiction", metavar="JURISDICTION", help="ISO 3166-1 alpha-2 code, e.g. GT")
    record.add_argument("--file", required=True, help='answers JSON: {"catalogue": {"id", "version"}?, "answers": [{"checkpoint", "answer", "supportingEvidence": [{"description", "url"}], "comment"}]}')
    record.add_argument("--by", default="ministry (CLI)", help="who records the answers (kept with them)")

    show = cli.subcommand("readiness", "show", "Show the latest recorded readiness assessment of a jurisdiction.", cmd_readiness_show)
    show.add_argument("jurisdiction", metavar="JURISDICTION")

    publish = cli.subcommand("readiness", "publish",
                             "Sign the latest recorded assessment with the jurisdiction's ministry key and print the signed document.",
                             cmd_readiness_publish)
    publish.add_argument("jurisdiction", metavar="JURISDICTION")

    verify = cli.subcommand("readiness", "verify", "Verify a signed readiness assessment (proof, issuer, and that the result follows from the answers).",
                            cmd_readiness_verify)
    verify.add_argument("file", help="signed readiness assessment JSON")


def _missing(name: str):
    def show_help(args: argparse.Namespace) -> int:
        print(f"puente: choose an action, e.g. `puente readiness {name} show` (see --help)", file=sys.stderr)
        return 2

    return show_help


def _read_json(path: str) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    return jsonio.loads(text, what=path)


async def _with_readiness(args, use):
    from node.node_setup import require_initialised
    from node.rpl.wiring import readiness_service
    from node.services import open_services

    async with open_services(require_initialised(settings_from_args(args))) as services:
        return await use(readiness_service(services), services)


async def cmd_catalogue_show(args) -> int:
    async def use(service, _):
        if args.list:
            return await service.catalogues()
        return dict((await service.catalogue(args.catalogue_id, args.catalogue_version)).document)

    print_json(await _with_readiness(args, use))
    return 0


async def cmd_catalogue_load(args) -> int:
    from node.rpl.catalogue import bundled_catalogue, read_catalogue_file

    catalogue = bundled_catalogue() if args.file == "bundled" else read_catalogue_file(args.file)
    print_json(await _with_readiness(args, lambda service, _: service.load_catalogue(catalogue)))
    return 0


async def cmd_readiness_record(args) -> int:
    answers = _read_json(args.file)
    print_json(await _with_readiness(args, lambda service, _: service.record(args.jurisdiction, answers, recorded_by=args.by)))
    return 0


async def cmd_readiness_show(args) -> int:
    print_json(await _with_readiness(args, lambda service, _: service.show(args.jurisdiction)))
    return 0


async def cmd_readiness_publish(args) -> int:
    published = await _with_readiness(args, lambda service, _: service.publish(args.jurisdiction))
    sys.stdout.write(published.body.decode("utf-8") + "\n")  # the exact signed bytes, as served
    sys.stdout.flush()
    return 0


async def cmd_readiness_verify(args) -> int:
    document = _read_json(args.file)
    result = await _with_readiness(args, lambda service, services: service.verify(document, services.resolver))
    print_json(result.to_json())
    return 0 if result.verified else 1


# -- RPL cases -------------------------------------------------------------------------------------


def _register_rpl(cli: CommandLine) -> None:
    opened = cli.subcommand("rpl", "open", "Open an RPL case for a candidate (state: inquiry).", cmd_rpl_open, group_help=RPL_HELP)
    opened.add_argument("--institution", required=True, help="slug of the issuing institution running the case")
    opened.add_argument("--template", required=True, help="achievement template (qualification/standard) to recognise")
    opened.add_argument("--given-name", default="", help="candidate's given name")
    opened.add_argument("--family-name", default="", help="candidate's family name")
    opened.add_argument("--identifier", required=True, help="candidate's did:key or e-mail (where the credential goes)")
    opened.add_argument("--actor", required=True, help="who opens the case")
    opened.add_argument("--reason", default="inquiry received", help="why (kept in the history)")
    opened.add_argument("--follows", metavar="CASE_ID",
                        help="the earlier case this one reassesses (after partial, not_yet_competent or an overturned appeal)")

    advance = cli.subcommand("rpl", "advance", "Move a case to its next state (who and why are recorded).", cmd_rpl_advance)
    advance.add_argument("case_id", metavar="CASE_ID")
    advance.add_argument("--to", required=True, choices=STATES, metavar="STATE",
                         help="target state: " + ", ".join(STATES) + " (decision: use `rpl decide`; appeal: `rpl appeal`)")
    advance.add_argument("--actor", required=True, help="who makes the change (for assessed: the assessor)")
    advance.add_argument("--reason", required=True, help="why (kept in the history)")
    advance.add_argument("--assessor", help="with --to assessment_planned: who will assess (never the appeal reviewer)")
    advance.add_argument("--method", help="with --to assessment_planned: how (e.g. workplace observation, portfolio)")

    decide = cli.subcommand("rpl", "decide", "Record the assessor's decision; full or partial issues the credential.", cmd_rpl_decide)
    decide.add_argument("case_id", metavar="CASE_ID")
    decide.add_argument("--outcome", required=True, choices=OUTCOMES)
    decide.add_argument("--unit", action="append", default=[], dest="units", metavar="UNIT",
                        help="a competency unit certified (repeat; required for partial, refused otherwise)")
    decide.add_argument("--actor", required=True, help="the assessor")
    decide.add_argument("--reason", required=True)

    appeal = cli.subcommand("rpl", "appeal", "Open an appeal against the decision, naming a reviewer other than the assessor.", cmd_rpl_appeal)
    appeal.add_argument("case_id", metavar="CASE_ID")
    appeal.add_argument("--reviewer", required=True, help="who reviews the appeal (must not be the assessor)")
    appeal.add_argument("--actor", required=True, help="who lodges the appeal (usually the candidate)")
    appeal.add_argument("--reason", required=True)

    resolve = cli.subcommand("rpl", "resolve-appeal", "Close an appeal with its outcome (only the reviewer may).", cmd_rpl_resolve)
    resolve.add_argument("case_id", metavar="CASE_ID")
    resolve.add_argument("--outcome", required=True, choices=APPEAL_OUTCOMES)
    resolve.add_argument("--actor", required=True, help="the appeal reviewer")
    resolve.add_argument("--reason", required=True)

    evidence = cli.subcommand("rpl", "evidence", "Attach evidence to a case: a file stored on the node, or a URL with its SHA-256.", cmd_rpl_evidence)
    evidence.add_argument("case_id", metavar="CASE_ID")
    source = evidence.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="file to store on the node (its SHA-256 is computed)")
    source.add_argument("--url", help="where the evidence is kept (give --sha256 too)")
    evidence.add_argument("--sha256", help="hex SHA-256 of the file at --url")
    evidence.add_argument("--name", help="what the evidence is (default: the file name)")
    evidence.add_argument("--media-type", help="e.g. application/pdf (default: guessed from the name)")
    evidence.add_argument("--actor", required=True)

    show = cli.subcommand("rpl", "show", "Show a case with its full history and evidence.", cmd_rpl_show)
    show.add_argument("case_id", metavar="CASE_ID")

    listed = cli.subcommand("rpl", "list", "List cases.", cmd_rpl_list)
    listed.add_argument("--state", choices=STATES)
    listed.add_argument("--institution")


async def _with_cases(args, use):
    from node.node_setup import require_initialised
    from node.rpl.wiring import case_service
    from node.services import open_services

    async with open_services(require_initialised(settings_from_args(args))) as services:
        return await use(case_service(services))


async def _print_case(args, use) -> int:
    print_json(await _with_cases(args, use))
    return 0


async def cmd_rpl_open(args) -> int:
    return await _print_case(args, lambda s: s.open(institution=args.institution, template_id=args.template, given_name=args.given_name,
                                                   family_name=args.family_name, identifier=args.identifier, actor=args.actor,
                                                   reason=args.reason, follows=args.follows))


async def cmd_rpl_advance(args) -> int:
    if args.to == "assessment_planned":
        if not args.assessor or not args.method:
            raise InvalidInput("--to assessment_planned needs --assessor and --method")
        return await _print_case(args, lambda s: s.plan_assessment(args.case_id, assessor=args.assessor, method=args.method,
                                                                  actor=args.actor, reason=args.reason))
    if args.assessor or args.method:
        raise InvalidInput("--assessor and --method only go with --to assessment_planned")
    return await _print_case(args, lambda s: s.advance(args.case_id, args.to, actor=args.actor, reason=args.reason))


async def cmd_rpl_decide(args) -> int:
    return await _print_case(args, lambda s: s.decide(args.case_id, outcome=args.outcome, units=tuple(args.units),
                                                     actor=args.actor, reason=args.reason))


async def cmd_rpl_appeal(args) -> int:
    return await _print_case(args, lambda s: s.appeal(args.case_id, reviewer=args.reviewer, actor=args.actor, reason=args.reason))


async def cmd_rpl_resolve(args) -> int:
    return await _print_case(args, lambda s: s.resolve_appeal(args.case_id, outcome=args.outcome, actor=args.actor, reason=args.reason))


async def cmd_rpl_evidence(args) -> int:
    content = None
    name = args.name
    if args.file:
        try:
            content = Path(args.file).read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {args.file}: {exc.strerror}") from None
        name = name or Path(args.file).name
    name = name or (args.url or "").rstrip("/").rsplit("/", 1)[-1]
    media_type = args.media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return await _print_case(args, lambda s: s.attach_evidence(args.case_id, name=name, media_type=media_type, actor=args.actor,
                                                              sha256=args.sha256, url=args.url, content=content))


async def cmd_rpl_show(args) -> int:
    return await _print_case(args, lambda s: s.show(args.case_id))


async def cmd_rpl_list(args) -> int:
    return await _print_case(args, lambda s: s.list(state=args.state, institution=args.institution))
