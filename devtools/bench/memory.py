"""Peak RSS of this process around a call: Linux's clear_refs resets the peak, else ru_maxrss."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import resource

_LIBC_NAME = ctypes.util.find_library("c")


def _status_kib(name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise KeyError(name)


def _trim_heap() -> None:
    if _LIBC_NAME:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(_LIBC_NAME).malloc_trim(0)


class PeakRss:
    """Peak RSS of this process above its RSS at ``reset``; Linux's clear_refs resets the peak, else ru_maxrss."""

    def __init__(self) -> None:
        self.resettable = self._try_reset()
        self._base = 0

    @staticmethod
    def _try_reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
                refs.write("5")
        except OSError:
            return False
        return True

    def reset(self) -> None:
        gc.collect()
        _trim_heap()  # hand freed memory back, so that a call that reuses it still shows in the peak
        if self.resettable:
            self._try_reset()
            self._base = _status_kib("VmRSS")
        else:  # ru_maxrss only grows: the delta shows only what goes beyond every earlier peak
            self._base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def delta_bytes(self) -> int:
        peak = _status_kib("VmHWM") if self.resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(0, peak - self._base) * 1024
