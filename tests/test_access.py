"""Who may do what: password hashes, the users file, roles, the proxy header, exposure."""

from __future__ import annotations

import json
import stat
from types import SimpleNamespace

import pytest

from paperlens.assistant.access import (
    LIBRARIAN,
    READER,
    AccessDenied,
    AccessPolicy,
    add_user,
    hash_password,
    load_users,
    verify_password,
)
from paperlens.assistant.webauth import check_exposure
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError


def request(username=None, host="127.0.0.1", headers=None):
    """The parts of a gr.Request / fastapi.Request the policy reads."""
    return SimpleNamespace(
        username=username, client=SimpleNamespace(host=host), headers=headers or {}
    )


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.toml"
    add_user(path, "rita", READER, "reader-pass-1")
    add_user(path, "lena", LIBRARIAN, "librarian-pass-1")
    return path


def test_passwords_are_stored_as_salted_scrypt_hashes_never_in_plain_text(users):
    text = users.read_text()
    assert "reader-pass-1" not in text and "librarian-pass-1" not in text
    assert text.count("scrypt$") == 2
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    first, second = hash_password("same-password"), hash_password("same-password")
    assert first != second  # salted
    assert verify_password("same-password", first) and not verify_password("other-pw", first)
    assert not verify_password("same-password", "plain-text-in-a-file")


def test_short_passwords_and_odd_names_and_roles_are_refused(tmp_path):
    path = tmp_path / "users.toml"
    with pytest.raises(PaperlensError, match="at least 8"):
        add_user(path, "amy", READER, "short")
    with pytest.raises(PaperlensError, match="user names"):
        add_user(path, "a b]\n[users.x", READER, "long-enough")
    with pytest.raises(PaperlensError, match="unknown role"):
        add_user(path, "amy", "admin", "long-enough")


def test_the_users_file_may_be_json(tmp_path):
    path = tmp_path / "users.json"
    entry = {"users": {"rita": {"role": "reader", "hash": hash_password("x" * 8)}}}
    path.write_text(json.dumps(entry))
    assert load_users(path)["rita"].role == READER


def test_password_mode_logs_in_with_the_hash_and_gives_each_user_their_role(users):
    policy = AccessPolicy.from_settings(Settings(users_file=users))
    assert policy.mode == "password"  # auto: the users file exists
    assert policy.check_login("lena", "librarian-pass-1")
    assert not policy.check_login("lena", "reader-pass-1")
    assert not policy.check_login("nobody", "librarian-pass-1")
    assert policy.require(request("lena")) == "lena"
    with pytest.raises(AccessDenied, match="only librarians"):
        policy.require(request("rita"))
    assert policy.require(request("rita"), READER) == "rita"
    with pytest.raises(AccessDenied, match="sign in"):
        policy.require(request(None), READER)


def test_repeated_failed_logins_lock_the_name_for_a_while(users):
    policy = AccessPolicy.from_settings(Settings(users_file=users))
    for _ in range(5):
        assert not policy.check_login("lena", "guess")
    assert not policy.check_login("lena", "librarian-pass-1")  # even the right one, for now
    assert policy.check_login("rita", "reader-pass-1")  # other names are not affected


def test_users_added_while_the_app_runs_can_sign_in(users):
    policy = AccessPolicy.from_settings(Settings(users_file=users))
    assert policy.role_of("newbie") is None
    add_user(users, "newbie", LIBRARIAN, "newbie-pass-1")
    assert policy.role_of("newbie") == LIBRARIAN


def test_password_mode_without_users_is_an_error(tmp_path):
    with pytest.raises(PaperlensError, match="users add"):
        AccessPolicy.from_settings(Settings(auth="password", users_file=tmp_path / "none.toml"))


def test_proxy_header_is_believed_only_from_a_trusted_proxy(users):
    settings = Settings(auth="proxy", users_file=users, trusted_proxies=["10.0.0.5"])
    policy = AccessPolicy.from_settings(settings)
    header = {"X-Forwarded-User": "lena"}
    assert policy.proxy_user(request(host="10.0.0.5", headers=header)) == "lena"
    assert policy.proxy_user(request(host="10.0.0.6", headers=header)) is None
    assert policy.proxy_user(request(host="10.0.0.5", headers={})) is None
    assert policy.proxy_user(request(host="10.0.0.5", headers={"X-Forwarded-User": "a\nb"})) is None
    # Named in the users file: their role; anyone else the proxy signed in: a reader.
    assert policy.role_of("lena") == LIBRARIAN and policy.role_of("someone") == READER


def test_no_login_on_loopback_is_the_single_user_librarian_elsewhere_a_reader(tmp_path):
    settings = Settings(users_file=tmp_path / "absent.toml")
    assert AccessPolicy.from_settings(settings).role_of(None) == LIBRARIAN
    shared = AccessPolicy.from_settings(settings, host="0.0.0.0")
    assert shared.role_of(None) == READER
    with pytest.raises(AccessDenied):
        shared.require(request(None))


def test_a_network_address_without_login_refuses_to_start_unless_allowed(tmp_path, users):
    open_policy = AccessPolicy.from_settings(Settings(users_file=tmp_path / "absent.toml"))
    check_exposure("127.0.0.1", open_policy, allow_anonymous=False)
    with pytest.raises(PaperlensError, match="--allow-anonymous"):
        check_exposure("0.0.0.0", open_policy, allow_anonymous=False)
    check_exposure("0.0.0.0", open_policy, allow_anonymous=True)
    check_exposure("0.0.0.0", AccessPolicy.from_settings(Settings(users_file=users)), False)


def test_serve_refuses_a_network_address_in_one_line(tmp_path):
    from tests.fixtures.cli import run

    result = run(tmp_path / "home", "serve", "--host", "0.0.0.0", "--port", "7", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: refusing to listen on 0.0.0.0")
    assert "Traceback" not in result.stderr
