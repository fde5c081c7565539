"""Service tests run on real stores: the store suite's `make_store` factory."""

from tests.store.conftest import make_store  # noqa: F401
