"""Reading request bodies safely: a size limit and JSON parsing with precise 4xx errors."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import HTTPException, Request

# Retell's own replies are capped at 15 000 characters; a request a thousand times that
# is never legitimate, and reading it would only cost memory.
MAX_BODY_BYTES = 1024 * 1024


async def read_limited(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, or 413 when it exceeds ``limit`` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or 400 saying what is wrong with it."""
    try:
        body.decode("utf-8")
        data = orjson.loads(body)
    except UnicodeDecodeError:
        raise HTTPException(400, "request body is not UTF-8") from None
    except orjson.JSONDecodeError as problem:
        raise HTTPException(400, f"request body is not valid JSON: {problem.msg}") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "request body must be a JSON object")
    return data
