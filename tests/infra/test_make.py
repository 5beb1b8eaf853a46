"""make deploy / images / destroy (make/infra.mk, included by the root Makefile), run for real
with fake `aws`, `docker` and `sam` commands on PATH that record how they were called and
answer as AWS would (a region in the profile or not, an image tag in ECR or not)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.infra import cfn

ACCOUNT = "123456789012"

# `aws` as the deploy uses it: the profile's region, the account, an ECR login, and
# describe-images answering per FAKE_ECR (present / absent / denied) like the real CLI.
FAKE_AWS = rf"""#!/bin/sh
echo "aws $*" >> "$FAKE_LOG"
case "$1 $2" in
  "configure get")
    [ -n "$FAKE_PROFILE_REGION" ] || exit 1
    echo "$FAKE_PROFILE_REGION" ;;
  "sts get-caller-identity") echo "{ACCOUNT}" ;;
  "ecr get-login-password") echo not-a-password ;;
  "ecr describe-images")
    case "$FAKE_ECR" in
      present) echo '{{"imageDetails": [{{"imageTags": ["abc"]}}]}}' ;;
      denied)
        echo "An error occurred (AccessDeniedException) when calling the DescribeImages operation" >&2
        exit 254 ;;
      *)
        echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation" >&2
        exit 254 ;;
    esac ;;
esac
"""
FAKE_RECORDER = '#!/bin/sh\necho "%s $*" >> "$FAKE_LOG"\n'


def samconfig_stage() -> str:
    config = tomllib.loads((cfn.REPO / "samconfig.toml").read_text())
    overrides = config["default"]["deploy"]["parameters"]["parameter_overrides"]
    match = re.search(r"(?:^|\s)Stage=(\S+)", overrides)
    assert match, overrides
    return match.group(1)


class FakeCli:
    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.log"
        self.log.touch()
        (self.bin / "aws").write_text(FAKE_AWS)
        for name in ("docker", "sam"):
            (self.bin / name).write_text(FAKE_RECORDER % name)
        for script in self.bin.iterdir():
            script.chmod(0o755)

    def make(
        self, *args: str, region: str | None = "us-east-1", **fake: str
    ) -> subprocess.CompletedProcess[str]:
        make = shutil.which("make")
        if make is None:
            pytest.fail("make is not installed")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "FAKE_", "DEPLOY_"))
            and k not in {"STAGE", "TARGET", "WEIGHT"}
        }
        env.update(PATH=f"{self.bin}{os.pathsep}{env['PATH']}", FAKE_LOG=str(self.log))
        if region:
            env["AWS_REGION"] = region
        env.update({f"FAKE_{k.upper()}": v for k, v in fake.items()})
        # INFRA_SAM: the fake, not .tools/bin/sam; IMAGE_TAG: not the checkout's commit.
        return subprocess.run(
            [make, "--no-print-directory", *args, "INFRA_SAM=sam", "IMAGE_TAG=abc"],
            cwd=cfn.REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def calls(self, program: str | None = None) -> list[str]:
        lines = self.log.read_text().splitlines()
        return [line for line in lines if program is None or line.startswith(f"{program} ")]

    def sam_deploy(self) -> str:
        (deploy,) = [c for c in self.calls("sam") if c.startswith("sam deploy")]
        return deploy


@pytest.fixture
def cli(tmp_path: Path) -> FakeCli:
    return FakeCli(tmp_path)


def registry(region: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"


def test_deploy_lambda_builds_and_deploys_the_default_env_with_stage(cli: FakeCli) -> None:
    proc = cli.make("deploy", "TARGET=lambda")
    assert proc.returncode == 0, proc.stderr
    assert cli.calls("sam")[0] == "sam build"
    deploy = cli.sam_deploy().split()
    assert deploy[:4] == ["sam", "deploy", "--config-env", "default"]
    assert "--region" in deploy
    assert deploy[deploy.index("--region") + 1] == "us-east-1"
    # Stage always goes along: --parameter-overrides replaces samconfig's whole list.
    overrides = deploy[deploy.index("--parameter-overrides") + 1 :]
    # So does the weight (0 off `both`): a left-over one would fail the template's rule.
    assert overrides == [
        "DeploymentTarget=lambda", "FargateTrafficPercent=0", f"Stage={samconfig_stage()}",
    ]  # fmt: skip
    assert cli.calls("docker") == []


def test_deploy_passes_stage_and_extra_parameters_given(cli: FakeCli) -> None:
    proc = cli.make("deploy", "TARGET=lambda", "STAGE=prod", "DEPLOY_PARAMS=AlarmEmail=a@b.c")
    assert proc.returncode == 0, proc.stderr
    assert cli.sam_deploy().endswith(
        "DeploymentTarget=lambda FargateTrafficPercent=0 Stage=prod AlarmEmail=a@b.c"
    )


def test_deploy_fargate_builds_pushes_and_passes_both_images(cli: FakeCli) -> None:
    proc = cli.make("deploy", "TARGET=fargate", ecr="absent")
    assert proc.returncode == 0, proc.stderr
    reg = registry("us-east-1")
    docker = cli.calls("docker")
    assert f"docker push {reg}/orders-api:abc" in docker
    assert f"docker push {reg}/orders-ui:abc" in docker
    # Images first, then the stack that runs them.
    assert cli.calls().index(f"docker push {reg}/orders-ui:abc") < cli.calls().index("sam build")
    deploy = cli.sam_deploy()
    assert "deploy --config-env fargate" in deploy
    assert f"Stage={samconfig_stage()}" in deploy.split()
    assert f"ApiImageUri={reg}/orders-api:abc" in deploy.split()
    assert f"UiImageUri={reg}/orders-ui:abc" in deploy.split()


@pytest.mark.parametrize("weight", ["0", "50", "100"])
def test_deploy_both_pushes_the_images_and_passes_the_weight(cli: FakeCli, weight: str) -> None:
    """One step of the runbook: both targets, the tasks get WEIGHT percent of /api."""
    proc = cli.make("deploy", "TARGET=both", f"WEIGHT={weight}", ecr="absent")
    assert proc.returncode == 0, proc.stderr
    reg = registry("us-east-1")
    assert f"docker push {reg}/orders-api:abc" in cli.calls("docker")
    deploy = cli.sam_deploy().split()
    overrides = deploy[deploy.index("--parameter-overrides") + 1 :]
    assert overrides[:3] == [
        "DeploymentTarget=both", f"FargateTrafficPercent={weight}", f"Stage={samconfig_stage()}",
    ]  # fmt: skip
    assert f"ApiImageUri={reg}/orders-api:abc" in overrides


@pytest.mark.parametrize("weight", ["", "30", "-1", "50 75"])
def test_deploy_both_refuses_a_weight_the_template_would_refuse(cli: FakeCli, weight: str) -> None:
    proc = cli.make("deploy", "TARGET=both", f"WEIGHT={weight}", ecr="absent")
    assert proc.returncode != 0
    assert "WEIGHT must be one of" in proc.stderr
    assert cli.calls("docker") == []
    assert cli.calls("sam") == []


def test_deploy_fargate_twice_on_one_commit_skips_the_push(cli: FakeCli) -> None:
    """ECR tags are immutable: a second push of a tag is refused, so it must not happen."""
    proc = cli.make("deploy", "TARGET=fargate", ecr="present")
    assert proc.returncode == 0, proc.stderr
    assert [c for c in cli.calls("docker") if c.split()[1] in {"build", "push"}] == []
    assert "already in ECR" in proc.stdout
    assert "ApiImageUri=" in cli.sam_deploy()


def test_the_ecr_check_asks_for_the_repository_and_tag_it_pushes(cli: FakeCli) -> None:
    image = f"{registry('us-east-1')}/team-api:v7"
    proc = cli.make("images", f"API_IMAGE={image}", ecr="absent")
    assert proc.returncode == 0, proc.stderr
    checks = [c for c in cli.calls("aws") if c.startswith("aws ecr describe-images")]
    assert "--repository-name team-api --image-ids imageTag=v7" in checks[0]
    assert "--repository-name orders-ui --image-ids imageTag=abc" in checks[1]
    assert f"docker push {image}" in cli.calls("docker")


def test_deploy_fargate_stops_on_another_ecr_error(cli: FakeCli) -> None:
    proc = cli.make("deploy", "TARGET=fargate", ecr="denied")
    assert proc.returncode != 0
    assert "AccessDeniedException" in proc.stderr
    assert [c for c in cli.calls("docker") if c.split()[1] == "push"] == []
    assert cli.calls("sam") == []


def test_deploy_takes_the_region_from_the_profile(cli: FakeCli) -> None:
    proc = cli.make("deploy", "TARGET=fargate", region=None, profile_region="eu-west-1")
    assert proc.returncode == 0, proc.stderr
    assert "--region eu-west-1" in cli.sam_deploy()
    assert f"ApiImageUri={registry('eu-west-1')}/orders-api:abc" in cli.sam_deploy()
    # Asked once, not once per use.
    assert cli.calls("aws").count("aws configure get region") == 1


@pytest.mark.parametrize("target", ["deploy TARGET=lambda", "deploy TARGET=fargate", "destroy"])
def test_no_region_anywhere_stops_before_anything_runs(cli: FakeCli, target: str) -> None:
    proc = cli.make(*target.split(), region=None)
    assert proc.returncode != 0
    assert "no AWS region" in proc.stderr
    assert cli.calls("sam") == []
    assert cli.calls("docker") == []


@pytest.mark.parametrize("target", ["lambda", "fargate"])
def test_an_empty_stage_stops_before_anything_runs(cli: FakeCli, target: str) -> None:
    proc = cli.make("deploy", f"TARGET={target}", "STAGE=")
    assert proc.returncode != 0
    assert "no Stage" in proc.stderr
    assert cli.calls("sam") == []
    assert cli.calls("docker") == []


def test_deploy_rejects_an_unknown_target(cli: FakeCli) -> None:
    proc = cli.make("deploy", "TARGET=ec2")
    assert proc.returncode != 0
    assert "TARGET must be lambda, both or fargate" in proc.stderr
    assert cli.calls("sam") == []


def test_destroy_deletes_the_stack(cli: FakeCli) -> None:
    proc = cli.make("destroy", region="eu-central-1")
    assert proc.returncode == 0, proc.stderr
    assert cli.calls("sam") == ["sam delete --stack-name orders --region eu-central-1 --no-prompts"]


def test_samconfig_environments_agree_on_the_stage() -> None:
    """samconfig.toml is the one default of Stage (make deploy reads it); both envs carry it,
    so a bare `sam deploy` and `sam deploy --config-env fargate` agree with make deploy."""
    config = tomllib.loads((cfn.REPO / "samconfig.toml").read_text())
    stages = {
        env: re.findall(
            r"(?:^|\s)Stage=(\S+)", config[env]["deploy"]["parameters"]["parameter_overrides"]
        )
        for env in ("default", "fargate")
    }
    assert stages == {"default": [samconfig_stage()], "fargate": [samconfig_stage()]}
