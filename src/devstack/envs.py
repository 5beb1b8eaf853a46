"""The environments the service runs with locally, all derived from the data stack's outputs.

The service reads only ORDERS_*, POWERTOOLS_* and the SDK's own AWS_* variables
(orders.settings), so pointing it at the emulator is an environment, never a code branch.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

REGION = "us-east-1"
# moto accepts any credentials; fixed ones keep a developer's real keys out of every child.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# The same values template.yaml gives every function (Globals.Function.Environment).
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME": "orders", "POWERTOOLS_METRICS_NAMESPACE": "OrdersService"}


def service_variables(outputs: Mapping[str, str]) -> dict[str, str]:
    """ORDERS_* from the data stack's outputs, wired the way template.yaml wires them."""
    return {
        "ORDERS_TABLE_NAME": outputs["TableName"],
        "ORDERS_BUCKET_NAME": outputs["BucketName"],
        "ORDERS_EVENT_BUS_NAME": outputs["EventBusName"],
        "ORDERS_KMS_KEY_ID": outputs["KmsKeyArn"],
    }


def emulator_env(outputs: Mapping[str, str], endpoint_url: str) -> dict[str, str]:
    """Everything a process needs to be the service against the emulator."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # Read by botocore itself for every client (orders.adapters.aws adds nothing for it).
        "AWS_ENDPOINT_URL": endpoint_url,
        # Newer botocore sends DynamoDB (Streams) calls to an account-id endpoint, which moto
        # 5.2 in server mode does not answer.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        # A developer's ~/.aws/config could set an endpoint, addressing style or CA bundle
        # per service; the emulator's children read no config file at all.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **POWERTOOLS,
        **service_variables(outputs),
    }


# Where the developer keeps profiles and trusted CAs: still needed to use their profile.
PROFILE_LOCATIONS = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE")


def cloud_env(
    outputs: Mapping[str, str], profile: str, region: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The service against a deployed stack: the developer's own profile, no endpoint override."""
    base = os.environ if base is None else base
    return {
        **{name: base[name] for name in PROFILE_LOCATIONS if name in base},
        "AWS_PROFILE": profile,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **POWERTOOLS,
        **service_variables(outputs),
    }


def child_env(
    service_env: Mapping[str, str], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The parent's environment without its AWS and service settings, plus `service_env`.

    Any AWS_* a developer exported (a profile, a session token, AWS_ENDPOINT_URL_S3 ...)
    would otherwise win over, or mix with, the values meant for this stack.
    """
    base = os.environ if base is None else base
    kept = {k: v for k, v in base.items() if not k.startswith(("AWS_", "ORDERS_", "POWERTOOLS_"))}
    # Still honour a developer asking for more (or less) log detail.
    for name in ("POWERTOOLS_LOG_LEVEL", "POWERTOOLS_DEBUG"):
        if name in base:
            kept[name] = base[name]
    return {**kept, "PYTHONUNBUFFERED": "1", **service_env}
