"""The shared JAX helpers of mnistlab._compute: padded chunks and the per-seed mapping."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mnistlab._compute import chunk_size, map_chunks, over_seeds, padded_chunks


@pytest.mark.parametrize(("n", "size"), [(1, 4), (4, 4), (7, 4), (9, 3)])
def test_padded_chunks_cover_every_row_once_and_pad_with_zeros(n, size):
    x = np.arange(1, n + 1, dtype=np.int32)
    y = np.arange(1, n + 1, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    chunks = list(padded_chunks([x, y], size))
    assert [real for _, real in chunks] == [min(size, n - i) for i in range(0, n, size)]
    for (cx, cy), real in chunks:
        assert cx.shape == (size,)  # one shape: one compiled program
        assert cy.shape == (size, 2)
        assert (cx[real:] == 0).all()
        assert (cy[real:] == 0).all()
    np.testing.assert_array_equal(np.concatenate([cx[:real] for (cx, _), real in chunks]), x)


def test_map_chunks_is_the_function_on_every_row_at_once():
    x = np.arange(10, dtype=np.float32)
    calls = []

    def fn(a):
        calls.append(a.shape)
        return {"double": a * 2, "pair": np.stack([a, -a], axis=1)}

    out = map_chunks(fn, [x], 4)
    assert calls == [(4,)] * 3
    np.testing.assert_array_equal(out["double"], x * 2)
    np.testing.assert_array_equal(out["pair"], np.stack([x, -x], axis=1))
    with pytest.raises(ValueError, match="at least one row"):
        map_chunks(fn, [x[:0]], 4)
    with pytest.raises(ValueError, match="one length"):
        list(padded_chunks([x, x[:3]], 4))


def test_chunk_size_is_the_largest_or_the_next_power_of_two():
    assert [chunk_size(n, 1000) for n in (1, 2, 3, 600, 1000, 5000)] == [1, 2, 4, 1000, 1000, 1000]


def test_over_seeds_maps_the_leading_axis_vmapped_or_plain():
    params = {"w": jnp.arange(6.0).reshape(3, 2)}  # three seeds

    def fn(p, x):
        return p["w"] * x

    several = over_seeds(fn, True, (0, None))(params, 2.0)
    np.testing.assert_array_equal(several, np.arange(6.0).reshape(3, 2) * 2)
    one = {"w": params["w"][:1]}
    plain = over_seeds(fn, False, (0, None))(one, 2.0)
    assert plain.shape == (1, 2)  # the seed axis given back
    np.testing.assert_array_equal(plain, several[:1])
    # Traced plain, the single seed's program holds no batched (vmapped) operation.
    jaxpr = jax.make_jaxpr(lambda p: over_seeds(lambda q: q["w"] @ q["w"].T, False)(p))(one)
    assert "dot_general" in str(jaxpr)
    assert all(e.params.get("dimension_numbers", (((), ()), ((), ())))[1] == ((), ()) for e in jaxpr.eqns)
