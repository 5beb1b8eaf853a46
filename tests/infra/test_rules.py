"""The templates' Rules, evaluated as CloudFormation does before it changes anything: each
bad combination of parameters is refused, and each good one (every test scenario) passes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.tooling import SCENARIOS

ROOT = cfn.load(cfn.ROOT_TEMPLATE)
FARGATE = cfn.load(cfn.CFORM / "fargate.yaml")
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/x"
# fargate.yaml's parameters without a default, as the root passes them.
FARGATE_ALONE = {
    "VpcId": "vpc-1", "PrivateSubnetIds": "subnet-3,subnet-4",
    "OriginSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:o-AbCdEf",
    "ApiImageUri": SCENARIOS["fargate"]["ApiImageUri"], "UiImageUri": SCENARIOS["fargate"]["UiImageUri"],
    "TableName": "t", "TableArn": "arn:t", "BucketName": "b", "BucketArn": "arn:b",
    "EventBusName": "e", "EventBusArn": "arn:e", "KmsKeyArn": "arn:k",
}  # fmt: skip


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_passes_the_rules(scenario: str) -> None:
    assert cfn.failed_rules(ROOT, SCENARIOS[scenario]) == {}


def test_fargate_template_alone_passes_its_rules() -> None:
    assert cfn.failed_rules(FARGATE, FARGATE_ALONE) == {}


def test_fargate_needs_the_api_image() -> None:
    failed = cfn.failed_rules(ROOT, {**SCENARIOS["fargate"], "ApiImageUri": ""})
    assert set(failed) == {"FargateNeedsImages"}


def test_fargate_with_ui_needs_the_ui_image() -> None:
    """An empty UI image used to deploy (and never turn healthy)."""
    no_ui_image = {**SCENARIOS["fargate"], "UiImageUri": ""}
    assert set(cfn.failed_rules(ROOT, no_ui_image)) == {"FargateUiNeedsImage"}
    assert cfn.failed_rules(ROOT, {**no_ui_image, "DeployUi": "false"}) == {}
    # The lambda target runs no UI: no image needed.
    assert cfn.failed_rules(ROOT, {"DeploymentTarget": "lambda", "UiImageUri": ""}) == {}
    assert set(cfn.failed_rules(FARGATE, {**FARGATE_ALONE, "UiImageUri": ""})) == {"UiNeedsImage"}


def test_a_certificate_and_the_domain_name_it_covers_go_together() -> None:
    """The front door's alias needs both: a certificate without the name (or the reverse)
    would serve a name nobody asked for, or fail the distribution half-way."""
    base = SCENARIOS["lambda"]
    failed = cfn.failed_rules(ROOT, {**base, "CertificateArn": CERT})
    assert set(failed) == {"CertificateNeedsDomainName"}
    failed = cfn.failed_rules(ROOT, {**base, "DomainName": "orders.example.com"})
    assert set(failed) == {"DomainNameNeedsCertificate"}
    named = {**base, "CertificateArn": CERT, "DomainName": "orders.example.com"}
    assert cfn.failed_rules(ROOT, named) == {}


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_the_waf_only_in_us_east_1(target: str) -> None:
    waf = {**SCENARIOS[target], "EnableWaf": "true"}
    assert cfn.failed_rules(ROOT, waf) == {}
    failed = cfn.failed_rules(ROOT, {**waf, "AWS::Region": "eu-west-1"})
    assert set(failed) == {"WafOnlyInUsEast1"}
    # Off, any region is fine: the front door itself deploys from any region.
    assert cfn.failed_rules(ROOT, {**SCENARIOS[target], "AWS::Region": "eu-west-1"}) == {}


def test_a_weight_outside_both_is_refused() -> None:
    failed = cfn.failed_rules(ROOT, {**SCENARIOS["fargate"], "FargateTrafficPercent": 50})
    assert set(failed) == {"TrafficPercentOnlyWithBoth"}
    assert cfn.failed_rules(ROOT, SCENARIOS["both-50"]) == {}


def count_range(template: dict[str, Any], name: str) -> range:
    spec = template["Parameters"][name]
    return range(int(spec["MinValue"]), int(spec["MaxValue"]) + 1)


@pytest.mark.parametrize("template", [ROOT, FARGATE], ids=["template.yaml", "fargate.yaml"])
def test_max_count_rule_is_exactly_max_at_least_desired(template: dict[str, Any]) -> None:
    """Rules compare strings only, so the rule enumerates; over every pair the parameters
    allow it must refuse exactly the pairs with ApiMaxCount < ApiDesiredCount. Raising
    ApiDesiredCount's MaxValue without extending the rule fails here."""
    base = SCENARIOS["fargate"] if template is ROOT else FARGATE_ALONE
    wrong = []
    for desired in count_range(template, "ApiDesiredCount"):
        for maximum in count_range(template, "ApiMaxCount"):
            params = {**base, "ApiDesiredCount": desired, "ApiMaxCount": maximum}
            refused = "ApiMaxCountAtLeastDesired" in cfn.failed_rules(template, params)
            if refused != (maximum < desired):
                wrong.append((desired, maximum, refused))
    assert wrong == []
    assert cfn.failed_rules(template, {**base, "ApiDesiredCount": 3, "ApiMaxCount": 2}) == {
        "ApiMaxCountAtLeastDesired": "ApiMaxCount must be at least ApiDesiredCount."
    }
