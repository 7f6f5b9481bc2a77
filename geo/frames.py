"""Small, fast helpers over pandas columns of codes."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def isin(column: pd.Series, values: Iterable[str]) -> pd.Series:
    """``column.isin(values)`` for string codes, hashed in Arrow (pandas' string isin converts values one by one)."""
    value_set = pa.array(list(values), type=pa.string())
    mask = pc.is_in(pa.array(column.astype(object), type=pa.string()), value_set=value_set)
    return pd.Series(mask.to_numpy(zero_copy_only=False), index=column.index).fillna(False).astype(bool)
