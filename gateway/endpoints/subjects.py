"""The rights API for a DPO or a support tool (admin bearer token), and the receipts export.

GET    /api/subjects/{id}              everything held, as a JSON download (portability)
DELETE /api/subjects/{id}              erase it all, leave the tombstone → counts per kind
POST   /api/subjects/{id}/objection    {"categories": ["marketing"], "source"?: "…"}
GET    /api/receipts?since=&until=&format=csv|jsonl    every receipt, streamed
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.admin_auth import require_admin
from gateway.bodies.answers import ErasedCounts, Erasure, ObjectionRecorded
from gateway.bodies.requests import ObjectionRequest
from gateway.endpoints.bodies import read_struct, struct_response
from gateway.errors import Unprocessable
from gateway.inputs import checked_moment, checked_subject
from gateway.receipts.export import MEDIA_TYPES, Format, export_chunks, started
from gateway.runtime import Gateway, gateway_of

_NO_STORE = {"Cache-Control": "no-store"}
RECEIPT_QUERY = {"since", "until", "format"}


async def _admin_gateway(request: Request) -> Gateway:
    gateway = gateway_of(request)
    await require_admin(request, gateway.settings.admin.token_hashes)
    return gateway


async def export(request: Request) -> Response:
    gateway = await _admin_gateway(request)
    subject = checked_subject(request.path_params["subject"])
    document = await gateway.rights.export(subject)
    disposition = f'attachment; filename="subject-{subject}.json"'
    return JSONResponse(document, headers={**_NO_STORE, "Content-Disposition": disposition})


async def erase(request: Request) -> Response:
    gateway = await _admin_gateway(request)
    subject = checked_subject(request.path_params["subject"])
    erased = await gateway.rights.erase(subject)
    answer = Erasure(subject, msgspec.convert(erased, ErasedCounts))
    return struct_response(answer, headers=_NO_STORE)


async def objection(request: Request) -> Response:
    gateway = await _admin_gateway(request)
    subject = checked_subject(request.path_params["subject"])
    body = await read_struct(request, ObjectionRequest)
    if not body.source.isprintable():  # the one rule JSON Schema cannot say
        raise Unprocessable(str(ObjectionRequest.problems["source"]))
    recorded = await gateway.rights.object_to(subject, body.categories, source=body.source)
    answer = ObjectionRecorded(subject, list(recorded.categories), recorded.receipt_id)
    return struct_response(answer, headers=_NO_STORE)


async def receipts(request: Request) -> Response:
    """Every receipt in `[since, until)`, oldest first, streamed page by page from the store."""
    gateway = await _admin_gateway(request)
    query = request.query_params
    unknown = sorted(set(query) - RECEIPT_QUERY)
    if unknown:
        raise Unprocessable(f"unknown parameter(s): {', '.join(unknown)}")
    since = checked_moment(query.get("since"), "since")
    until = checked_moment(query.get("until"), "until")
    chosen = query.get("format", "jsonl")
    if chosen not in MEDIA_TYPES:
        raise Unprocessable('"format" must be csv or jsonl')
    form: Format = "csv" if chosen == "csv" else "jsonl"
    stream = await started(gateway.store.receipts.iter_receipts(since, until))
    headers = {
        **_NO_STORE,
        "Content-Disposition": f'attachment; filename="receipts.{form}"',
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        export_chunks(stream, form), media_type=MEDIA_TYPES[form], headers=headers
    )


routes = [
    Route("/api/subjects/{subject}", export, methods=["GET"]),
    Route("/api/subjects/{subject}", erase, methods=["DELETE"]),
    Route("/api/subjects/{subject}/objection", objection, methods=["POST"]),
    Route("/api/receipts", receipts, methods=["GET"]),
]
