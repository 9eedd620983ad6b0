"""Working arrays of a tick, allocated once and reused from tick to tick.

A tick makes a dozen temporary stacks the size of its cameras' pictures: differences, masks, copies of
table rows. Allocated afresh, glibc gave their memory back to the system at the end of each tick (it
trims the top of the heap, or unmaps chunks above 128 kB) and faulted it in again at the next: on a busy
scene with 16 cameras, 26 page faults per camera-frame, a third of the bank's cost. Reused, they cost
nothing after the first tick. The price is that they are kept: about 20 stacks, some 0.3 MB per camera
(up to twice that after growing), never given back when cameras are removed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike


class Workspace:
    """Named scratch arrays: `array(name, shape, dtype)` is the same memory every time for a name (its first
    axis grown when more rows are asked for). Contents are undefined; a name is one array in use at a time,
    always with the same trailing axes and dtype."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: DTypeLike = np.uint8) -> np.ndarray:
        rows = shape[0]
        array = self._arrays.get(name)
        if array is not None and (array.shape[1:] != shape[1:] or array.dtype != dtype):
            raise ValueError(f"workspace array {name!r} is {array.dtype} {array.shape[1:]} rows, "
                             f"not {np.dtype(dtype)} {shape[1:]}: two arrays under one name?")
        if array is None or len(array) < rows:
            # room to grow: the number of cameras with a new frame changes from tick to tick
            array = self._arrays[name] = np.empty((max(rows, 0 if array is None else 2 * len(array)), *shape[1:]),
                                                  dtype)
        view: np.ndarray = array[:rows]
        return view

    def take_rows(self, name: str, stack: np.ndarray, index: np.ndarray) -> np.ndarray:
        """`stack[index]` (rows picked along the first axis) copied into the array `name`; `index` must hold
        valid row numbers (0 <= i < len(stack)): they are not checked."""
        out = self.array(name, (len(index), *stack.shape[1:]), stack.dtype)
        # mode "clip": with "raise" (the default) `take` copies through a buffer of its own
        picked: np.ndarray = np.take(stack, index, axis=0, out=out, mode="clip")
        return picked
