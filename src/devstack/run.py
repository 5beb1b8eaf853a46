"""`python -m devstack` (`make dev`): start the stack, say where it is, stop it all on a signal.

Order: check every port, start the emulator and deploy the data stack, create the
identity (devstack.identity: user pool, clients, demo users), start the UI and the API
(both need the identity's ids) and the outbox loop, wait until each answers, print the
URLs and the demo users.

A child that exits is started again after a backoff (1, 2, 4, 8 s), saying so; the
data stays, since the emulator lives in this process. A child that exits
`max_failures` times within FAILURE_WINDOW_SECONDS stops the lot with its log's tail
and exit 1. SIGINT or SIGTERM stops the lot with 0.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from devstack import dataplane, identity, routing, state
from devstack.children import Child, stop_all
from devstack.commands import (
    api_command,
    front_door_command,
    lambda_command,
    outbox_command,
    ui_command,
)
from devstack.config import LOOPBACK, parse, repo_root
from devstack.envs import child_env
from devstack.netports import port_in_use
from devstack.probe import http_ok

if TYPE_CHECKING:
    from collections.abc import Sequence

    from devstack.config import DevConfig
    from devstack.dataplane import DataPlane

READY_TIMEOUT_SECONDS = 60.0
SUPERVISE_SECONDS = 0.5
EXIT_PORT_IN_USE = 2
# Exits older than this are forgiven: a child that ran this long was working.
FAILURE_WINDOW_SECONDS = 60.0
FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 8.0
# The outbox loop's read position (devstack.outbox_loop --checkpoint): a restarted loop
# goes on from it instead of publishing the whole stream again.
OUTBOX_CHECKPOINT = "outbox.checkpoint.json"


class Stop(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, so no `except Exception` swallows it."""


class StartError(RuntimeError):
    """The stack could not start; the message says why, in one line."""


def _raise_stop(signum: int, _frame: Any) -> NoReturn:
    raise Stop(signal.Signals(signum).name)


def exit_description(code: int) -> str:
    """`1`, or `-9 (SIGKILL)` for a process a signal ended."""
    if code < 0:
        try:
            return f"{code} ({signal.Signals(-code).name})"
        except ValueError:
            return str(code)
    return str(code)


def restart_delay(failures: int) -> float:
    """Seconds to wait before the restart that follows the `failures`-th exit."""
    return float(min(MAX_RESTART_SECONDS, FIRST_RESTART_SECONDS * 2 ** (failures - 1)))


def busy_ports(config: DevConfig) -> list[str]:
    """One message per port that is taken, naming the variable that moves it."""
    wanted = [
        ("API_PORT", LOOPBACK, config.api_port),
        ("LAMBDA_PORT", LOOPBACK, config.lambda_port),
        ("FARGATE_PORT", LOOPBACK, config.fargate_port),
    ]
    if config.ui:
        wanted.append(("UI_PORT", LOOPBACK, config.ui_port))
    if not config.cloud:
        wanted.append(("MOTO_PORT", config.moto_host, config.moto_port))
    return [
        f"port {port} is in use (set {variable}=... or pass --{variable.lower().replace('_', '-')})"
        for variable, host, port in wanted
        if port_in_use(host, port)
    ]


def _shown(path: Path) -> str:
    """A log path as the user typed it would be: relative to the working directory if inside."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Runner:
    def __init__(self, config: DevConfig) -> None:
        self.config = config
        self.children: list[Child] = []
        self.plane: DataPlane | None = None
        self.started = time.monotonic()
        self.dev_state: state.DevState | None = None
        # The demo users' passwords (emulator only), printed once the stack is ready.
        self.passwords: dict[str, str] = {}
        # Per child: when it exited within the window, and when it is due to start again.
        self.failures: dict[str, deque[float]] = {}
        self.restart_at: dict[str, float] = {}

    def say(self, line: str) -> None:
        print(line, flush=True)

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    def run(self) -> int:
        config = self.config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        # moto, werkzeug and boto log in this process: into a file, not over the status lines.
        logging.basicConfig(
            # The emulator's requests and CloudFormation notes, or boto's against a deployed stack.
            filename=config.state_dir / ("runner.log" if config.cloud else "moto.log"),
            filemode="w",
            level=logging.INFO,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
            force=True,
        )
        logging.captureWarnings(True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _raise_stop)
        try:
            return self._run()
        except Stop as stop:
            self.say(f"{stop.args[0]}: stopping")
            return 0
        except StartError as exc:
            print(f"make dev: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            # A second Ctrl-C must not cut the cleanup short; it is bounded anyway.
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
            self.stop()

    def _run(self) -> int:
        config = self.config
        where = "a deployed stack" if config.cloud else "the AWS emulator"
        self.say(f"starting the orders system against {where}; logs in {_shown(config.state_dir)}/")
        plane = self._data_plane()
        local = self._identity(plane)
        # After the identity, since the UI's sign-in needs its client: the UI boots while
        # the API entries do.
        ui = self._start_ui(local)
        service_env = self._service_env(plane, local)
        # Both entries run whatever the target, as in the cloud's `both`: a switch is then
        # only the front door's routing file, and neither entry starts cold on a switch.
        target_file = routing.write(config.state_dir, routing.Routing(config.target, config.weight))
        checks = self._start_api(plane, service_env, target_file)
        if ui is not None:
            checks[ui.name] = f"{config.ui_url}/_stcore/health"
        self._wait_ready(checks)
        if not config.cloud:
            self._start_outbox(plane, service_env)
        self._record_state(plane, service_env, target_file, ui, local)
        self._print_ready(ui is not None, local)
        if config.seed:
            self._seed(local)
        return self._supervise()

    def _service_env(
        self, plane: DataPlane, local: identity.LocalIdentity | None
    ) -> dict[str, str]:
        """The one environment of every service process (both API entries and the outbox)."""
        # Every entry gets the same token settings, so a switch changes no answer.
        env = identity.with_auth(plane.env, local) if local else dict(plane.env)
        if self.config.rate_limit_per_minute is not None:
            env["ORDERS_RATE_LIMIT_PER_MINUTE"] = str(self.config.rate_limit_per_minute)
        return env

    def _start_api(
        self, plane: DataPlane, service_env: dict[str, str], target_file: Path
    ) -> dict[str, str]:
        """The Fargate entry, the Lambda entry and the front door; the URL each is ready at."""
        config = self.config
        # granian's start errors (a port taken) are one line; with RUST_BACKTRACE set in the
        # shell, a Rust backtrace after it would push it out of the log tail shown on failure.
        api_env = {**child_env(service_env), "RUST_BACKTRACE": "0"}
        api = self._spawn("api", api_command(config.fargate_port), api_env)
        function_name = f"{plane.stack_name}-ApiFunction"
        entry = self._spawn(
            "lambda",
            lambda_command(config.lambda_port, function_name, config.lambda_environments),
            child_env(service_env),
        )
        front = self._spawn("front", front_door_command(config, target_file), child_env({}))
        return {
            api.name: f"{config.fargate_url}/api/ready",
            entry.name: f"{config.lambda_url}/api/ready",
            # Through the front door to the target's entry: ready means served end to end.
            front.name: f"{config.api_url}/api/ready",
        }

    def _start_outbox(self, plane: DataPlane, service_env: dict[str, str]) -> None:
        """The stream-to-bus loop, started once the API answers: on a two-core laptop its
        imports would only slow the API's, and it reads the stream from the start
        (TRIM_HORIZON), so it loses nothing written before it runs."""
        outputs = plane.outputs
        checkpoint = self.config.state_dir / OUTBOX_CHECKPOINT
        # Left by an earlier run: that emulator and its stream are gone.
        checkpoint.unlink(missing_ok=True)
        command = outbox_command(outputs["TableStreamArn"], outputs.get("OutboxDlqUrl"), checkpoint)
        # The service's one environment, token settings included: whatever of the
        # settings the outbox handler loads, it finds what the API's found.
        self._spawn("outbox", command, child_env(service_env))
        self._status("outbox", "running")

    def _record_state(
        self,
        plane: DataPlane,
        service_env: dict[str, str],
        target_file: Path,
        ui: Child | None,
        local: identity.LocalIdentity | None,
    ) -> None:
        """What `make switch`, `make stop` and the tests read about this running system."""
        config = self.config
        self.dev_state = state.DevState(
            runner_pid=os.getpid(),
            mode="cloud" if config.cloud else "emulator",
            api_url=config.api_url,
            ui_url=config.ui_url if ui else None,
            endpoint_url=plane.endpoint_url,
            stack_name=plane.stack_name,
            outputs=plane.outputs,
            env=service_env,
            children={c.name: c.pid for c in self.children},
            lambda_url=config.lambda_url,
            fargate_url=config.fargate_url,
            target_file=str(target_file),
            identity=local.to_dict() if local else None,
        )
        state.write(config.state_dir, self.dev_state)

    def _seed(self, local: identity.LocalIdentity | None) -> None:
        from devstack.seed import seed_orders
        from devstack.tokens import machine_token

        token = machine_token(local) if local and not self.config.cloud else None
        self.say(f"seeded {len(seed_orders(self.config.api_url, token))} sample orders")

    def _start_ui(self, local: identity.LocalIdentity | None) -> Child | None:
        config = self.config
        if not config.ui:
            return None
        if not config.ui_script.is_file():
            self.say(f"  ui        not started: {_shown(config.ui_script)} does not exist yet")
            return None
        env = {"ORDERS_API_URL": config.api_url, **(identity.ui_env(local) if local else {})}
        if local and self.plane is not None:
            # The UI reads its client secret from Secrets Manager itself: the SDK's settings
            # for this data plane (the emulator's endpoint, or the developer's profile).
            env.update({k: v for k, v in self.plane.env.items() if k.startswith("AWS_")})
        return self._spawn("ui", ui_command(config), child_env(env))

    def _identity(self, plane: DataPlane) -> identity.LocalIdentity | None:
        """The emulator's user pool, created now; a deployed stack's, from its outputs."""
        config = self.config
        if config.cloud:
            local = identity.from_outputs(plane.outputs)
            if local is None:
                wanted = [identity.ISSUER_OUTPUTS[0], *identity.CLIENT_OUTPUTS]
                self.say(
                    f"  auth      the stack has no {', '.join(wanted)} outputs: the API gets no "
                    "token settings (and refuses to start unless ORDERS_AUTH_DISABLED=true)"
                )
            return local
        from devstack.identity_provision import IdentityError, provision

        try:
            local, self.passwords = provision(
                config.endpoint_url, plane.outputs["KmsKeyArn"], config.state_dir
            )
        except IdentityError as exc:
            raise StartError(str(exc)) from None
        self.say(
            f"  identity  user pool {local.pool_id}, clients {identity.UI_CLIENT.name} and "
            f"{identity.MACHINE_CLIENT.name} ({self.elapsed()})"
        )
        return local

    def _data_plane(self) -> DataPlane:
        config = self.config
        try:
            plane = dataplane.deployed(config) if config.cloud else dataplane.local(config)
        except dataplane.DataPlaneError as exc:
            raise StartError(str(exc)) from None
        self.plane = plane
        if config.cloud:
            self.say(
                f"  stack     {plane.stack_name}, profile {config.aws_profile} ({self.elapsed()})"
            )
        else:
            self.say(
                f"  emulator  moto on {plane.endpoint_url}, stack {plane.stack_name} from "
                f"{_shown(config.template)} ({self.elapsed()})"
            )
        return plane

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        child = Child(name, argv, env, self.config.state_dir / f"{name}.log", repo_root())
        child.start()
        self.children.append(child)
        return child

    def _wait_ready(self, checks: dict[str, str]) -> None:
        """Until every URL answers 200; a child that exits meanwhile is restarted."""
        pending = dict(checks)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            self._tend()
            for name, url in list(pending.items()):
                if http_ok(url):
                    del pending[name]
                    self._status(name, f"ready ({self.elapsed()})")
            if not pending:
                break
            if time.monotonic() > deadline:
                raise StartError(
                    f"not ready after {READY_TIMEOUT_SECONDS:.0f} s: {', '.join(pending)}"
                )
            time.sleep(0.1)

    def _status(self, name: str, what: str) -> None:
        child = next(c for c in self.children if c.name == name)
        self.say(f"  {name:<9} pid {child.pid:<7} {what:<16} {_shown(child.log_path)}")

    def _tend(self) -> None:
        """Restart children that exited, after their backoff; StartError past the limit."""
        now = time.monotonic()
        for child in self.children:
            due = self.restart_at.get(child.name)
            if due is not None:
                if now >= due:
                    self._restart(child)
                continue
            exit_code = child.exit_code()
            if exit_code is None:
                continue
            code = exit_description(exit_code)
            child.kill_leftovers()
            failures = self.failures.setdefault(child.name, deque())
            failures.append(now)
            while failures and now - failures[0] > FAILURE_WINDOW_SECONDS:
                failures.popleft()
            limit = self.config.max_failures
            if len(failures) >= limit:
                raise StartError(
                    f"{child.name} exited with {code}, {len(failures)} times within "
                    f"{FAILURE_WINDOW_SECONDS:.0f} s; not restarting it; the end of "
                    f"{_shown(child.log_path)}:\n" + child.tail()
                )
            delay = restart_delay(len(failures))
            self.restart_at[child.name] = now + delay
            attempt = f"attempt {len(failures) + 1}/{limit}"
            self.say(f"{child.name} exited with {code}; restarting in {delay:g} s ({attempt})")
            logging.getLogger("devstack").warning(
                "%s exited with %s; restarting in %g s (%s)", child.name, code, delay, attempt
            )

    def _restart(self, child: Child) -> None:
        del self.restart_at[child.name]
        attempt = len(self.failures.get(child.name, ())) + 1
        child.start(note=f"restarted (attempt {attempt}/{self.config.max_failures})")
        self._status(child.name, "restarted")
        if self.dev_state is not None:
            self.dev_state.children[child.name] = child.pid
            state.write(self.config.state_dir, self.dev_state)

    def _print_ready(self, with_ui: bool, local: identity.LocalIdentity | None) -> None:
        config = self.config
        lines = [
            f"ready in {self.elapsed()}",
            f"  API   {config.api_url}/api  (front door; target "
            f"{routing.Routing(config.target, config.weight).describe()})",
            f"  docs  {config.api_url}/api/docs",
            f"        behind it: lambda entry {config.lambda_url}, fargate entry "
            f"{config.fargate_url} (granian)",
            "        make switch TARGET=lambda|both|fargate [WEIGHT=n] moves it live",
        ]
        if with_ui:
            lines.append(f"  UI    {config.ui_url}")
        if not config.cloud:
            lines.append(
                f"  AWS   {config.endpoint_url} (moto; AWS_ENDPOINT_URL for your own tools)"
            )
        if local is not None and self.passwords:
            users = ", ".join(
                f"{user.username} / {self.passwords[user.username]}"
                + (f" ({', '.join(user.groups)})" if user.groups else "")
                for user in identity.USERS
            )
            lines += [
                f"  users {users}",
                f"        (kept in {_shown(config.state_dir / identity.IDENTITY_FILE)})",
                f"  token make token [USER={'|'.join(identity.token_users())}]",
            ]
        lines.append("Ctrl-C stops everything.")
        self.say("\n".join(lines))

    def _supervise(self) -> int:
        """Restart children that exit until a signal (which raises Stop) or the limit (exit 1)."""
        while True:
            try:
                self._tend()
            except StartError as exc:
                print(f"make dev: {exc}", file=sys.stderr, flush=True)
                return 1
            time.sleep(SUPERVISE_SECONDS)

    def stop(self) -> None:
        stop_all(self.children)
        if self.plane is not None:
            self.plane.stop()
        state.remove(self.config.state_dir)


def main(argv: Sequence[str] | None = None) -> int:
    config = parse(argv)
    busy = busy_ports(config)
    if busy:
        for message in busy:
            print(f"make dev: {message}", file=sys.stderr)
        running = state.read(config.state_dir)
        if running is not None:
            print(
                f"make dev: another `make dev` (pid {running.runner_pid}) is running: "
                f"{running.api_url}/api",
                file=sys.stderr,
            )
        return EXIT_PORT_IN_USE
    return Runner(config).run()
