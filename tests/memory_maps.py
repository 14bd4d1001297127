"""Where an array lives in this process's memory (/proc/self/maps), for the node-shared tests."""


def in_shared_mapping(arr) -> bool:
    """Whether ``arr``'s first byte lies in a shared mapping of this process (``s`` in the
    permissions of its line of /proc/self/maps), not private memory."""
    address = arr.ctypes.data
    with open("/proc/self/maps") as f:
        for line in f:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if lo <= address < hi:
                return perms[3] == "s"
    raise AssertionError(f"address {address:#x} is in no mapping")
