"""Built figures and maps, kept per server process and keyed on what they show.

The query results are cached already (``wangtai.ui.data``), but building a plotly figure from them costs
20–90 ms (plotly validates every property) and a map's deck.gl JSON up to a few hundred ms, on every
script run of every session. ``@cached`` builders keep what they built under the builder's name and the
*content* of their arguments — a DataFrame by a hash of its values, dtypes and columns — so the same data
gives back the same object and new data (a new data version, another filter, another user's scope) builds
a new one. Nothing can be stale: the key is the data itself, not a time or a version string.

What a builder returns is shared between sessions and threads: **never change it after it is returned**
(build a changed copy in another cached builder instead).
"""

import functools
import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

MAX_ENTRIES = 512  # a figure or a map is 10 KB–1 MB; the LRU bound keeps a busy server's memory flat
F = TypeVar("F", bound=Callable[..., Any])

_entries: OrderedDict[tuple, Any] = OrderedDict()
_lock = threading.Lock()


def _feed(h, value) -> None:
    """Add ``value`` to the hash ``h``: frames by content, containers item by item, the rest by pickle."""
    if isinstance(value, pd.DataFrame):
        h.update(b"frame")
        h.update(pickle.dumps((list(map(str, value.columns)), list(map(str, value.dtypes)))))
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, pd.Series):
        h.update(b"series")
        h.update(pickle.dumps((str(value.name), str(value.dtype))))
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, dict):
        h.update(b"dict%d" % len(value))
        for key in sorted(value, key=repr):
            _feed(h, key)
            _feed(h, value[key])
    elif isinstance(value, (list, tuple)):
        h.update(b"seq%d" % len(value))
        for item in value:
            _feed(h, item)
    else:  # str, numbers, None, dates, frozen dataclasses
        h.update(pickle.dumps(value))


def key(*args, **kwargs) -> str:
    """A digest of the arguments' content."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, args)
    _feed(h, kwargs)
    return h.hexdigest()


def cached(build: F) -> F:
    """Keep what ``build`` returns for the content of its arguments (LRU, process-wide, thread-safe)."""
    name = f"{build.__module__}.{build.__qualname__}"

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        entry = (name, key(*args, **kwargs))
        with _lock:
            if entry in _entries:
                _entries.move_to_end(entry)
                return _entries[entry]
        value = build(*args, **kwargs)  # outside the lock: two sessions may build the same thing once each
        with _lock:
            _entries[entry] = value
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
        return value

    wrapper.build = build  # the uncached builder (tests)
    return wrapper  # type: ignore[return-value]


def clear() -> None:
    with _lock:
        _entries.clear()
