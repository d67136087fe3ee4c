"""Attachments of notices: a photo (JPEG, PNG) or a PDF, checked by content, not by name,
size-limited (``broadcast.attachment_max_bytes``) and kept in the database with the notice.

Channels that take files (``ChannelSpec.files``: Telegram's sendPhoto/sendDocument) get the
file with the notice; the others get a link line when ``web.public_url`` is set
(``/files/<token>``, served by ``trolyso run``), and the notice alone otherwise.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.types import NoticeError
from core.config import Settings
from core.files import OutgoingFile
from core.models import NoticeAttachment, Run

__all__ = ["attach", "check", "for_runs", "get", "link", "link_line", "open_token"]

#: (magic bytes, kind, MIME, extension): the only files accepted.
_TYPES = (
    (b"\xff\xd8\xff", "photo", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "photo", "image/png", "png"),
    (b"%PDF-", "document", "application/pdf", "pdf"),
)


def check(settings: Settings, filename: str, data: bytes) -> OutgoingFile:
    """The upload as a file to send; NoticeError ``bad_file`` or ``too_big`` otherwise."""
    limit = settings.broadcast.attachment_max_bytes
    if len(data) > limit:
        raise NoticeError("too_big", f"the file has {len(data)} bytes; at most {limit} "
                                     "(broadcast.attachment_max_bytes)")
    for magic, kind, mime, ext in _TYPES:
        if data.startswith(magic):
            base = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].replace("đ", "d")
            ascii_name = unicodedata.normalize("NFKD", base.replace("Đ", "D")).encode(
                "ascii", "ignore").decode()
            stem = re.sub(r"[^A-Za-z0-9.-]+", "-", ascii_name)
            stem = stem.rsplit(".", 1)[0].strip("-.")[:80] or "tep-dinh-kem"
            return OutgoingFile(kind, f"{stem}.{ext}", mime, data,  # type: ignore[arg-type]
                                hashlib.sha256(data).hexdigest())
    raise NoticeError("bad_file", "only a photo (JPEG, PNG) or a PDF can be attached")


async def attach(session: AsyncSession, announcement_id: int, f: OutgoingFile) -> str:
    """Store the file with its notice; returns the token of its public link."""
    token = secrets.token_urlsafe(24)
    session.add(NoticeAttachment(announcement_id=announcement_id, kind=f.kind, mime=f.mime,
                                 filename=f.filename, size=len(f.data), sha256=f.sha256,
                                 token=token, data=f.data))
    await session.flush()
    return token


def _file(row: NoticeAttachment) -> OutgoingFile:
    return OutgoingFile(row.kind, row.filename, row.mime, row.data,  # type: ignore[arg-type]
                        row.sha256)


async def get(session: AsyncSession, announcement_id: int
              ) -> tuple[OutgoingFile, str] | None:
    row = (await session.execute(select(NoticeAttachment).where(
        NoticeAttachment.announcement_id == announcement_id))).scalar_one_or_none()
    return None if row is None else (_file(row), row.token)


async def for_runs(session: AsyncSession, run_ids: Collection[int]
                   ) -> dict[int, tuple[OutgoingFile, str] | None]:
    """The attachment (and link token) of each run's notice; None for a notice without."""
    out: dict[int, tuple[OutgoingFile, str] | None] = {r: None for r in run_ids}
    rows = await session.execute(
        select(Run.id, NoticeAttachment)
        .join(NoticeAttachment, NoticeAttachment.announcement_id == Run.announcement_id)
        .where(Run.id.in_(list(run_ids))))
    for run_id, row in rows:
        out[run_id] = (_file(row), row.token)
    return out


async def open_token(session: AsyncSession, token: str) -> OutgoingFile | None:
    """The file behind a public link."""
    if not re.fullmatch(r"[\w-]{20,64}", token):
        return None
    row = (await session.execute(select(NoticeAttachment).where(
        NoticeAttachment.token == token))).scalar_one_or_none()
    return None if row is None else _file(row)


def link(settings: Settings, token: str) -> str | None:
    base = settings.web.public_url
    return f"{base.rstrip('/')}/files/{token}" if base else None


def link_line(settings: Settings, texts: Mapping[str, str], token: str) -> str | None:
    """The line added to a notice for a channel that cannot take the file."""
    url = link(settings, token)
    return texts["notice.attachment_link"].format(url=url) if url else None
