#!/usr/bin/env python3
"""Checks recorded HTTP exchanges of ExportAPIHandler against Docs/openapi.yaml.

Usage: check_openapi_contract.py <openapi.yaml> <exchanges.json>

The exchanges file is written by Tests/ExportHTTPAPITests/ContractTests.swift:
  {"served": [{"method", "template"}], "exchanges": [{"method", "template" (null when no route
   matched), "status", "headers": [[name, value]], "body": text or null}]}

Checks, printing every violation and exiting 1 when there is any:
  1. the document is a valid OpenAPI 3.1 document;
  2. the routes the handler serves are exactly the documented (path, method) pairs;
  3. every exchange's status is documented for its operation (5xx may fall under `default`), its
     content type is one the response declares (or it has no body when none is declared), its body
     validates against the declared schema, and every required response header is present and
     valid; unrouted 404s and 405s carry a Problem body, and a 405's Allow lists exactly the
     documented methods of the path; a request body the handler accepted (2xx) validates against
     the operation's request schema, so the document admits what the code accepts;
  4. every documented (path, method, status) is exercised by at least one exchange.
Exit status 3 means a required Python module is missing.
"""
import json
import sys

try:
    import yaml
    from openapi_spec_validator import validate
    from openapi_schema_validator import OAS31Validator
except ImportError as error:  # pragma: no cover
    print(f"missing Python module: {error.name} (pip install openapi-spec-validator pyyaml)")
    sys.exit(3)

METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]


def is_json(media_type):
    """Whether a media type is a JSON document: application/json or a +json suffix (RFC 6839).

    application/jsonl (JSON Lines) is not: it is many documents, one per line.
    """
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    record = json.load(open(sys.argv[2]))
    errors = []

    try:
        validate(spec)
    except Exception as error:  # noqa: BLE001 - report whatever the validator says
        errors.append(f"the document is not valid OpenAPI: {error}")

    components = spec.get("components", {})

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            parts = node["$ref"].lstrip("#/").split("/")
            node = spec
            for part in parts:
                node = node[part]
        return node

    def schema_errors(schema, instance):
        validator = OAS31Validator(
            {**schema, "components": components}, format_checker=OAS31Validator.FORMAT_CHECKER)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(instance)]

    documented = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                documented[(path, method.upper())] = item[method]

    served = {(r["template"], r["method"]) for r in record["served"]}
    for pair in sorted(served - documented.keys()):
        errors.append(f"served but not documented: {pair[1]} {pair[0]}")
    for pair in sorted(documented.keys() - served):
        errors.append(f"documented but not served: {pair[1]} {pair[0]}")

    problem_schema = {"$ref": "#/components/schemas/Problem"}
    covered = set()
    for number, exchange in enumerate(record["exchanges"]):
        method, template, status = exchange["method"], exchange["template"], exchange["status"]
        headers = {name.lower(): value for name, value in exchange["headers"]}
        label = f"#{number} {method} {template or exchange.get('path')} -> {status}"
        content_type = headers.get("content-type", "").split(";")[0].strip()
        body = exchange["body"]

        def check_problem():
            if content_type != "application/problem+json":
                errors.append(f"{label}: content type {content_type!r} is not application/problem+json")
                return
            for message in schema_errors(problem_schema, json.loads(body)):
                errors.append(f"{label}: {message}")

        if method == "HEAD" and body:
            errors.append(f"{label}: a HEAD response must have no body")
        operation = documented.get((template, method)) if template else None
        if operation is None:
            check_problem()
            if template is None and status != 404:
                errors.append(f"{label}: a path that is no route must answer 404")
            if template is not None:
                allowed = sorted(m for (p, m) in documented if p == template)
                given = sorted(part.strip() for part in headers.get("allow", "").split(","))
                if status != 405:
                    errors.append(f"{label}: an undocumented method must answer 405")
                if given != allowed:
                    errors.append(f"{label}: Allow {given} differs from the documented methods {allowed}")
            continue

        responses = operation["responses"]
        key = str(status)
        if key not in responses:
            if status >= 500 and "default" in responses:
                key = "default"
            else:
                errors.append(f"{label}: status {status} is not documented")
                continue
        covered.add((template, method, key))
        response = resolve(responses[key])

        request_body = exchange.get("requestBody")
        if 200 <= status < 300 and request_body and request_body.strip() and "requestBody" in operation:
            request_schema = resolve(operation["requestBody"])["content"]["application/json"]["schema"]
            for message in schema_errors(request_schema, json.loads(request_body)):
                errors.append(f"{label}: the accepted request body is not valid for the document: {message}")

        for name, header in response.get("headers", {}).items():
            header = resolve(header)
            value = headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    errors.append(f"{label}: required header {name} is missing")
                continue
            schema = header.get("schema", {})
            instance = value
            if schema.get("type") == "integer":
                try:
                    instance = int(value)
                except ValueError:
                    errors.append(f"{label}: header {name} {value!r} is not an integer")
                    continue
            for message in schema_errors(schema, instance):
                errors.append(f"{label}: header {name}: {message}")

        content = response.get("content")
        if not content:
            if body:
                errors.append(f"{label}: a body was sent but the response declares none")
            continue
        if content_type not in content:
            errors.append(f"{label}: content type {content_type!r} is not one of {sorted(content)}")
            continue
        if not is_json(content_type):
            continue  # text/csv, application/gzip, application/jsonl: recorded as a byte count only
        try:
            instance = json.loads(body)
        except (TypeError, ValueError):
            errors.append(f"{label}: the body is not JSON")
            continue
        for message in schema_errors(content[content_type]["schema"], instance):
            errors.append(f"{label}: {message}")

    for (path, method), operation in sorted(documented.items()):
        for key in operation["responses"]:
            if (path, method, key) not in covered:
                errors.append(f"documented but never exercised: {method} {path} -> {key}")

    for error in errors:
        print(error)
    print(f"{len(record['exchanges'])} exchanges, {len(covered)} documented responses exercised, {len(errors)} violations")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
