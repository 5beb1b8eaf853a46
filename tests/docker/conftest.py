"""The Docker tier: every test here carries the `docker` marker and runs only where a Docker
engine answers on Linux (the containers use the host network to reach the emulator on
127.0.0.1) and the local base image is there or can be made (root with debootstrap).
Elsewhere the whole tier is skipped with one reason saying how to enable it.

Images come from tests/docker/images.py (no registry needed); `.ci/run` installs and
starts the engine and makes them before `make test`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.docker import images
from tests.e2e.stack import DevStack, start

if TYPE_CHECKING:
    from collections.abc import Iterator

HERE = Path(__file__).parent
SKIP_REASON = (
    "docker tier off: it needs a Docker engine answering `docker info` on Linux and the "
    "local images; to enable, as root: apt-get install docker.io debootstrap, start "
    "`dockerd --iptables=false --ip6tables=false &`, then `make docker-images` (.ci/run does all)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if HERE in Path(item.fspath).parents]
    if not ours:
        return
    enabled = images.tier_enabled()
    for item in ours:
        item.add_marker(pytest.mark.docker)
        if not enabled:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def base_image() -> str:
    """The local stand-in for python:3.13.13-slim-trixie (debootstrap, imported)."""
    try:
        return images.base_image()
    except images.ImageError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    return images.wheelhouse()


@pytest.fixture(scope="session")
def lambda_image(base_image: str) -> str:
    try:
        return images.lambda_image()
    except images.ImageError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def emulator_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`make dev` without the UI, on free ports: moto with the data stack on 127.0.0.1."""
    stack = start(tmp_path_factory.mktemp("devstack"), "--no-ui")
    yield stack
    assert stack.stop() == 0, "".join(stack.output)
