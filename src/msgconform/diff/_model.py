"""What a diff finds: `Change`s, grouped per API, and whether any of them is a regression."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Change:
    """One difference between OLD and NEW.

    `section` says what kind of difference it is (the Markdown groups by it), `where` what it
    is about (a case id, or an operation with the status and media type of its answers),
    `subject` the thing that changed (a header, a body path; empty when `where` says it all).
    """

    api: str
    section: str
    where: str
    subject: str
    before: str
    after: str
    regression: bool = False
    note: str = ""

    @property
    def label(self) -> str:
        """One line naming the change: `section: subject-or-where: before → after`."""
        return f"{self.section}: {self.subject or self.where}: {self.before} → {self.after}"

    def as_dict(self) -> dict:
        return {
            "api": self.api,
            "section": self.section,
            "where": self.where,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
            "regression": self.regression,
            "note": self.note,
        }


@dataclass
class ApiDiff:
    """The changes of one API, and (for reports) its verdict before and after."""

    api: str
    before: str = ""  # verdict (reports) or "recorded" / "absent" (cassettes)
    after: str = ""
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regression]


@dataclass
class Diff:
    kind: str  # "reports" | "cassettes"
    old: str
    new: str
    strict: bool
    apis: list[ApiDiff] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (what, why): values not compared
    notes: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Change]:
        return [c for api in self.apis for c in api.regressions]

    @property
    def changes(self) -> list[Change]:
        return [c for api in self.apis for c in api.changes]

    @property
    def exit_status(self) -> int:
        return 1 if self.regressions else 0
