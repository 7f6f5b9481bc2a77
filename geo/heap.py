"""The C heap after large geometry work: glibc keeps the pages GEOS freed (about 150 MiB after a France-wide coverage
simplification) in the process until asked to give them back; :func:`release` asks (``malloc_trim``, as Dask's workers
do). Elsewhere than glibc it does nothing."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():  # noqa: ANN202 (a C function, or None)
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release() -> None:
    """Give the C heap's free pages back to the system (glibc), or nothing."""
    if (trim := _trim()) is not None:
        trim(0)
