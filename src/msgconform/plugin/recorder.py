"""The recorder: the one place where a check says what it judged.

Checks call `judge(case_id, ok, failure)` or `skip(case_id, reason)`. The recorder keeps
a tally per test and per case, and appends it to the events file when the test ends
(see `msgconform.outcomes` for the format). It refuses a case id the catalogue does not
list, so a typo in a suite cannot invent a case.

A judgement rests on the exchange last checked; when it rests on something else as well
(the messages a mail sink received), or on an earlier exchange, the check makes it inside
`with recorder.about(subjects, exchange)`, naming those texts, already redacted, and that
exchange: listeners (the Allure plugin) read them from `recorder.subjects` and
`recorder.subject_exchange` and attach them to the judged case.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from msgconform.catalogue import Catalogue
from msgconform.outcomes import Tally


class UnknownCase(KeyError):
    pass


class Recorder:
    def __init__(self, events_path: Path | None, catalogues: dict[str, Catalogue]) -> None:
        self.events_path = events_path
        self.catalogues = catalogues
        self._lock = threading.Lock()
        self._test = "<session>"
        self._tallies: dict[tuple[str, str], Tally] = {}
        self._harness: list[tuple[str, str]] = []
        # Told of each judgement as it happens: (kind, case id or API, ok, text), kind being
        # "judge", "observe" or "harness" (the Allure plugin ties them to exchanges).
        self.listeners: list[Callable[[str, str, bool, str], None]] = []
        # What the judgements being made rest on besides an exchange: (name, text); and the
        # exchange they rest on when it is not the last one checked.
        self.subjects: tuple[tuple[str, str], ...] = ()
        self.subject_exchange: object | None = None

    @contextmanager
    def about(self, subjects: list[tuple[str, str]], exchange: object | None = None) -> Iterator[None]:
        """Judgements made inside rest on these (name, redacted text) pairs too, and on
        `exchange` (a harness `Exchange`) rather than on the last one checked."""
        outer = self.subjects, self.subject_exchange
        self.subjects, self.subject_exchange = tuple(subjects), exchange
        try:
            yield
        finally:
            self.subjects, self.subject_exchange = outer

    # --- used by checks ------------------------------------------------------------------

    def judge(self, case_id: str, ok: bool, failure: str = "") -> bool:
        with self._lock:
            tally = self._tally(case_id)
            if ok:
                tally.passed += 1
            else:
                tally.failed += 1
                if not tally.failure:
                    tally.failure = failure or "check failed"
        self._tell("judge", case_id, ok, failure)
        return ok

    def observe(self, case_id: str, observation: str) -> None:
        """An INFO case: a judgement that never fails, carrying what was seen."""
        with self._lock:
            tally = self._tally(case_id)
            tally.passed += 1
            tally.failure = observation
        self._tell("observe", case_id, True, observation)

    def skip(self, case_id: str, reason: str) -> None:
        with self._lock:
            tally = self._tally(case_id)
            if reason not in tally.skips and len(tally.skips) < 5:
                tally.skips.append(reason)

    def harness(self, api: str, details: str) -> None:
        """The suite could not judge: a problem of the harness, never of the vendor."""
        with self._lock:
            if not details.startswith(self._test):
                details = f"{self._test}: {details}"
            self._harness.append((api, details))
        self._tell("harness", api, False, details)

    # --- used by the plugin ---------------------------------------------------------------

    def stopped(self, api: str, reason: str) -> None:
        """The API's run was stopped (see `msgconform.guard`): written at once."""
        self.flush()
        if self.events_path is not None:
            with self.events_path.open("a", encoding="utf-8") as handle:
                event = {"kind": "stopped", "api": api, "test": self._test, "details": reason}
                handle.write(json.dumps(event, ensure_ascii=False) + "\n")

    def start_test(self, nodeid: str) -> None:
        self.flush()
        self._test = nodeid

    def failures_of_current_test(self) -> list[str]:
        with self._lock:
            return [
                f"{case_id}: {tally.failure}"
                for (_, case_id), tally in self._tallies.items()
                if tally.failed and self._level(case_id) != "INFO"
            ]

    def flush(self) -> None:
        with self._lock:
            events = [
                {
                    "kind": "judgement",
                    "api": api,
                    "case": case_id,
                    "test": self._test,
                    "passed": tally.passed,
                    "failed": tally.failed,
                    "skipped": tally.skips,
                    "failure": tally.failure,
                }
                for (api, case_id), tally in self._tallies.items()
            ]
            events += [{"kind": "harness", "api": api, "test": self._test, "details": d} for api, d in self._harness]
            self._tallies.clear()
            self._harness.clear()
        if events and self.events_path is not None:
            with self.events_path.open("a", encoding="utf-8") as handle:
                for event in events:
                    handle.write(json.dumps(event, ensure_ascii=False) + "\n")

    # --- internals ------------------------------------------------------------------------

    def _tell(self, kind: str, subject: str, ok: bool, text: str) -> None:
        for listener in self.listeners:
            listener(kind, subject, ok, text)

    def _api_of(self, case_id: str) -> str:
        for api, catalogue in self.catalogues.items():
            if case_id in catalogue:
                return api
        raise UnknownCase(f"{case_id} is not in any case catalogue")

    def _level(self, case_id: str) -> str:
        return self.catalogues[self._api_of(case_id)][case_id].level

    def _tally(self, case_id: str) -> Tally:
        key = (self._api_of(case_id), case_id)
        return self._tallies.setdefault(key, Tally())
