import pytest

from producer.config import ENV_VARS, ConfigError, Playlist, ProducerConfig, parse_playlists

BASE = {"PLAYLISTS": "p1:global, p2", "DELIVERY_STREAM_NAME": "s", "STATE_BUCKET": "b",
        "SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "s3cr3t-value"}


def test_playlists_with_and_without_labels():
    assert parse_playlists(" p1:global ,p2,, ") == (Playlist("p1", "global"), Playlist("p2", "p2"))


@pytest.mark.parametrize("text", ["", " , ", ":label", "p1,p1:x"])
def test_bad_playlists_are_refused(text):
    with pytest.raises(ConfigError):
        parse_playlists(text)


def test_defaults_point_at_spotify_and_hide_the_secret():
    config = ProducerConfig.from_env(BASE)
    assert config.api_url == "https://api.spotify.com/v1/"
    assert config.token_url == "https://accounts.spotify.com/api/token"
    assert config.state_prefix == "producer-state/"
    assert "s3cr3t-value" not in repr(config)


def test_urls_and_prefix_are_normalised():
    config = ProducerConfig.from_env({**BASE, "SPOTIFY_API_URL": "http://127.0.0.1:1/v1", "STATE_PREFIX": "st"})
    assert config.api_url == "http://127.0.0.1:1/v1/" and config.state_prefix == "st/"


@pytest.mark.parametrize("drop", ["PLAYLISTS", "DELIVERY_STREAM_NAME", "STATE_BUCKET", "SPOTIFY_CLIENT_SECRET"])
def test_missing_settings_are_named(drop):
    env = {k: v for k, v in BASE.items() if k != drop}
    with pytest.raises(ConfigError, match=drop if drop != "SPOTIFY_CLIENT_SECRET" else "SPOTIFY_SECRET_ARN"):
        ProducerConfig.from_env(env)


def test_secret_arn_alone_is_enough_and_every_read_variable_is_declared():
    env = {k: v for k, v in BASE.items() if not k.startswith("SPOTIFY_")}
    config = ProducerConfig.from_env({**env, "SPOTIFY_SECRET_ARN": "arn:aws:secretsmanager:x"})
    assert config.secret_arn and config.client_id is None
    assert {"SPOTIFY_SECRET_ARN", "SPOTIFY_REFRESH_TOKEN", "STATE_PREFIX"} <= set(ENV_VARS)


def test_a_user_s_pkce_refresh_token_needs_no_client_secret():
    env = {k: v for k, v in BASE.items() if k != "SPOTIFY_CLIENT_SECRET"}
    config = ProducerConfig.from_env({**env, "SPOTIFY_REFRESH_TOKEN": "user-refresh-value"})
    assert config.client_secret is None and config.refresh_token == "user-refresh-value"
    assert "user-refresh-value" not in repr(config)


def test_caps_and_the_delivery_reserve_have_defaults_and_can_be_set():
    config = ProducerConfig.from_env(BASE)
    assert (config.max_pages_per_chart, config.max_entries_per_chart, config.delivery_reserve_seconds) == (40, 1000, 20)
    config = ProducerConfig.from_env({**BASE, "MAX_PAGES_PER_CHART": "200", "MAX_ENTRIES_PER_CHART": " 10000 ",
                                      "DELIVERY_RESERVE_SECONDS": "30"})
    assert (config.max_pages_per_chart, config.max_entries_per_chart, config.delivery_reserve_seconds) == (200, 10000, 30)


def test_the_spotify_retry_delay_defaults_to_half_a_second_and_may_be_zero():
    assert ProducerConfig.from_env(BASE).spotify_retry_delay_ms == 500
    assert ProducerConfig.from_env({**BASE, "SPOTIFY_RETRY_DELAY_MS": "0"}).spotify_retry_delay_ms == 0


@pytest.mark.parametrize("name, value, problem", [
    ("MAX_PAGES_PER_CHART", "0", "MAX_PAGES_PER_CHART must be at least 1, got 0"),
    ("MAX_ENTRIES_PER_CHART", "many", "MAX_ENTRIES_PER_CHART must be an integer, got 'many'"),
    ("MAX_CONCURRENCY", "2.5", "MAX_CONCURRENCY must be an integer, got '2.5'"),
    ("MOVEMENT_THRESHOLD", "-1", "MOVEMENT_THRESHOLD must be at least 1, got -1"),
    # Less than one Firehose call's timeout would leave no time to deliver anything.
    ("DELIVERY_RESERVE_SECONDS", "5", "DELIVERY_RESERVE_SECONDS must be at least 13, got 5"),
    ("SPOTIFY_RETRY_DELAY_MS", "-1", "SPOTIFY_RETRY_DELAY_MS must be at least 0, got -1"),
    ("SPOTIFY_RETRY_DELAY_MS", "0.5", "SPOTIFY_RETRY_DELAY_MS must be an integer, got '0.5'"),
])
def test_bad_numbers_are_named_with_the_value(name, value, problem):
    with pytest.raises(ConfigError) as caught:
        ProducerConfig.from_env({**BASE, name: value})
    assert str(caught.value) == problem


def test_polling_is_fixed_unless_adaptive_is_asked_for_with_its_settings_in_minutes():
    from producer.schedule import ScheduleSettings

    assert ProducerConfig.from_env(BASE).schedule is None  # every poll reads every chart
    assert ProducerConfig.from_env({**BASE, "POLL_SCHEDULE": "fixed"}).schedule is None
    assert ProducerConfig.from_env({**BASE, "POLL_SCHEDULE": "adaptive"}).schedule == ScheduleSettings()
    config = ProducerConfig.from_env({**BASE, "POLL_SCHEDULE": "Adaptive", "POLL_INTERVAL_MINUTES": "10",
                                      "FLIP_WINDOW_MINUTES": "5", "SAFETY_INTERVAL_MINUTES": "60",
                                      "FLIP_HISTORY_DAYS": "14"})
    assert config.schedule == ScheduleSettings(interval_seconds=600, window_seconds=300, safety_seconds=3600,
                                               history_days=14)


@pytest.mark.parametrize("setting, message", [
    ({"POLL_SCHEDULE": "hourly"}, "POLL_SCHEDULE must be adaptive or fixed"),
    ({"FLIP_WINDOW_MINUTES": "soon"}, "FLIP_WINDOW_MINUTES must be a number"),
    ({"SAFETY_INTERVAL_MINUTES": "0"}, "SAFETY_INTERVAL_MINUTES must be more than 0"),
    ({"SAFETY_INTERVAL_MINUTES": "10"}, "at least POLL_INTERVAL_MINUTES"),
])
def test_bad_polling_settings_are_named(setting, message):
    with pytest.raises(ConfigError, match=message):
        ProducerConfig.from_env({**BASE, "POLL_SCHEDULE": "adaptive", **setting})
