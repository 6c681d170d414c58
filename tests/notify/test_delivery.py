"""One bad message never stops the others: a message that cannot be built fails alone, and
the provider's circuit counts only what the provider does. A real SMTP server, Redis and database."""

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from services.notify.domain.circuit import CircuitBreaker
from services.notify.domain.delivery import SendLocks, deliver
from services.notify.models import Message
from services.notify.policy import NotifyPolicy
from services.notify.providers import TransientError
from shared.settings import Settings
from tests.booking.conftest import station_time
from tests.conftest import isolated_redis_url
from tests.notify.providers.fakes import FakeApi
from tests.notify.providers.test_tencent_sms import SECRET_ID, per_number, tencent_check
from tests.notify.test_messages import accept
from tests.processes import free_port
from yizhan.smtp_sink import MailSink

NOW = station_time("2026-03-10 12:00")


@pytest.fixture
def smtp_sink():
    sink, port = MailSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, Settings.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)})
    controller.stop()


def test_messages_that_cannot_be_built_fail_alone_and_the_circuit_stays_closed(station, redis_server, smtp_sink):
    sink, settings = smtp_sink
    redis_url = isolated_redis_url(redis_server.url)
    policy = NotifyPolicy(circuit_threshold=1, circuit_cooldown_seconds=600)  # one provider failure would open it
    circuit, locks = CircuitBreaker(redis_url, policy), SendLocks(redis_url, 30)
    database = station.database("notify")

    def email(n, **broken):
        message = accept(station, "2026-03-10 12:00", channel="email", recipient=f"bad-{n}@example.org")
        with database.transaction() as session:  # as rows written before the fix, or by a surprise
            row = session.get(Message, message.id)
            for name, value in broken.items():
                setattr(row, name, value)
        return message.id

    def status(message_id):
        with database.reader() as session:
            row = session.get(Message, message_id)
            return row.status, row.status_reason

    line_break = [email(n, subject="党课\r\nBcc: everyone@example.org") for n in range(4)]
    no_body = [email(n + 4, body=None) for n in range(4)]
    for message_id in line_break + no_body:
        deliver(database, settings, policy, circuit, locks, message_id, NOW)
    assert circuit.state("smtp", NOW) == "closed"
    for message_id in no_body:
        state, reason = status(message_id)
        assert state == "failed" and "cannot build the e-mail" in reason
    assert {status(i)[0] for i in line_break} == {"sent"}
    subjects = [str(m["Subject"]) for m in sink.received]
    assert len(subjects) == 4 and all("\n" not in s and "\r" not in s for s in subjects)
    assert all(m["Bcc"] is None for m in sink.received)

    normal = email(9)
    assert deliver(database, settings, policy, circuit, locks, normal, NOW + timedelta(seconds=1)) == "sent"
    assert len(sink.received) == 5


def test_a_provider_that_is_down_still_opens_the_circuit(station, redis_server):
    redis_url = isolated_redis_url(redis_server.url)
    policy = NotifyPolicy(circuit_threshold=1, circuit_cooldown_seconds=600)
    circuit = CircuitBreaker(redis_url, policy)
    settings = Settings.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port())})  # nobody listening
    message = accept(station, "2026-03-10 12:00", channel="email", recipient="down@example.org")
    with pytest.raises(Exception) as failure:
        deliver(station.database("notify"), settings, policy, circuit, SendLocks(redis_url, 30), message.id, NOW)
    assert type(failure.value).__name__ == "TransientError"
    assert circuit.state("smtp", NOW) == "open"


def test_a_limit_on_one_number_or_a_template_without_a_code_does_not_count_against_the_provider(station, redis_server):
    """Tencent's local stand-in (a commercial SMS cloud): a per-number limit is retried later and a template
    Tencent cannot send fails alone; neither is the provider failing, so its circuit stays closed."""
    tencent = FakeApi(tencent_check).start()
    try:
        tencent.answer(per_number("LimitExceeded.PhoneNumberDailyLimit", "单个手机号日下发短信条数超过设定的上限",
                                  serial_no=""))
        settings = Settings.from_env({
            "SMS_PROVIDERS": "tencent", "TENCENT_SECRET_ID": SECRET_ID, "TENCENT_SECRET_KEY": "test-secret-key",
            "TENCENT_SMS_SDK_APP_ID": "1400006666", "TENCENT_SMS_SIGN_NAME": "驿站",
            "TENCENT_SMS_ENDPOINT": f"http://{tencent.address}"})
        redis_url = isolated_redis_url(redis_server.url)
        policy = NotifyPolicy(circuit_threshold=1, circuit_cooldown_seconds=600)
        circuit, locks, database = CircuitBreaker(redis_url, policy), SendLocks(redis_url, 30), station.database("notify")

        no_code = accept(station, "2026-03-10 12:00", recipient="13700000301")  # seeded templates carry no code
        assert deliver(database, settings, policy, circuit, locks, no_code.id, NOW) == "failed"
        limited = accept(station, "2026-03-10 12:00", recipient="13700000302")
        with database.transaction() as session:
            session.get(Message, limited.id).sms_template_code = "SMS_460770154"
        with pytest.raises(TransientError, match="PhoneNumberDailyLimit"):
            deliver(database, settings, policy, circuit, locks, limited.id, NOW)
        assert circuit.state("tencent", NOW) == "closed"
        with database.reader() as session:
            assert "no Tencent template id" in session.get(Message, no_code.id).status_reason
            assert session.get(Message, limited.id).status == "accepted"  # to be retried
    finally:
        tencent.stop()
