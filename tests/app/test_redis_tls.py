"""REDIS_TLS_VERIFY=false lets the app use Heroku Redis, which serves rediss:// with a self-signed certificate."""
import ssl

import pytest
import redis

from widget_app.config import load_settings

HEROKU_REDIS = "rediss://:p4ssw0rd@ec2-1-2-3-4.compute-1.amazonaws.com:12345"


def redis_url(tmp_path, monkeypatch, url, **env):
    for name in ("REDIS_URL", "REDIS_TLS_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings({"WIDGET_MODE": "demo", "REDIS_URL": url}, str(tmp_path))["REDIS_URL"]


def ssl_options(url):
    """What redis-py would connect with (nothing is connected: the pool is lazy)."""
    pool = redis.Redis.from_url(url).connection_pool
    return pool.connection_class, pool.connection_kwargs.get("ssl_cert_reqs", "required")


def test_by_default_a_rediss_certificate_is_verified(tmp_path, monkeypatch):
    url = redis_url(tmp_path, monkeypatch, HEROKU_REDIS)
    assert url == HEROKU_REDIS
    assert ssl_options(url) == (redis.SSLConnection, "required")


@pytest.mark.parametrize("spelling", ["false", "0", "no", "False"])
def test_verification_off_accepts_a_self_signed_certificate(tmp_path, monkeypatch, spelling):
    url = redis_url(tmp_path, monkeypatch, HEROKU_REDIS, REDIS_TLS_VERIFY=spelling)
    assert ssl_options(url) == (redis.SSLConnection, "none")
    connection = redis.Redis.from_url(url).connection_pool.make_connection()
    assert (connection.cert_reqs, connection.check_hostname) == (ssl.CERT_NONE, False)


def test_verification_off_keeps_the_urls_own_query_and_choice(tmp_path, monkeypatch):
    url = redis_url(tmp_path, monkeypatch, HEROKU_REDIS + "/0?health_check_interval=30", REDIS_TLS_VERIFY="false")
    assert url == HEROKU_REDIS + "/0?health_check_interval=30&ssl_cert_reqs=none"
    explicit = HEROKU_REDIS + "?ssl_cert_reqs=required"
    assert redis_url(tmp_path, monkeypatch, explicit, REDIS_TLS_VERIFY="false") == explicit


def test_a_plain_redis_url_is_left_alone(tmp_path, monkeypatch):
    assert redis_url(tmp_path, monkeypatch, "redis://127.0.0.1:6379/0", REDIS_TLS_VERIFY="false") == "redis://127.0.0.1:6379/0"
