"""Batch issuance end to end: 1,200 credentials read from a CSV, status-indexed, signed on both cores,
stored (chunked commits) and written to an output directory, through the same BatchIssuer the CLI uses.

Each suite runs in its own process on a fresh node, so the peak RSS reported is that suite's alone.
Targets (2-core machine): < 5 s with eddsa-jcs-2022, < 20 s with eddsa-rdfc-2022; memory bounded.
Set PUENTE_BENCH_DATABASE_URL to measure on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import print_table, write_results

ROWS = 1200
TARGET_SECONDS = {"eddsa-jcs-2022": 5.0, "eddsa-rdfc-2022": 20.0}
TEMPLATE = {
    "id": "bench-albanileria-2", "institution": "bench", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería y elementos de concreto según planos.",
    "qualification_code": "GT-CON-ALB-2", "qualification_title": "Albañilería", "framework_id": "gt-mnc",
    "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block", "Prepara mezclas de mortero"],
    "notional_workload_hours": 320, "assessment_type": "Demostración práctica", "validity": "P5Y",
}


def write_people(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("given_name,family_name,identifier,activity_end_date\n")
        for i in range(rows):
            fh.write(f"Persona{i},Apellido{i},persona{i}@example.org,2026-05-{i % 28 + 1:02d}\n")


async def _run_suite(suite: str, rows: int, workdir: Path) -> dict:
    from node.issuance.batch import BatchIssuer, file_digest, read_rows
    from node.issuance.service import IssuanceService
    from node.node_setup import initialise
    from node.services import open_services
    from node.settings import load_settings

    settings = load_settings(environ={}, data_dir=workdir / "data", database_url=os.environ.get("PUENTE_BENCH_DATABASE_URL"),
                             jurisdiction="GT", name="Benchmark node", base_url="http://127.0.0.1:8080")
    await initialise(settings)
    people, out = workdir / "people.csv", workdir / "out"
    write_people(people, rows)
    out.mkdir()
    async with open_services(settings) as services:
        issuance = IssuanceService.from_services(services)
        await issuance.create_institution("bench", "Benchmark institute", scope={})
        await issuance.create_template(TEMPLATE)
        # Warm the worker pool (process start-up is not issuance work).
        await services.signer.sign_many([{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                                          "issuer": "did:example:x", "credentialSubject": {"id": "did:example:y"}}] * 2,
                                        await services.keystore.signing_key(services.keystore.node_did), suite=suite)

        def write(issued) -> None:
            (out / f"{issued.id}.json").write_text(issued.document, encoding="utf-8")

        start = time.perf_counter()
        summary = await BatchIssuer(issuance).run(TEMPLATE["id"], read_rows(people), source_digest=file_digest(people),
                                                  suite=suite, on_credential=write)
        elapsed = time.perf_counter() - start
        workers = _worker_peak_rss_mb(services.signer)
    assert summary.issued == rows and not summary.failed, summary.to_json()
    assert len(list(out.iterdir())) == rows
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"suite": suite, "credentials": rows, "seconds": round(elapsed, 3), "credentials_per_s": round(rows / elapsed, 1),
            "peak_rss_mb": round(own, 1), "peak_worker_rss_mb": round(workers, 1), "target_seconds": TARGET_SECONDS[suite],
            "met": elapsed < TARGET_SECONDS[suite], "database": "postgresql" if os.environ.get("PUENTE_BENCH_DATABASE_URL") else "sqlite"}


def _worker_peak_rss_mb(signer) -> float:
    """Largest peak RSS (VmHWM) among the signer's pool workers. They are forkserver children, not
    ours, so getrusage(RUSAGE_CHILDREN) cannot see them; /proc can (Linux only, 0 elsewhere)."""
    peak = 0.0
    for pid in signer.worker_pids():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def run_suite(suite: str, rows: int = ROWS) -> dict:
    with tempfile.TemporaryDirectory(prefix="puente-bench-") as tmp:
        return asyncio.run(_run_suite(suite, rows, Path(tmp)))


def main() -> dict:
    results = {}
    for suite in ("eddsa-jcs-2022", "eddsa-rdfc-2022"):
        # A fresh process per suite: a clean node and a peak RSS that is this suite's own.
        code = f"import json; from benchmarks.issuance import run_suite; print(json.dumps(run_suite({suite!r})))"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
        if proc.returncode != 0:
            raise RuntimeError(f"issuance benchmark ({suite}) failed:\n{proc.stderr}")
        results[suite] = json.loads(proc.stdout.strip().splitlines()[-1])
    print_table(["suite", "credentials", "seconds", "cred/s", "peak RSS MB", "worker RSS MB", "target s", "met"],
                [[r["suite"], r["credentials"], r["seconds"], r["credentials_per_s"], r["peak_rss_mb"], r["peak_worker_rss_mb"],
                  r["target_seconds"], r["met"]] for r in results.values()])
    write_results("issuance", results)
    return results


if __name__ == "__main__":
    main()
