"""The front door's origin check: which header values pass, and when Secrets Manager is read."""

from __future__ import annotations

import pytest

from orders.api.origin_check import (
    MISS_REFRESH_SECONDS,
    REFRESH_SECONDS,
    OriginSecret,
    OriginSecretUnavailable,
)

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:origin-AbCdEf"


class FakeSecretsManager:
    """Version stages of one secret; counts the reads."""

    def __init__(self, **stages: str) -> None:
        self.stages = dict(stages)
        self.reads = 0
        self.down = False

    def fetch(self, arn: str, stage: str) -> str | None:
        assert arn == ARN
        self.reads += 1
        if self.down:
            raise OriginSecretUnavailable("ThrottlingException")
        return self.stages.get(stage)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_injected_value_passes_and_nothing_else() -> None:
    secret = OriginSecret(value="s3cret")
    assert secret.accepts("s3cret")
    assert not secret.accepts("s3cre")
    assert not secret.accepts("")


def test_current_and_previous_pass_during_a_rotation() -> None:
    store = FakeSecretsManager(AWSCURRENT="new", AWSPREVIOUS="old")
    secret = OriginSecret(arn=ARN, fetch=store.fetch)
    assert secret.accepts("new")
    assert secret.accepts("old")
    assert not secret.accepts("other")


def test_reads_are_cached_and_bad_headers_cannot_make_every_request_read() -> None:
    store, clock = FakeSecretsManager(AWSCURRENT="v1"), Clock()
    secret = OriginSecret(arn=ARN, fetch=store.fetch, clock=clock)
    assert secret.accepts("v1")
    reads = store.reads
    for _ in range(50):
        assert not secret.accepts("guess")
        assert secret.accepts("v1")
    assert store.reads == reads  # nothing re-read within MISS_REFRESH_SECONDS
    clock.now += REFRESH_SECONDS
    assert secret.accepts("v1")
    assert store.reads == reads + 2  # both stages, once


def test_a_rotation_is_picked_up_on_a_miss_after_the_short_refresh() -> None:
    store, clock = FakeSecretsManager(AWSCURRENT="v1"), Clock()
    secret = OriginSecret(arn=ARN, fetch=store.fetch, clock=clock)
    assert secret.accepts("v1")
    # Given the secret rotated and CloudFront redeployed with the new value
    store.stages = {"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"}
    clock.now += MISS_REFRESH_SECONDS
    # Then the new value passes before the long cache expires, and the old one still does
    assert secret.accepts("v2")
    assert secret.accepts("v1")


def test_an_injected_value_that_matches_needs_no_read() -> None:
    store = FakeSecretsManager(AWSCURRENT="fresh")
    secret = OriginSecret(value="at-start", arn=ARN, fetch=store.fetch)
    assert secret.accepts("at-start")
    assert store.reads == 0
    assert secret.accepts("fresh")  # rotated after the task started


def test_secrets_manager_down_is_reported_not_treated_as_a_match() -> None:
    store = FakeSecretsManager(AWSCURRENT="v1")
    store.down = True
    secret = OriginSecret(arn=ARN, fetch=store.fetch)
    with pytest.raises(OriginSecretUnavailable):
        secret.accepts("v1")


def test_a_secret_needs_a_value_or_an_arn() -> None:
    with pytest.raises(ValueError, match="value or an ARN"):
        OriginSecret()


def test_a_task_started_with_the_new_value_accepts_the_old_until_cloudfront_has_it() -> None:
    """A rotation deploys the tasks (new value injected) before the front door."""
    store = FakeSecretsManager(AWSCURRENT="new", AWSPREVIOUS="old")
    secret = OriginSecret(value="new", arn=ARN, fetch=store.fetch)
    assert secret.accepts("new")
    assert store.reads == 0
    assert secret.accepts("old")
    assert not secret.accepts("older")
