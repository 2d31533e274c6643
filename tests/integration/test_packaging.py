"""The wheel carries everything a run needs: build it, install it into a fresh virtualenv,
and use the installed `msgconform` from a folder that is not the checkout.

A checkout finds its specs, suites and seed documents at the top of the repository; a
wheel must carry them as package data (`msgconform/_data/`, see `_resources.py`). This
test proves it the only convincing way: `python -m build --wheel`, a new venv without
system site-packages, `pip install <wheel>` (dependencies from the configured index), then
`msgconform serve` and `msgconform run` from an unrelated folder, with an environment that
cannot reach the editable install.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for helpers.py
from helpers import REPO, child_env, run_msgconform, serving  # noqa: E402

pytestmark = pytest.mark.integration

DATA = "msgconform/_data"
MUST_SHIP = [
    f"{DATA}/specs/sources/000_e9838e8fd156fcdc.txt",
    f"{DATA}/specs/sources/003_676dc405cd31de98.txt",
    f"{DATA}/specs/itslearning.yaml",
    f"{DATA}/specs/itslearning.cases.yaml",
    f"{DATA}/suites/pytest.ini",
    f"{DATA}/suites/itslearning/test_fuzz.py",
    "msgconform/report/conformance.schema.json",
    "msgconform/servers/faults.yaml",
]


def check(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    check([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)], timeout=300)
    (built,) = out.glob("msgconform-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (no system site-packages) with only the wheel and its dependencies."""
    root = tmp_path_factory.mktemp("venv")
    check([sys.executable, "-m", "venv", str(root)], timeout=120)
    check([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], timeout=600, env=child_env())
    return root


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder with nothing of the checkout in or above it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert REPO not in folder.parents
    return folder


def test_the_wheel_carries_specs_suites_and_seed_documents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in MUST_SHIP:
        assert name in names, name
    for folder in ("specs", "suites"):  # every data file of the checkout travels
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"{DATA}/{path.relative_to(REPO).as_posix()}" in names, path
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith("tests/")]


def test_the_installed_msgconform_is_the_wheel_not_the_checkout(venv: Path, elsewhere: Path) -> None:
    code = ("import json, msgconform, msgconform._resources as r;"
            "print(json.dumps([msgconform.__file__, str(r.data_root())]))")
    done = check([str(venv / "bin" / "python"), "-c", code], timeout=60, cwd=elsewhere, env=child_env())
    module, data_root = (Path(p) for p in json.loads(done.stdout))
    site = venv / "lib"
    assert site in module.parents and site in data_root.parents
    assert data_root.name == "_data"


def test_installed_serve_prints_a_targets_file_and_serves(venv: Path, elsewhere: Path) -> None:
    with serving(program=[str(venv / "bin" / "msgconform")], cwd=elsewhere) as server:
        its = server.targets["itslearning"]
        headers = its.users["sender"].headers
        with httpx.Client(base_url=its.base_url, timeout=10, trust_env=False) as http:
            sent = http.post("/restapi/personal/messages/send/v1", headers=headers,
                             json={"ToPersonIds": [its.users["recipient"].id], "Subject": "s", "Text": "t"})
        assert sent.status_code == 201, sent.text
    assert server.stopped.status == 0 and server.stopped.stdout == ""


def test_installed_run_passes_from_another_folder(venv: Path, elsewhere: Path) -> None:
    done = run_msgconform("run", "--max-examples", "2", "--report-dir", "out", cwd=elsewhere,
                          program=[str(venv / "bin" / "msgconform")], timeout=300)
    assert done.status == 0, done
    assert done.stdout.startswith("itslearning: conformant (")
    doc = json.loads((elsewhere / "out" / "conformance.json").read_text(encoding="utf-8"))
    shipped = next((venv / "lib").glob("python3*/site-packages/msgconform/report/conformance.schema.json"))
    jsonschema.Draft202012Validator(json.loads(shipped.read_text(encoding="utf-8"))).validate(doc)
    assert doc["max_examples"] == 2
    assert sum(case["checked"] for case in doc["apis"]["itslearning"]["cases"]) > 0
