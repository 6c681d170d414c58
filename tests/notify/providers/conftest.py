import pytest

from tests.notify.providers.fakes import FakeApi
from tests.processes import refused_port


@pytest.fixture
def start_fake_api():
    """`start_fake_api(check)` starts a fake provider API; all are stopped after the test."""
    started = []

    def start(check=None) -> FakeApi:
        api = FakeApi(check).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture
def closed_address():
    """host:port where nothing listens, so a connection is refused."""
    with refused_port() as port:
        yield f"127.0.0.1:{port}"
