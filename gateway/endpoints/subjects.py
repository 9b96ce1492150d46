"""The rights API for a DPO or a support tool (admin bearer token), and the receipts export.

GET    /api/subjects/{id}              everything held, as a JSON download (portability)
DELETE /api/subjects/{id}              erase it all, leave the tombstone → counts per kind
POST   /api/subjects/{id}/objection    {"categories": ["marketing"], "source"?: "…"}
GET    /api/receipts?since=&until=&format=csv|jsonl    every receipt, streamed
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.admin_auth import AdminGuard
from gateway.bodies.answers import ErasedCounts, Erasure, ObjectionRecorded, SubjectExport
from gateway.bodies.requests import ObjectionRequest
from gateway.endpoints.bodies import read_struct, struct_response
from gateway.errors import Unprocessable
from gateway.inputs import checked_moment, checked_subject
from gateway.receipts.export import MEDIA_TYPES, Format, export_chunks, started
from gateway.rights import SubjectRights
from gateway.store import Store

_NO_STORE = {"Cache-Control": "no-store"}
RECEIPT_QUERY = {"since", "until", "format"}


@dataclass(frozen=True, slots=True)
class SubjectsApi:
    """What the rights API uses, and nothing else: the admin door, the subjects' rights
    (export, erasure, objection) and the store (the receipts export)."""

    guard: AdminGuard
    rights: SubjectRights
    store: Store

    def routes(self) -> list[Route]:
        return [
            Route("/api/subjects/{subject}", self.export, methods=["GET"]),
            Route("/api/subjects/{subject}", self.erase, methods=["DELETE"]),
            Route("/api/subjects/{subject}/objection", self.objection, methods=["POST"]),
            Route("/api/receipts", self.receipts, methods=["GET"]),
        ]

    async def export(self, request: Request) -> Response:
        await self.guard.require(request)
        subject = checked_subject(request.path_params["subject"])
        document = await self.rights.export(subject)
        disposition = f'attachment; filename="subject-{subject}.json"'
        answer = msgspec.convert(document, SubjectExport)  # its declared shape, or it fails here
        return struct_response(answer, headers={**_NO_STORE, "Content-Disposition": disposition})

    async def erase(self, request: Request) -> Response:
        await self.guard.require(request)
        subject = checked_subject(request.path_params["subject"])
        erased = await self.rights.erase(subject)
        answer = Erasure(subject, msgspec.convert(erased, ErasedCounts))
        return struct_response(answer, headers=_NO_STORE)

    async def objection(self, request: Request) -> Response:
        await self.guard.require(request)
        subject = checked_subject(request.path_params["subject"])
        body = await read_struct(request, ObjectionRequest)
        if not body.source.isprintable():  # the one rule JSON Schema cannot say
            raise Unprocessable(str(ObjectionRequest.problems["source"]))
        recorded = await self.rights.object_to(subject, body.categories, source=body.source)
        answer = ObjectionRecorded(subject, list(recorded.categories), recorded.receipt_id)
        return struct_response(answer, headers=_NO_STORE)

    async def receipts(self, request: Request) -> Response:
        """Every receipt in `[since, until)`, oldest first, streamed page by page from the store."""
        await self.guard.require(request)
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
        stream = await started(self.store.receipts.iter_receipts(since, until))
        headers = {
            **_NO_STORE,
            "Content-Disposition": f'attachment; filename="receipts.{form}"',
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(
            export_chunks(stream, form), media_type=MEDIA_TYPES[form], headers=headers
        )
