"""Password hashing: Argon2id, salted, checked in constant work, strength limits."""

import pytest

from outage.auth import passwords


def test_hash_is_salted_argon2id_and_verifies() -> None:
    first = passwords.hash_password("a long enough secret")
    second = passwords.hash_password("a long enough secret")
    assert first.startswith("$argon2id$")
    assert first != second, "every hash has its own salt"
    assert "a long enough secret" not in first
    assert passwords.verify_password(first, "a long enough secret")
    assert not passwords.verify_password(first, "a long enough secreT")
    assert not passwords.needs_rehash(first)


def test_unknown_user_costs_a_verification_and_fails() -> None:
    assert not passwords.verify_password(None, "whatever it is")
    assert not passwords.verify_password("not a hash", "whatever it is")


@pytest.mark.parametrize("password", ["short", "x" * (passwords.MAX_LENGTH + 1)])
def test_too_short_or_too_long_is_refused(password: str) -> None:
    with pytest.raises(passwords.WeakPassword):
        passwords.hash_password(password)
    assert not passwords.verify_password(passwords.hash_password("ten chars!!"), password)


def test_old_parameters_are_rehashed_on_next_sign_in() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("a long enough secret")
    assert passwords.verify_password(weak, "a long enough secret")
    assert passwords.needs_rehash(weak)
