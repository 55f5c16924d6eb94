"""Reader for the IDX format of (Fashion-)MNIST (http://yann.lecun.com/exdb/mnist/, "file formats")."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from gankit.errors import UserError

# The third magic byte names the element type; only unsigned bytes occur in (Fashion-)MNIST.
_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read a (gzipped) IDX file into an array of its declared shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise UserError(f"{path}: cannot read IDX file ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise UserError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    dtype = np.dtype(_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise UserError(
            f"{path}: IDX file is truncated or corrupt ({len(raw) - offset} bytes of data, expected {expected})"
        )
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(tuple(int(d) for d in dims))
