"""HTTP routes: the OpenAI Files and Batches API and the realtime endpoints, under ``/v1``, ``/openai`` and ``/openai/v1``.

``/v1/...`` is OpenAI's layout; ``/openai/...?api-version=...`` is what ``AzureOpenAI(azure_endpoint=...)``
sends; ``/openai/v1/...`` is Azure's v1 API. With an API key set, every route needs it as
``Authorization: Bearer KEY`` or ``api-key: KEY``. Every failure answers an OpenAI error body.
The realtime endpoints (``/chat/completions``, ``/completions``, ``/embeddings``, ``/responses``,
and Azure's ``/deployments/NAME/...``) answer with the engine that runs batch lines.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zenbatch.server.apierror import ApiError, error_body, invalid, not_found
from zenbatch.server.faults import FaultInjector
from zenbatch.server.objects import BatchCreate
from zenbatch.server.service import BatchService
from zenbatch.server.uploads import receive_upload


class RequestIds:
    """ASGI middleware: an ``x-request-id`` header on every response, as OpenAI sends (the SDK's ``_request_id``)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", f"req_{secrets.token_hex(16)}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


# The realtime endpoints, served by the batch lines' engine: a complete stand-in for offline development.
REALTIME = ("/chat/completions", "/completions", "/embeddings", "/responses")


def _json(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def _auth(api_key: str | None) -> Callable[[Request], None]:
    expected = api_key.encode() if api_key else None

    def check(request: Request) -> None:
        if expected is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else request.headers.get("api-key", "")
        if not given or not hmac.compare_digest(given.encode(), expected):
            raise ApiError(
                401,
                "Incorrect API key provided. Send the key this server was started with (--api-key) as 'Authorization: Bearer KEY' or 'api-key: KEY'.",
                code="invalid_api_key",
            )

    return check


def _as_reported(batch: BaseModel, faults: FaultInjector) -> BaseModel:
    status = getattr(batch, "status", None)
    reported = faults.reported_status(status) if isinstance(status, str) else status
    return batch if reported == status else batch.model_copy(update={"status": reported})


def _require_api_version(request: Request) -> None:
    if not request.query_params.get("api-version"):
        raise invalid("Missing required query parameter 'api-version' (e.g. api-version=2024-10-21).", "api-version")


def _routes(service: BatchService) -> APIRouter:
    router = APIRouter()
    faults = FaultInjector(service.settings.faults)

    @router.post("/files")
    async def create_file(request: Request) -> Response:
        upload = await receive_upload(
            request.headers.get("content-type"), request.headers.get("content-length"), request.stream(),
            service.store.files_dir, service.settings.max_upload_bytes,
        )  # fmt: skip
        created = service.create_file(upload)
        await faults.hold("upload")
        return _json(created)

    @router.get("/files")
    def list_files(
        purpose: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
        order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
        after: str | None = None,
    ) -> Response:
        return _json(service.list_files(purpose=purpose, limit=limit, order=order, after=after))

    @router.get("/files/{file_id}")
    def retrieve_file(file_id: str) -> Response:
        return _json(service.get_file(file_id))

    @router.delete("/files/{file_id}")
    def delete_file(file_id: str) -> Response:
        return _json(service.delete_file(file_id))

    @router.get("/files/{file_id}/content")
    def file_content(file_id: str) -> Response:
        path = service.file_content(file_id)
        purpose = service.get_file(file_id).purpose
        if faults.loses(purpose):
            raise not_found("file content", file_id)
        if faults.changes_content(purpose):
            body, length = faults.content(path, purpose)
            return StreamingResponse(body, media_type="application/octet-stream", headers={"content-length": str(length)})
        return FileResponse(path, media_type="application/octet-stream")

    @router.post("/batches")
    async def create_batch(request: Request) -> Response:
        raw = await request.body()
        try:
            body = BatchCreate.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            first = exc.errors()[0]
            param = ".".join(str(p) for p in first["loc"]) or None
            message = first["msg"].removeprefix("Value error, ")
            if first["type"] == "missing":
                message = f"Missing required parameter: '{param}'."
            raise invalid(message, param) from exc
        created = service.create_batch(body)
        await faults.hold("create")
        return _json(created)

    async def realtime(request: Request, endpoint: str, model: str | None = None) -> Response:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError as exc:
            raise invalid(f"The body is not valid JSON: {exc}.", None) from exc
        if not isinstance(body, dict):
            raise invalid("The body must be a JSON object.", None)
        if model is not None:
            body.setdefault("model", model)  # Azure's deployment routes name the model in the path
        reply = await run_in_threadpool(service.answer, endpoint, body, faults)
        return JSONResponse(reply.body, status_code=reply.status_code)

    for path in REALTIME:

        async def route(request: Request, path: str = path) -> Response:
            return await realtime(request, "/v1" + path)

        async def deployment_route(request: Request, deployment: str, path: str = path) -> Response:
            return await realtime(request, "/v1" + path, model=deployment)

        router.add_api_route(path, route, methods=["POST"])
        router.add_api_route(f"/deployments/{{deployment}}{path}", deployment_route, methods=["POST"])

    @router.get("/batches")
    def list_batches(limit: Annotated[int, Query(ge=1, le=100)] = 20, after: str | None = None) -> Response:
        page = service.list_batches(limit=limit, after=after)
        page.data = [_as_reported(batch, faults) for batch in page.data]
        return _json(page)

    @router.get("/batches/{batch_id}")
    def retrieve_batch(batch_id: str) -> Response:
        return _json(_as_reported(service.get_batch(batch_id), faults))

    @router.post("/batches/{batch_id}/cancel")
    def cancel_batch(batch_id: str) -> Response:
        return _json(service.cancel_batch(batch_id))

    return router


def create_app(service: BatchService, *, manage_service: bool = True) -> FastAPI:
    """The ASGI app over a BatchService.

    Args:
        manage_service: start the service's scheduler when the app starts and stop it when the
            app stops (the CLI). LocalBatchServer manages the service itself and passes False.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_service:
            service.start()
        try:
            yield
        finally:
            if manage_service:
                service.stop()

    app = FastAPI(title="zenbatch local batch server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(RequestIds)
    auth = Depends(_auth(service.settings.api_key))
    routes = _routes(service)
    app.include_router(routes, prefix="/v1", dependencies=[auth])
    app.include_router(routes, prefix="/openai/v1", dependencies=[auth])
    app.include_router(routes, prefix="/openai", dependencies=[auth, Depends(_require_api_version)])

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        param = str(first["loc"][-1]) if first.get("loc") else None
        return JSONResponse(error_body(f"Invalid value for '{param}': {first['msg']}.", "invalid_request_error", None, param), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = f"Invalid URL ({request.method} {request.url.path})" if exc.status_code in (404, 405) else str(exc.detail)
        return JSONResponse(error_body(message, "invalid_request_error"), exc.status_code)

    return app
