"""make deploy / destroy (make/infra.mk, included by the root Makefile), as dry runs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.infra import cfn

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not installed")
    # ECR_REGISTRY is given so the dry run never asks STS for the account id.
    return subprocess.run(
        [make, "--no-print-directory", "-n", *args, f"ECR_REGISTRY={REGISTRY}", "IMAGE_TAG=abc"],
        cwd=cfn.REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_deploy_lambda_builds_and_deploys_the_default_env() -> None:
    proc = dry_run("deploy", "TARGET=lambda")
    assert proc.returncode == 0, proc.stderr
    assert "build" in proc.stdout
    assert "deploy --config-env default" in proc.stdout
    assert "DeploymentTarget=lambda" in proc.stdout
    assert "docker" not in proc.stdout


def test_deploy_fargate_pushes_images_and_passes_them() -> None:
    proc = dry_run("deploy", "TARGET=fargate")
    assert proc.returncode == 0, proc.stderr
    assert f"docker push {REGISTRY}/orders-api:abc" in proc.stdout
    assert "deploy --config-env fargate" in proc.stdout
    assert f"ApiImageUri={REGISTRY}/orders-api:abc" in proc.stdout
    assert f"UiImageUri={REGISTRY}/orders-ui:abc" in proc.stdout


def test_deploy_rejects_an_unknown_target() -> None:
    proc = dry_run("deploy", "TARGET=ec2")
    assert proc.returncode != 0
    assert "TARGET must be lambda or fargate" in proc.stderr


def test_destroy_deletes_the_stack() -> None:
    proc = dry_run("destroy")
    assert proc.returncode == 0, proc.stderr
    assert "delete --stack-name orders" in proc.stdout
