"""Monthly payroll run for an HR platform: imports timesheets, computes payslips and pays employees."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

import boto3
import httpx
import psycopg
from botocore.config import Config
from kafka import KafkaProducer
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, selectinload

from payroll.models import Employee, PayLine, PayrollRun, Payslip, TaxBracket, TimesheetEntry
from payroll.settings import settings

logger = logging.getLogger("payroll.run")

T = TypeVar("T")

CHUNK = 1000
AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})

sqs = boto3.client("sqs", config=AWS_CONFIG)
s3 = boto3.client("s3", config=AWS_CONFIG)
bank = httpx.Client(base_url=settings.bank_api_url, timeout=httpx.Timeout(10.0, connect=2.0, pool=1.0))
events = KafkaProducer(
    bootstrap_servers=settings.kafka_brokers,
    acks="all",
    linger_ms=20,
    batch_size=256 * 1024,
    value_serializer=lambda v: json.dumps(v).encode(),
)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class TimesheetRow:
    employee_id: int
    work_date: date
    hours: Decimal
    project_code: str


@dataclass(frozen=True)
class Transfer:
    payslip_id: int
    iban: str
    amount: Decimal
    reference: str


def import_timesheets(session: Session, rows: Sequence[TimesheetRow]) -> int:
    """Nightly import from the time-tracking vendor, 200k rows on month end."""
    base = pg_insert(TimesheetEntry)
    stmt = base.on_conflict_do_update(
        index_elements=["employee_id", "work_date", "project_code"],
        set_={"hours": base.excluded.hours},
    )
    done = 0
    for chunk in chunked(sorted(rows, key=lambda r: (r.employee_id, r.work_date)), CHUNK):
        with session.begin():
            session.execute(stmt, [asdict(r) for r in chunk])
        done += len(chunk)
        logger.info("timesheet_chunk_imported", extra={"rows": done})
    return done


def import_timesheet_corrections(session: Session, rows: Sequence[TimesheetRow]) -> None:
    for row in rows:
        session.execute(  # expect: batching
            update(TimesheetEntry)
            .where(TimesheetEntry.employee_id == row.employee_id, TimesheetEntry.work_date == row.work_date)
            .values(hours=row.hours)
        )
        session.commit()  # expect: batching, transactions


def load_employees(session: Session, employee_ids: Sequence[int]) -> list[Employee]:
    found: list[Employee] = []
    for chunk in chunked(employee_ids, 500):
        found.extend(session.scalars(select(Employee).where(Employee.id.in_(chunk))))
    return found


def load_managers(session: Session, manager_ids: Sequence[int]) -> list[Employee]:
    managers = []
    for manager_id in manager_ids:
        managers.append(session.get(Employee, manager_id))  # expect: batching
    return managers


def tax_for(employee: Employee, brackets: dict[str, TaxBracket], gross: Decimal) -> Decimal:
    bracket = brackets[employee.tax_code]
    return (gross * bracket.rate).quantize(Decimal("0.01"))


def compute_payslips(session: Session, run: PayrollRun) -> list[Payslip]:
    employees = session.scalars(
        select(Employee)
        .where(Employee.company_id == run.company_id, Employee.active.is_(True))
        .options(selectinload(Employee.timesheet_entries))
    ).all()
    brackets = {b.code: b for b in session.scalars(select(TaxBracket).where(TaxBracket.year == run.period_start.year))}
    payslips: list[Payslip] = []
    for employee in employees:
        hours = sum((e.hours for e in employee.timesheet_entries if run.period_start <= e.work_date <= run.period_end), Decimal(0))
        gross = (hours * employee.hourly_rate).quantize(Decimal("0.01"))
        payslips.append(Payslip(run_id=run.id, employee_id=employee.id, gross=gross, tax=tax_for(employee, brackets, gross)))
    for payslip in payslips:
        session.add(payslip)
    session.commit()
    return payslips


def compute_bonus_withholding(session: Session, run: PayrollRun, bonuses: dict[int, Decimal]) -> dict[int, Decimal]:
    withheld: dict[int, Decimal] = {}
    for employee_id, bonus in bonuses.items():
        bracket = session.scalar(  # expect: batching
            select(TaxBracket).join(Employee, Employee.tax_code == TaxBracket.code).where(Employee.id == employee_id)
        )
        withheld[employee_id] = (bonus * bracket.rate).quantize(Decimal("0.01"))
    return withheld


def run_totals(session: Session, company_id: int, year: int) -> dict[int, Decimal]:
    runs = session.scalars(
        select(PayrollRun).where(PayrollRun.company_id == company_id, PayrollRun.year == year)
    ).all()
    totals: dict[int, Decimal] = {}
    for run in runs:
        totals[run.id] = sum((line.amount for line in run.lines), Decimal(0))  # expect: batching
    return totals


def run_totals_eager(session: Session, company_id: int, year: int) -> dict[int, Decimal]:
    runs = session.scalars(
        select(PayrollRun)
        .where(PayrollRun.company_id == company_id, PayrollRun.year == year)
        .options(selectinload(PayrollRun.lines))
    ).all()
    return {run.id: sum((line.amount for line in run.lines), Decimal(0)) for run in runs}


def archive_pay_lines(conn: psycopg.Connection, lines: Sequence[PayLine]) -> None:
    with conn.cursor() as cur:
        for line in lines:
            cur.execute(  # expect: batching
                "INSERT INTO pay_lines_archive (run_id, employee_id, code, amount) VALUES (%s, %s, %s, %s)",
                (line.run_id, line.employee_id, line.code, line.amount),
            )
    conn.commit()


def export_ledger_lines(conn: psycopg.Connection, lines: Sequence[PayLine]) -> None:
    rows = [(line.run_id, line.employee_id, line.code, line.amount) for line in lines]
    for chunk in chunked(rows, CHUNK):
        with conn.transaction():
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO gl_export (run_id, employee_id, code, amount) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (run_id, employee_id, code) DO NOTHING",
                    chunk,
                )


def copy_hours_snapshot(conn: psycopg.Connection, rows: Iterable[TimesheetRow]) -> None:
    with conn.transaction():
        with conn.cursor() as cur:
            with cur.copy("COPY hours_snapshot (employee_id, work_date, hours, project_code) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row.employee_id, row.work_date, row.hours, row.project_code))


def queue_payslip_emails(payslips: Sequence[Payslip]) -> None:
    for payslip in payslips:
        sqs.send_message(  # expect: batching
            QueueUrl=settings.payslip_queue_url,
            MessageBody=json.dumps({"payslip_id": payslip.id}),
        )


def queue_pension_contributions(payslips: Sequence[Payslip]) -> int:
    sent = 0
    for chunk in chunked(payslips, 10):
        resp = sqs.send_message_batch(
            QueueUrl=settings.pension_queue_url,
            Entries=[{"Id": str(p.id), "MessageBody": json.dumps({"payslip_id": p.id})} for p in chunk],
        )
        sent += len(resp.get("Successful", []))
        for failed in resp.get("Failed", []):
            logger.error("pension_enqueue_failed", extra={"payslip_id": failed["Id"], "code": failed["Code"]})
    return sent


def store_payslip_pdfs(run_id: int, pdfs: dict[int, bytes]) -> None:
    # S3 has no multi-object PUT; one object per payslip is the intended shape.
    for payslip_id, pdf in pdfs.items():
        s3.put_object(Bucket=settings.payslip_bucket, Key=f"runs/{run_id}/{payslip_id}.pdf", Body=pdf)


def announce_payslips(payslips: Sequence[Payslip]) -> None:
    for payslip in payslips:
        events.send("payroll.payslip-ready.v1", key=str(payslip.employee_id).encode(), value={"payslip_id": payslip.id})
        events.flush()  # expect: batching


def announce_run_closed(run: PayrollRun, payslips: Sequence[Payslip]) -> None:
    for payslip in payslips:
        events.send("payroll.payslip-closed.v1", key=str(payslip.employee_id).encode(), value={"payslip_id": payslip.id})
    events.flush(timeout=30)


def pay_employees_individually(run_id: int, transfers: Sequence[Transfer]) -> list[str]:
    references = []
    for transfer in transfers:
        resp = bank.post(  # expect: batching
            "/v2/credit-transfers",
            json={"iban": transfer.iban, "amount": str(transfer.amount), "reference": transfer.reference},
            headers={"Idempotency-Key": f"run-{run_id}-payslip-{transfer.payslip_id}"},
        )
        resp.raise_for_status()
        references.append(resp.json()["id"])
    return references


def pay_employees(run_id: int, transfers: Sequence[Transfer]) -> list[dict]:
    results: list[dict] = []
    for index, chunk in enumerate(chunked(transfers, 500)):
        resp = bank.post(
            "/v2/credit-transfer-batches",
            json={"transfers": [{"iban": t.iban, "amount": str(t.amount), "reference": t.reference} for t in chunk]},
            headers={"Idempotency-Key": f"run-{run_id}-batch-{index}"},
        )
        resp.raise_for_status()
        results.extend(resp.json()["results"])
    return results


def close_run(session: Session, run: PayrollRun, payslip_ids: Sequence[int]) -> None:
    with session.begin():
        session.execute(update(Payslip).where(Payslip.id.in_(payslip_ids)).values(status="paid"))
        session.execute(
            update(PayrollRun).where(PayrollRun.id == run.id).values(status="closed", closed_at=datetime.now(UTC))
        )
