"""`junit.xml` (contracts.md section 4): one testsuite per API, one testcase per catalogued case.

CI systems read this file; it counts catalogued cases, not pytest tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from msgconform.report._model import RunReport, write_atomically


def write_junit(report: RunReport, report_dir: Path) -> Path:
    root = ET.Element("testsuites", name="msgconform")
    for result in report.apis:
        counts = result.counts()
        strict_failures = counts["non-strict"] if report.strict else 0
        suite = ET.SubElement(
            root,
            "testsuite",
            name=result.api,
            tests=str(len(result.cases)),
            failures=str(counts["fail"] + strict_failures),
            errors=str(counts["error"]),
            skipped=str(counts["skip"] + counts.get("waived", 0)),
        )
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="target", value=result.target)
        if report.interrupted:
            ET.SubElement(properties, "property", name="interrupted", value="true")
        for item in result.cases:
            case = ET.SubElement(suite, "testcase", classname=result.api, name=f"{item.case.id}: {item.case.title}")
            summary = f"{item.case.level}: {item.details}"
            if item.outcome == "fail":
                ET.SubElement(case, "failure", type="nonconformance", message=summary).text = _body(item)
            elif item.outcome == "error":
                ET.SubElement(case, "error", message=item.details).text = item.details
            elif item.outcome == "skip":
                ET.SubElement(case, "skipped", message=item.details)
            elif item.outcome == "waived" and item.waived is not None:  # contracts.md section 5
                ET.SubElement(case, "skipped", message=f"waived: {item.waived.reason}")
                ET.SubElement(
                    case, "system-out"
                ).text = f"{item.waived.observed} ({item.case.level}) finding, waived by the baseline: {item.details}"
            elif item.outcome == "non-strict":
                if report.strict:
                    ET.SubElement(case, "failure", type="non-strict", message=summary).text = _body(item)
                else:
                    ET.SubElement(case, "system-out").text = f"non-strict (SHOULD) finding: {item.details}"
            elif item.details:
                ET.SubElement(case, "system-out").text = item.details
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    path = report_dir / "junit.xml"
    write_atomically(path, text)
    return path


def _body(item) -> str:
    case = item.case
    lines = [item.details, "", f"Expected: {case.expect}", f"Source: {case.source}"]
    if case.quote:
        lines.append(f'Quote: "{case.quote}"')
    return "\n".join(lines)
