"""Attachables: upload a receipt or a PDF and link it to a QuickBooks transaction.

``POST /v3/company/<realm>/upload`` takes ``multipart/form-data`` with exactly two
parts: ``file_metadata_01``, the Attachable as JSON (``FileName``, ``ContentType``,
``AttachableRef: [{"EntityRef": {"type": "Bill", "value": "12"}}]``, ``Note``), and
``file_content_01``, the file itself. QuickBooks answers ``AttachableResponse``
with the Attachable (or a ``Fault``). Without ``AttachableRef`` the file would be
stored attached to nothing, so :meth:`QuickBooksAttachments.attach` always links
it to the document it is given. The upload carries a ``requestid`` like any
write, so a resend after a timeout does not upload twice.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from syncstate.adapters.backends.quickbooks.config import MAX_REQUEST_ID, check_request_id
from syncstate.adapters.backends.quickbooks.payloads import spec_for
from syncstate.errors import AmbiguousOutcome, RemoteValidationError
from syncstate.ports import RemoteRef

__all__ = ["Attachment", "QuickBooksAttachments", "multipart"]

#: file types QuickBooks accepts as attachments (by content type)
CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/tiff",
        "text/plain",
        "text/csv",
        "application/xml",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
_SAFE_NAME = re.compile(r'[\r\n"\\]')


@attrs.frozen(kw_only=True)
class Attachment:
    """An uploaded attachable: its id, file name, size and the document it is linked to."""

    remote_id: str
    file_name: str
    size: int | None
    linked_to: RemoteRef


def multipart(
    metadata: Mapping[str, Any], file_name: str, content_type: str, content: bytes
) -> tuple[bytes, str]:
    """The upload body and its ``Content-Type`` (with the boundary)."""
    boundary = f"syncstate-{uuid.uuid4().hex}"
    name = _SAFE_NAME.sub("_", file_name)
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file_metadata_01"\r\n'
        "Content-Type: application/json\r\n\r\n"
        f"{json.dumps(dict(metadata))}\r\n"
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file_content_01"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    return head + content + tail, f"multipart/form-data; boundary={boundary}"


class QuickBooksAttachments:
    """Uploading attachables, mixed into the back end."""

    if TYPE_CHECKING:

        def _request(
            self,
            company: str,
            method: str,
            path: str,
            *,
            params: Mapping[str, str] | None = None,
            body: bytes | None = None,
            accept: str = "application/json",
            record: str | None = None,
            content_type: str = "application/json",
        ) -> httpx.Response: ...

        def _decode(self, response: httpx.Response, record: str | None) -> Mapping[str, Any]: ...

    def attach(
        self,
        company: str,
        ref: RemoteRef,
        *,
        file_name: str,
        content: bytes,
        content_type: str,
        idempotency_key: str,
        note: str = "",
    ) -> Attachment:
        """Upload ``content`` and link it to the document at ``ref`` (a bill, an expense...)."""
        record = f"{ref.kind} {ref.remote_id}"
        check_request_id(idempotency_key, MAX_REQUEST_ID, record)
        if content_type not in CONTENT_TYPES:
            raise RemoteValidationError(
                f"QuickBooks does not take attachments of type {content_type!r}", record=record
            )
        if not file_name.strip() or not content:
            raise RemoteValidationError(
                "an attachment needs a file name and content", record=record
            )
        spec = spec_for(ref.kind)
        metadata: dict[str, Any] = {
            "FileName": file_name,
            "ContentType": content_type,
            "AttachableRef": [{"EntityRef": {"type": spec.entity, "value": ref.remote_id}}],
        }
        if note:
            metadata["Note"] = note
        body, multipart_type = multipart(metadata, file_name, content_type, content)
        response = self._request(
            company,
            "POST",
            "upload",
            params={"requestid": idempotency_key},
            body=body,
            record=record,
            content_type=multipart_type,
        )
        answers = self._decode(response, record).get("AttachableResponse") or []
        first = answers[0] if answers and isinstance(answers[0], Mapping) else {}
        fault = first.get("Fault")
        if isinstance(fault, Mapping):
            errors = fault.get("Error") or [{}]
            raise RemoteValidationError(
                f"QuickBooks refused the attachment: {errors[0].get('Message', '')}",
                code=str(errors[0].get("code", "")) or None,
                detail=errors[0].get("Detail"),
                record=record,
            )
        attachable = first.get("Attachable")
        if not isinstance(attachable, Mapping) or "Id" not in attachable:
            raise AmbiguousOutcome(
                "QuickBooks answered the upload without an Attachable", record=record
            )
        size = attachable.get("Size")
        return Attachment(
            remote_id=str(attachable["Id"]),
            file_name=str(attachable.get("FileName") or file_name),
            size=None if size is None else int(size),
            linked_to=ref,
        )
