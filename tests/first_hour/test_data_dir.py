"""One data directory: every command finds the gateway's key and store from the config file or
`GATEWAY_DATA_DIR` wherever it runs, and refuses to start afresh beside an existing one."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import load_settings
from tests.test_cli import environment, run


def test_relative_paths_in_a_config_file_are_relative_to_that_file(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    config = site / "gateway.toml"
    config.write_text('data_dir = "data"\nrules = "rules"\n')
    settings = load_settings(config, environ={})
    assert settings.site.data_dir == site / "data"
    assert settings.rules.folder == site / "rules"
    assert settings.store.url == f"sqlite:///{site / 'data' / 'gateway.sqlite3'}"


def test_the_store_follows_the_data_directory_unless_set(tmp_path: Path) -> None:
    moved = load_settings(environ={"GATEWAY_DATA_DIR": str(tmp_path / "d")})
    assert moved.store.url == f"sqlite:///{tmp_path / 'd' / 'gateway.sqlite3'}"
    own = load_settings(
        environ={"GATEWAY_DATA_DIR": str(tmp_path / "d"), "GATEWAY_STORE": "redis://r:6379/0"}
    )
    assert own.store.url == "redis://r:6379/0"
    assert load_settings(environ={}).store.url == "sqlite:///var/gateway.sqlite3"


def _defaults(tmp_path: Path) -> dict[str, str]:
    """A user's shell: no data directory, store or key set; the state folder is the test's."""
    env = environment(tmp_path)
    for name in ("GATEWAY_SECRET_KEYS", "GATEWAY_STORE", "GATEWAY_DATA_DIR"):
        del env[name]
    return env


def test_a_command_in_another_folder_names_the_data_directory_to_use(tmp_path: Path) -> None:
    env = _defaults(tmp_path)
    project, elsewhere = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    elsewhere.mkdir()
    first = run("receipts", env=env, cwd=project)
    assert first.returncode == 0, first.stderr
    signed = run("sign-link", "--campaign", "c", "--recipient", "r", "--url",
                 "https://www.example.com/", env=env, cwd=project)  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert (project / "var" / "secret.key").is_file()

    for command in (
        ("receipts",),
        ("sign-link", "--campaign", "c", "--recipient", "r", "--url", "https://www.example.com/"),
    ):
        refused = run(*command, env=env, cwd=elsewhere)
        assert refused.returncode == 2, refused.stdout
        assert refused.stderr.count("\n") == 1, refused.stderr
        assert f"GATEWAY_DATA_DIR={project / 'var'}" in refused.stderr
    assert not (elsewhere / "var" / "secret.key").exists()
    assert not (elsewhere / "var" / "gateway.sqlite3").exists()

    chosen = run("receipts", env={**env, "GATEWAY_DATA_DIR": str(project / "var")}, cwd=elsewhere)
    assert chosen.returncode == 0, chosen.stderr
    fresh = run("receipts", env={**env, "GATEWAY_DATA_DIR": str(elsewhere / "new")}, cwd=elsewhere)
    assert fresh.returncode == 0, fresh.stderr  # a data directory set on purpose starts afresh


def test_checking_creates_nothing_so_it_runs_in_any_folder(tmp_path: Path) -> None:
    """`check-rules` and `check-config` only read: another checkout's data directory (a CI clone
    beside the developer's) is no reason to refuse them, and they leave no data behind."""
    env = _defaults(tmp_path)
    project, elsewhere = tmp_path / "project", tmp_path / "ci-clone"
    project.mkdir()
    elsewhere.mkdir()
    assert run("receipts", env=env, cwd=project).returncode == 0
    rules = run("check-rules", env=env, cwd=elsewhere)
    assert rules.returncode == 0, rules.stderr
    assert rules.stdout.startswith("ok: settings valid"), rules.stdout
    assert not (elsewhere / "var").exists()
    config = run("check-config", "--skip-store", env=env, cwd=elsewhere)
    assert config.returncode == 0, config.stderr  # tries the folder is writable; no key, no data
    assert not (elsewhere / "var" / "secret.key").exists()
    assert not (elsewhere / "var" / "gateway.sqlite3").exists()


def test_the_same_config_file_finds_the_same_data_from_any_folder(tmp_path: Path) -> None:
    env = _defaults(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "gateway.toml").write_text('data_dir = "data"\n')
    signed = [
        run("--config", str(site / "gateway.toml"), "sign-link", "--campaign", "c",
            "--recipient", "r", "--url", "https://www.example.com/", "--sent-at", "2026-01-01",
            env=env, cwd=folder).stdout
        for folder in (site, tmp_path)
    ]  # fmt: skip
    assert signed[0] == signed[1]  # one key: links signed anywhere are the gateway's
    assert (site / "data" / "secret.key").is_file()
