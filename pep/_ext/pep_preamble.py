"""The PEP 1 rules for a PEP's RFC 2822 preamble, as a checker usable without Sphinx.

``check(headers)`` takes ``(name, value)`` pairs in file order and returns one message per
broken rule, each naming the header and the rule. The rules are those python/peps enforces
with ``check-peps.py`` (header order, required headers, formats of numbers, dates, emails,
URLs and names, allowed Status/Type/Topic values, title length).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

ALL_HEADERS = (
    "PEP",
    "Title",
    "Author",
    "Sponsor",
    "PEP-Delegate",
    "Discussions-To",
    "Status",
    "Type",
    "Topic",
    "Requires",
    "Created",
    "Python-Version",
    "Post-History",
    "Replaces",
    "Superseded-By",
    "Resolution",
)
REQUIRED = ("PEP", "Title", "Author", "Status", "Type", "Created")
RETIRED = {
    "Version": "retired on 01-Feb-2025",
    "Last-Modified": "retired on 01-Feb-2025",
    "Content-Type": "retired on 01-Feb-2025",
    "BDFL-Delegate": "use PEP-Delegate",
}
STATUSES = {"Accepted", "Active", "April Fool!", "Deferred", "Draft", "Final",
            "Provisional", "Rejected", "Superseded", "Withdrawn"}  # fmt: skip
TYPES = {"Standards Track", "Informational", "Process"}
TOPICS = {"Governance", "Packaging", "Release", "Typing"}
TITLE_MAX = 79
FUTURE_DAYS = 14

_NAME = r"[^\W\d_](?:[^\W\d_]|[ '.,-])*"
_PERSON = re.compile(rf"^(?P<name>{_NAME})(?: <(?P<email>[^<>@\s]+(?:@| at )[^<>@\s]+)>)?$")
_DATE = re.compile(r"^\d{2}-[A-Z][a-z]{2}-\d{4}$")
_DATE_LINK = re.compile(r"^`(?P<date>[^<`]+) <(?P<url>[^>`]+)>`__$")
_THREAD = re.compile(
    r"^https://(?:discuss\.python\.org/t/(?:[\w-]+/)?\d+/?"
    r"|mail\.python\.org/(?:archives/list/[\w.-]+@python\.org/thread/[\w]+/?"
    r"|pipermail/[\w-]+/\d{4}-\w+/\d+\.html))$"
)
_MESSAGE = re.compile(
    r"^https://(?:discuss\.python\.org/t/(?:[\w-]+/)?\d+(?:/\d+)?/?"
    r"|mail\.python\.org/archives/list/[\w.-]+@python\.org/(?:thread|message)/\w+/?"
    r"|mail\.python\.org/pipermail/[\w-]+/\d{4}-\w+/\d+\.html)$"
)
_LIST = re.compile(r"^[\w.+-]+@(?:python\.org|googlegroups\.com)$")
_PY_VERSION = re.compile(r"^[123]\.(?:0|[1-9]\d*|x)(?:\.(?:0|[1-9]\d*))?$")
_PEP_NUMBER = re.compile(r"^(?:0|[1-9]\d{0,3})$")

Headers = Sequence[tuple[str, str]]
Checker = Callable[[str, "dt.date | None"], list[str]]


def check(headers: Headers, today: dt.date | None = None) -> list[str]:
    """Every way ``headers`` break the PEP 1 preamble rules (empty when none)."""
    problems = _structure(headers)
    for name, value in headers:
        checker = _CHECKS.get(name)
        if checker is not None:
            problems.extend(f"header {name!r}: {p}" for p in checker(value, today))
    return problems


def _structure(headers: Headers) -> list[str]:
    problems = []
    names = [name for name, _ in headers]
    if not names or names[0] != "PEP":
        problems.append("the preamble must start with the 'PEP' header")
    for name in names:
        if name in RETIRED:
            problems.append(f"header {name!r}: not allowed ({RETIRED[name]})")
        elif name not in ALL_HEADERS:
            problems.append(f"header {name!r}: not a PEP header")
    for name in REQUIRED:
        if name not in names:
            problems.append(f"header {name!r}: required but missing")
    seen = set()
    for name in names:
        if name in seen:
            problems.append(f"header {name!r}: appears more than once")
        seen.add(name)
    known = [n for n in names if n in ALL_HEADERS]
    expected = sorted(known, key=ALL_HEADERS.index)
    if known != expected:
        problems.append("headers are out of order: expected " + ", ".join(dict.fromkeys(expected)))
    return problems


def _pep_number(value: str, today: dt.date | None) -> list[str]:
    if not _PEP_NUMBER.match(value):
        return [f"must be a PEP number 0-9999 without leading zeros, got {value!r}"]
    return []


def _title(value: str, today: dt.date | None) -> list[str]:
    if not value.strip():
        return ["must not be empty"]
    if len(value) > TITLE_MAX:
        return [f"must be at most {TITLE_MAX} characters, got {len(value)}"]
    return []


def _people(value: str, today: dt.date | None) -> list[str]:
    problems = []
    lines = value.split("\n")
    for line in lines[:-1]:
        if not line.rstrip().endswith(","):
            problems.append(f"a continued author line must end with a comma: {line.strip()!r}")
    for person in (p.strip() for p in value.replace("\n", " ").split(",")):
        if person and not _PERSON.match(person):
            problems.append(f"must be 'Name <email>' or 'Name', got {person!r}")
    return problems


def _one_of(allowed: set[str]) -> Checker:
    def checker(value: str, today: dt.date | None) -> list[str]:
        if value not in allowed:
            return [f"must be one of {', '.join(sorted(allowed))}; got {value!r}"]
        return []

    return checker


def _topics(value: str, today: dt.date | None) -> list[str]:
    topics = [t.strip() for t in value.split(",")]
    problems = [f"unknown topic {t!r}; use {', '.join(sorted(TOPICS))}"
                for t in topics if t not in TOPICS]  # fmt: skip
    if topics != sorted(set(topics)) or ", ".join(topics) != value:
        problems.append("topics must be sorted, unique and separated by ', '")
    return problems


def _date_problem(value: str, today: dt.date | None) -> str | None:
    if not _DATE.match(value):
        return f"dates must be DD-Mmm-YYYY (e.g. 16-May-2018), got {value!r}"
    try:
        date = dt.datetime.strptime(value, "%d-%b-%Y").date()
    except ValueError:
        return f"{value!r} is not a real date"
    if date.year < 1990:
        return f"{value!r} is before 1990"
    if date > (today or dt.date.today()) + dt.timedelta(days=FUTURE_DAYS):
        return f"{value!r} is more than {FUTURE_DAYS} days in the future"
    return None


def _created(value: str, today: dt.date | None) -> list[str]:
    problem = _date_problem(value, today)
    return [problem] if problem else []


def _python_version(value: str, today: dt.date | None) -> list[str]:
    versions = value.split(", ")
    return [f"must be X.Y or X.Y.Z (several separated by ', '), got {v!r}"
            for v in versions if not _PY_VERSION.match(v)]  # fmt: skip


def _discussions_to(value: str, today: dt.date | None) -> list[str]:
    if value == "Pending" or _LIST.match(value) or _THREAD.match(value):
        return []
    if _MESSAGE.match(value):
        return [f"must link a discussion thread, not a single post: {value!r}"]
    return [f"must be 'Pending', a thread URL or a mailing list address, got {value!r}"]


def _post_history(value: str, today: dt.date | None) -> list[str]:
    if value in ("Pending", ""):
        return []
    problems = []
    for entry in (e.strip() for e in value.replace("\n", " ").split(",")):
        if not entry:
            continue
        link = _DATE_LINK.match(entry)
        date = link["date"] if link else entry
        problem = _date_problem(date, today)
        if problem:
            problems.append(problem)
        if link and not _THREAD.match(link["url"]):
            problems.append(f"must link a discussion thread: {link['url']!r}")
    return problems


def _resolution(value: str, today: dt.date | None) -> list[str]:
    link = _DATE_LINK.match(value)
    url = link["url"] if link else value
    problems = []
    if link:
        problem = _date_problem(link["date"], today)
        if problem:
            problems.append(problem)
    if not _MESSAGE.match(url):
        problems.append(f"must be a discussion or mailing-list URL, got {url!r}")
    return problems


def _pep_list(value: str, today: dt.date | None) -> list[str]:
    return [f"must be PEP numbers separated by ', ', got {n!r}"
            for n in value.split(", ") if not _PEP_NUMBER.match(n)]  # fmt: skip


_CHECKS: dict[str, Checker] = {
    "PEP": _pep_number,
    "Title": _title,
    "Author": _people,
    "Sponsor": _people,
    "PEP-Delegate": _people,
    "Discussions-To": _discussions_to,
    "Status": _one_of(STATUSES),
    "Type": _one_of(TYPES),
    "Topic": _topics,
    "Requires": _pep_list,
    "Created": _created,
    "Python-Version": _python_version,
    "Post-History": _post_history,
    "Replaces": _pep_list,
    "Superseded-By": _pep_list,
    "Resolution": _resolution,
}
