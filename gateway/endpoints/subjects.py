"""The rights API for a DPO or a support tool (admin bearer token), and the receipts export.

GET    /api/subjects/{id}              everything held, as a JSON download (portability)
DELETE /api/subjects/{id}              erase it all, leave the tombstone → counts per kind
POST   /api/subjects/{id}/objection    {"categories": ["marketing"], "source"?: "…"}
GET    /api/receipts?since=&until=&format=csv|jsonl    every receipt, streamed
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.admin_auth import require_admin
from gateway.endpoints.bodies import read_json
from gateway.errors import Unprocessable
from gateway.receipts.export import Format, csv_header, csv_line, jsonl_line, parse_moment
from gateway.receipts.model import Receipt
from gateway.rights import checked_subject, erase_subject, export_subject, object_to
from gateway.runtime import Gateway, gateway_of

_NO_STORE = {"Cache-Control": "no-store"}
_OBJECTION_FIELDS = {"categories", "source"}
_MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
CHUNK_BYTES = 64 * 1024
RECEIPT_QUERY = {"since", "until", "format"}
LAST_MOMENT = 253_402_300_799.0  # 9999-12-31T23:59:59Z


async def _admin_gateway(request: Request) -> Gateway:
    gateway = gateway_of(request)
    await require_admin(request, gateway.settings.admin_token_hashes)
    return gateway


async def export(request: Request) -> Response:
    gateway = await _admin_gateway(request)
    subject = checked_subject(request.path_params["subject"])
    document = await export_subject(gateway, subject)
    disposition = f'attachment; filename="subject-{subject}.json"'
    return JSONResponse(document, headers={**_NO_STORE, "Content-Disposition": disposition})


async def erase(request: Request) -> Response:
    gateway = await _admin_gateway(request)
    subject = checked_subject(request.path_params["subject"])
    erased = await erase_subject(gateway, subject)
    return JSONResponse({"subject_id": subject, "erased": erased}, headers=_NO_STORE)


async def objection(request: Request) -> Response:
    gateway = await _admin_gateway(request)
    subject = checked_subject(request.path_params["subject"])
    body = await read_json(request)
    if not isinstance(body, dict):
        raise Unprocessable("the body must be a JSON object")
    unknown = sorted(set(body) - _OBJECTION_FIELDS)
    if unknown:
        raise Unprocessable(
            f"unknown field(s): {', '.join(unknown)}", allowed=sorted(_OBJECTION_FIELDS)
        )
    categories = body.get("categories")
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise Unprocessable('"categories" must be a list of category names')
    source = body.get("source", "api")
    if not isinstance(source, str) or not 0 < len(source) <= 64 or not source.isprintable():
        raise Unprocessable('"source" must be printable text of 1 to 64 characters')
    recorded = await object_to(gateway, subject, categories, source=source)
    return JSONResponse(
        {
            "subject_id": subject,
            "objected": list(recorded.categories),
            "receipt_id": recorded.receipt_id,
        },
        headers=_NO_STORE,
    )


async def receipts(request: Request) -> Response:
    """Every receipt in `[since, until)`, oldest first, streamed page by page from the store."""
    gateway = await _admin_gateway(request)
    query = request.query_params
    unknown = sorted(set(query) - RECEIPT_QUERY)
    if unknown:
        raise Unprocessable(f"unknown parameter(s): {', '.join(unknown)}")
    since, until = _moment(query, "since"), _moment(query, "until")
    chosen = query.get("format", "jsonl")
    if chosen not in _MEDIA_TYPES:
        raise Unprocessable('"format" must be csv or jsonl')
    form: Format = "csv" if chosen == "csv" else "jsonl"
    stream = gateway.store.iter_receipts(since, until)
    # The first page is read before the answer starts, so a store that is down is a clean 503.
    first = await anext(stream, None)
    headers = {
        **_NO_STORE,
        "Content-Disposition": f'attachment; filename="receipts.{form}"',
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        _lines(first, stream, form), media_type=_MEDIA_TYPES[form], headers=headers
    )


async def _lines(
    first: Receipt | None, rest: AsyncIterator[Receipt], form: Format
) -> AsyncIterator[bytes]:
    """The export in chunks of about `CHUNK_BYTES`: constant memory, few sends."""
    line = csv_line if form == "csv" else jsonl_line
    chunk: list[bytes] = [csv_header().encode()] if form == "csv" else []
    size = sum(map(len, chunk))

    async def everything() -> AsyncIterator[Receipt]:
        if first is not None:
            yield first
            async for receipt in rest:
                yield receipt

    async for receipt in everything():
        data = line(receipt).encode()
        chunk.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def _moment(query: Any, name: str) -> float | None:
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        moment = parse_moment(text)
    except (ValueError, OverflowError):
        moment = -1.0
    if not 0 <= moment <= LAST_MOMENT:
        raise Unprocessable(
            f'"{name}" must be an ISO date or time from 1970 on, like 2026-01-31 or'
            " 2026-01-31T12:00:00Z"
        )
    return moment


routes = [
    Route("/api/subjects/{subject}", export, methods=["GET"]),
    Route("/api/subjects/{subject}", erase, methods=["DELETE"]),
    Route("/api/subjects/{subject}/objection", objection, methods=["POST"]),
    Route("/api/receipts", receipts, methods=["GET"]),
]
