"""A job's records as CSV, streamed row by row so 50,000 records never sit in memory."""

import csv
import re
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from .fieldvalues import FieldSpec, display_value
from .models import Job, JobRecord

CHUNK = 2000
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def safe_cell(value: object) -> str:
    """The value as text, with a leading quote where a spreadsheet would see a formula.

    A plain signed number (``-12.5``) is left as it is: it is data, not a formula.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class _Echo:
    """A file that hands back what is written: ``csv.writer`` formats, we stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """A CSV that spreadsheets open as UTF-8 (a BOM first), line by line, every cell safe."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def job_records_csv(job: Job, records: QuerySet[JobRecord]) -> Iterator[str]:
    specs = [FieldSpec.from_dict(f) for f in job.fields]
    header = ["record_id", "status", "code", "message", "http_status", "batch"]
    for spec in specs:
        header += [f"{spec.label} before", f"{spec.label} after"]
    header += ["verified", "verify_message", "warnings"]
    return csv_lines(header, _record_rows(specs, records))


def _record_rows(specs: list[FieldSpec], records: QuerySet[JobRecord]) -> Iterator[list]:
    for record in records.iterator(chunk_size=CHUNK):
        before, after = record.before or {}, record.after or {}
        row = [
            record.record_id,
            record.get_status_display() if record.status else "Pending",
            record.code,
            record.message,
            record.http_status or "",
            record.batch or "",
        ]
        for spec in specs:
            row += [
                display_value(spec, before.get(spec.api_name)),
                display_value(spec, after.get(spec.api_name)),
            ]
        verified = {True: "yes", False: "no", None: ""}[record.verified]
        row += [verified, record.verify_message, " ".join(record.warnings or [])]
        yield row
