"""The CI template installs a harness that exists: a requirement that names this project, by URL, with extras it
has (a bare ``openai-async-harness`` would ask an index where the package is not published)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

TEMPLATE = Path(__file__).with_name("github-actions.yml")
PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_the_template_installs_this_project_from_a_url() -> None:
    workflow = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirement = Requirement(workflow["env"]["HARNESS"])
    assert requirement.name == project["name"]
    assert requirement.url is not None
    assert requirement.url.startswith("git+")
    assert requirement.extras <= set(project["optional-dependencies"])


def test_every_install_line_uses_the_harness_requirement() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    install_lines = [line for line in text.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    harness_lines = [line for line in install_lines if "harness" in line.lower()]
    assert harness_lines, "the template installs the harness somewhere"
    assert all('"$HARNESS"' in line for line in harness_lines), harness_lines
