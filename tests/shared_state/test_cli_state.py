"""``mockserver serve --state``: a bad URL is a usage error naming the field, an unreachable Redis stops the start
with a message saying so (nothing is served)."""

from __future__ import annotations

import pytest
from _redis_servers import free_port

from mockserver.cli.main import main


def test_a_bad_state_url_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--state", "http://127.0.0.1:6379"]) == 2
    assert "state" in capsys.readouterr().err


def test_an_unreachable_redis_exits_1_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--state", f"redis://127.0.0.1:{free_port()}/0"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the shared state's Redis" in err
    assert "is it running?" in err
