"""Hold every request our loopback servers receive against the providers' published specs.

The specs are the providers' own files in `shared/provider-specs/` (beside the repository; see
its SOURCES.md), never our reading of them:

- ShipEngine: its OpenAPI 3.0 document. A request must name a path and method it documents,
  carry the `API-Key` header, send the documented parameters with their types, and a JSON body
  that validates against the operation's request schema.
- Stripe: `spec3.json` says which paths and methods exist. Its request schemas are for an older
  API version, so the body (form-encoded, bracket notation) is validated against the version we
  actually send: the pinned stripe-python's `stripe/params` TypedDicts, "generated from our
  OpenAPI spec", with their required fields, enums and deprecation notes. Stripe refuses
  parameters it does not know; so do we, and also parameters the docs mark deprecated.
- imeicheck.net publishes no machine-readable spec: `IMEICHECK_API` below is written from its
  documented requests and the answers quoted in `imeicheck-samples.json`.

The schemas are validated with `jsonschema` (pinned in pyproject.toml). Each spec is loaded and
prepared once per test session (module-level caches), so the suite stays fast.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import stripe

# --- finding the published files ----------------------------------------------------------------


class SpecsNotFound(RuntimeError):
    pass


@functools.cache
def specs_dir() -> Path:
    """Where the providers' published specs are, from any checkout of the repository.

    `PROVIDER_SPECS_DIR` when set; else, walking up from this checkout, the first directory
    holding `shared/provider-specs/` or `provider-specs/` (each with its SOURCES.md): the
    repository's clone sits beside `shared/` on the team's machines and in CI. tests/conftest.py
    asks once at start-up and stops the session with this message when there are none.
    """
    configured = os.environ.get("PROVIDER_SPECS_DIR")
    if configured:
        path = Path(configured).expanduser().resolve()
        if not (path / "SOURCES.md").is_file():
            raise SpecsNotFound(
                f"PROVIDER_SPECS_DIR={configured} holds no provider specs (no SOURCES.md there): "
                "point it at the provider-specs folder of the shared files"
            )
        return path
    checkout = Path(__file__).resolve().parents[2]
    for parent in checkout.parents:
        for candidate in (parent / "shared" / "provider-specs", parent / "provider-specs"):
            if (candidate / "SOURCES.md").is_file():
                return candidate
    raise SpecsNotFound(
        "The providers' published specs (ShipEngine, Stripe, imeicheck.net) were not found "
        f"above {checkout}: set PROVIDER_SPECS_DIR=/path/to/provider-specs, or put the shared "
        "files beside this checkout (../shared/provider-specs/)"
    )


@functools.cache
def load(name: str) -> Any:
    return json.loads((specs_dir() / name).read_text())


def imei_sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(load("imeicheck-samples.json")[name])


def stripe_fixture(resource: str, **changes: Any) -> dict[str, Any]:
    """A Stripe object as `fixtures3.json` shows it, with the test's own values on top."""
    body = copy.deepcopy(load("stripe-fixtures3.json")["resources"][resource])
    body.update(changes)
    return body


# --- OpenAPI 3.0 schemas as JSON Schema ---------------------------------------------------------


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if key == "properties":
            into.setdefault("properties", {}).update(value)
        elif key == "required":
            into["required"] = sorted(set(into.get("required", [])) | set(value))
        elif key not in into:
            into[key] = value


def request_schema(spec: dict[str, Any], schema: Any, _depth: int = 0) -> Any:
    """An OpenAPI 3.0 request schema as plain JSON Schema (draft 4): `$ref`s inlined, `allOf`
    merged into its parent (OpenAPI's `additionalProperties: false` next to `allOf` means the
    merged object), `nullable` as a null type, read-only properties not required."""
    if not isinstance(schema, dict) or _depth > 40:
        return schema if isinstance(schema, dict) else {}
    if "$ref" in schema:
        return request_schema(spec, _resolve(spec, schema["$ref"]), _depth + 1)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("allOf",):
            continue
        if key == "properties":
            out[key] = {k: request_schema(spec, v, _depth + 1) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = request_schema(spec, value, _depth + 1)
        elif key in ("anyOf", "oneOf"):
            out[key] = [request_schema(spec, v, _depth + 1) for v in value]
        elif key in ("example", "examples", "description", "discriminator", "xml", "title"):
            continue
        else:
            out[key] = value
    for part in schema.get("allOf", []):
        _merge(out, request_schema(spec, part, _depth + 1))
    if out.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    out.pop("nullable", None)
    if "required" in out and "properties" in out:
        read_only = {k for k, v in out["properties"].items() if v.get("readOnly")}
        out["required"] = [k for k in out["required"] if k not in read_only]
        if not out["required"]:
            del out["required"]
    return out


def problems(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(schema)
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path)):
        where = "".join(f"[{p}]" for p in error.path) or "body"
        found.append(f"{where}: {error.message[:300]}")
    return found


# --- a request, and the part every spec checks alike ---------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


@dataclass
class Route:
    template: str
    regex: re.Pattern[str]
    methods: dict[str, dict[str, Any]]  # lower-case method -> operation
    parameters: list[dict[str, Any]]  # path-level


def routes(spec: dict[str, Any]) -> list[Route]:
    found = [
        Route(
            template,
            _template_regex(template),
            {m: op for m, op in item.items() if m in ("get", "post", "put", "delete", "patch")},
            item.get("parameters", []),
        )
        for template, item in spec["paths"].items()
    ]
    # A literal segment wins over a template: /v1/labels/shipment/{id} before /v1/labels/{id}/...
    found.sort(key=lambda r: (r.template.count("{"), -len(r.template)))
    return found


def match(
    table: list[Route], method: str, path: str
) -> tuple[Route, dict[str, Any], dict[str, str]]:
    """(route, operation, path parameters); LookupError saying what is wrong."""
    known_path = None
    for route in table:
        found = route.regex.match(path)
        if not found:
            continue
        known_path = known_path or route
        operation = route.methods.get(method.lower())
        if operation is not None:
            return route, operation, found.groupdict()
    if known_path is None:
        raise LookupError(f"{method} {path}: no such path in the published spec")
    raise LookupError(
        f"{method} {path}: the spec documents {', '.join(sorted(known_path.methods)).upper()} "
        f"on {known_path.template}, not {method}"
    )


def _parameter_problems(
    spec: dict[str, Any],
    route: Route,
    operation: dict[str, Any],
    path_params: dict[str, str],
    request: Request,
) -> list[str]:
    found = []
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    declared = [
        p if "$ref" not in p else _resolve(spec, p["$ref"])
        for p in [*route.parameters, *operation.get("parameters", [])]
    ]
    known_query = set()
    for param in declared:
        where, name = param["in"], param["name"]
        value = {
            "path": path_params,
            "query": query,
            "header": {k.lower(): v for k, v in request.headers.items()},
        }.get(where, {}).get(name if where != "header" else name.lower())
        if where == "query":
            known_query.add(name)
        if value is None:
            if param.get("required"):
                found.append(f"the {where} parameter {name} is required")
            continue
        schema = request_schema(spec, param.get("schema", {}))
        found += [
            f"{where} parameter {name}: {p}" for p in problems(schema, _scalar(value, schema))
        ]
    for name in query:
        if name not in known_query:
            found.append(f"the query parameter {name} is not documented for this operation")
    return found


def _scalar(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


# --- ShipEngine -----------------------------------------------------------------------------------


@functools.cache
def _shipengine() -> tuple[dict[str, Any], list[Route]]:
    spec = load("shipengine-openapi.json")
    return spec, routes(spec)


def shipengine_problems(request: Request) -> list[str]:
    """What ShipEngine would refuse in this request, by its OpenAPI document."""
    spec, table = _shipengine()
    try:
        route, operation, path_params = match(table, request.method, request.path)
    except LookupError as exc:
        return [str(exc)]
    found = []
    scheme = spec["components"]["securitySchemes"]["api_key"]
    if not request.headers.get(scheme["name"].lower()):
        found.append(f"the {scheme['name']} header is required")
    found += _parameter_problems(spec, route, operation, path_params, request)
    body_spec = operation.get("requestBody")
    if body_spec is None:
        if request.body.strip():
            found.append("this operation takes no request body")
        return found
    content = body_spec.get("content", {})
    if not request.body.strip():
        if body_spec.get("required"):
            found.append("a JSON request body is required")
        return found
    if request.content_type not in content:
        return [*found, f"Content-Type {request.content_type!r} is not one of {sorted(content)}"]
    try:
        body = json.loads(request.body)
    except ValueError:
        return [*found, "the body is not JSON"]
    schema = _compiled_body_schema(request.method, route.template)
    return found + problems(schema, body)


@functools.cache
def _compiled_body_schema(method: str, template: str) -> dict[str, Any]:
    spec, _ = _shipengine()
    operation = spec["paths"][template][method.lower()]
    return request_schema(spec, operation["requestBody"]["content"]["application/json"]["schema"])


def shipengine_error(messages: Iterable[str], *, status: int = 400) -> dict[str, Any]:
    """ShipEngine's `error_response_body`: `{request_id, errors: [error]}`."""
    return {
        "request_id": "aa3d8e8e-462b-4476-9618-72db7f7b7009",
        "errors": [
            {
                "error_source": "shipengine",
                "error_type": "validation",
                "error_code": "invalid_field_value" if status == 400 else "unauthorized",
                "message": message,
            }
            for message in messages
        ],
    }


def shipengine_example(template: str, method: str = "get", status: str = "200") -> dict[str, Any]:
    """The example answer the spec gives for an operation (its `example` or the schema's)."""
    spec, _ = _shipengine()
    content = spec["paths"][template][method]["responses"][status]
    content = _resolve(spec, content["$ref"]) if "$ref" in content else content
    media = content["content"]["application/json"]
    if "example" in media:
        return copy.deepcopy(media["example"])
    return copy.deepcopy(_example_from_schema(spec, media["schema"]))


def _example_from_schema(spec: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    if depth > 12 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return _example_from_schema(spec, _resolve(spec, schema["$ref"]), depth + 1)
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _example_from_schema(spec, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
            elif value is not None:
                return value
        extra = _example_from_schema(spec, {k: v for k, v in schema.items() if k != "allOf"})
        if isinstance(extra, dict):
            merged.update(extra)
        return merged
    if schema.get("properties"):
        return {
            k: _example_from_schema(spec, v, depth + 1) for k, v in schema["properties"].items()
        }
    if schema.get("type") == "array":
        item = _example_from_schema(spec, schema.get("items", {}), depth + 1)
        return [item] if item is not None else []
    if "enum" in schema:
        return schema["enum"][0]
    return None


# --- Stripe ---------------------------------------------------------------------------------------
STRIPE_DIR = Path(stripe.__file__).parent
# Keys stripe-python's RequestOptions adds to every params class: sent as headers, not params.
REQUEST_OPTIONS = {
    "api_key",
    "stripe_version",
    "stripe_account",
    "stripe_context",
    "idempotency_key",
    "headers",
    "max_network_retries",
    "base_address",
    "api_mode",
}


@dataclass
class _Field:
    annotation: ast.expr
    doc: str
    required: bool


class _ParamClasses(dict):
    """stripe/params TypedDicts by name, each file parsed the first time one of its classes is
    asked for: field name -> annotation, docstring, required."""

    def __missing__(self, name: str) -> dict[str, _Field]:
        head = name[: name.index("Params") + len("Params")] if "Params" in name else name
        source = STRIPE_DIR / "params" / f"_{re.sub(r'(?<!^)(?=[A-Z])', '_', head).lower()}.py"
        if not source.exists():
            raise KeyError(name)
        for node in ast.parse(source.read_text()).body:
            if isinstance(node, ast.ClassDef):
                self[node.name] = _fields(node)
        return dict.__getitem__(self, name)

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except KeyError:
            return False
        return True

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default


def _fields(node: ast.ClassDef) -> dict[str, _Field]:
    fields: dict[str, _Field] = {}
    body = node.body
    for i, item in enumerate(body):
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            doc = ""
            nxt = body[i + 1] if i + 1 < len(body) else None
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
                doc = str(nxt.value.value)
            annotation = item.annotation
            required = True
            if (
                isinstance(annotation, ast.Subscript)
                and isinstance(annotation.value, ast.Name)
                and annotation.value.id == "NotRequired"
            ):
                required, annotation = False, annotation.slice
            fields[item.target.id] = _Field(annotation, doc.strip(), required)
    return fields


_PARAM_CLASSES = _ParamClasses()


def _stripe_param_classes() -> _ParamClasses:
    return _PARAM_CLASSES


def _annotation_schema(node: ast.expr, defs: dict[str, Any]) -> dict[str, Any]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _annotation_schema(ast.parse(node.value, mode="eval").body, defs)
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        alternatives = [_annotation_schema(node.left, defs), _annotation_schema(node.right, defs)]
        flat: list[dict[str, Any]] = []
        for alt in alternatives:
            flat.extend(alt["anyOf"] if set(alt) == {"anyOf"} else [alt])
        # `Literal['a', 'b']|str` is an open enum: any string goes.
        if {"type": "string"} in flat:
            flat = [a for a in flat if not _string_enum(a)]
        return flat[0] if len(flat) == 1 else {"anyOf": flat}
    if isinstance(node, ast.Name):
        simple = {
            "str": {"type": "string"},
            "int": {"type": "integer"},
            "float": {"type": "number"},
            "bool": {"type": "boolean"},
            "Any": {},
            "object": {},
        }
        if node.id in simple:
            return dict(simple[node.id])
        if node.id in _stripe_param_classes():
            if node.id not in defs:
                defs[node.id] = {}  # recursion guard
                defs[node.id] = _class_schema(node.id, defs)
            return {"$ref": f"#/definitions/{node.id}"}
        return {}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        head, args = node.value.id, node.slice
        items = list(args.elts) if isinstance(args, ast.Tuple) else [args]
        if head == "Literal":
            return {"enum": [ast.literal_eval(i) for i in items]}
        if head in ("List", "Sequence"):
            return {"type": "array", "items": _annotation_schema(items[0], defs)}
        if head in ("Dict", "Mapping"):
            return {"type": "object", "additionalProperties": _annotation_schema(items[-1], defs)}
        if head == "UntypedStripeObject":
            return {"type": "object", "additionalProperties": _annotation_schema(items[0], defs)}
        if head == "Optional":
            return {"anyOf": [_annotation_schema(items[0], defs), {"type": "null"}]}
    return {}


def _string_enum(schema: dict[str, Any]) -> bool:
    return set(schema) == {"enum"} and all(isinstance(v, str) and v for v in schema["enum"])


def _class_schema(name: str, defs: dict[str, Any]) -> dict[str, Any]:
    fields = _stripe_param_classes()[name]
    properties = {
        key: _annotation_schema(f.annotation, defs)
        for key, f in fields.items()
        if key not in REQUEST_OPTIONS
    }
    required = [k for k, f in fields.items() if f.required and k not in REQUEST_OPTIONS]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


@functools.cache
def stripe_params_schema(class_name: str) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    schema = _class_schema(class_name, defs)
    schema["definitions"] = defs
    return schema


def deprecated_params(class_name: str, value: Any, prefix: str = "") -> list[str]:
    """The parameters in `value` whose documentation says they are deprecated."""
    found = []
    fields = _stripe_param_classes().get(class_name, {})
    if not isinstance(value, dict):
        return found
    for key, sub in value.items():
        field = fields.get(key)
        if field is None:
            continue
        if re.search(r"\bis deprecated\b|^Deprecated\b", field.doc):
            found.append(f"{prefix}{key}")
        nested = _class_name(field.annotation)
        if nested:
            found += deprecated_params(nested, sub, f"{prefix}{key}.")
    return found


def _class_name(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _class_name(ast.parse(node.value, mode="eval").body)
    if isinstance(node, ast.Name) and node.id in _stripe_param_classes():
        return node.id
    return ""


@functools.cache
def _stripe_operations() -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> the params class stripe-python sends with it."""
    table: dict[tuple[str, str], str] = {}
    for source in sorted(STRIPE_DIR.rglob("_*_service.py")):
        tree = ast.parse(source.read_text())
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            params = next((a for a in func.args.args if a.arg == "params"), None)
            if params is None or params.annotation is None:
                continue
            name = re.findall(r"[A-Z]\w*Params", ast.unparse(params.annotation))
            for call in ast.walk(func):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "_request"
                    and len(call.args) >= 2
                    and isinstance(call.args[0], ast.Constant)
                ):
                    path_node = call.args[1]
                    if isinstance(path_node, ast.Call) and isinstance(
                        path_node.func, ast.Attribute
                    ):
                        path_node = path_node.func.value
                    if isinstance(path_node, ast.Constant) and name:
                        table[(str(call.args[0].value).upper(), str(path_node.value))] = name[0]
    return table


@functools.cache
def _stripe_spec() -> tuple[dict[str, Any], list[Route]]:
    spec = load("stripe-spec3-2022-04-12.json")
    return spec, routes(spec)


def decode_form(text: str) -> dict[str, Any]:
    """Stripe's form encoding: `a[b][c]=v`, `a[0]=v` / `a[]=v` for lists, as nested dicts."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = re.findall(r"^[^\[]+|\[([^\]]*)\]", key)
        head = key.split("[", 1)[0]
        names = [head, *parts[1:]] if parts else [key]
        node = root
        for i, name in enumerate(names):
            last = i == len(names) - 1
            if name == "":  # `a[]=v`: append
                name = str(len(node))
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
                if not isinstance(node, dict):
                    raise ValueError(f"{key}: a value and a hash under one name")
    return root


def coerce(value: Any, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """Form values are strings: read them as the schema's types (as Stripe does)."""
    if "$ref" in schema:
        return coerce(value, defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        for alt in schema["anyOf"]:
            candidate = coerce(value, alt, defs)
            if not problems({**alt, "definitions": defs}, candidate):
                return candidate
        return value
    kind = schema.get("type")
    if kind == "array" and isinstance(value, dict):
        if all(k.isdigit() for k in value):
            value = [value[k] for k in sorted(value, key=int)]
    if kind == "array" and isinstance(value, list):
        return [coerce(v, schema.get("items", {}), defs) for v in value]
    if kind == "object" and isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            k: coerce(v, props.get(k, extra if isinstance(extra, dict) else {}), defs)
            for k, v in value.items()
        }
    if isinstance(value, str):
        if kind == "integer" and re.fullmatch(r"-?\d+", value):
            return int(value)
        if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def stripe_problems(request: Request, *, key: str) -> tuple[int, list[str]]:
    """(HTTP status, what Stripe would refuse in this request); no problems: (200, [])."""
    spec, table = _stripe_spec()
    if request.headers.get("authorization") != f"Bearer {key}":
        return 401, ["Invalid API Key provided"]
    try:
        route, _, _ = match(table, request.method, request.path)
    except LookupError as exc:
        return 404, [f"Unrecognized request URL ({exc})"]
    class_name = _stripe_operations().get((request.method.upper(), route.template))
    if class_name is None:
        return 404, [f"stripe-python sends nothing to {request.method} {route.template}"]
    if request.method == "GET":
        raw = request.query
    else:
        if request.body and request.content_type != "application/x-www-form-urlencoded":
            return 400, ["Stripe takes application/x-www-form-urlencoded request bodies"]
        raw = request.body.decode()
    try:
        params = decode_form(raw)
    except ValueError as exc:
        return 400, [str(exc)]
    schema = stripe_params_schema(class_name)
    params = coerce(params, schema, schema["definitions"])
    found = problems(schema, params)
    found += [
        f"{name} is deprecated in the API version we send ({class_name})"
        for name in deprecated_params(class_name, params)
    ]
    return (400, found) if found else (200, [])


def stripe_error(message: str, *, param: str = "", code: str = "") -> dict[str, Any]:
    """Stripe's `error` shape (spec3 `#/components/schemas/error`)."""
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    return {"error": error}


# --- imeicheck.net ----------------------------------------------------------------------------
# Its documented requests: bearer key; `POST /v1/checks` with a JSON body whose deviceId is
# 8-15 characters (the service's own 422 says so, see the samples' `error_422`) and whose
# serviceId is the number of one of its services (`service.id` in every answer is an integer).
IMEICHECK_API: dict[tuple[str, str], dict[str, Any] | None] = {
    ("POST", "/v1/checks"): {
        "type": "object",
        "required": ["deviceId", "serviceId"],
        "additionalProperties": False,
        "properties": {
            "deviceId": {"type": "string", "minLength": 8, "maxLength": 15},
            "serviceId": {"type": "integer", "minimum": 1},
        },
    },
    ("GET", "/v1/checks/{id}"): None,
    ("GET", "/v1/account"): None,
    ("GET", "/v1/services"): None,
}


def imeicheck_problems(request: Request) -> tuple[int, dict[str, Any] | None]:
    """(status, the service's error body) for a request it would refuse; (200, None) if fine."""
    if not re.fullmatch(r"Bearer \S+", request.headers.get("authorization", "")):
        return 401, {"message": "Unauthenticated."}
    template = re.sub(r"^/v1/checks/[^/]+$", "/v1/checks/{id}", request.path)
    if (request.method, template) not in IMEICHECK_API:
        return 404, {"message": f"The route {request.path} could not be found."}
    schema = IMEICHECK_API[(request.method, template)]
    if schema is None:
        return 200, None
    if request.content_type != "application/json":
        return 422, {"message": "The request body must be JSON.", "errors": {}}
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return 422, {"message": "The request body is not JSON.", "errors": {}}
    found = problems(schema, body)
    if found:
        return 422, {"message": found[0], "errors": {"body": found}}
    return 200, None


# The operations our clients call: prepared before a loopback server answers its first request,
# so the first answer is not late (the clients' timeouts in tests are half a second).
STRIPE_OPERATIONS_USED = [
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts/{account}"),
    ("POST", "/v1/account_links"),
    ("POST", "/v1/transfers"),
    ("GET", "/v1/transfers"),
    ("GET", "/v1/balance"),
    ("GET", "/v1/balance_transactions"),
]
SHIPENGINE_BODIES_USED = [
    ("POST", "/v1/labels"),
    ("POST", "/v1/labels/shipment/{shipment_id}"),
    ("POST", "/v1/addresses/validate"),
]


@functools.cache
def warm() -> None:
    _shipengine()
    for method, template in SHIPENGINE_BODIES_USED:
        _compiled_body_schema(method, template)
    _stripe_spec()
    operations = _stripe_operations()
    for key in STRIPE_OPERATIONS_USED:
        stripe_params_schema(operations[key])
