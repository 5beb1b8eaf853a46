"""The AWS emulator: moto's server in this process, and the data stack deployed into it.

cform/data.yaml goes through moto's CloudFormation API unchanged: the same template
the cloud deploys. As of moto 5.2 nothing needs adapting: moto skips the resource
types it does not model (AWS::S3::BucketPolicy, AWS::SQS::QueuePolicy) with a warning,
which lands in .dev/moto.log, and ignores settings with no local meaning (point-in-time
recovery, bucket versioning). The template itself keeps to what moto accepts (see
its Description). If a future template needs more, adapt it in `stack_template()` here
and say why, rather than writing the resources a second time.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from devstack import emulator_dynamodb
from devstack.envs import FAKE_CREDENTIALS, REGION

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_cloudformation import CloudFormationClient

# moto draws every generated name and id (table and bucket suffixes, the KMS key id)
# from one seedable generator. Seeding it before the deploy gives the same physical
# names on every run, so events/local-env.json (for `sam local`) can name them.
MOTO_SEED = 20261123
STOP_TIMEOUT_SECONDS = 10
STACK_PARAMETERS = {"NamePrefix": "orders-local", "Stage": "local", "DeletionProtection": "false"}


class StackError(RuntimeError):
    """The data stack did not deploy into the emulator."""


class Emulator:
    """moto's server on one address; every service on one port, state in memory.

    The server is the one moto's ThreadedMotoServer builds (werkzeug's threaded WSGI
    server over moto's DomainDispatcherApplication), with DynamoDB made safe for
    concurrent callers first (devstack.emulator_dynamodb says why and how).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # Imported here: moto takes ~0.4 s to import, and only this path needs it.
        from moto.moto_api._internal import mock_random
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        try:
            emulator_dynamodb.install()
        except emulator_dynamodb.UnsupportedMoto as exc:
            raise StackError(str(exc)) from None
        app = emulator_dynamodb.serialised(DomainDispatcherApplication(create_backend_app))
        try:
            # Binds here, so a port taken since our check is an error now, not a hang.
            self._server = make_server(self.host, self.port, app, threaded=True)
        except OSError as exc:
            raise StackError(
                f"the emulator did not start on {self.host}:{self.port}: {exc}"
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        mock_random.seed(MOTO_SEED)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
            self._thread = None


def cloudformation(endpoint_url: str, timeout: float = 30.0) -> CloudFormationClient:
    """A CloudFormation client for the emulator, with its fixed credentials and region."""
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(
        "cloudformation",
        endpoint_url=endpoint_url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 2},
            connect_timeout=timeout,
            read_timeout=timeout,
        ),
    )


def stack_template(template: Path) -> str:
    """The template body handed to moto: today the file itself (see the module docstring)."""
    return template.read_text(encoding="utf-8")


def deploy_data_stack(endpoint_url: str, template: Path, stack_name: str) -> dict[str, str]:
    """Create the stack through CloudFormation and return its outputs by key."""
    client = cloudformation(endpoint_url)
    try:
        client.create_stack(
            StackName=stack_name,
            TemplateBody=stack_template(template),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in STACK_PARAMETERS.items()
            ],
        )
    except (BotoCoreError, ClientError) as exc:
        # Template errors moto finds up front (a bad reference, a type it cannot parse).
        raise StackError(f"moto refused {template.name}: {exc}") from None
    try:
        client.get_waiter("stack_create_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    except (BotoCoreError, ClientError) as exc:  # the waiter has only the last status
        reasons = _failure_reasons(client, stack_name)
        raise StackError(f"stack {stack_name} did not deploy: {reasons}") from exc
    return stack_outputs(client, stack_name)


def start_with_data_stack(
    host: str, port: int, endpoint_url: str, template: Path, stack_name: str
) -> tuple[Emulator, dict[str, str]]:
    """Start moto on host:port and deploy `template` (cform/data.yaml) through `endpoint_url`,
    as `make dev` does: (the running emulator, the stack's outputs by key).

    Whatever fails (a StackError from the start or the deploy), the emulator is stopped.
    """
    emulator = Emulator(host, port)
    try:
        emulator.start()
        return emulator, deploy_data_stack(endpoint_url, template, stack_name)
    except BaseException:
        emulator.stop()
        raise


def stack_outputs(client: CloudFormationClient, stack_name: str) -> dict[str, str]:
    stack = client.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _failure_reasons(client: CloudFormationClient, stack_name: str) -> str:
    try:
        events = client.describe_stack_events(StackName=stack_name)["StackEvents"]
    except Exception as exc:  # the emulator itself may be what failed
        return str(exc)
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED")
    ]
    return "; ".join(reasons) or "no failure event recorded"
