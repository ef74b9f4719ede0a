"""Settings come from the environment; the secret key is generated once and never a constant."""

from __future__ import annotations

import pytest

from volunteer_hub import settings as settings_module


@pytest.fixture
def fresh_settings(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "SECRET_KEY", "VOLUNTEER_HUB_ENV", "REDIS_URL", "VOLUNTEER_HUB_FAST_PASSWORD_HASHING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VOLUNTEER_HUB_VAR", str(tmp_path))
    settings_module.get_settings.cache_clear()
    yield tmp_path
    settings_module.get_settings.cache_clear()


def test_defaults_are_sqlite_under_var_and_a_generated_key(fresh_settings):
    first = settings_module.get_settings()
    assert first.database_url == f"sqlite:///{fresh_settings / 'volunteer_hub.sqlite3'}"
    assert first.environment == "development" and not first.is_production
    assert len(first.secret_key) >= 40
    assert (fresh_settings / "secret_key").stat().st_mode & 0o077 == 0
    settings_module.get_settings.cache_clear()
    assert settings_module.get_settings().secret_key == first.secret_key


def test_environment_overrides(fresh_settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost:5432/hub")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("VOLUNTEER_HUB_ENV", "production")
    current = settings_module.get_settings()
    assert current.is_postgres and current.is_production and current.secret_key == "from-the-environment"
    assert not (fresh_settings / "secret_key").exists()


def test_production_app_sets_secure_cookies(fresh_settings, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_HUB_ENV", "production")
    from volunteer_hub.app import create_app

    app = create_app(settings_module.get_settings())
    assert app.csrf_config.cookie_secure is True
    assert app.debug is False


@pytest.mark.parametrize("bad", [("VOLUNTEER_HUB_ENV", "staging"), ("DATABASE_URL", "mysql://x/y")])
def test_bad_settings_are_refused(fresh_settings, monkeypatch, bad):
    monkeypatch.setenv(*bad)
    with pytest.raises(ValueError):
        settings_module.get_settings()


def test_passwords_use_argon2id_with_the_recommended_parameters_unless_a_test_suite_asks(fresh_settings, monkeypatch):
    from volunteer_hub.accounts import passwords

    passwords._hasher.cache_clear()
    try:
        real = passwords.hash_password("Volunteer2026")
        assert real.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert passwords.verify_password(real, "Volunteer2026") and not passwords.verify_password(real, "Volunteer2027")
        monkeypatch.setenv("VOLUNTEER_HUB_FAST_PASSWORD_HASHING", "1")
        settings_module.get_settings.cache_clear()
        passwords._hasher.cache_clear()
        assert not passwords.hash_password("Volunteer2026").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        monkeypatch.setenv("VOLUNTEER_HUB_ENV", "production")
        settings_module.get_settings.cache_clear()
        with pytest.raises(ValueError, match="refused in production"):
            settings_module.get_settings()
    finally:
        settings_module.get_settings.cache_clear()
        passwords._hasher.cache_clear()


@pytest.mark.parametrize("environment", ["production", "development"])
async def test_cookies_are_secure_in_production_and_always_http_only_and_same_site(fresh_settings, monkeypatch,
                                                                                   environment):
    import httpx

    from volunteer_hub.app import create_app

    monkeypatch.setenv("VOLUNTEER_HUB_ENV", environment)
    app = create_app(settings_module.get_settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver.local") as client:
        form = await client.get("/login")  # sets the CSRF cookie; nobody is logged in, so no database is needed
        assert form.status_code == 200
        chosen = await client.post("/language", data={"locale": "en", "next": "/",
                                                      "_csrf_token": client.cookies["csrftoken"]})
        assert chosen.status_code == 303  # the flash message starts a server-side session
    cookies = {header.split("=", 1)[0]: [part.strip().lower() for part in header.split(";")[1:]]
               for header in form.headers.get_list("set-cookie") + chosen.headers.get_list("set-cookie")}
    session, csrf = cookies["session"], cookies["csrftoken"]
    assert ("secure" in session) is (environment == "production"), session
    assert ("secure" in csrf) is (environment == "production"), csrf
    assert "httponly" in session and "samesite=lax" in session, session
    assert "samesite=lax" in csrf, csrf  # the CSRF cookie is read by no script of ours, but forms need it sent
