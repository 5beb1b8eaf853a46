"""Where the service's data lives for this run: the emulator's stack, or a deployed one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from devstack.config import LOCAL_STACK_NAME, repo_root

if TYPE_CHECKING:
    from devstack.config import DevConfig
    from devstack.emulator import Emulator


class DataPlaneError(RuntimeError):
    """No usable data plane; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class DataPlane:
    stack_name: str
    outputs: dict[str, str]
    # The environment the service runs with against it.
    env: dict[str, str]
    # Set for the emulator (and stopped with the stack); None for a deployed stack.
    emulator: Emulator | None
    endpoint_url: str | None

    def stop(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()


def local(config: DevConfig) -> DataPlane:
    """moto on the configured port, with cform/data.yaml deployed through its CloudFormation."""
    from devstack.emulator import StackError, start_with_data_stack
    from devstack.envs import emulator_env

    try:
        emulator, outputs = start_with_data_stack(
            config.moto_host,
            config.moto_port,
            config.endpoint_url,
            config.template,
            LOCAL_STACK_NAME,
        )
    except StackError as exc:
        raise DataPlaneError(str(exc)) from None
    return DataPlane(
        stack_name=LOCAL_STACK_NAME,
        outputs=outputs,
        env=emulator_env(outputs, config.endpoint_url),
        emulator=emulator,
        endpoint_url=config.endpoint_url,
    )


def deployed(config: DevConfig) -> DataPlane:
    """A deployed root stack's outputs, read with the developer's profile."""
    from devstack.cloud import CloudError, default_stack_name, deployed_stack

    assert config.aws_profile is not None
    stack_name = config.cloud_stack or default_stack_name(repo_root())
    if stack_name is None:
        raise DataPlaneError("name the deployed stack: make dev AWS_PROFILE=... STACK=<stack name>")
    try:
        outputs, env = deployed_stack(config.aws_profile, stack_name)
    except CloudError as exc:
        raise DataPlaneError(str(exc)) from None
    return DataPlane(stack_name, outputs, env, emulator=None, endpoint_url=None)
