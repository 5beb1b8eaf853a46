"""What `python -m devstack` was asked to do: flags first, then environment, then defaults."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devstack.netports import free_port
from devstack.routing import DEFAULT_TARGET, TARGETS, Routing, RoutingError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

LOOPBACK = "127.0.0.1"
DEFAULT_API_PORT = 8000
DEFAULT_UI_PORT = 8501
# moto_server's own default; events/local-env.json points `sam local` containers at it.
DEFAULT_MOTO_PORT = 5000
# The emulator's stack. Its resource names are stable across runs (see emulator.MOTO_SEED).
LOCAL_STACK_NAME = "orders-local"
# A child that exits is started again; this many exits within devstack.run's
# FAILURE_WINDOW_SECONDS stop the stack.
DEFAULT_MAX_FAILURES = 5
# The two entry points behind the front door (API_PORT): 0 is any free port, chosen at start.
ANY_FREE_PORT = 0


def repo_root() -> Path:
    """The checkout this package was installed from (editable install), else the working dir."""
    candidate = Path(__file__).resolve().parents[2]
    return candidate if (candidate / "cform" / "data.yaml").is_file() else Path.cwd()


def default_state_dir() -> Path:
    """Where logs and state.json live: DEV_STATE_DIR, else .dev/ (gitignored).

    The same for `make dev` and the tools that find it (`make token`, `make invoke`,
    `make seed`, `make switch`), so a stack moved with DEV_STATE_DIR is still found.
    """
    moved = os.environ.get("DEV_STATE_DIR")
    return Path(moved) if moved else repo_root() / ".dev"


@dataclass(frozen=True, slots=True)
class DevConfig:
    api_port: int
    ui_port: int
    moto_port: int
    moto_host: str
    ui: bool
    seed: bool
    state_dir: Path
    template: Path
    ui_script: Path
    # Set for `make dev AWS_PROFILE=...`: API and UI against a deployed stack, no emulator.
    aws_profile: str | None
    cloud_stack: str | None
    max_failures: int = DEFAULT_MAX_FAILURES
    # The Lambda entry (devstack.apigw_local) and granian (the Fargate entry).
    lambda_port: int = ANY_FREE_PORT
    fargate_port: int = ANY_FREE_PORT
    # Where the front door sends the API's traffic at start (devstack.routing).
    target: str = "lambda"
    weight: int = 0
    # The Lambda entry's execution environments: events beyond this many at once wait.
    lambda_environments: int = 2
    # The API's per-caller limit (ORDERS_RATE_LIMIT_PER_MINUTE, 0 = off); None: the app's
    # default, as in the cloud. Load runs with one machine caller turn it off.
    rate_limit_per_minute: int | None = None

    @property
    def api_url(self) -> str:
        """The front door: the API's one URL, whichever entry serves it."""
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def lambda_url(self) -> str:
        return f"http://{LOOPBACK}:{self.lambda_port}"

    @property
    def fargate_url(self) -> str:
        return f"http://{LOOPBACK}:{self.fargate_port}"

    @property
    def ui_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ui_port}"

    @property
    def endpoint_url(self) -> str:
        # Listening on every address includes loopback; on one address (say the Docker
        # bridge, for `sam local` on Linux) only that address reaches it.
        host = LOOPBACK if self.moto_host in ("0.0.0.0", "") else self.moto_host
        return f"http://{host}:{self.moto_port}"

    @property
    def cloud(self) -> bool:
        return self.aws_profile is not None


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return port


def _port_or_any(value: str) -> int:
    return ANY_FREE_PORT if int(value) == ANY_FREE_PORT else _port(value)


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return number


# Options whose default comes from an environment variable: (flag, variable, default when
# the variable is unset, the rest of add_argument). A flag on the command line wins.
_ENV_OPTIONS: tuple[tuple[str, str, object, dict[str, Any]], ...] = (
    ("--api-port", "API_PORT", DEFAULT_API_PORT, {
        "type": _port,
        "help": "the API's front door port (env API_PORT, default %(default)s)",
    }),
    ("--lambda-port", "LAMBDA_PORT", ANY_FREE_PORT, {
        "type": _port_or_any,
        "help": "the Lambda entry's port behind the front door (env LAMBDA_PORT, default any "
        "free port)",
    }),
    ("--fargate-port", "FARGATE_PORT", ANY_FREE_PORT, {
        "type": _port_or_any,
        "help": "granian's port (the Fargate entry) behind the front door (env FARGATE_PORT, "
        "default any free port)",
    }),
    ("--target", "DEV_TARGET", DEFAULT_TARGET, {
        "choices": TARGETS,
        "help": "where the front door sends the API's traffic at start (env DEV_TARGET, "
        "default %(default)s); `make switch` moves it later",
    }),
    ("--weight", "DEV_WEIGHT", 0, {
        "type": int,
        "help": "with --target both: the percent sent to fargate (env DEV_WEIGHT, default 0)",
    }),
    ("--ui-port", "UI_PORT", DEFAULT_UI_PORT, {
        "type": _port,
        "help": "UI port (env UI_PORT, default %(default)s)",
    }),
    ("--moto-port", "MOTO_PORT", DEFAULT_MOTO_PORT, {
        "type": _port,
        "help": "emulator port (env MOTO_PORT, default %(default)s)",
    }),
    ("--moto-host", "MOTO_HOST", LOOPBACK, {
        "help": "address the emulator listens on (env MOTO_HOST); 0.0.0.0 lets "
        "`sam local` containers on Linux reach it",
    }),
    ("--stack", "STACK", None, {
        "help": "the deployed stack for --aws-profile (env STACK; default from samconfig.toml)",
    }),
    ("--max-failures", "DEV_MAX_FAILURES", DEFAULT_MAX_FAILURES, {
        "type": _at_least_one,
        "help": "a child that exits this often within a minute stops the stack; before that "
        "it is restarted with backoff (env DEV_MAX_FAILURES, default %(default)s; 1 stops at "
        "the first exit)",
    }),
    ("--lambda-environments", "DEV_LAMBDA_ENVIRONMENTS", 2, {
        "type": _at_least_one,
        "help": "execution environments (worker processes) of the Lambda entry; more "
        "concurrent requests wait for one (env DEV_LAMBDA_ENVIRONMENTS, default %(default)s)",
    }),
)  # fmt: skip


def parse(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> DevConfig:
    """Build the config; `--flag` wins over the environment variable named in its help."""
    env = os.environ if environ is None else environ
    root = repo_root()
    parser = _parser(env, root)
    args = parser.parse_args(argv)
    try:
        Routing(args.target, int(args.weight))
    except (RoutingError, ValueError) as exc:
        parser.error(str(exc))
    return _config(args, root)


def _parser(env: Mapping[str, str], root: Path) -> argparse.ArgumentParser:
    """Every flag, its default read from `env` where it has a variable."""
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Run the orders system on loopback against an in-process AWS emulator.",
    )
    for flag, variable, default, options in _ENV_OPTIONS:
        parser.add_argument(flag, default=env.get(variable, default), **options)
    parser.add_argument(
        "--no-ui",
        dest="ui",
        action="store_false",
        default=env.get("DEV_UI", "1") != "0",
        help="do not start the UI (env DEV_UI=0)",
    )
    parser.add_argument(
        "--seed",
        action="store_true",
        default=env.get("DEV_SEED") == "1",
        help="create a few sample orders once ready (env DEV_SEED=1)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=env.get("DEV_STATE_DIR", default_state_dir()),
        help="logs and state.json (env DEV_STATE_DIR, default .dev/)",
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=root / "cform" / "data.yaml",
        help="the data stack template (default cform/data.yaml)",
    )
    parser.add_argument(
        "--aws-profile",
        default=None,
        help="run API and UI against a deployed stack with this profile (no emulator)",
    )
    parser.add_argument(
        "--rate-limit-per-minute",
        type=_not_negative,
        # An empty variable is unset here: the app's own default.
        default=env.get("DEV_RATE_LIMIT_PER_MINUTE") or None,
        help="the API's per-caller limit, ORDERS_RATE_LIMIT_PER_MINUTE; 0 turns it off (env "
        "DEV_RATE_LIMIT_PER_MINUTE, default the app's own)",
    )
    return parser


def _config(args: argparse.Namespace, root: Path) -> DevConfig:
    """The parsed flags as a DevConfig; entry ports left at ANY_FREE_PORT get one now."""
    return DevConfig(
        api_port=int(args.api_port),
        ui_port=int(args.ui_port),
        moto_port=int(args.moto_port),
        moto_host=args.moto_host,
        ui=bool(args.ui),
        seed=bool(args.seed),
        state_dir=Path(args.state_dir).resolve(),
        template=Path(args.template).resolve(),
        ui_script=root / "src" / "ui" / "app.py",
        aws_profile=args.aws_profile or None,
        cloud_stack=args.stack or None,
        max_failures=int(args.max_failures),
        lambda_port=int(args.lambda_port) or free_port(LOOPBACK),
        fargate_port=int(args.fargate_port) or free_port(LOOPBACK),
        target=args.target,
        weight=int(args.weight),
        lambda_environments=int(args.lambda_environments),
        rate_limit_per_minute=(
            None if args.rate_limit_per_minute is None else int(args.rate_limit_per_minute)
        ),
    )
