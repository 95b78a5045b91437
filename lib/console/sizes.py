"""What a result weighs once the server holds it as a DataFrame: the measure of the byte cap.

Arrow's ``nbytes`` counts buffers, and a buffer can say little of what its values become in
pandas: a list of ten million NULLs is a few bytes of offsets (a ``NULL`` child has no buffer at
all), and a boolean is one bit, yet each value becomes at least a pointer in the server's frame.
Six such rows once passed a 16 MB cap as "0 bytes" and took 500 MB of the server, which the
result cache then counted as nothing. So every cell counts a pointer's worth, and every value
nested in a list, map, struct or union counts what a Python object costs, on top of the buffers.
"""

from __future__ import annotations

import pyarrow as pa

CELL_BYTES = 8  # a cell of a DataFrame at least: a pointer or a 64-bit number
NESTED_VALUE_BYTES = 64  # a value inside a list, map, struct or union: about a Python object


def held_bytes(data: pa.RecordBatch | pa.Table) -> int:
    """About the most memory ``data`` takes as a DataFrame (and as text) in the server."""
    size = data.nbytes + CELL_BYTES * data.num_rows * data.num_columns
    for column in data.columns:
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        size += NESTED_VALUE_BYTES * sum(nested_values(chunk) for chunk in chunks)
    return size


def nested_values(array: pa.Array) -> int:
    """How many values sit inside ``array``'s cells, at every depth (a slice counts its own)."""
    count = 0
    stack = [array]  # not recursion: a type may be nested thousands of levels deep
    while stack:
        children = _children(stack.pop())
        count += sum(len(child) for child in children)
        stack.extend(children)
    return count


def _children(array: pa.Array) -> list[pa.Array]:
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    if isinstance(array, (pa.ListArray, pa.LargeListArray)):  # a MapArray is a ListArray
        offsets = array.offsets
        if len(offsets) == 0:
            return []
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        return [array.values.slice(start, end - start)]
    if isinstance(array, (pa.FixedSizeListArray, pa.ListViewArray, pa.LargeListViewArray)):
        return [array.flatten()]
    if isinstance(array, pa.StructArray):
        return list(array.flatten())
    if isinstance(array, pa.UnionArray):
        return [array.field(i) for i in range(array.type.num_fields)]
    if isinstance(array, pa.DictionaryArray):
        return [array.dictionary]
    return []


def rows_within(batch: pa.RecordBatch, budget: int) -> int:
    """The most leading rows of ``batch`` whose :func:`held_bytes` fit in ``budget``."""
    low, high = 0, batch.num_rows
    while low < high:  # the weight of a prefix only grows with its length
        middle = (low + high + 1) // 2
        if held_bytes(batch.slice(0, middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return low
