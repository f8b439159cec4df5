"""Secrets at rest: sealed under the newest master key, opened by any key of the ring, bound to
their row, and refused when altered or sealed by a key that is not configured."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.storage.sealing import (
    MAGIC,
    MasterKeyError,
    Sealer,
    encode_master_key,
    new_master_key,
    parse_master_keys,
)

OLD, NEW = new_master_key(), new_master_key()


@given(st.binary(max_size=300), st.text(max_size=40))
def test_round_trip(plain: bytes, context: str) -> None:
    """A sealed value opens to what was sealed, and never shows it in clear."""
    sealer = Sealer([NEW])
    sealed = sealer.seal(plain, context=context)
    assert sealer.open(sealed, context=context) == plain
    assert sealed.startswith(MAGIC)
    if len(plain) >= 8:
        assert plain not in sealed


@given(st.binary(min_size=1, max_size=64), st.data())
def test_any_changed_byte_is_refused(plain: bytes, data: st.DataObject) -> None:
    """Changing any byte of a sealed value makes it refused, never opened to something else."""
    sealer = Sealer([NEW])
    sealed = bytearray(sealer.seal(plain, context="webhook:w1"))
    index = data.draw(st.integers(len(MAGIC), len(sealed) - 1))
    sealed[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(MasterKeyError):
        sealer.open(bytes(sealed), context="webhook:w1")


def test_a_value_is_bound_to_its_row() -> None:
    """A value sealed for one row does not open for another (no swapping keys between rows)."""
    sealer = Sealer([NEW])
    sealed = sealer.seal(b"key of w1", context="webhook:w1")
    with pytest.raises(MasterKeyError, match="altered"):
        sealer.open(sealed, context="webhook:w2")


def test_a_ring_opens_values_of_older_keys_and_seals_with_the_newest() -> None:
    """During a rotation the ring (new, old) opens both; ``reseal`` moves a value to the new key."""
    old_value = Sealer([OLD]).seal(b"secret", context="c")
    ring = Sealer([NEW, OLD])
    assert ring.open(old_value, context="c") == b"secret"
    assert not old_value.startswith(ring.current_prefix)
    moved = ring.reseal(old_value, context="c")
    assert moved.startswith(ring.current_prefix)
    assert Sealer([NEW]).open(moved, context="c") == b"secret"


def test_a_clear_value_from_before_sealing_is_sealed_by_reseal() -> None:
    """``reseal`` seals a clear value (rows written before secrets were sealed)."""
    sealer = Sealer([NEW])
    assert sealer.open(sealer.reseal(b"c" * 32, context="c"), context="c") == b"c" * 32


def test_a_value_of_an_unconfigured_key_names_both_keys() -> None:
    """Opening a value sealed by a key that is not configured says which key it needs."""
    sealed = Sealer([OLD]).seal(b"secret", context="c")
    needed = Sealer([OLD]).current_key_id
    with pytest.raises(MasterKeyError, match=f"sealed with master key {needed}"):
        Sealer([NEW]).open(sealed, context="c")
    with pytest.raises(MasterKeyError, match=needed):
        Sealer([NEW]).check_prefixes([sealed[:12]], what="webhook keys")
    Sealer([NEW, OLD]).check_prefixes([sealed[:12], b"clear-bytes!"], what="webhook keys")


def test_master_keys_are_read_newest_first_from_commas_or_lines() -> None:
    """A setting takes ``new,old``; a file takes one key per line."""
    text = f"{encode_master_key(NEW)},{encode_master_key(OLD)}"
    assert parse_master_keys(text, source="s") == [NEW, OLD]
    assert parse_master_keys(text.replace(",", "\n") + "\n", source="s") == [NEW, OLD]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no master key"),
        ("not base64!", "a master key is not base64"),
        (encode_master_key(b"short"), "a master key must be 32 bytes"),
    ],
)
def test_bad_master_keys_are_refused_with_the_setting_named(text: str, message: str) -> None:
    """An empty, non-base64 or short key is refused, naming where it came from."""
    with pytest.raises(MasterKeyError, match=f"WORKHOOKS_MASTER_KEY: {message}"):
        parse_master_keys(text, source="WORKHOOKS_MASTER_KEY")
