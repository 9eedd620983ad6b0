"""The locked releases (constraints.txt): every dependency pinned once, within pyproject.toml's range, and installed.

A fresh machine installs what constraints.txt says (`make test`, `make run`, the image); a dependency added to
pyproject.toml without a pin would take whatever is newest that day, as OpenCV 5 did (2026-12-02: the detector's
stacks of 160-pixel rows are more channels than it takes).
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")


def pins() -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"not an exact pin: {line!r}"
        name = canonicalize_name(match[1])
        assert name not in found, f"pinned twice: {name}"
        found[name] = Version(match[2])
    return found


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [item for extra in project["optional-dependencies"].values() for item in extra]
    return [Requirement(item) for item in listed]


def test_every_dependency_is_pinned_within_its_range() -> None:
    locked = pins()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(locked[name], prereleases=True), (str(requirement), locked[name])


def test_the_suite_runs_on_the_locked_releases() -> None:
    mismatched = {}
    for name, pinned in pins().items():
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            continue  # a platform-only pin this machine does not need
        if installed != pinned:
            mismatched[name] = (str(installed), str(pinned))
    assert not mismatched, f"installed != constraints.txt (run `make .venv/bin/nvr` again): {mismatched}"


def test_opencv_5_is_excluded() -> None:
    opencv = next(item for item in requirements() if item.name == "opencv-python-headless")
    assert not opencv.specifier.contains("5.0.0")
