"""Files served as they are (the pages' scripts and style sheets, the prepared JS/CSS assets), each text file
gzip-compressed once per version of it (path, size, modification time) and kept in memory: no request compresses a
file again (Leaflet's script took 8 ms of the worker per request, compressed by the GZip middleware each time)."""
from __future__ import annotations

import gzip
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from geo.memo import Memo
from service.http import accepts_gzip

#: Media types worth compressing (fonts and images are compressed already).
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
#: Bytes of compressed files kept (the map pages' own and their assets take about 0.5 MB).
CACHE_BYTES = 8 * 2**20


class CompressedStaticFiles(StaticFiles):
    """StaticFiles answering a client that accepts gzip with the file compressed once (a range request: as it is)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._compressed = Memo(CACHE_BYTES, getsizeof=len)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        headers = Headers(scope=scope)
        if (not isinstance(response, FileResponse) or response.status_code != 200 or "range" in headers
                or not (response.media_type or "").startswith(TEXT_TYPES) or not accepts_gzip(headers.get("accept-encoding", ""))):
            return response
        stat = response.stat_result
        body = self._compressed.get((response.path, stat.st_size, stat.st_mtime_ns),
                                    lambda: gzip.compress(Path(response.path).read_bytes(), compresslevel=9, mtime=0))
        kept = {k: v for k, v in response.headers.items() if k not in ("content-length", "accept-ranges")}
        return Response(body, headers=kept | {"content-encoding": "gzip", "vary": "Accept-Encoding"})
