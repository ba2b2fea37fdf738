"""One import namespace: radpulse.collectors/analysis/dashboards from their top-level folders, in a clean venv."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPED = {"radpulse": "radpulse", "radpulse.collectors": "collectors", "radpulse.analysis": "analysis",
          "radpulse.dashboards": "dashboards"}


def declared_packages() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]


def test_every_package_folder_is_declared_and_mapped():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"] == MAPPED
    found = set()
    for name, folder in MAPPED.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    # nested mapped packages are found twice (as radpulse.X and under radpulse/): keep real ones
    assert found == set(declared_packages())


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory) -> Path:
    """A fresh venv without radpulse; third-party deps are borrowed read-only from the test venv."""
    where = tmp_path_factory.mktemp("clean-venv")
    venv.create(where, with_pip=False)
    site = subprocess.check_output([where / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip()
    # a plain path entry (not a site dir), so the test venv's own editable finder is not activated
    Path(site, "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return where


def build(kind: str, out: Path) -> Path:
    hook = "build_editable" if kind == "editable" else "build_wheel"
    code = f"import setuptools.build_meta as b; print(b.{hook}({str(out)!r}))"
    name = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True, stderr=subprocess.DEVNULL).strip().splitlines()[-1]
    return out / name


def install(wheel: Path, target: Path) -> None:
    site = subprocess.check_output([target / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip()
    with zipfile.ZipFile(wheel) as zf:  # a wheel is unpacked into site-packages as is
        zf.extractall(site)


CHECK = """
import importlib, sys
for name in ("radpulse", "radpulse.collectors", "radpulse.collectors.base", "radpulse.records", "radpulse.analysis", "radpulse.dashboards", "radpulse.cli.main"):
    mod = importlib.import_module(name)
    print(name, mod.__file__)
for generic in ("collectors", "analysis", "dashboards"):
    try:
        importlib.import_module(generic)
    except ModuleNotFoundError:
        print(generic, "absent")
    else:
        print(generic, "PRESENT")
"""


@pytest.mark.parametrize("kind", ["wheel", "editable"])
def test_imports_from_a_clean_venv(kind, clean_venv, tmp_path):
    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    for pth in clean_venv.glob("lib/python*/site-packages/borrowed-deps.pth"):
        dest = next(target.glob("lib/python*/site-packages"))
        (dest / pth.name).write_text(pth.read_text())
    install(build(kind, tmp_path / "dist"), target)
    out = subprocess.check_output([target / "bin" / "python", "-c", CHECK], cwd=tmp_path, text=True)
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert lines["collectors"] == lines["analysis"] == lines["dashboards"] == "absent"
    if kind == "editable":
        assert lines["radpulse.collectors"] == str(ROOT / "collectors" / "__init__.py")
        assert lines["radpulse.analysis"] == str(ROOT / "analysis" / "__init__.py")
    else:
        assert "/site-packages/radpulse/collectors/__init__.py" in lines["radpulse.collectors"]
        assert "/site-packages/radpulse/dashboards/__init__.py" in lines["radpulse.dashboards"]
