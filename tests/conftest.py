from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Property and generated-program tests (docs/reliability.md). "ci" (the default) keeps the suite
# to a couple of minutes on 2 cores; HYPOTHESIS_PROFILE=thorough tries ten times as many programs
# per test.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-fixtures",
        action="store_true",
        help="rewrite fixtures/**/*.out.* and *.findings.txt from the current behaviour",
    )


@pytest.fixture
def update_fixtures(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-fixtures"))
