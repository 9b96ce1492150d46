"""Every config mistake an operator can make is one line naming the file or variable and the
key, exit 2 — never a traceback; `check-config` also proves the paths it must write and says
(exit 3) when the store does not answer; `serve` refuses the same mistakes before listening."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.cli_shared import EXIT_CONFIG, EXIT_UNREACHABLE
from gateway.errors import ConfigError
from gateway.preflight import check_writable_paths, store_problem
from gateway.settings import from_keys, load_settings
from tests.conftest import SECRET
from tests.servers import RedisServer
from tests.test_cli import environment, run

DEEP_TOML = "x = " + "[" * 3000 + "]" * 3000 + "\n"
DEEP_JSON = '{"en": ' * 3000 + "{}" + "}" * 3000


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean, valid environment for in-process `main()` runs; returns the tmp folder."""
    for name, value in environment(tmp_path).items():
        if name.startswith("GATEWAY_"):
            monkeypatch.setenv(name, value)
    for name in list(os.environ):
        if name.startswith("GATEWAY_") and name not in environment(tmp_path):
            monkeypatch.delenv(name)
    return tmp_path


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], *expected: str) -> None:
    assert main(argv) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("consent-gateway: config error: ")
    assert "Traceback" not in err
    for part in expected:
        assert part in err, err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'policy_url = "\xff\xfe"\n', ("c.toml: (syntax): expected UTF-8 text",)),
        (DEEP_TOML.encode(), ("c.toml: (syntax): nested too deeply",)),
        (b'public_url = "http://[x/"\n', ("c.toml: public_url: expected an http(s) URL",)),
        (b'allowed_origins = ["https://[::1"]\n', ("c.toml: allowed_origins: expected origins",)),
        (b'policy_url = "https://[x/privacy"\n', ("c.toml: policy_url: expected a URL",)),
        (b"spool_replay_seconds = -5\n", ("c.toml: spool_replay_seconds: expected 0.1 to 3600",)),
        (b"spool_replay_seconds = 0\n", ("c.toml: spool_replay_seconds",)),
        (b"store_timeout_seconds = 0\n", ("c.toml: store_timeout_seconds",)),
        (b"objection_refresh_seconds = -1\n", ("c.toml: objection_refresh_seconds",)),
        (b"purge_interval_seconds = 1\n", ("c.toml: purge_interval_seconds",)),
        (b"receipt_retention_days = 99999999999\n", ("c.toml: receipt_retention_days",)),
        (b"event_retention_days = 0\n", ("c.toml: event_retention_days: expected 1 to",)),
        (b"spool_replay_seconds = nan\n", ("c.toml: spool_replay_seconds",)),
        (b"spool_replay_seconds = inf\n", ("c.toml: spool_replay_seconds: expected a finite",)),
        (b'store = "redis://localhost:notaport/0"\n', ("c.toml: store: expected redis://host",)),
        (b'store = "redis://localhost:99999/0"\n', ("c.toml: store: expected redis://host",)),
        (b'store = "redis://[::1/0"\n', ("c.toml: store: expected redis://host",)),
        (b'store = "redis://localhost:6379/zero"\n', ("c.toml: store: expected a database",)),
        (b'store = "redis://:6379/0"\n', ("c.toml: store: expected redis://host",)),
        (b'store = "sqlite://"\n', ("c.toml: store: expected sqlite:///",)),
        (b"banner_texts = { en = { title = 3 } }\n", ("c.toml: banner_texts",)),
    ],
)
def test_a_bad_config_file_is_one_line_exit_2(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    expected: tuple[str, ...],
) -> None:
    key = content.split(b"=", 1)[0].strip().decode("ascii", "replace").upper()
    monkeypatch.delenv(f"GATEWAY_{key}", raising=False)  # the environment would win
    config = env / "c.toml"
    config.write_bytes(content)
    _one_line_exit_2(capsys, ["--config", str(config), "check-config", "--skip-store"], *expected)


def test_a_directory_as_config_is_one_line_exit_2(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _one_line_exit_2(capsys, ["--config", str(env), "check-config"], "(file): is a directory")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GATEWAY_SPOOL_REPLAY_SECONDS", "-5", "environment GATEWAY_SPOOL_REPLAY_SECONDS:"),
        ("GATEWAY_BANNER_TEXTS", DEEP_JSON, "environment GATEWAY_BANNER_TEXTS: banner_texts:"),
        ("GATEWAY_PUBLIC_URL", "http://[x/", "environment GATEWAY_PUBLIC_URL: public_url:"),
        ("GATEWAY_STORE", "redis://h:port/0", "environment GATEWAY_STORE: store:"),
        ("GATEWAY_STORE_TIMEOUT_SECONDS", "1e999", "GATEWAY_STORE_TIMEOUT_SECONDS: store_timeout"),
        ("GATEWAY_METRICS_TOKEN_HASHES", "abc", "GATEWAY_METRICS_TOKEN_HASHES: metrics_token"),
    ],
)
def test_a_bad_variable_is_named_one_line_exit_2(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    _one_line_exit_2(capsys, ["check-config", "--skip-store"], expected)


def test_a_value_from_the_environment_is_blamed_on_the_variable_not_the_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("policy_revision = 2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {"GATEWAY_SPOOL_REPLAY_SECONDS": "0"})
    assert str(caught.value).startswith("environment GATEWAY_SPOOL_REPLAY_SECONDS: ")


def test_a_deep_rule_file_is_one_line_exit_2(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = env / "rules"
    rules.mkdir()
    (rules / "deep.toml").write_text(DEEP_TOML)
    monkeypatch.setenv("GATEWAY_RULES", str(rules))
    _one_line_exit_2(capsys, ["check-rules"], "deep.toml: (syntax): nested too deeply")


@pytest.mark.parametrize("key", ["data_dir", "store"])
def test_paths_the_gateway_must_write_are_checked(tmp_path: Path, key: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    unwritable = blocker / "sub"  # even root cannot create a folder inside a file
    settings = from_keys(
        secret_keys=(SECRET,),
        data_dir=unwritable if key == "data_dir" else tmp_path / "var",
        store=f"sqlite:///{unwritable if key == 'store' else tmp_path}/g.sqlite3",
    )
    with pytest.raises(ConfigError) as caught:
        check_writable_paths(settings)
    assert f"settings: {key}: cannot write {blocker}" in str(caught.value)


def test_a_folder_where_the_sqlite_file_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "g.sqlite3").mkdir()
    settings = from_keys(data_dir=tmp_path / "var", store=f"sqlite:///{tmp_path}/g.sqlite3")
    with pytest.raises(ConfigError, match="is a directory"):
        check_writable_paths(settings)


def test_serve_refuses_an_unwritable_data_dir_before_listening(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run(
        "serve", "--port", "1", env=environment(tmp_path, GATEWAY_DATA_DIR=str(blocker / "var"))
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "data_dir: cannot write" in result.stderr


def test_check_config_says_when_the_store_does_not_answer(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_STORE", "redis://:secret-password@127.0.0.1:1/0")
    monkeypatch.setenv("GATEWAY_STORE_TIMEOUT_SECONDS", "0.5")
    assert main(["check-config"]) == EXIT_UNREACHABLE
    captured = capsys.readouterr()
    assert captured.err.startswith("consent-gateway: store unreachable: redis://***@127.0.0.1:1")
    assert "secret-password" not in captured.err + captured.out
    assert main(["check-config", "--skip-store"]) == 0


def test_check_config_says_when_the_store_answers(
    env: Path, capsys: pytest.CaptureFixture[str], redis_single: RedisServer
) -> None:
    settings = from_keys(store=redis_single.url)
    assert store_problem(settings) is None
    assert main(["check-config"]) == 0
    assert "ok: the store answers (sqlite)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("redis+sentinel://10.0.0.1:26379,10.0.0.2/gateway/2", True),
        ("redis+sentinel://10.0.0.1:26379/gateway", True),
        ("redis+sentinel://10.0.0.1:notaport/gateway", False),
        ("redis+sentinel://10.0.0.1:26379", False),  # no service name
        ("redis+cluster://127.0.0.1:7000", True),
        ("rediss://:pw@cache.example:6380/1", True),
        ("sqlite:////srv/gateway.db", True),
    ],
)
def test_store_url_forms(url: str, ok: bool) -> None:
    if ok:
        assert load_settings(None, {"GATEWAY_STORE": url}).store.url == url
    else:
        with pytest.raises(ConfigError, match="GATEWAY_STORE: store: expected"):
            load_settings(None, {"GATEWAY_STORE": url})


@pytest.mark.parametrize(
    "url",
    [
        "redis://:s3cretpass@redis.internal:6379/x",
        "redis://user:s3cretpass@redis.internal:notaport/0",
        "redis+sentinel://:s3cretpass@10.0.0.1:notaport/gateway",
        "rediss://:s3cretpass@",
    ],
)
def test_a_badly_formed_store_url_never_shows_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"GATEWAY_STORE": url})
    assert "s3cretpass" not in str(caught.value)
    assert "***@" in str(caught.value)
