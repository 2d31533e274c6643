"""Writers: small functions that turn a finished run into files and lines.

Each writer takes a `RunReport` (what was run, and one `ApiResult` per API) and writes
one artefact. They share no state and never look at pytest, HTTP or the servers, so a
new artefact is a new small module here.
"""

from msgconform.report._model import RunReport
from msgconform.report.conformance_json import SCHEMA_PATH, to_document, write_conformance_json
from msgconform.report.junit import write_junit
from msgconform.report.markdown import write_markdown
from msgconform.report.summary import summary_lines

__all__ = [
    "SCHEMA_PATH",
    "RunReport",
    "summary_lines",
    "to_document",
    "write_conformance_json",
    "write_junit",
    "write_markdown",
]
