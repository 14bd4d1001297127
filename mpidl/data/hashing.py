"""H2O's ``max_categorical_features`` hashing trick (spec 1.2 "Hashing"; ``Neurons.Input.
setInput``): when the one-hot categorical slots outnumber ``M = max_categorical_features``,
each active slot index ``j`` is hashed into one of ``M`` slots, ``|h mod M|`` (Java's
remainder, so ``h mod M`` may be negative), with ``h`` = 32-bit MurmurHash2 in Hadoop's
variant (``dl/MurmurHash.java``) of the 4 bytes of ``j`` written big-endian (``ByteBuffer.
putInt``) and hashed with seed ``(int) seed``.  Two columns hashed into one slot add up.
"""

from __future__ import annotations

import numpy as np

_M = np.uint32(0x5BD1E995)


def java_int(seed: int) -> int:
    """Java's ``(int) seed`` of a long: its low 32 bits, signed."""
    low = int(seed) & 0xFFFFFFFF
    return low - (1 << 32) if low >= 1 << 31 else low


def murmur2_of_int(j: np.ndarray, seed: int) -> np.ndarray:
    """int32[...] Hadoop MurmurHash2 of the 4 big-endian bytes of each int32 in ``j``."""
    with np.errstate(over="ignore"):
        # the big-endian bytes read back little-endian: the byte-swapped integer
        k = np.asarray(j, dtype=np.int64).astype(np.uint32).byteswap()
        k = k * _M
        k ^= k >> np.uint32(24)
        k = k * _M
        h = np.uint32(java_int(seed) & 0xFFFFFFFF) ^ np.uint32(4)
        h = (h * _M) ^ k
        h ^= h >> np.uint32(13)
        h = h * _M
        h ^= h >> np.uint32(15)
    return h.astype(np.int32)


def hashed_slots(slots: np.ndarray, seed: int, m: int) -> np.ndarray:
    """int32 slots in [0, m) of one-hot slot indices ``slots`` (-1: none, kept -1)."""
    h = murmur2_of_int(slots, seed).astype(np.int64)
    out = np.abs(np.fmod(h, m))            # fmod: Java's remainder, the sign of h
    return np.where(slots < 0, -1, out).astype(np.int32)
