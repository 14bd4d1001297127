"""A generator run one step ahead in a thread, so reading (decompression, the record scan)
overlaps the parsing and writing of the block before.

``zlib`` and the compiled scans release the GIL, so on a rank with two cores the import's
reads and its parse proceed side by side (MNIST's gzip file: about 0.35 s of decompression
hidden behind the parse).  At most ``depth`` items wait in the queue: memory stays bounded
(a few blocks).  An exception of the generator is raised in the consumer at the point the
item would have come; a consumer that stops early stops the thread before it returns.
"""

from __future__ import annotations

import queue
import threading

_DONE = object()


class _Raised:
    """The generator's exception, carried to the consumer."""

    def __init__(self, err: BaseException):
        self.err = err


def read_ahead(items, depth: int = 2):
    """Yield what the iterable ``items`` yields, computed in a thread up to ``depth`` items
    ahead of the consumer."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            put(_Raised(err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="mpidl-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.err
            yield item
    finally:
        stop.set()
        thread.join()
