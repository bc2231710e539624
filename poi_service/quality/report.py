"""The data quality report: typed findings, counts against the official figures, text and JSON output."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

MAX_LISTED = 12  # per check in the text report; the JSON output lists every finding


class Severity(StrEnum):
    """Errors fail the check (exit 1); warnings are reported and pass unless strict."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which check found it, in which file and line, about which record."""

    severity: Severity
    code: str  # stable check name, e.g. 'missing-source', 'duplicate', 'unmatched-name'
    file: str  # path relative to the data directory
    line: int | None  # CSV line (header = line 1); None for file-wide findings
    subject: str  # the record's name, or what the finding is about
    message: str


@dataclass(frozen=True, slots=True)
class CountComparison:
    """Dataset rows of one alliance against its latest official size."""

    alliance: str
    dataset: int
    official: int
    approximate: bool
    note: str

    @property
    def share(self) -> float:
        """dataset / official."""
        return self.dataset / self.official if self.official else float("nan")


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Everything `poi-service data check` found; exit_code() is what CI gates on."""

    data_dir: str
    rows: dict[str, int]  # file -> data rows read
    findings: list[Finding] = field(default_factory=list)
    counts: list[CountComparison] = field(default_factory=list)
    store: str | None = None

    @property
    def errors(self) -> list[Finding]:
        """Findings of severity error."""
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """Findings of severity warning."""
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors

    def exit_code(self, strict: bool = False) -> int:
        """0 when the data passes, 1 on any error (strict: on any warning too)."""
        return 1 if self.errors or (strict and self.warnings) else 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`poi-service data check --json`)."""
        return {
            "data_dir": self.data_dir,
            "store": self.store,
            "ok": self.ok,
            "rows": self.rows,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "counts": [{**asdict(c), "share": round(c.share, 4)} for c in self.counts],
            "findings": [{**asdict(f), "severity": f.severity.value} for f in self.findings],
        }


def _where(f: Finding) -> str:
    return f"{f.file}:{f.line}" if f.line is not None else f.file


def render_text(report: QualityReport, *, max_listed: int = MAX_LISTED) -> str:
    """A human-readable report: files read, counts against the official figures, findings grouped by
    severity and check (at most max_listed per check), and a verdict line."""
    out = [f"Data check of {report.data_dir}" + (f" and the store {report.store}" if report.store else "")]
    out += [f"  {name}: {n} rows" for name, n in report.rows.items()]
    if report.counts:
        out += ["", "Dataset against the official counts (data/alliance/NOTES.md):"]
        for c in report.counts:
            about = "about " if c.approximate else ""
            out.append(f"  {c.alliance:<20} {c.dataset:>4} of {about}{c.official} ({c.share:.0%})  {c.note}")
    for severity in (Severity.ERROR, Severity.WARNING):
        by_code: dict[str, list[Finding]] = defaultdict(list)
        for f in report.findings:
            if f.severity is severity:
                by_code[f.code].append(f)
        if not by_code:
            continue
        total = sum(len(v) for v in by_code.values())
        out += ["", f"{severity.value.upper()}S ({total}):"]
        for code, items in by_code.items():
            out.append(f"  {code} ({len(items)}):")
            for f in items[:max_listed]:
                out.append(f"    {_where(f)}  {f.subject}: {f.message}")
            if len(items) > max_listed:
                out.append(f"    ... and {len(items) - max_listed} more (--json lists all)")
    verdict = "FAILED" if report.errors else "passed"
    out += ["", f"{verdict}: {len(report.errors)} errors, {len(report.warnings)} warnings"]
    return "\n".join(out)
