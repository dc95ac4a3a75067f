from __future__ import annotations

import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.state.ids import IdFactory


def _expected_ids(seed: int, salt: str, calls: list[tuple[str, int]]) -> list[str]:
    """The ids a factory gives for ``calls`` (``("new", length)`` or ``("hex", length)``), drawn the way the ids
    are defined: ``randbytes`` of the seeded generator, mapped to alphanumerics (a byte's value modulo 62) or hex."""
    alphabet = string.ascii_letters + string.digits
    rng = random.Random(f"ids:{seed}{salt}")
    ids = []
    for kind, length in calls:
        if kind == "new":
            ids.append("x-" + "".join(alphabet[byte % len(alphabet)] for byte in rng.randbytes(length)))
        else:
            ids.append("req_" + rng.randbytes((length + 1) // 2).hex()[:length])
    return ids


# no deadline: a loaded machine may take long over one example
@settings(deadline=None)
@given(
    seed=st.integers(-(2**63), 2**63 - 1),
    salt=st.sampled_from(["", ":w1"]),
    calls=st.lists(st.tuples(st.sampled_from(["new", "hex"]), st.integers(0, 70)), max_size=12),
)
def test_a_seeded_factory_draws_its_ids_from_the_generators_random_bytes(
    seed: int, salt: str, calls: list[tuple[str, int]]
) -> None:
    factory = IdFactory(seed, salt=salt)
    made = [factory.new("x-", length) if kind == "new" else factory.hex("req_", length) for kind, length in calls]
    assert made == _expected_ids(seed, salt, calls)


def test_an_alphabet_of_its_own_maps_each_byte_into_it() -> None:
    made = IdFactory(3).new("", 64, alphabet="ab")
    assert set(made) <= {"a", "b"}
    assert made == "".join("ab"[byte % 2] for byte in random.Random("ids:3").randbytes(64))
