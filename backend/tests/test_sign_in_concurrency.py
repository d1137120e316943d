"""Sign-in throttling under real concurrency: simultaneous wrong passwords sent to the web process as
it runs in service (gunicorn with two uvicorn workers), on this run's Redis cache.

A burst must not pass the limits: each attempt is counted before its password is checked, so at
most the limit's number of passwords are checked, whatever arrives at once.
"""

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest

from accounts.models import User
from tests import hospital_directory as directory
from tests.factories import PASSWORD
from tests.live_web import LiveWeb, live_web

pytestmark = pytest.mark.django_db(transaction=True)

PER_USERNAME = 5
PER_ADDRESS = 10
BURST = 30


@pytest.fixture(scope="module")
def web(django_db_setup) -> Iterator[LiveWeb]:
    extra = {
        "CXR_SIGN_IN_FAILURES_PER_USERNAME": f"{PER_USERNAME}/min",
        "CXR_SIGN_IN_FAILURES_PER_ADDRESS": f"{PER_ADDRESS}/min",
    }
    with live_web(workers=2, extra=extra) as server:
        yield server


def sign_in(web: LiveWeb, username: str, password: str) -> int:
    request = urllib.request.Request(
        web.url("/api/auth/token/"),
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def burst(web: LiveWeb, credentials: list[tuple[str, str]]) -> Counter:
    """Every sign-in sent at the same moment, each from its own thread; the statuses answered."""
    start = threading.Barrier(len(credentials))
    statuses: list[int] = []

    def attempt(username: str, password: str) -> None:
        start.wait()
        statuses.append(sign_in(web, username, password))

    threads = [threading.Thread(target=attempt, args=pair) for pair in credentials]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return Counter(statuses)


def test_a_burst_of_wrong_passwords_for_one_user_name_checks_at_most_the_limit(web, clinician):
    statuses = burst(web, [(clinician.username, "wrong password")] * BURST)

    assert statuses[401] <= PER_USERNAME, statuses
    assert statuses[401] + statuses[429] == BURST, statuses
    # The limit holds afterwards too, for the right password as for a wrong one.
    assert sign_in(web, clinician.username, PASSWORD) == 429


def test_a_burst_across_user_names_from_one_address_checks_at_most_the_address_limit(web):
    statuses = burst(web, [(f"nobody-{index}", "wrong password") for index in range(BURST)])

    assert statuses[401] <= PER_ADDRESS, statuses
    assert statuses[401] + statuses[429] == BURST, statuses


def test_right_passwords_are_not_counted_once_answered(web, clinician):
    # Attempts in flight hold a place under the limit until answered; right ones then give it back.
    for _ in range(3):
        statuses = burst(web, [(clinician.username, PASSWORD)] * PER_USERNAME)
        assert statuses == Counter({200: PER_USERNAME})


@pytest.fixture(scope="module")
def directory_web(django_db_setup, tmp_path_factory) -> Iterator[LiveWeb]:
    """The web process signing directory users in (LDAP: a slapd of its own)."""
    with (
        directory.hospital_directory(folder=tmp_path_factory.mktemp("directory")) as started,
        live_web(workers=2, extra=directory.service_environment(started.url)) as server,
    ):
        yield server


def test_a_burst_of_first_directory_sign_ins_of_one_person_signs_each_in_as_one_user(directory_web):
    # A double click, two tabs: each request finds no user yet and makes one; one wins, the others
    # find it made, none fails. (As many as the per-user-name limit: each takes a place first.)
    statuses = burst(directory_web, [("dr.house", directory.PASSWORD)] * PER_USERNAME)

    assert statuses == Counter({200: PER_USERNAME}), statuses
    assert User.objects.filter(username="dr.house").count() == 1
