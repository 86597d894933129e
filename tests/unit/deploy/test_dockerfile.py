"""The Dockerfile promises (read without building it; .ci/image-check builds and runs it)."""

from __future__ import annotations

import json
import re

from tests.support.deploy_files import (
    ROOT,
    dockerfile_instructions,
    final_stage,
    healthcheck_command,
    image_env,
)


def test_the_base_is_an_argument_defaulting_to_python_3_11_slim():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("ARG", "BASE=python:3.11-slim")
    froms = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert len(froms) >= 2 and all(arguments.startswith("${BASE}") for arguments in froms)


def test_the_final_stage_installs_nothing_and_compiles_nothing():
    """The packages come from the install stage's virtualenv, made from wheels (no index, no compiler)."""
    instructions = dockerfile_instructions()
    runs = " ".join(arguments for keyword, arguments in final_stage(instructions) if keyword == "RUN")
    for tool in ("pip", "apt-get", "gcc", "cc ", "make", "build-essential"):
        assert tool not in runs
    install = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "--no-index" in install and "--find-links /wheels" in install
    copies = [arguments for keyword, arguments in final_stage(instructions) if keyword == "COPY"]
    assert copies == ["--from=install /opt/bugtracker /opt/bugtracker"]


def test_a_non_root_user_runs_bugtracker_bot_by_default():
    stage = final_stage(dockerfile_instructions())
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    as_dict = dict(stage)
    assert json.loads(as_dict["ENTRYPOINT"]) == ["bugtracker"]
    assert json.loads(as_dict["CMD"]) == ["bot"]


def test_the_store_lives_in_the_declared_volume_and_metrics_are_reachable():
    instructions = dockerfile_instructions()
    stage = dict(final_stage(instructions))
    volumes = json.loads(stage["VOLUME"])
    env = image_env(instructions)
    assert any(env["BUGTRACKER_DB"].startswith(volume.rstrip("/") + "/") for volume in volumes)
    assert env["METRICS_HOST"] == "0.0.0.0"  # 127.0.0.1 inside a container answers nobody outside it
    assert stage["EXPOSE"].split() == [env["METRICS_PORT"], env["HEALTH_PORT"]]


def test_the_healthcheck_probes_healthz_with_the_standard_library():
    command = healthcheck_command(dockerfile_instructions())
    script = command[-1]
    assert command[:2] == ["python3", "-c"] and "urllib.request" in script and "/healthz" in script
    assert "HEALTH_PORT" in script and "METRICS_PORT" in script
    compile(script, "healthcheck", "exec")  # a typo here would mark every container unhealthy


def test_only_the_wheels_go_into_the_build_context():
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["*", "!build/wheels/"]
    copied = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "COPY"]
    sources = [arguments.split()[0] for arguments in copied if not arguments.startswith("--from")]
    assert sources == ["build/wheels"]


def test_make_image_builds_the_tag_compose_runs():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^IMAGE \?= bugtracker:latest$", makefile, re.MULTILINE)
    assert re.search(r"^image: wheels$", makefile, re.MULTILINE)
    # podman's default (OCI) image format drops HEALTHCHECK
    assert "--format docker" in makefile


def test_make_image_builds_for_the_task_definitions_cpu_whatever_the_machine():
    """A Mac (arm64) must not build an image the X86_64 task definition cannot run."""
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PLATFORM \?= linux/amd64$", makefile, re.MULTILINE)
    assert "build --platform $(PLATFORM)" in makefile
    assert "uname" not in makefile.split("WHEEL_ARCH :=")[1].splitlines()[0]  # wheels follow PLATFORM too
    task = json.loads((ROOT / "deploy" / "ecs-task-definition.json").read_text())
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"
