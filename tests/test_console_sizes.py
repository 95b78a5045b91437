"""``lib.console.sizes``: what a result weighs in the server, whatever its Arrow buffers say."""

from __future__ import annotations

import pyarrow as pa

from lib.console.sizes import CELL_BYTES, NESTED_VALUE_BYTES, held_bytes, rows_within


def batch(**columns: pa.Array) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(columns)


def test_a_list_of_nulls_weighs_its_values_though_arrow_gives_it_no_buffer() -> None:
    nulls = batch(x=pa.array([[None] * 100_000], type=pa.list_(pa.null())))
    assert nulls.nbytes < 1_000  # what the cap used to count
    assert held_bytes(nulls) >= 100_000 * NESTED_VALUE_BYTES


def test_booleans_in_a_list_weigh_more_than_their_bits() -> None:
    flags = batch(x=pa.array([[True] * 80_000]))
    assert held_bytes(flags) >= 80_000 * NESTED_VALUE_BYTES > 100 * flags.nbytes


def test_every_cell_weighs_at_least_a_pointer() -> None:
    wide = pa.RecordBatch.from_pydict({f"c{i}": pa.array([True] * 1000) for i in range(500)})
    assert held_bytes(wide) >= 500 * 1000 * CELL_BYTES


def test_maps_structs_unions_and_dictionaries_count_what_they_hold() -> None:
    values = pa.array(range(1000))
    kinds = {
        "map": pa.MapArray.from_arrays([0, 1000], values.cast(pa.string()), values),
        "struct": pa.StructArray.from_arrays([pa.array([[0] * 1000])], names=["a"]),
        "union": pa.UnionArray.from_sparse(pa.array([0], pa.int8()), [pa.array([[0] * 1000])]),
        "dictionary": pa.DictionaryArray.from_arrays(pa.array([0]), values.cast(pa.string())),
        "fixed": pa.FixedSizeListArray.from_arrays(values, 1000),
    }
    for name, array in kinds.items():
        assert held_bytes(batch(x=array)) >= 1000 * NESTED_VALUE_BYTES, name


def test_a_slice_weighs_only_its_own_rows() -> None:
    lists = pa.array([[0] * 100_000, [1], [2]])
    whole, tail = held_bytes(batch(x=lists)), held_bytes(batch(x=lists.slice(1, 2)))
    assert tail < 1_000 < 100_000 * NESTED_VALUE_BYTES <= whole


def test_a_deeply_nested_type_is_measured_without_recursion() -> None:
    array = pa.array([0])
    for _ in range(3_000):
        array = pa.ListArray.from_arrays(pa.array([0, len(array)], pa.int32()), array)
    assert held_bytes(batch(x=array)) >= 3_000 * NESTED_VALUE_BYTES


def test_rows_within_keeps_the_most_leading_rows_that_fit() -> None:
    lists = batch(x=pa.array([[0] * 10] * 5 + [[0] * 100_000] + [[0]] * 5))
    first_five = held_bytes(lists.slice(0, 5))
    assert rows_within(lists, first_five) == 5  # the sixth, large, row does not fit
    assert rows_within(lists, first_five - 1) == 4
    assert rows_within(lists, held_bytes(lists)) == lists.num_rows
    assert rows_within(lists, 0) == 0
