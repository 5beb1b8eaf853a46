"""Small CloudFormation helpers for the infra tests: load YAML with short-form intrinsics,
resolve Conditions/Fn::If for given parameter values, and walk IAM policy statements.

Only what our templates use is supported; anything else is left as it is, so a template
that grows a new construct fails loudly in the assertions rather than being guessed at.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CFORM = REPO / "cform"
ROOT_TEMPLATE = REPO / "template.yaml"

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "orders",
    "AWS::URLSuffix": "amazonaws.com",
}

_NO_VALUE = object()


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns !Ref, !GetAtt, !Sub, ... into their long JSON forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TypeError(f"!{suffix} on a {type(node).__name__}")
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path: Path) -> dict[str, Any]:
    """A CloudFormation YAML (or JSON) template as plain dicts with long-form intrinsics."""
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return template


def parameter_values(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Defaults of the template's Parameters, overridden by `given`, plus pseudo parameters."""
    values = {
        name: spec["Default"]
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }
    return {**PSEUDO, **values, **given}


def _value(node: Any, params: dict[str, Any], conditions: dict[str, bool]) -> Any:
    """Evaluate the parts of an expression that conditions need (Ref to parameters, Fn::If)."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref" and arg in params:
            return params[arg]
        if key == "Fn::If":
            name, yes, no = arg
            return _value(yes if conditions[name] else no, params, conditions)
    return node


class UnsupportedFunction(ValueError):
    """A condition or rule function `truth` was not given."""


def truth(
    node: Any,
    value: Callable[[Any], Any],
    more: Mapping[str, Callable[[Any], bool]] | None = None,
) -> bool:
    """A condition's truth: Fn::Equals over operands `value` evaluates, and Fn::Not/And/Or;
    `more` adds what only Conditions (Condition) or Rules (Fn::Contains, ...) have."""
    ((key, arg),) = node.items()
    if key == "Fn::Equals":
        return str(value(arg[0])) == str(value(arg[1]))
    if key == "Fn::Not":
        return not truth(arg[0], value, more)
    if key == "Fn::And":
        return all(truth(a, value, more) for a in arg)
    if key == "Fn::Or":
        return any(truth(a, value, more) for a in arg)
    if more and key in more:
        return more[key](arg)
    raise UnsupportedFunction(key)


def evaluate_conditions(template: dict[str, Any], params: dict[str, Any]) -> dict[str, bool]:
    """Truth value of every entry of Conditions for these parameter values."""
    definitions = template.get("Conditions", {})
    results: dict[str, bool] = {}

    def condition(name: str) -> bool:
        if name not in results:
            results[name] = truth(
                definitions[name],
                lambda node: _value(node, params, results),
                {"Condition": condition},
            )
        return results[name]

    for name in definitions:
        condition(name)
    return results


def _prune(node: Any, params: dict[str, Any], conditions: dict[str, bool]) -> Any:
    if isinstance(node, dict):
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::If":
                name, yes, no = arg
                return _prune(yes if conditions[name] else no, params, conditions)
            if key == "Ref" and arg == "AWS::NoValue":
                return _NO_VALUE
        out = {}
        for key, value in node.items():
            pruned = _prune(value, params, conditions)
            if pruned is not _NO_VALUE:
                out[key] = pruned
        return out
    if isinstance(node, list):
        items = (_prune(item, params, conditions) for item in node)
        return [item for item in items if item is not _NO_VALUE]
    return node


def resolve(template: dict[str, Any], given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template as CloudFormation would create it for these parameter values:
    resources and outputs whose Condition is false are gone, every Fn::If is decided, and
    parameter Refs stay as they are (so the result is still a valid template to scan)."""
    template = copy.deepcopy(template)
    params = parameter_values(template, given or {})
    conditions = evaluate_conditions(template, params)
    for section in ("Resources", "Outputs"):
        entries = template.get(section, {})
        for name in [n for n, e in entries.items() if not conditions.get(e.get("Condition"), True)]:
            del entries[name]
    resolved: dict[str, Any] = _prune(template, params, conditions)
    return resolved


def by_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by logical id."""
    return {
        name: res
        for name, res in template.get("Resources", {}).items()
        if res.get("Type") == resource_type
    }


def nested_parameters(parent_params: dict[str, Any], stack: dict[str, Any]) -> dict[str, Any]:
    """Parameters a nested stack gets, where the parent passes a literal or a parameter Ref."""
    out = {}
    for name, value in stack["Properties"].get("Parameters", {}).items():
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parent_params:
            out[name] = parent_params[value["Ref"]]
        elif isinstance(value, str | int | float):
            out[name] = value
    return out


def policy_statements(node: Any) -> list[dict[str, Any]]:
    """Every statement of every policy document anywhere in the tree."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"} and isinstance(
                value, dict
            ):
                statements = value.get("Statement", [])
                found.extend(statements if isinstance(statements, list) else [statements])
            else:
                found.extend(policy_statements(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(policy_statements(item))
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    """The Action (or NotAction) of a statement as a list of strings."""
    value = statement.get("Action", statement.get("NotAction", []))
    return [value] if isinstance(value, str) else list(value)


def _rule_value(node: Any, params: dict[str, Any]) -> Any:
    """A value inside a rule: a literal, a Ref to a parameter or pseudo parameter, or a list."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return str(params[node["Ref"]])
    if isinstance(node, list):
        return [_rule_value(item, params) for item in node]
    return str(node)


def _rule_truth(node: Any, params: dict[str, Any]) -> bool:
    """A rule condition or assertion, with CloudFormation's semantics: values compare as
    strings (Number parameters included), so "10" is not less than "9" - nor more."""
    ((key, arg),) = node.items()
    if key == "Fn::Equals":
        left, right = (_rule_value(a, params) for a in arg)
        return bool(left == right)
    if key == "Fn::Not":
        return not _rule_truth(arg[0], params)
    if key == "Fn::And":
        return all(_rule_truth(a, params) for a in arg)
    if key == "Fn::Or":
        return any(_rule_truth(a, params) for a in arg)
    if key == "Fn::Contains":
        values, value = (_rule_value(a, params) for a in arg)
        return value in values
    raise ValueError(f"unsupported rule function {key}")


def failed_rules(template: dict[str, Any], given: dict[str, Any] | None = None) -> dict[str, str]:
    """Rules whose assertions fail for these parameter values, by rule name, each with the
    first failing AssertDescription: what CloudFormation would refuse the deploy with."""
    params = parameter_values(template, given or {})
    failed = {}
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not _rule_truth(rule["RuleCondition"], params):
            continue
        for assertion in rule["Assertions"]:
            if not _rule_truth(assertion["Assert"], params):
                failed[name] = assertion.get("AssertDescription", "")
                break
    return failed


def nested_stacks(
    root: dict[str, Any], given: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Each nested stack the resolved root creates, by logical id, as its template resolved
    with the parameters the root passes to it (literals and parameter Refs)."""
    root_params = parameter_values(load(ROOT_TEMPLATE), given or {})
    return {
        name: resolve(
            load(REPO / stack["Properties"]["TemplateURL"]), nested_parameters(root_params, stack)
        )
        for name, stack in by_type(root, "AWS::CloudFormation::Stack").items()
    }


def find_intrinsics(node: Any, function: str) -> list[Any]:
    """Arguments of every call of one intrinsic function anywhere in the tree."""
    found: list[Any] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == function:
                found.append(value)
            found.extend(find_intrinsics(value, function))
    elif isinstance(node, list):
        for item in node:
            found.extend(find_intrinsics(item, function))
    return found


def _find_in_map(template: dict[str, Any], params: dict[str, Any], arg: list[Any]) -> Any:
    """Fn::FindInMap with literal or parameter-Ref keys, against the template's Mappings."""
    keys = [params[k["Ref"]] if isinstance(k, dict) and "Ref" in k else k for k in arg[1:]]
    return template["Mappings"][arg[0]][str(keys[0])][str(keys[1])]


def nested_parameters_as_deployed(
    parent: dict[str, Any], parent_params: dict[str, Any], stack: dict[str, Any]
) -> dict[str, Any]:
    """Parameters a nested stack gets, every one of them: literals, parameter Refs and
    FindInMap as their values; any other expression (a GetAtt, a Ref to a resource) as a
    non-empty stand-in naming it, which is what the nested Conditions need to see."""
    out = {}
    for name, value in stack["Properties"].get("Parameters", {}).items():
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parent_params:
            out[name] = parent_params[value["Ref"]]
        elif isinstance(value, dict) and set(value) == {"Fn::FindInMap"}:
            out[name] = _find_in_map(parent, parent_params, value["Fn::FindInMap"])
        elif isinstance(value, str | int | float):
            out[name] = value
        else:
            out[name] = f"<{json.dumps(value, sort_keys=True)}>"
    return out


def deployed_stacks(
    root: dict[str, Any], given: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The resolved root ("root") and every nested stack it creates, each resolved with all the
    parameters the root passes (see nested_parameters_as_deployed)."""
    raw_root = load(ROOT_TEMPLATE)
    root_params = parameter_values(raw_root, given or {})
    out = {"root": root}
    for name, stack in by_type(root, "AWS::CloudFormation::Stack").items():
        params = nested_parameters_as_deployed(raw_root, root_params, stack)
        out[name] = resolve(load(REPO / stack["Properties"]["TemplateURL"]), params)
    return out


_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(node: Any, local_names: frozenset[str] = frozenset()) -> set[str]:
    """Logical ids an expression refers to (Ref, GetAtt, Sub), pseudo parameters aside."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                names = set(_SUB_NAME.findall(text)) - set(variables) - local_names
                found |= names | references(variables)
            else:
                found |= references(value, local_names)
    elif isinstance(node, list):
        for item in node:
            found |= references(item, local_names)
    return {name for name in found if not name.startswith("AWS::")}


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """For each resource, the resources CloudFormation waits for before creating or updating
    it: those it references (Ref, GetAtt, Sub) and its DependsOn."""
    resources = template.get("Resources", {})
    graph = {}
    for name, resource in resources.items():
        direct = references(resource.get("Properties", {}))
        depends_on = resource.get("DependsOn", [])
        direct |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        graph[name] = direct & set(resources)
    return graph


def waits_for(template: dict[str, Any], name: str) -> set[str]:
    """Every resource `name` waits for, directly or through others (transitive closure)."""
    graph = dependencies(template)
    seen: set[str] = set()
    todo = list(graph[name])
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(graph.get(current, ()))
    return seen
