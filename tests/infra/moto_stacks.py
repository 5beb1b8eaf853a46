"""Deploy the project's templates into moto's CloudFormation, the way the root stack would.

`Cloud` deploys one template as one stack. `RootDeployment` deploys template.yaml: it reads
the root's `AWS::CloudFormation::Stack` resources, their Conditions and Parameters, orders
them by what each one references (`!GetAtt X.Outputs.Y`, `!Ref` of a root resource) and
deploys each nested template as its own stack, handing it the values the root would. The
root's own resources (SAM functions, roles, log groups, HTTP API) are expanded with
aws-sam-translator and deployed as one more stack, with every reference to a nested
stack's outputs replaced by the deployed value. Deploying again with other parameters
updates the same stacks, creates the nested stacks that became active and deletes those
that are no longer, as CloudFormation does for a root stack update.

Nothing about the wiring is copied here: parameters, defaults, conditions, rules and
references are read from the templates on every deploy.

Where moto differs from CloudFormation, this harness (never a template) works around it:

- Nested stacks: moto cannot resolve `!GetAtt Stack.Outputs.X` of a nested stack, so each
  nested template is deployed as its own stack (named `<root>-<logical id minus "Stack">`)
  and the root's references to its outputs are replaced by the deployed values.
- `!Cidr`: moto answers 500. The harness computes it (Python's ipaddress) from the
  parameter values before the template is sent.
- Resource types moto's CloudFormation does not model (`UNMODELLED`: Cloud Map, the HTTP
  API, CloudWatch alarms, autoscaling, bucket and queue policies, ...): moto would skip
  them and then fail on any `!GetAtt` of them (the ECS service's Cloud Map registry). The
  harness removes them and replaces each `!Ref`/`!GetAtt`/`${...}` of them by a
  placeholder naming the logical id. A type missing from `UNMODELLED` stops the deploy.
- GetAtt attributes moto does not implement (`DERIVED_ATTRIBUTES`: the ALB's
  `LoadBalancerFullName`, a target group's `TargetGroupFullName`): moto silently drops an
  output that uses one. The harness derives them from the ARN, as AWS defines them, and
  fails a deploy whose outputs come back incomplete.
- `!Ref` of an `AWS::Events::EventBus` comes back from moto as a Python repr: the harness
  sends `!GetAtt Bus.Name` instead (what CloudFormation's Ref returns).
- Archive names: moto names an `AWS::Events::Archive` `<stack>-<logical id>-<12 chars>`
  and refuses more than 48 characters (CloudFormation shortens generated names), so the
  callers keep root stack names short (`MAX_ROOT_NAME`).
- The SAM transform: moto skips `AWS::Serverless::*`; the root is expanded with
  aws-sam-translator first (tests/infra/sam_expand.py) and the functions' code, which
  moto reads from S3, is a small zip uploaded to the bucket and keys the expansion names.
- Deleting a stack with a VPC: moto's delete of NAT gateways, VPC endpoints, route tables
  and gateway attachments does nothing, so the VPC cannot go; the harness removes them
  through the EC2 API first (`Cloud._empty_vpc`).
- Nested stacks moto cannot create at all (`NOT_DEPLOYED_STACKS`: the front door, all
  CloudFront and WAFv2; the identity stack, all Cognito) are not deployed; the parameters
  the root would pass them are still resolved from the deployed stacks and checked
  against their template, and the root's outputs that read them are placeholders.
- Types moto's CloudFormation skips although moto's API serves them (`PROVISIONED`: the
  origin secret, AWS::SecretsManager::Secret): the harness creates the resource through the
  API from the template's properties (a generated value for GenerateSecretString), and
  `!Ref` of it is the created ARN, so every stack gets the real secret's ARN.
- `!GetAtt` of a root resource from a nested stack's parameters (the function's ARN for the
  `both` target): moto evaluates it as an extra output of the root's own stack.
- Not worked around: moto's stack update of a listener rule created as a plain forward to
  a weighted forward fails (a KeyError in its modify_rule), so `fargate -> both` cannot be
  deployed here; creating the rule weighted and changing its weights work, so the runbook
  walk lambda -> both 0 -> both 50 -> fargate -> lambda deploys. Deleting and recreating the
  rule behind moto's back was tried: moto then refuses the next weight change.
  `test_deploy.py::test_moto_still_cannot_turn_a_rule_weighted` notices when moto can.
- Checks CloudFormation makes and moto does not: parameter constraints (AllowedValues,
  AllowedPattern, Min/MaxValue, Min/MaxLength, undeclared or missing parameters) and the
  template's `Rules` are evaluated here before each deploy.
"""

from __future__ import annotations

import copy
import io
import ipaddress
import json
import re
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.parsers import ResponseParserError

from tests.infra import cfn
from tests.infra.tooling import tool_env, tools_python

REGION = "us-east-1"
ACCOUNT = "123456789012"
NESTED_TYPE = "AWS::CloudFormation::Stack"
VPC_TYPE = "AWS::EC2::VPC"
ROOT_NODE = "<root>"
# moto: "<stack>-EventArchive-<12>" <= 48 and the data stack is "<root>-data".
MAX_ROOT_NAME = 16

# Types moto 5.2's CloudFormation has no model for, and why leaving them out of the
# emulator deploy is acceptable. cfn-lint, checkov and the SAM translation still see them.
UNMODELLED: dict[str, str] = {
    "AWS::ApiGatewayV2::Api": "the HTTP API (Lambda target): no moto model",
    "AWS::ApiGatewayV2::Stage": "the HTTP API's stage: no moto model",
    "AWS::ApiGatewayV2::Integration": "HTTP API integration: no moto model",
    "AWS::ApiGatewayV2::Route": "HTTP API route: no moto model",
    "AWS::CloudWatch::Alarm": "alarms: no moto model",
    "AWS::ApplicationAutoScaling::ScalableTarget": "ECS autoscaling: no moto model",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "ECS autoscaling: no moto model",
    "AWS::EC2::SecurityGroupEgress": "separate egress rules: no moto model",
    "AWS::S3::BucketPolicy": "bucket policies: no moto model (moto skips them)",
    "AWS::SQS::QueuePolicy": "queue policies: no moto model (moto skips them)",
    "AWS::ServiceDiscovery::PrivateDnsNamespace": "Cloud Map: no moto model",
    "AWS::ServiceDiscovery::Service": "Cloud Map: no moto model",
    "AWS::IAM::OIDCProvider": "GitHub's OIDC provider (ci.yaml): no moto model",
    "AWS::Lambda::EventInvokeConfig": "async invoke settings: no moto model",
    "AWS::Lambda::Alias": "the alias `live` the API invokes: no moto CloudFormation model",
}


# Left out, yet invoked by others: what refers to one of these gets its function instead.
QUALIFIERS = {"AWS::Lambda::Alias"}


# Nested stacks of template.yaml the harness does not deploy, and why.
NOT_DEPLOYED_STACKS: dict[str, str] = {
    "EdgeStack": (
        "the front door (CloudFront distribution and VPC origin, CLOUDFRONT-scope WAF): "
        "moto has no CloudFront or WAFv2 model; lint, checkov and the template tests check it"
    ),
    "IdentityStack": (
        "the user pool, its domain, resource server, app clients and group (cform/identity.yaml): "
        "moto's CloudFormation has no Cognito model (devstack creates the same things through "
        "moto's cognito-idp API); lint, checkov and tests/infra/test_identity.py check it"
    ),
}

# Types moto's CloudFormation skips but whose API moto serves: the harness creates them.
PROVISIONED: dict[str, str] = {
    "AWS::SecretsManager::Secret": "created with moto's Secrets Manager API (CreateSecret)",
}


class DeployError(RuntimeError):
    """A stack did not reach CREATE/UPDATE_COMPLETE, or CloudFormation would refuse it."""


def modelled_types() -> set[str]:
    """Resource types moto's CloudFormation can create (same process as the server)."""
    from moto.cloudformation.parsing import get_model_map

    return set(get_model_map())


# ------------------------------------------------------------------ what CloudFormation checks


def check_parameters(template: dict[str, Any], given: dict[str, str], where: str) -> None:
    """Refuse what CloudFormation refuses and moto lets through: undeclared or missing
    parameters and values outside AllowedValues, AllowedPattern, Min/Max."""
    declared = template.get("Parameters", {})
    problems = [f"{name}: not declared" for name in given if name not in declared]
    for name, spec in declared.items():
        if name not in given and "Default" not in spec:
            problems.append(f"{name}: no value and no default")
            continue
        value = str(given.get(name, spec.get("Default")))
        if "AllowedValues" in spec and value not in {str(v) for v in spec["AllowedValues"]}:
            problems.append(f"{name}={value!r}: not in {spec['AllowedValues']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            problems.append(f"{name}={value!r}: does not match {spec['AllowedPattern']}")
        if spec.get("Type") == "Number":
            number = float(value)
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"{name}={value}: below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"{name}={value}: above MaxValue {spec['MaxValue']}")
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            problems.append(f"{name}: shorter than {spec['MinLength']}")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            problems.append(f"{name}: longer than {spec['MaxLength']}")
    if problems:
        raise DeployError(f"{where}: CloudFormation would refuse the parameters: {problems}")


def check_rules(template: dict[str, Any], values: dict[str, Any], where: str) -> None:
    """Evaluate the template's Rules (moto ignores them) for these parameter values."""

    def value(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Ref"}:
            return values[node["Ref"]]
        if isinstance(node, dict) and set(node) == {"Fn::ValueOf"}:
            raise DeployError(f"{where}: Fn::ValueOf in Rules is not supported by the harness")
        return node

    def as_list(node: Any) -> list[str]:
        found = value(node)
        return [str(v) for v in (found.split(",") if isinstance(found, str) else found)]

    rule_functions: dict[str, Callable[[Any], bool]] = {
        "Fn::Contains": lambda arg: str(value(arg[1])) in as_list(arg[0]),
        "Fn::EachMemberEquals": lambda arg: all(v == str(value(arg[1])) for v in as_list(arg[0])),
        "Fn::EachMemberIn": lambda arg: set(as_list(arg[0])) <= set(as_list(arg[1])),
    }

    def truth(node: Any) -> bool:
        try:
            return cfn.truth(node, value, rule_functions)
        except cfn.UnsupportedFunction as unsupported:
            raise DeployError(
                f"{where}: rule function {unsupported} is not supported by the harness"
            ) from None

    broken = []
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not truth(rule["RuleCondition"]):
            continue
        broken += [
            f"{name}: {a.get('AssertDescription', a['Assert'])}"
            for a in rule.get("Assertions", [])
            if not truth(a["Assert"])
        ]
    if broken:
        raise DeployError(f"{where}: CloudFormation would refuse the deploy (Rules): {broken}")


# ------------------------------------------------------------------ template rewriting


def _walk(node: Any, visit: Any) -> Any:
    """Rebuild the tree bottom-up, letting `visit` replace any dict or string."""
    if isinstance(node, dict):
        node = {k: _walk(v, visit) for k, v in node.items()}
    elif isinstance(node, list):
        node = [_walk(v, visit) for v in node]
    return visit(node)


def _evaluate_cidr(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Replace every Fn::Cidr by the list CloudFormation computes (moto answers 500)."""

    def visit(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Fn::Cidr"}:
            args = [
                values.get(a["Ref"]) if isinstance(a, dict) and set(a) == {"Ref"} else a
                for a in node["Fn::Cidr"]
            ]
            if any(a is None or isinstance(a, dict | list) for a in args):
                raise DeployError(f"Fn::Cidr of something other than parameters: {node}")
            block, count, bits = (str(a) for a in args)
            network = ipaddress.ip_network(block)
            subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
            return [str(s) for _, s in zip(range(int(count)), subnets, strict=False)]
        return node

    return _walk(template, visit)  # type: ignore[no-any-return]


def _placeholder(logical_id: str, attribute: str | None) -> str:
    if attribute and attribute.endswith("Arn"):
        return f"arn:aws:not-in-moto:{REGION}:{ACCOUNT}:{logical_id}"
    return f"{logical_id}-not-in-moto"


def replace_references(node: Any, values: dict[str, Any]) -> Any:
    """Replace `Ref X`, `GetAtt X.A` and `${X}`/`${X.A}` for the X in `values`.

    `values[X]` is either a string (what Ref gives) or a callable(attribute) -> value.
    """

    def lookup(name: str, attribute: str | None) -> Any:
        found = values[name]
        return found(attribute) if callable(found) else found

    def visit(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" and arg in values:
                return lookup(arg, None)
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                if name in values:
                    return lookup(name, attribute)
            if key == "Fn::Sub":
                text, extra = (arg, None) if isinstance(arg, str) else (arg[0], arg[1])

                def swap(match: re.Match[str]) -> str:
                    name, _, attribute = match.group(1).partition(".")
                    if name in values and not (extra and name in extra):
                        return str(lookup(name, attribute or None))
                    return match.group(0)

                text = re.sub(r"\$\{([^!}][^}]*)\}", swap, text)
                return {"Fn::Sub": text if extra is None else [text, extra]}
        return node

    return _walk(node, visit)


def for_moto(template: dict[str, Any], values: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The template as it is sent to moto, and the logical ids left out (see module doc)."""
    template = _evaluate_cidr(copy.deepcopy(template), values)
    resources = template.get("Resources", {})
    modelled = modelled_types()
    dropped = {name for name, r in resources.items() if r["Type"] not in modelled}
    unknown = {resources[name]["Type"] for name in dropped} - set(UNMODELLED)
    if unknown:
        raise DeployError(f"moto cannot create {sorted(unknown)}: add them to UNMODELLED or adapt")
    # An alias moto cannot create stands for its function: what invokes the
    # alias (the HTTP API's permissions, the ALB's Lambda target) gets the function itself.
    qualified = {
        name: resources[name]["Properties"]["FunctionName"]
        for name in dropped
        if resources[name]["Type"] in QUALIFIERS
    }
    for name in dropped:
        del resources[name]
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if depends is not None:
            listed = [depends] if isinstance(depends, str) else depends
            kept = [d for d in listed if d not in dropped]
            if kept:
                resource["DependsOn"] = kept
            else:
                del resource["DependsOn"]
    stand_ins = {
        name: (lambda attribute, name=name: _placeholder(name, attribute)) for name in dropped
    }
    stand_ins.update(
        {
            name: (lambda attribute, fn=ref["Ref"]: {"Fn::GetAtt": [fn, attribute or "Arn"]})
            for name, ref in qualified.items()
        }
    )
    template = replace_references(template, stand_ins)
    template = _derive_attributes(template)
    buses = {n for n, r in resources.items() if r["Type"] == "AWS::Events::EventBus"}
    return _bus_ref_as_name(template, buses), dropped


def _from_arn(separator: str, index: int) -> Any:
    return lambda logical_id: {
        "Fn::Select": [index, {"Fn::Split": [separator, {"Ref": logical_id}]}]
    }


# GetAtt attributes moto does not implement (it drops an output that uses one, silently),
# derived from the ARN as AWS defines them: "app/<name>/<id>", "targetgroup/<name>/<id>".
DERIVED_ATTRIBUTES: dict[tuple[str, str], Any] = {
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "LoadBalancerFullName"): _from_arn(
        ":loadbalancer/", 1
    ),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "TargetGroupFullName"): _from_arn(":", 5),
}


def _derive_attributes(template: dict[str, Any]) -> dict[str, Any]:
    """Replace GetAtt (and ${X.Attr}) of DERIVED_ATTRIBUTES by their derivation."""
    types = {name: r["Type"] for name, r in template.get("Resources", {}).items()}

    def derived(name: str, attribute: str) -> Any:
        rule = DERIVED_ATTRIBUTES.get((types.get(name, ""), attribute))
        return rule(name) if rule else None

    def visit(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Fn::GetAtt"}:
            arg = node["Fn::GetAtt"]
            name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return derived(name, attribute) or node
        if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
            arg = node["Fn::Sub"]
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], dict(arg[1]))
            for match in set(re.findall(r"\$\{([^!}.][^}.]*)\.([^}]+)\}", text)):
                expression = derived(*match)
                if expression is not None:
                    variable = "".join(match)
                    text = text.replace(f"${{{match[0]}.{match[1]}}}", f"${{{variable}}}")
                    extra[variable] = expression
            return {"Fn::Sub": [text, extra] if extra else text}
        return node

    return _walk(template, visit)  # type: ignore[no-any-return]


def _bus_ref_as_name(template: dict[str, Any], buses: set[str]) -> dict[str, Any]:
    """`Ref Bus` -> `GetAtt Bus.Name` (CloudFormation's Ref is the name; moto's a repr)."""

    def visit(node: Any) -> Any:
        if isinstance(node, dict) and node.get("Ref") in buses and len(node) == 1:
            return {"Fn::GetAtt": [node["Ref"], "Name"]}
        if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
            arg = node["Fn::Sub"]
            text, extra = (arg, None) if isinstance(arg, str) else (arg[0], arg[1])
            for bus in buses:
                text = text.replace(f"${{{bus}}}", f"${{{bus}.Name}}")
            return {"Fn::Sub": text if extra is None else [text, extra]}
        return node

    return _walk(template, visit)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ the emulator's CloudFormation


@dataclass
class Stack:
    name: str
    outputs: dict[str, str]
    # logical id -> physical id, as describe_stack_resources reports them
    resources: dict[str, str]
    # logical ids the harness left out (UNMODELLED), and their types
    not_deployed: dict[str, str] = field(default_factory=dict)
    # logical ids the harness created through the API (PROVISIONED), and their types
    provisioned: dict[str, str] = field(default_factory=dict)
    # left-out aliases and versions -> the logical id of the function they stand for
    stand_for: dict[str, str] = field(default_factory=dict)
    status: str = ""
    raw: Any = None


class Cloud:
    """Clients for moto's server at `endpoint` (fake credentials, fixed region)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )

    def client(self, service: str) -> Any:
        config = Config(retries={"mode": "standard", "total_max_attempts": 2}, read_timeout=60)
        return self.session.client(service, endpoint_url=self.endpoint, config=config)  # type: ignore[call-overload]

    def exists(self, name: str) -> bool:
        cf = self.client("cloudformation")
        try:
            status = cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except cf.exceptions.ClientError:
            return False
        return bool(status != "DELETE_COMPLETE")

    def deploy(
        self, name: str, template: dict[str, Any], parameters: dict[str, Any], where: str = ""
    ) -> Stack:
        """Create or update `name` from `template` with `parameters`; wait for COMPLETE."""
        where = where or name
        given = {k: _as_parameter(v) for k, v in parameters.items()}
        check_parameters(template, given, where)
        check_rules(template, cfn.parameter_values(template, given), where)
        values = cfn.parameter_values(template, given) | {"AWS::StackName": name}
        template, provisioned = self._provision(template, values, where)
        body, dropped = for_moto(template, values)
        cf = self.client("cloudformation")
        update = self.exists(name)
        call = cf.update_stack if update else cf.create_stack
        try:
            call(
                StackName=name,
                TemplateBody=json.dumps(body),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()],
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
        except cf.exceptions.ClientError as exc:
            raise DeployError(f"moto refused {where} ({name}): {exc}") from None
        except ResponseParserError as exc:  # moto answered 500 (its own bug, not a refusal)
            raise DeployError(f"moto failed on {where} ({name}): {str(exc)[:300]}") from None
        waiter = cf.get_waiter("stack_update_complete" if update else "stack_create_complete")
        try:
            waiter.wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        except Exception as exc:  # the waiter only keeps the last status
            raise DeployError(f"{where} ({name}) did not deploy: {self.failures(name)}") from exc
        conditions = cfn.evaluate_conditions(template, values)
        stack = self.describe(name)
        expected = {
            key
            for key, output in template.get("Outputs", {}).items()
            if conditions.get(output.get("Condition"), True)
        }
        if expected - set(stack.outputs):
            raise DeployError(
                f"{where} ({name}): moto gave no value for outputs "
                f"{sorted(expected - set(stack.outputs))} (a GetAtt it does not implement?)"
            )
        left_out = {
            n: template["Resources"][n]["Type"]
            for n in dropped
            if conditions.get(template["Resources"][n].get("Condition"), True)
        }
        stack.not_deployed = left_out
        stack.stand_for = {
            n: template["Resources"][n]["Properties"]["FunctionName"]["Ref"]
            for n, kind in left_out.items()
            if kind in QUALIFIERS
        }
        for logical, (resource_type, arn) in provisioned.items():
            stack.resources[logical] = arn
            stack.provisioned[logical] = resource_type
        return stack

    def _provision(
        self, template: dict[str, Any], values: dict[str, Any], where: str
    ) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
        """Create the PROVISIONED resources through moto's API; the template without them,
        their references replaced by what CloudFormation's Ref gives (the ARN)."""
        resources = template.get("Resources", {})
        conditions = cfn.evaluate_conditions(template, values)
        mine = {
            n: r
            for n, r in resources.items()
            if r["Type"] in PROVISIONED and conditions.get(r.get("Condition"), True)
        }
        if not mine:
            return template, {}
        known = {k: v for k, v in values.items() if k in template.get("Parameters", {})}
        known |= {k: v for k, v in cfn.PSEUDO.items() if k not in values} | {
            k: v for k, v in values.items() if k.startswith("AWS::")
        }
        created: dict[str, tuple[str, str]] = {}
        for logical, resource in mine.items():
            props = _evaluate(replace_references(resource.get("Properties", {}), known))
            if resource["Type"] != "AWS::SecretsManager::Secret":  # pragma: no cover
                raise DeployError(f"{where}: no provisioning for {resource['Type']}")
            created[logical] = (resource["Type"], self._secret(props, where, logical))
        template = copy.deepcopy(template)
        for logical in mine:
            del template["Resources"][logical]
        arns = {n: (lambda attribute, a=arn: a) for n, (_, arn) in created.items()}
        return replace_references(template, arns), created

    def _secret(self, props: dict[str, Any], where: str, logical: str) -> str:
        """CreateSecret as CloudFormation's handler does (idempotent on the name)."""
        sm = self.client("secretsmanager")
        name = props.get("Name") or f"{where}-{logical}"
        try:
            found = sm.describe_secret(SecretId=name)
        except sm.exceptions.ResourceNotFoundException:
            found = None
        if found is not None:
            return str(found["ARN"])
        generate = dict(props.get("GenerateSecretString", {}))
        if "SecretString" in props:
            value = props["SecretString"]
        else:
            value = sm.get_random_password(
                **{k: v for k, v in generate.items() if k != "GenerateStringKey"}
            )["RandomPassword"]
        extra = {k: props[k] for k in ("Description", "KmsKeyId", "Tags") if k in props}
        return str(sm.create_secret(Name=name, SecretString=value, **extra)["ARN"])

    def describe(self, name: str, not_deployed: dict[str, str] | None = None) -> Stack:
        cf = self.client("cloudformation")
        stack = cf.describe_stacks(StackName=name)["Stacks"][0]
        resources = cf.describe_stack_resources(StackName=name)["StackResources"]
        return Stack(
            name=name,
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            resources={
                r.get("LogicalResourceId", "?"): r.get("PhysicalResourceId", "") for r in resources
            },
            raw=resources,
            not_deployed=not_deployed or {},
            status=stack["StackStatus"],
        )

    def delete(self, name: str) -> None:
        cf = self.client("cloudformation")
        resources = cf.describe_stack_resources(StackName=name)["StackResources"]
        for vpc in [
            r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == VPC_TYPE
        ]:
            self._empty_vpc(vpc)
        try:
            cf.delete_stack(StackName=name)
        except cf.exceptions.ClientError as exc:
            raise DeployError(f"moto could not delete {name}: {exc}") from None
        cf.get_waiter("stack_delete_complete").wait(
            StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )

    def _empty_vpc(self, vpc: str) -> None:
        """Remove what moto's CloudFormation leaves behind on delete (its delete of NAT
        gateways, VPC endpoints, route tables and gateway attachments does nothing), so
        the VPC itself can go, as it does in CloudFormation."""
        ec2 = self.client("ec2")
        in_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
        for nat in ec2.describe_nat_gateways(Filters=in_vpc)["NatGateways"]:
            ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
        endpoints = ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
        if endpoints:
            ec2.delete_vpc_endpoints(VpcEndpointIds=[e["VpcEndpointId"] for e in endpoints])
        for table in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]:
            associations = table.get("Associations", [])
            if any(a.get("Main") for a in associations):
                continue
            for association in associations:
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
            ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        gateways = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}]
        )["InternetGateways"]
        for gateway in gateways:
            ec2.detach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc)
        for interface in ec2.describe_network_interfaces(Filters=in_vpc)["NetworkInterfaces"]:
            ec2.delete_network_interface(NetworkInterfaceId=interface["NetworkInterfaceId"])

    def failures(self, name: str) -> str:
        events = self.client("cloudformation").describe_stack_events(StackName=name)
        reasons = [
            f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
            for e in events["StackEvents"]
            if e.get("ResourceStatus", "").endswith("FAILED")
        ]
        return "; ".join(reasons) or "no failure event recorded"


def _as_parameter(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


# ------------------------------------------------------------------ the root stack


def expand_root(scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """template.yaml expanded by aws-sam-translator for each parameter set (one process)."""
    program = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from sam_expand import expand;"
        "print(json.dumps([expand(Path(sys.argv[2]), p) for p in json.loads(sys.argv[3])],"
        " default=str))"
    )
    proc = subprocess.run(
        [
            tools_python(),
            "-c",
            program,
            str(Path(__file__).parent),
            str(cfn.ROOT_TEMPLATE),
            json.dumps(scenarios),
        ],
        cwd=cfn.REPO,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise DeployError(f"aws-sam-translator failed: {proc.stderr[-2000:]}")
    return list(json.loads(proc.stdout))


def references(node: Any) -> set[str]:
    """Logical ids (or parameters) a subtree refers to: Ref, GetAtt and ${...} in Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, arg in node.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
            elif key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                names = {m.split(".", 1)[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                found |= names - set(extra)
                found |= references(extra)
            else:
                found |= references(arg)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def dependency_order(graph: dict[str, set[str]]) -> list[str]:
    """Nodes so that each comes after what it depends on; a cycle is an error."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == "done":
            return
        if state.get(node) == "visiting":
            raise DeployError(f"dependency cycle: {' -> '.join((*path, node))}")
        state[node] = "visiting"
        for dep in sorted(graph[node]):
            visit(dep, (*path, node))
        state[node] = "done"
        order.append(node)

    for node in sorted(graph):
        visit(node, ())
    return order


@dataclass
class RootResult:
    """One deploy of template.yaml: the stacks by root logical id, the root's outputs."""

    stacks: dict[str, Stack]
    outputs: dict[str, Any]
    order: list[str]
    # NOT_DEPLOYED_STACKS the root has here: logical id -> the parameters it would pass them
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)


class RootDeployment:
    """template.yaml as one root stack named `name`, deployed (and updated) in moto."""

    def __init__(self, cloud: Cloud, name: str) -> None:
        if len(name) > MAX_ROOT_NAME:
            raise ValueError(f"root stack name {name!r} longer than {MAX_ROOT_NAME} (moto)")
        self.cloud = cloud
        self.name = name
        self.raw = cfn.load(cfn.ROOT_TEMPLATE)

    def nested_name(self, logical_id: str) -> str:
        return f"{self.name}-{logical_id.removesuffix('Stack').lower()}"

    def deploy(self, parameters: dict[str, Any], expanded: dict[str, Any]) -> RootResult:
        """Deploy the root for `parameters`; `expanded` is expand_root()'s template for them."""
        given = {k: _as_parameter(v) for k, v in parameters.items()}
        check_parameters(self.raw, given, "template.yaml")
        values = cfn.parameter_values(self.raw, given) | {"AWS::StackName": self.name}
        check_rules(self.raw, values, "template.yaml")
        root = cfn.resolve(expanded, values)
        resources = root["Resources"]
        all_nested = [n for n, r in self.raw["Resources"].items() if r["Type"] == NESTED_TYPE]
        active = {n for n in all_nested if n in resources}
        own = {n: r for n, r in resources.items() if n not in active}

        graph: dict[str, set[str]] = {ROOT_NODE: references(own) & active}
        for name in active:
            refs = references(resources[name]["Properties"].get("Parameters", {}))
            graph[name] = (refs & active) | ({ROOT_NODE} if refs & set(own) else set())
        order = dependency_order(graph)

        stacks: dict[str, Stack] = {}
        skipped: dict[str, dict[str, Any]] = {}
        for node in order:
            if node == ROOT_NODE:
                stacks[ROOT_NODE] = self._deploy_own(root, own, active, stacks, given)
                continue
            stack = resources[node]
            template_path = cfn.ROOT_TEMPLATE.parent / stack["Properties"]["TemplateURL"]
            params = self._resolve(stack["Properties"].get("Parameters", {}), values, stacks)
            if node in NOT_DEPLOYED_STACKS:
                # What CloudFormation would be handed, checked as it would check it.
                nested = cfn.load(template_path)
                given_nested = {k: _as_parameter(v) for k, v in params.items()}
                check_parameters(nested, given_nested, node)
                check_rules(nested, cfn.parameter_values(nested, given_nested), node)
                skipped[node] = params
                continue
            stacks[node] = self.cloud.deploy(
                self.nested_name(node), cfn.load(template_path), params, where=node
            )
        # CloudFormation deletes the nested stacks the update no longer has, last.
        for node in reversed(all_nested):
            if node not in active and self.cloud.exists(self.nested_name(node)):
                self.cloud.delete(self.nested_name(node))
        outputs = {
            key: self._resolve(out["Value"], values, stacks)
            for key, out in root.get("Outputs", {}).items()
        }
        return RootResult(stacks=stacks, outputs=outputs, order=order, skipped=skipped)

    def _lookups(self, stacks: dict[str, Stack]) -> dict[str, Any]:
        """Stand-ins for the deployed logical ids: nested outputs, root resources' ids."""
        found: dict[str, Any] = {
            node: (lambda attribute, n=node: f"{n}.{attribute}-not-in-moto")
            for node in NOT_DEPLOYED_STACKS
        }
        for node, stack in stacks.items():
            if node == ROOT_NODE:
                for logical, physical in stack.resources.items():
                    found[logical] = lambda attribute, p=physical, n=logical, s=stack: (
                        _root_attribute(n, p, attribute, s)
                    )
                for logical in stack.not_deployed:
                    found[logical] = lambda attribute, n=logical: _placeholder(n, attribute)
                for logical, function in stack.stand_for.items():
                    # Ref of an alias is its ARN: the (unqualified) function's, here.
                    name = stack.resources[function]
                    found[logical] = lambda attribute, name=name: (
                        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
                    )
            else:
                found[node] = lambda attribute, s=stack, n=node: _output(s, n, attribute)
        return found

    def _resolve(self, node: Any, values: dict[str, Any], stacks: dict[str, Stack]) -> Any:
        """Evaluate an expression of the root (a nested stack's parameter, an output)."""
        lookups = {k: v for k, v in values.items() if k in self.raw.get("Parameters", {})}
        lookups |= {k: v for k, v in values.items() if k.startswith("AWS::")}
        node = replace_references(node, lookups | self._lookups(stacks))
        return _evaluate(node, self.raw.get("Mappings", {}))

    def _deploy_own(
        self,
        root: dict[str, Any],
        own: dict[str, Any],
        active: set[str],
        stacks: dict[str, Stack],
        given: dict[str, str],
    ) -> Stack:
        """The root's own resources as one stack, nested outputs replaced by their values."""
        nested = {n: v for n, v in self._lookups(stacks).items() if n in active}
        template = {
            key: value
            for key, value in root.items()
            if key not in {"Resources", "Outputs", "Rules", "Transform", "Metadata"}
        }
        template["Resources"] = replace_references(own, nested)
        # GetAtt of the root's own resources that nested stacks or outputs read: moto
        # evaluates them as outputs of this stack (_root_attribute reads them back).
        readers = [resources_of(root, n) for n in active] + [root.get("Outputs", {})]
        wanted = sorted({pair for node in readers for pair in getatts(node) if pair[0] in own})
        template["Outputs"] = {
            _getatt_output(name, attribute): {"Value": {"Fn::GetAtt": [name, attribute]}}
            for name, attribute in wanted
        }
        self._upload_code(template["Resources"])
        return self.cloud.deploy(self.name, template, given, where="template.yaml (own resources)")

    def _upload_code(self, resources: dict[str, Any]) -> None:
        """moto reads a function's code from S3: put a small zip where the expansion says."""
        s3 = self.cloud.client("s3")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
        for resource in resources.values():
            code = resource.get("Properties", {}).get("Code", {})
            if resource["Type"] == "AWS::Lambda::Function" and "S3Bucket" in code:
                try:
                    s3.head_bucket(Bucket=code["S3Bucket"])
                except s3.exceptions.ClientError:
                    s3.create_bucket(Bucket=code["S3Bucket"])
                s3.put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=archive.getvalue())


def _output(stack: Stack, logical_id: str, attribute: str | None) -> str:
    if not attribute or not attribute.startswith("Outputs."):
        raise DeployError(f"{logical_id}: only Outputs.X of a nested stack is supported")
    key = attribute.removeprefix("Outputs.")
    if key not in stack.outputs:
        raise DeployError(f"{logical_id} ({stack.name}) has no output {key}: {stack.outputs}")
    return stack.outputs[key]


def _root_attribute(logical_id: str, physical_id: str, attribute: str | None, stack: Stack) -> str:
    if attribute is None:
        return physical_id
    key = _getatt_output(logical_id, attribute)
    if key in stack.outputs:
        return stack.outputs[key]
    if logical_id in stack.provisioned:
        return physical_id  # an ARN, which is what its attributes here need
    raise DeployError(f"GetAtt {logical_id}.{attribute}: not an output of the root's own stack")


def _getatt_output(logical_id: str, attribute: str) -> str:
    return "GetAtt" + re.sub(r"[^A-Za-z0-9]", "", f"{logical_id}{attribute}")


def resources_of(root: dict[str, Any], nested: str) -> Any:
    """The expressions the root hands one nested stack (its Parameters)."""
    return root["Resources"][nested]["Properties"].get("Parameters", {})


def getatts(node: Any) -> set[tuple[str, str]]:
    """(logical id, attribute) of every GetAtt and ${X.Attr} in a subtree."""
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        for key, arg in node.items():
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                found.add((name, attribute))
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= set(re.findall(r"\$\{([^!}.][^}.]*)\.([^}]+)\}", text))
                found |= getatts(arg if isinstance(arg, str) else arg[1])
            else:
                found |= getatts(arg)
    elif isinstance(node, list):
        for item in node:
            found |= getatts(item)
    return found


def _evaluate(node: Any, mappings: dict[str, Any] | None = None) -> Any:
    """Finish an expression whose references are all replaced: Sub, Join, Select, FindInMap."""

    def visit(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::FindInMap" and mappings is not None:
                name, top, second = (str(a) for a in arg)
                return mappings[name][top][second]
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                for name, value in extra.items():
                    text = text.replace(f"${{{name}}}", str(value))
                if re.search(r"\$\{[^!]", text):
                    raise DeployError(f"unresolved reference in {text!r}")
                return text.replace("${!", "${")
            if key == "Fn::Join":
                return arg[0].join(str(v) for v in arg[1])
            if key == "Fn::Select":
                items = arg[1].split(",") if isinstance(arg[1], str) else arg[1]
                return items[int(arg[0])]
            if key.startswith("Fn::") or key == "Ref":
                raise DeployError(f"cannot evaluate {node}")
        return node

    return _walk(node, visit)
