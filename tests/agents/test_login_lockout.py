"""Sign-in limits stop guessing without locking the real agent out: per (account, address) and per address
they block, per account they only slow down, and an admin can unlock (issue 12, item 7)."""
import threading
from datetime import datetime, timedelta

import requests
from freezegun import freeze_time

from widget_app.agents import limits
from widget_app.agents.accounts import create_agent
from widget_app.models import db

PASSWORD = "correct horse"
HOME, ATTACKER = "192.0.2.10", "203.0.113.66"


def login(client, email="ana@example.com", password=PASSWORD, ip=HOME):
    return client.post("/api/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_five_wrong_passwords_from_an_attacker_do_not_lock_the_agent_out_of_their_usual_address(client, agent):
    with freeze_time("2025-03-01 09:00:00") as frozen:
        assert login(client).status_code == 200  # the agent's usual address
        frozen.tick(timedelta(hours=1))
        for n in range(12):
            assert login(client, password="wrong", ip=f"203.0.113.{n}").status_code in (401, 429)
        assert login(client).status_code == 200


def test_failures_from_elsewhere_only_slow_the_account_down_for_a_new_address(client, agent):
    with freeze_time("2025-03-01 10:00:00") as frozen:
        for _ in range(5):
            assert login(client, password="wrong", ip=ATTACKER).status_code == 401
        slowed = login(client, ip="198.51.100.7")
        assert slowed.status_code == 429
        assert slowed.get_json()["error"]["retry_at"] == "2025-03-01T10:00:01.000Z"
        frozen.tick(timedelta(seconds=1))
        assert login(client, ip="198.51.100.7").status_code == 200


def test_the_account_delay_doubles_with_every_failure_up_to_a_cap(client, agent):
    delays = []
    with freeze_time("2025-03-01 10:00:00") as frozen:
        for n in range(14):
            response = login(client, password="wrong", ip=f"198.51.100.{n}")
            if response.status_code == 429:
                retry_at = response.get_json()["error"]["retry_at"]
                delays.append(retry_at)
                frozen.move_to(retry_at)
                assert login(client, password="wrong", ip=f"198.51.100.{n}").status_code == 401
    assert len(delays) == 9
    times = [datetime.fromisoformat(at.replace("Z", "+00:00")) for at in delays]
    seconds = [int((later - earlier).total_seconds()) for earlier, later in zip(times, times[1:])]
    assert seconds == [2, 4, 8, 16, 32, 60, 60, 60]


def test_the_same_account_and_address_is_blocked_for_the_window(client, agent):
    with freeze_time("2025-03-01 10:00:00"):
        for _ in range(5):
            login(client, password="wrong", ip=ATTACKER)
        blocked = login(client, ip=ATTACKER)
        assert blocked.status_code == 429 and blocked.get_json()["error"]["retry_at"] == "2025-03-01T10:15:00.000Z"


def test_an_address_guessing_many_accounts_is_blocked_for_all_of_them(client, agent):
    with freeze_time("2025-03-01 10:00:00"):
        for n in range(limits.ADDRESS_MAX_FAILURES):
            assert login(client, email=f"guess{n}@example.com", password="x", ip=ATTACKER).status_code == 401
        assert login(client, ip=ATTACKER).status_code == 429
        assert login(client, ip="203.0.113.8").status_code == 200


def test_an_admin_unlocks_an_agent_who_locked_themselves_out(client, runner, agent):
    with freeze_time("2025-03-01 10:00:00"):
        for _ in range(5):
            login(client, password="typo")
        assert login(client).status_code == 429
        result = runner.invoke(args=["agents", "unlock", "--email", "ANA@example.com"])
        assert result.exit_code == 0 and "ana@example.com" in result.output
        assert login(client).status_code == 200


def test_unlock_of_an_unknown_agent_fails(runner, db):
    result = runner.invoke(args=["agents", "unlock", "--email", "nobody@example.com"])
    assert result.exit_code == 1 and "No agent" in result.output


def test_parallel_guesses_from_one_address_check_at_most_five_passwords(make_app, database_url, serve_app):
    app = make_app(DATABASE_URL=database_url)
    with app.app_context(), db.connection_context():
        create_agent("ana@example.com", "Ana", PASSWORD)
    address = serve_app(app)
    barrier, answers = threading.Barrier(16), []

    def guess():
        barrier.wait()
        answers.append(requests.post(f"http://{address}/api/auth/login", timeout=60,
                                     json={"email": "ana@example.com", "password": "wrong"}).status_code)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 16 and set(answers) <= {401, 429} and answers.count(401) <= limits.MAX_FAILURES
    right = requests.post(f"http://{address}/api/auth/login", json={"email": "ana@example.com", "password": PASSWORD},
                          timeout=60)
    assert right.status_code == 429  # the same account from the same address stays blocked
