"""Expand a SAM template with aws-sam-translator and print the CloudFormation JSON.

Run by the infra tests with the tools virtualenv's Python (aws-sam-translator lives there,
next to sam and cfn-lint), so the app's virtualenv does not need it:

    .tools/bin/python tests/infra/sam_expand.py template.yaml '{"DeploymentTarget": "lambda"}'

No AWS call is made: managed policy names resolve from a fixed map (the template only uses
managed policies by ARN), and the pseudo parameters are fixed fake values.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "orders",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/orders/1",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}


class OfflinePolicyLoader:
    """Stands in for the IAM-backed loader: SAM policy names -> ARNs, without IAM."""

    def load(self) -> dict[str, str]:
        names = ["AWSXRayDaemonWriteAccess", "AWSLambdaBasicExecutionRole"]
        return {name: f"arn:aws:iam::aws:policy/{name}" for name in names}


def as_packaged(template: dict[str, Any]) -> dict[str, Any]:
    """Point local CodeUris at S3, as `sam package` does (the translator accepts only S3)."""
    function_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = "s3://artifacts/code.zip"
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = f"s3://artifacts/{name}.zip"
    return template


def expand(path: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    # The translator asks a boto3 session for the region even when AWS::Region is given.
    os.environ.setdefault("AWS_DEFAULT_REGION", str(PSEUDO["AWS::Region"]))
    template = as_packaged(yaml_parse(path.read_text()))
    values = {**PSEUDO, **parameters}
    expanded: dict[str, Any] = transform(template, values, OfflinePolicyLoader())
    return expanded


if __name__ == "__main__":
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    json.dump(expand(Path(sys.argv[1]), params), sys.stdout, indent=1, default=str)
