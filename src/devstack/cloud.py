"""`make dev AWS_PROFILE=...`: the API and UI on this machine, the data plane a deployed stack's.

No emulator and no outbox loop: the deployed stack's own OutboxFunction publishes
what the local API writes.
"""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devstack.envs import cloud_env

if TYPE_CHECKING:
    from pathlib import Path

REQUIRED_OUTPUTS = ("TableName", "BucketName", "EventBusName", "KmsKeyArn")


class CloudError(RuntimeError):
    """The deployed stack cannot be used (no such stack, no region, missing outputs)."""


def default_stack_name(root: Path) -> str | None:
    """`stack_name` of the default environment in samconfig.toml, if there is one."""
    try:
        config = tomllib.loads((root / "samconfig.toml").read_text(encoding="utf-8"))
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return None
    name = config.get("default", {}).get("deploy", {}).get("parameters", {}).get("stack_name")
    return str(name) if name else None


def deployed_stack(profile: str, stack_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(outputs, service environment) of a deployed root stack."""
    try:
        session = boto3.session.Session(profile_name=profile)
        region = session.region_name
        if not region:
            raise CloudError(f"profile {profile} has no region: set one, or AWS_REGION")
        client = session.client("cloudformation")
        stack = client.describe_stacks(StackName=stack_name)["Stacks"][0]
    except (BotoCoreError, ClientError) as exc:
        # No such profile, expired SSO session, no such stack, no network: one line each.
        raise CloudError(f"cannot read stack {stack_name} with profile {profile}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [k for k in REQUIRED_OUTPUTS if k not in outputs]
    if missing:
        raise CloudError(f"stack {stack_name} has no output(s) {', '.join(missing)}")
    return outputs, cloud_env(outputs, profile, region)
