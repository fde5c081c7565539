"""The example scripts run against the real server of the end-to-end harness."""

from tests.e2e.conftest import pytest_runtest_makereport, server_factory  # noqa: F401
