"""Findings and their parts: frozen data shared by the engine, the reporters and the fixers."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from itertools import accumulate
from typing import FrozenSet, List, Optional, Tuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Family(str, enum.Enum):
    """The bug families; a rule code's first digit names its family."""

    FILE = "file not analysable"
    COROUTINE = "coroutine never awaited"
    TASK = "asyncio task or future"
    THREAD = "thread or executor"
    ERROR = "error lost in background work"
    CONCURRENCY = "unbounded concurrency"

    @classmethod
    def of_code(cls, code: str) -> "Family":
        return _FAMILY_BY_DIGIT[code[2]]


_FAMILY_BY_DIGIT = {
    "0": Family.FILE,
    "1": Family.COROUTINE,
    "2": Family.TASK,
    "3": Family.THREAD,
    "4": Family.ERROR,
    "5": Family.CONCURRENCY,
}


class Impact(str, enum.Enum):
    """What goes wrong in production; a ticket's summary names them."""

    NO_TRACKING = "no-tracking"
    NO_RETRY = "no-retry"
    NO_ALERTING = "no-alerting"
    RACE = "race"
    NO_BACKPRESSURE = "no-backpressure"

    @property
    def title(self) -> str:
        return _IMPACT_TITLES[self]


_IMPACT_TITLES = {
    Impact.NO_TRACKING: "No job tracking",
    Impact.NO_RETRY: "No retry mechanism",
    Impact.NO_ALERTING: "No alerting",
    Impact.RACE: "Race conditions",
    Impact.NO_BACKPRESSURE: "No backpressure",
}


class Applicability(str, enum.Enum):
    """How far a fix may be trusted, as in Ruff."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


# Python ends a line only at \n, \r\n and \r (not at form feeds or U+2028): lines of every
# position here are counted that way.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based line and a 1-based column counted in characters (not UTF-8 bytes)."""

    line: int
    column: int


def line_starts(text: str) -> Tuple[int, ...]:
    """The index into `text` where each line begins."""
    if "\r" in text:
        return (0, *(match.end() for match in LINE_BREAK.finditer(text)))
    # Only \n ends a line here: summing line lengths is two to three times faster.
    return (0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1]))


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    message: str
    path: str
    start: Location
    end: Location
    severity: Severity = Severity.ERROR
    impacts: Tuple[Impact, ...] = ()
    risk: str = ""
    fix_title: Optional[str] = None
    # The ways to fix this finding, best first; `ffscan fix` applies the first one allowed.
    fixes: Tuple["Fix", ...] = field(default=(), compare=False)
    # The source lines from start.line to end.line, for code frames and reports.
    source_lines: Tuple[str, ...] = field(default=(), compare=False)
    # Set where the run's whole set of findings was known (ffscan.report.fingerprint), so that
    # a subset of them, such as what a baseline leaves, keeps the same identities.
    fingerprint: Optional[str] = field(default=None, compare=False)
    # The function or class the finding is in, named as its `__qualname__` would be
    # (`create_order`, `Shop.checkout`, `main.<locals>.on_done`); "" at module level.
    enclosing: str = field(default="", compare=False)

    @property
    def family(self) -> Family:
        return Family.of_code(self.code)

    @property
    def fix_applicability(self) -> Optional[Applicability]:
        """How far the most trusted of its fixes may be trusted; None without a fix."""
        if not self.fixes:
            return None
        return min((fix.applicability for fix in self.fixes), key=_APPLICABILITY_ORDER.index)

    @property
    def fixable(self) -> bool:
        """Whether `ffscan fix` can apply a fix (safe, or unsafe with `--unsafe-fixes`)."""
        return self.fix_applicability in (Applicability.SAFE, Applicability.UNSAFE)

    def sort_key(self) -> tuple:
        return (self.path, self.start.line, self.start.column, self.code)


@dataclass(frozen=True)
class RunError:
    """A failure of ffscan itself on one file (a rule crashed): reported, never fatal to the run."""

    path: str
    message: str
    code: Optional[str] = None
    line: Optional[int] = None


@dataclass(frozen=True)
class Notice:
    """A file ffscan could not check for a reason that is no bug of the project.

    Not a finding: it never changes the exit code. Today the one kind is `newer-syntax`: the
    file parses only on a newer Python than the one running ffscan (`requires`, e.g. "3.12").
    """

    path: str
    message: str
    line: int = 1
    column: int = 1
    kind: str = "newer-syntax"
    requires: Optional[str] = None


@dataclass
class RunResult:
    """Everything one `ffscan check` found, for the reporters."""

    findings: List[Finding] = field(default_factory=list)
    errors: List[RunError] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)  # paths given that do not exist
    files_checked: int = 0
    suppressed: int = 0
    notices: List[Notice] = field(default_factory=list)
    # With a baseline: findings it holds (left out of `findings`), and its entries no longer found.
    baselined: int = 0
    baseline_stale: int = 0
    selected: FrozenSet[str] = frozenset()
    # The findings (also in `findings`) that the whole-program index settled across files.
    cross_module: List[Finding] = field(default_factory=list)
    files_found: int = 0  # Python files discovered, before rule selection narrowed them
    excluded: int = 0  # files and folders discovery skipped for exclude/extend-exclude
    gitignored: int = 0  # ... and because a .gitignore lists them
    warnings: List["RunWarning"] = field(default_factory=list)
    fixed: int = 0  # under `check --fix`: findings fixed; `findings` are those remaining

    def after_edits(self, findings: List[Finding], fixed: int = 0) -> "RunResult":
        """This run once files were edited (fixed, or given `# noqa`): `findings` are those
        left; what the index settled across files and the baseline's counts are not carried."""
        return RunResult(
            findings=findings,
            errors=self.errors,
            missing=self.missing,
            files_checked=self.files_checked,
            files_found=self.files_found,
            excluded=self.excluded,
            gitignored=self.gitignored,
            suppressed=self.suppressed,
            selected=self.selected,
            warnings=self.warnings,
            notices=self.notices,
            fixed=fixed,
        )


@dataclass(frozen=True)
class RunWarning:
    """Something the user wrote that ffscan cannot honour (a suppression naming no rule):
    printed on stderr, never a finding and never a reason to fail."""

    path: str
    line: int
    message: str


@dataclass(frozen=True)
class RuleInfo:
    """A rule as reporters see it: no visitors, just its identity and documentation."""

    code: str
    name: str
    summary: str  # the first sentence of "What it does"
    doc: str  # the full Markdown doc
    severity: Severity
    impacts: Tuple[Impact, ...]
    risk: str
    default_on: bool
    off_reason: str
    fix_title: Optional[str]
    fix_applicability: Optional[Applicability]
    subject: Tuple[str, str] = ("", "")  # one finding, singular and plural, for tickets
    loss: str = ""  # what is lost for certain when it fires; "" when nothing is

    @property
    def family(self) -> Family:
        return Family.of_code(self.code)

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}/{self.code}.md"

    @classmethod
    def from_finding(cls, finding: Finding) -> "RuleInfo":
        """A minimal description, for a finding whose rule a reporter was not given."""
        return cls(
            code=finding.code,
            name=finding.name,
            summary=finding.message,
            doc="",
            severity=finding.severity,
            impacts=finding.impacts,
            risk=finding.risk,
            default_on=True,
            off_reason="",
            fix_title=finding.fix_title,
            fix_applicability=finding.fix_applicability,
            subject=(finding.name.replace("-", " "), finding.name.replace("-", " ")),
        )


DOCS_URL = "https://github.com/ffscan/ffscan/blob/main/rules"


@dataclass(frozen=True)
class Edit:
    """Replace the text from `start` up to `end` with `content` (an insertion when they are equal).

    Positions are those of findings: 1-based lines and 1-based columns counted in characters.
    """

    start: Location
    end: Location
    content: str = ""

    @classmethod
    def insertion(cls, at: Location, content: str) -> "Edit":
        return cls(at, at, content)

    @classmethod
    def replacement(cls, start: Location, end: Location, content: str) -> "Edit":
        return cls(start, end, content)

    @classmethod
    def deletion(cls, start: Location, end: Location) -> "Edit":
        return cls(start, end, "")


@dataclass(frozen=True)
class Fix:
    """A rewrite as data, in the manner of Ruff: text edits over exact ranges, the imports they
    need (`from module import name`), and how far it may be trusted. Computed by the rule from
    the tree it checked; applied and verified only by `ffscan.fix`."""

    title: str
    applicability: Applicability
    edits: Tuple[Edit, ...]
    imports: Tuple[Tuple[str, str], ...] = ()
    # A question for the whole-program index (see ffscan.semantic.index) whose yes the fix
    # needs, for what only another module can tell (what an imported function does). The
    # engine keeps the fix, its title's `{fields}` filled from the answer, when the answer is
    # yes, and drops it otherwise; None: the fix stands as it is.
    requires: Optional[tuple] = None

    @classmethod
    def safe(cls, title: str, *edits: Edit, imports: Tuple[Tuple[str, str], ...] = ()) -> "Fix":
        return cls(title, Applicability.SAFE, tuple(edits), tuple(imports))

    @classmethod
    def unsafe(cls, title: str, *edits: Edit, imports: Tuple[Tuple[str, str], ...] = ()) -> "Fix":
        return cls(title, Applicability.UNSAFE, tuple(edits), tuple(imports))

    @classmethod
    def display_only(cls, title: str, *edits: Edit, imports: Tuple[Tuple[str, str], ...] = ()) -> "Fix":
        return cls(title, Applicability.DISPLAY_ONLY, tuple(edits), tuple(imports))

    @property
    def span(self) -> Tuple[Location, Location]:
        """From the first edit's start to the last edit's end."""
        return min(e.start for e in self.edits), max(e.end for e in self.edits)

    def needing(self, query: tuple) -> "Fix":
        """The same fix, standing only where the index answers `query` with yes."""
        return replace(self, requires=query)

    def allowed(self, unsafe: bool) -> bool:
        """Whether `ffscan fix` (with `--unsafe-fixes` when `unsafe`) applies it."""
        return self.applicability is Applicability.SAFE or (unsafe and self.applicability is Applicability.UNSAFE)


_APPLICABILITY_ORDER = (Applicability.SAFE, Applicability.UNSAFE, Applicability.DISPLAY_ONLY)


@dataclass
class FileFix:
    """What `ffscan fix` did to one file."""

    path: str
    original: str
    fixed: str
    applied: List[Tuple[Finding, Fix]] = field(default_factory=list)
    # Every finding that remains, and why it is not fixed: at its place in the text written,
    # or in the original file when nothing is written (`--diff`).
    left: List[Tuple[Finding, str]] = field(default_factory=list)
    error: Optional[str] = None  # the whole file was left alone, and why
    cannot_write: bool = False  # `error` is a failed write (exit 2), not a refusal
    imports_added: List[Tuple[str, str]] = field(default_factory=list)  # (module, name) the fixed text imports anew
    untracked: int = 0  # `track(...)` calls unwrapped for an unsafe fix

    @property
    def changed(self) -> bool:
        return self.error is None and self.fixed != self.original


@dataclass
class FixRun:
    """Everything one `ffscan fix` did, for the reporters."""

    files: List[FileFix] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    runtime_problem: Optional[str] = None  # why fixes that import the runtime were not applied
    vendored: Optional[Tuple[str, str]] = None  # (folder, module): the runtime copied in (`--vendor`)
    errors: List[RunError] = field(default_factory=list)  # rules that crashed on a file
    unsafe: bool = False
    wrote: bool = True  # False under --diff
    result: Optional[RunResult] = None  # what remains, as `ffscan check` would report it

    @property
    def applied(self) -> int:
        return sum(len(f.applied) for f in self.files if f.changed)

    @property
    def changed_files(self) -> List[FileFix]:
        return [f for f in self.files if f.changed]


@dataclass
class NoqaFile:
    """What `ffscan check --add-noqa` did to one file."""

    path: str
    added: List[Tuple[int, Tuple[str, ...]]] = field(default_factory=list)  # (line, codes new to it)
    left: List[Tuple[Finding, str]] = field(default_factory=list)  # findings given no comment, and why
    error: Optional[str] = None  # the whole file was left alone, and why
    cannot_write: bool = False  # `error` is a failed write (exit 2), not a refusal


@dataclass
class NoqaRun:
    """Everything one `ffscan check --add-noqa` did, for the reporters."""

    files: List[NoqaFile] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    errors: List[RunError] = field(default_factory=list)  # rules that crashed on a file
    result: Optional[RunResult] = None  # what remains unsuppressed, as `ffscan check` would report it
