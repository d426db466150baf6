"""Password hashes and signed access tokens: what is stored, what verifies, what is refused."""

from __future__ import annotations

import time
from datetime import timedelta

from plantpulse.core.auth.const import Role, TokenType
from plantpulse.core.auth.models import AuthData, TokenProblem, sign_access_token
from plantpulse.core.auth.passwords import hash_password, verify_password


def test_scrypt_hash_keeps_parameters_and_uses_a_fresh_salt() -> None:
    first = hash_password("correct horse")
    second = hash_password("correct horse")
    assert first != second
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert salt and key and "correct horse" not in first
    assert verify_password("correct horse", first)
    assert not verify_password("correct hors", first)
    assert not verify_password("correct horse", "md5$abc")
    assert not verify_password("correct horse", "not a hash at all")


def _data_with_user() -> tuple[AuthData, object]:
    data = AuthData()
    user = data.add_user("alice", "Alice", Role.OPERATOR, "scrypt$unused")
    return data, user


def test_session_refresh_token_is_stored_only_as_a_hash() -> None:
    data, user = _data_with_user()
    token, secret = data.create_refresh_token(user, TokenType.NORMAL, client_id="web")
    stored = str(data.as_stored())
    assert secret is not None and secret not in stored
    assert token.token_hash in stored
    assert data.token_by_secret(secret) is token
    assert data.token_by_secret(secret + "x") is None
    reloaded = AuthData.from_stored(data.as_stored())
    assert reloaded.token_by_secret(secret).id == token.id


def test_access_token_verifies_without_storage_and_dies_with_its_refresh_token() -> None:
    data, user = _data_with_user()
    token, _secret = data.create_refresh_token(user, TokenType.NORMAL)
    now = time.time()
    value = sign_access_token(token, int(now) + 1800)
    assert value.startswith(f"{token.id}.")
    assert data.check_access_token(value, now) == (token, user, None)

    token_id, expiry, signature = value.split(".")
    forged = f"{token_id}.{int(expiry) + 3600}.{signature}"
    assert data.check_access_token(forged, now)[2] is TokenProblem.BAD_SIGNATURE
    assert data.check_access_token(value, now + 1801)[2] is TokenProblem.EXPIRED
    assert data.check_access_token("garbage", now)[2] is TokenProblem.MALFORMED
    # Characters Python calls digits but int() refuses are malformed too, not a crash.
    for expiry_text in ("²³", "١٢٣", "12٣"):
        assert data.check_access_token(f"{token_id}.{expiry_text}.{signature}", now)[2] \
            is TokenProblem.MALFORMED
    assert data.check_access_token(f"nope.{expiry}.{signature}", now)[2] is TokenProblem.UNKNOWN

    user.is_active = False
    assert data.check_access_token(value, now)[2] is TokenProblem.USER_INACTIVE
    user.is_active = True
    data.remove_refresh_token(token.id)
    assert data.check_access_token(value, now)[2] is TokenProblem.UNKNOWN


def test_long_lived_token_has_no_refresh_secret_and_expires_at_its_lifespan() -> None:
    data, user = _data_with_user()
    token, secret = data.create_refresh_token(
        user, TokenType.LONG_LIVED, client_name="scada", lifespan_days=10
    )
    assert secret is None and token.token_hash is None
    value = data.long_lived_access_token(token)
    now = time.time()
    assert data.check_access_token(value, now)[1] is user
    later = now + timedelta(days=11).total_seconds()
    assert data.check_access_token(value, later)[2] is TokenProblem.EXPIRED


def test_only_forged_or_unknown_tokens_count_as_attacks() -> None:
    counted = {problem for problem in TokenProblem if problem.counts_as_attack}
    assert counted == {TokenProblem.MALFORMED, TokenProblem.UNKNOWN, TokenProblem.BAD_SIGNATURE}
