from __future__ import annotations

import pytest

from oss20.config import Settings


def test_defaults_point_at_embedded_storage_and_usual_iqfeed_ports() -> None:
    s = Settings.from_env({})
    assert (s.level1_port, s.lookup_port, s.admin_port) == (5009, 9100, 9300)
    assert s.resolved_arctic_uri.startswith("lmdb://") and s.resolved_arctic_uri.endswith("/data/arctic")
    assert s.resolved_catalog_url.startswith("sqlite:///")
    assert s.redis_url == ""


def test_environment_overrides_with_types() -> None:
    s = Settings.from_env(
        {"OSS20_LEVEL1_PORT": "15009", "OSS20_IQFEED_HOST": "10.0.0.5", "OSS20_DATA_DIR": "/srv/t"}
    )
    assert s.level1_port == 15009 and s.iqfeed_host == "10.0.0.5"
    assert s.resolved_arctic_uri == "lmdb:///srv/t/arctic"


def test_bad_port_says_which_variable() -> None:
    with pytest.raises(ValueError, match="OSS20_ADMIN_PORT='nine'"):
        Settings.from_env({"OSS20_ADMIN_PORT": "nine"})


def test_passwords_never_printed() -> None:
    s = Settings.from_env({"OSS20_CATALOG_URL": "postgresql://app:hunter2@db:5432/ticks"})
    assert "hunter2" not in repr(s) and "hunter2" not in str(s)
    assert "postgresql://app:***@db:5432/ticks" in repr(s)
    s3 = Settings.from_env({"OSS20_ARCTIC_URI": "s3://minio:ticks?port=9000&access=ak&secret=sk123&region=x"})
    assert "sk123" not in repr(s3) and "s3://minio:ticks?port=9000&access=ak&secret=***&region=x" in repr(s3)


def test_simulate_reads_common_boolean_spellings_and_refuses_others() -> None:
    assert Settings.from_env({}).simulate is True
    assert Settings.from_env({"OSS20_SIMULATE": "false"}).simulate is False
    assert Settings.from_env({"OSS20_SIMULATE": "0"}).simulate is False
    assert Settings.from_env({"OSS20_SIMULATE": "Yes"}).simulate is True
    with pytest.raises(ValueError, match="OSS20_SIMULATE='maybe' is not a boolean"):
        Settings.from_env({"OSS20_SIMULATE": "maybe"})


def test_replaced_copies_every_setting_but_the_changed_ones_and_refuses_unknown_names() -> None:
    base = Settings.from_env({"OSS20_DATA_DIR": "/srv/ticks", "OSS20_HISTORY_RATE": "20"})
    moved = base.replaced(lookup_port=0, iqfeed_host="10.0.0.5")
    assert moved.as_dict() == {**base.as_dict(), "lookup_port": 0, "iqfeed_host": "10.0.0.5"}
    assert base.lookup_port == 9100, "the original is left as it was"
    assert Settings(**moved.as_dict()).as_dict() == moved.as_dict()
    with pytest.raises(ValueError, match=r"unknown settings \['lookup'\]"):
        base.replaced(lookup=1)
