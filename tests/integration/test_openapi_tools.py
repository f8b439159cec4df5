"""The OpenAPI document as tools use it: a generated client works, linters find nothing.

``openapi-python-client`` generates a client into a temporary folder and that client drives
the real app; Redocly CLI lints the document (skipped without npm); and the document's own
rules are checked here: typed parameters, short ids, tags, descriptions, security, formats,
429/503, the outgoing event, and an example for every body that fits its schema.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import msgspec
import pytest
from litestar import Response
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from tests.conftest import Api, ApiFactory
from workhooks import documents
from workhooks.config import Settings
from workhooks.domain.scopes import Scope

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
AGENT = "GeneratedClient/1.0 (workhooks)"
PUBLIC = {"issueToken", "getOpenidConfiguration", "getJwks"}


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """The app on the in-memory store."""
    return await api_factory(Settings.of(database_url="memory://"))


def _document(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = api.rt.app.openapi_schema.to_schema()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "delete")
    ]


def _generate(document: dict[str, Any], folder: Path) -> None:
    source = folder / "openapi.json"
    source.write_bytes(msgspec.json.encode(document))
    config = folder / "config.json"
    config.write_text('{"post_hooks": []}')
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [
            *(str(generator), "generate", "--path", str(source), "--meta", "none"),
            *("--output-path", str(folder / "generated_client"), "--config", str(config)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr


async def test_generated_client_creates_lists_and_deletes_webhooks(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client generated from /openapi.json takes a token and manages webhooks on the app."""
    _generate(_document(api), tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    package = "generated_client"
    client_module = importlib.import_module(f"{package}.client")
    issue_token = importlib.import_module(f"{package}.api.auth.issue_token")
    webhooks = {
        name: importlib.import_module(f"{package}.api.webhooks.{name}")
        for name in ("create_webhook", "list_webhooks", "delete_webhook")
    }
    models = importlib.import_module(f"{package}.models")
    client_id, secret = await api.credentials("acme", tuple(Scope))
    app: Any = api.rt.app  # httpx types ASGI apps with plain dicts
    transport = httpx.ASGITransport(app=app)
    anonymous = client_module.Client(
        base_url="http://testserver", httpx_args={"transport": transport}
    )
    form = models.IssueTokenBody(
        grant_type=models.IssueTokenBodyGrantType.CLIENT_CREDENTIALS,
        client_id=client_id,
        client_secret=secret,
    )
    grant = await issue_token.asyncio(tenant="acme", client=anonymous, body=form)
    assert isinstance(grant, models.AccessToken)
    client = client_module.AuthenticatedClient(
        base_url="http://testserver", token=grant.access_token, httpx_args={"transport": transport}
    )
    body = models.WebhookIn(
        destination_url="https://consumer.example.com/hook", collection_name="work-interruptions"
    )
    created = await webhooks["create_webhook"].asyncio(client=client, body=body, user_agent=AGENT)
    assert isinstance(created, models.CreatedWebhook)
    assert created.key.startswith("whsec_")
    listed = await webhooks["list_webhooks"].asyncio(client=client, user_agent=AGENT)
    assert [w.id for w in listed.value] == [created.id]
    deleted = await webhooks["delete_webhook"].asyncio_detailed(
        webhook_id=created.id, client=client, user_agent=AGENT
    )
    assert deleted.status_code == 204
    listed = await webhooks["list_webhooks"].asyncio(client=client, user_agent=AGENT)
    assert listed.value == []
    refused = await webhooks["list_webhooks"].asyncio(
        client=client, user_agent=AGENT, filter_="status eq"
    )
    assert isinstance(refused, models.ErrorBody | models.ValidationErrorBody)


def test_redocly_lint_finds_no_error_and_no_warning() -> None:
    """``scripts/lint_openapi.py`` (Redocly CLI, recommended rules) passes without warnings."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the Redocly lint needs Node.js with npm")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lint_openapi.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


async def test_every_parameter_is_typed_and_every_operation_described(api: Api) -> None:
    """Parameters have a typed schema; operations a short unique id, a tag and a description."""
    operations = _operations(_document(api))
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids)) == 47  # clients 5, groups 6, console 14
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert len(operation["operationId"]) <= 32, where
        assert "_" not in operation["operationId"], where
        assert len(operation["tags"]) == 1, where
        assert operation.get("description"), where
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            assert "type" in schema or "oneOf" in schema, f"{where} {parameter['name']}"


async def test_security_is_oauth2_with_the_scope_of_each_operation(api: Api) -> None:
    """Public routes say ``security: []``; every other names the one scope its guard needs."""
    document = _document(api)
    flow = document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert set(flow["scopes"]) == {s.value for s in Scope}
    for path, method, operation in _operations(document):
        if operation["operationId"] in PUBLIC:
            assert operation["security"] == [], path
            continue
        [requirement] = operation["security"]
        assert list(requirement) == ["oauth2"], path
        assert requirement["oauth2"][0] in flow["scopes"], path
        assert {"429", "503"} <= set(operation["responses"]), f"{method} {path}"
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    token = document["paths"]["/tenants/{tenant}/connect/token"]["post"]
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == {"grant_type", "client_id", "client_secret", "scope"}


async def test_formats_and_the_outgoing_event(api: Api) -> None:
    """Dates, times, URLs and webhook ids carry formats; the event is under 3.1 ``webhooks``."""
    document = _document(api)
    schemas = document["components"]["schemas"]
    assert schemas["WorkInterruption"]["properties"]["date"]["format"] == "date"
    assert schemas["Webhook"]["properties"]["validUntil"]["format"] == "date-time"
    assert schemas["Webhook"]["properties"]["destinationUrl"]["format"] == "uri"
    assert schemas["Webhook"]["properties"]["id"]["format"] == "uuid"
    assert schemas["Delivery"]["properties"]["nextAttemptAt"]["oneOf"][0]["format"] == "date-time"
    event = document["webhooks"]["workInterruptionChanged"]["post"]
    headers = {p["name"] for p in event["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert document["openapi"].startswith("3.1")


def _returned(handler: HTTPRouteHandler) -> Any:
    """The document class a handler returns (``Response[X]`` counts as ``X``)."""
    annotation = handler.parsed_fn_signature.return_type
    if annotation.is_subclass_of(Response):
        return annotation.inner_types[0].annotation
    return annotation.annotation


async def test_every_answer_is_a_document_struct_and_its_schema(api: Api) -> None:
    """Each JSON answer a handler returns is a ``workhooks.documents`` Struct (or nothing), and
    its success schema in the document is that very Struct."""
    document = _document(api)
    shapes = {name for name in documents.__all__ if isinstance(getattr(documents, name), type)}
    checked = 0
    for route in api.rt.app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/console", "/portal")):
            continue
        for handler in route.route_handlers:
            method = next(iter(handler.http_methods)).lower()
            operation = document["paths"].get(route.path_format, {}).get(method)
            if operation is None:  # not part of the API (probes, metrics, the document itself)
                continue
            returned = _returned(handler)
            where = f"{method.upper()} {route.path_format}"
            answer = operation["responses"][str(handler.status_code)]
            if returned in (None, type(None)):
                assert "content" not in answer, where
                continue
            assert issubclass(returned, documents.Document), where
            schema = answer["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{returned.__name__}"}, where
            assert returned.__name__ in shapes, where
            checked += 1
    assert checked >= 30


def _bodies(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every JSON or form body of a request or response, named by where it is."""
    found = []
    items = [*document["paths"].items(), *document["webhooks"].items()]
    for path, item in items:
        for method, operation in item.items():
            parts = [("request", operation.get("requestBody", {}))]
            parts += [(status, r) for status, r in operation.get("responses", {}).items()]
            for label, part in parts:
                for media, content in part.get("content", {}).items():
                    found.append((f"{method} {path} {label} {media}", content))
    return found


async def test_every_body_has_an_example_that_fits_its_schema(api: Api) -> None:
    """Each request and response body shows an example, and the example validates."""
    document = _document(api)
    schemas = document["components"]["schemas"]
    for where, content in _bodies(document):
        schema = content["schema"]
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        examples = [content["example"]] if "example" in content else []
        examples += schemas[name].get("examples", []) if name else schema.get("examples", [])
        if not examples and "oneOf" in schema:
            examples = [
                example
                for member in schema["oneOf"]
                for example in schemas[member["$ref"].rsplit("/", 1)[-1]].get("examples", [])
            ]
        assert examples, where
        validator = jsonschema_rs.Draft202012Validator(
            {**schema, "components": document["components"]}
        )
        for example in examples:
            validator.validate(example)
