"""`puente institution|template|issue` and `puente credential revoke|suspend|unsuspend|status|export`."""

from __future__ import annotations

import sys
from pathlib import Path

from node.cli import CommandLine, print_json, settings_from_args
from node import jsonio
from node.errors import InvalidInput
from node.issuance.model import OPTIONAL_COLUMNS

SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")


def register(cli: CommandLine) -> None:
    inst = cli.subcommand("institution", "list", "List the issuing institutions hosted on this node (JSON).",
                          cmd_institution_list, group_help="issuing institutions hosted on this node")
    inst = cli.subcommand("institution", "create", "Create an institution with its own did:web and signing key.",
                          cmd_institution_create)
    inst.add_argument("--slug", required=True, help="short id, used in its DID (did:web:<node>:institutions:<slug>)")
    inst.add_argument("--name", required=True)
    inst.add_argument("--logo-url")
    inst.add_argument("--url", help="the institution's public web site")
    inst.add_argument("--sector", action="append", default=[], help="accredited sector (repeatable; none = any)")
    inst.add_argument("--isco", action="append", default=[], help="accredited ISCO-08 group prefix (repeatable)")
    inst.add_argument("--rqf-level", action="append", type=int, default=[], help="accredited RQF level (repeatable)")
    inst.add_argument("--suspension", action="store_true",
                      help="new credentials also get a 1-bit suspension entry (credentialStatus becomes an array, "
                           "outside the OB 3.0 schema; see the issuer guide)")
    purposes = cli.subcommand("institution", "status-purposes",
                              "Turn the suspension entry of new credentials on or off (revocation is always on).",
                              cmd_institution_status_purposes)
    purposes.add_argument("slug")
    purposes.add_argument("--suspension", choices=("on", "off"), required=True)
    rotate = cli.subcommand("institution", "rotate-key", "Give an institution a new signing key (old credentials still verify).",
                            cmd_institution_rotate)
    rotate.add_argument("slug")

    cli.subcommand("template", "list", "List achievement templates (JSON).", cmd_template_list,
                   group_help="achievement templates").add_argument("--institution")
    create = cli.subcommand("template", "create", "Create an achievement template from a JSON file.", cmd_template_create)
    create.add_argument("file")

    one = cli.subcommand("issue", "one", "Issue one credential; prints it (or writes <id>.json into --out).", cmd_issue_one,
                         group_help="issue credentials")
    one.add_argument("--template", required=True)
    one.add_argument("--given-name", required=True)
    one.add_argument("--family-name", required=True)
    one.add_argument("--identifier", required=True, help="the learner's did:key, or e-mail (stored only as a salted hash)")
    for column in OPTIONAL_COLUMNS:
        one.add_argument("--" + column.replace("_", "-"), dest=column)
    one.add_argument("--suite", choices=SUITES, default="eddsa-rdfc-2022")
    one.add_argument("--out", help="directory to write <credential-id-suffix>.json into")
    batch = cli.subcommand("issue", "batch", "Issue one credential per row of a CSV/JSON file; resumable.", cmd_issue_batch)
    batch.add_argument("--template", required=True)
    batch.add_argument("--file", required=True, help=f"CSV with given_name,family_name,identifier (optional: {','.join(OPTIONAL_COLUMNS)}); or JSON")
    batch.add_argument("--suite", choices=SUITES, default="eddsa-rdfc-2022")
    batch.add_argument("--encoding", default="utf-8-sig", help="text encoding of a CSV file (default UTF-8, with or without BOM)")
    batch.add_argument("--out", required=True, help="directory for <credential-id-suffix>.json files and the manifest "
                       "batch-<batch id>.jsonl (one line per row: credential id, URL, files, or the error)")
    batch.add_argument("--pdf", action="store_true", help="also write <credential-id-suffix>.pdf for each new credential")
    batch.add_argument("--chunk-size", type=int, default=200, help="rows per transaction (default 200)")
    status = cli.subcommand("issue", "status", "Progress of a batch job (JSON).", cmd_issue_status)
    status.add_argument("batch")

    for action, help_ in (("revoke", "Revoke a credential (permanent)."), ("suspend", "Suspend a credential."),
                          ("unsuspend", "Lift a suspension.")):
        sub = cli.subcommand("credential", action, help_, cmd_credential_status_change)
        sub.add_argument("credential_id", metavar="CREDENTIAL_ID", help="credential id (URL) or its last segment")
        sub.add_argument("--reason", required=action == "revoke")
        sub.set_defaults(status_action=action)
    show = cli.subcommand("credential", "status", "A credential's state and status history (JSON).", cmd_credential_status)
    show.add_argument("credential_id", metavar="CREDENTIAL_ID")
    export = cli.subcommand("credential", "export", "Write an issued credential as JSON, QR (PNG/SVG) or PDF.", cmd_credential_export)
    export.add_argument("credential_id", metavar="CREDENTIAL_ID")
    export.add_argument("--format", choices=("json", "png", "svg", "pdf"), default="json")
    export.add_argument("--out", required=True, help="file to write")


def _open(args):
    from node.node_setup import require_initialised
    from node.services import open_services

    return open_services(require_initialised(settings_from_args(args)))


def _service(services):
    from node.issuance.service import IssuanceService

    return IssuanceService.from_services(services)


def _institution_json(inst) -> dict:
    return {"slug": inst.slug, "name": inst.name, "did": inst.did, "logo_url": inst.logo_url, "url": inst.url,
            "scope": inst.scope.to_json(), "status_purposes": list(inst.status_purposes)}


async def cmd_institution_list(args) -> int:
    async with _open(args) as services:
        print_json([_institution_json(i) for i in await _service(services).institutions()])
    return 0


async def cmd_institution_create(args) -> int:
    scope = {"sectors": args.sector, "isco_groups": args.isco, "rqf_levels": args.rqf_level}
    async with _open(args) as services:
        inst = await _service(services).create_institution(args.slug, args.name, scope=scope, logo_url=args.logo_url, url=args.url,
                                                           suspension=args.suspension)
    print_json(_institution_json(inst))
    return 0


async def cmd_institution_status_purposes(args) -> int:
    async with _open(args) as services:
        inst = await _service(services).set_status_purposes(args.slug, suspension=args.suspension == "on")
    print_json(_institution_json(inst))
    return 0


async def cmd_institution_rotate(args) -> int:
    async with _open(args) as services:
        print_json(await _service(services).rotate_key(args.slug))
    return 0


async def cmd_template_list(args) -> int:
    async with _open(args) as services:
        print_json([t.to_json() for t in await _service(services).templates(args.institution)])
    return 0


async def cmd_template_create(args) -> int:
    data = _read_json(args.file)
    async with _open(args) as services:
        print_json((await _service(services).create_template(data)).to_json())
    return 0


async def cmd_issue_one(args) -> int:
    from node.cli_files import output_dir

    out = output_dir(args.out) if args.out else None  # checked before anything is issued
    row = {"given_name": args.given_name, "family_name": args.family_name, "identifier": args.identifier}
    row.update({c: getattr(args, c) for c in OPTIONAL_COLUMNS if getattr(args, c, None)})
    async with _open(args) as services:
        issued = await _service(services).issue_one(args.template, row, suite=args.suite)
    if out is not None:
        path = _write(out, issued)
        print_json({"id": issued.uri, "file": str(path), "new": issued.new})
    else:
        sys.stdout.write(issued.document + "\n")
    return 0


async def cmd_issue_batch(args) -> int:
    from node.cli_files import output_dir, write_atomically
    from node.issuance import delivery
    from node.issuance.batch import BatchIssuer, count_rows, file_digest, read_rows
    from node.issuance.manifest import BatchManifest

    if args.chunk_size < 1:
        raise InvalidInput("--chunk-size must be at least 1")
    source = Path(args.file)
    out = output_dir(args.out)  # checked before anything is issued
    total = count_rows(source, args.encoding)  # reads the whole file once before anything is written
    rows = read_rows(source, args.encoding)

    def progress(summary) -> None:
        print(f"puente: batch {summary.batch_id}: {summary.processed} of {summary.total} rows, {summary.issued} issued, "
              f"{summary.skipped} skipped, {len(summary.failed)} failed", file=sys.stderr, flush=True)

    manifest = BatchManifest()

    async with _open(args) as services:
        service = _service(services)

        def written(issued) -> None:
            path = _write(out, issued)
            pdf = out / f"{issued.id}.pdf"
            if args.pdf and issued.new:
                write_atomically(pdf, delivery.render(issued.document, "pdf",
                                                      verify_url=delivery.verify_url(service.base_url, issued.id)))
            manifest.credential(issued.line, uri=issued.uri, verify_url=delivery.verify_url(service.base_url, issued.id),
                                new=issued.new, file=path.name, pdf=pdf.name if pdf.exists() else None)

        summary = await BatchIssuer(service).run(
            args.template, rows, source_digest=file_digest(source), suite=args.suite, chunk_size=args.chunk_size,
            on_credential=written, after_chunk=progress, expected_total=total,
        )
    manifest.batch_id = summary.batch_id
    for failure in summary.failed:
        manifest.failure(failure["line"], failure["error"])
    manifest_path = write_atomically(out / manifest.file_name, manifest.to_jsonl())
    print_json({**summary.to_json(), "batch": summary.batch_id, "manifest": str(manifest_path)})
    return 1 if summary.failed else 0  # a script must not mistake a partly failed batch for success


async def cmd_issue_status(args) -> int:
    from node.issuance.batch import BatchIssuer

    async with _open(args) as services:
        print_json(await BatchIssuer(_service(services)).progress(args.batch))
    return 0


async def cmd_credential_status_change(args) -> int:
    async with _open(args) as services:
        print_json(await _service(services).change_status(args.credential_id, args.status_action, args.reason))
    return 0


async def cmd_credential_status(args) -> int:
    async with _open(args) as services:
        print_json(await _service(services).credential_status(args.credential_id))
    return 0


async def cmd_credential_export(args) -> int:
    from node.cli_files import output_file, write_atomically
    from node.issuance import delivery

    out = output_file(args.out)  # checked before the (slow) rendering
    async with _open(args) as services:
        service = _service(services)
        issued = await service.credential(args.credential_id)
        status = None
        if args.format == "pdf":  # a revoked or suspended credential's PDF says so
            current = await service.credential_status(issued.id)
            status = delivery.status_note(current["state"], current["events"])
        body = delivery.render(issued.document, args.format, verify_url=delivery.verify_url(service.base_url, issued.id),
                               status=status)
    write_atomically(out, body)
    print_json({"id": issued.uri, "format": args.format, "file": str(out)})
    return 0


def _write(directory: Path, issued) -> Path:
    """Write via a temporary file so an interrupted run never leaves a truncated credential behind."""
    from node.cli_files import write_atomically

    return write_atomically(directory / f"{issued.id}.json", (issued.document + "\n").encode("utf-8"))


def _read_json(path: str):
    return jsonio.load_file(path)  # unreadable, not JSON, too deep, NaN...: one-line InvalidInput
