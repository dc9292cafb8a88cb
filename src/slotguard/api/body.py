"""Reading request bodies safely: a size limit and JSON parsing with precise 4xx errors.

Besides well-formed JSON, a body must stay within what a real client sends: nesting at most
MAX_JSON_DEPTH deep and no text holding a NUL character (PostgreSQL cannot store it, and no
caller says one). orjson itself refuses the rest with a JSONDecodeError: numbers beyond 64-bit
integers or finite doubles, NaN and Infinity, and half of a UTF-16 surrogate pair. Each is a
400 naming the problem.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import HTTPException, Request

# Retell's own replies are capped at 15 000 characters; a request a thousand times that
# is never legitimate, and reading it would only cost memory.
MAX_BODY_BYTES = 1024 * 1024
# Retell and Cal.com bodies nest about five levels; 32 leaves room and keeps every walk over
# a body short (orjson's own limit is 1024).
MAX_JSON_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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
    refused = unstorable(data)
    if refused is not None:
        raise HTTPException(400, f"request body: {refused}")
    return data


def unstorable(data: Any) -> str | None:
    """Why ``data`` (parsed JSON) cannot be accepted, or None: too deep, or unstorable text."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return _too_deep()
        if isinstance(value, str):
            if (found := text_problem(value)) is not None:
                return f"text at {path or 'the top'} {found}"
        elif isinstance(value, dict):
            for key, item in value.items():
                if (found := text_problem(key)) is not None:
                    return f"a key at {path or 'the top'} {found}"
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    return None


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL or a lone surrogate), or None."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "contains a NUL character"
    return "contains an unpaired UTF-16 surrogate"


def _too_deep() -> str:
    return f"nests deeper than {MAX_JSON_DEPTH} levels"
