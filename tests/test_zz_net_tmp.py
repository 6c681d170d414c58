import time, uuid
import redis
from sqlalchemy import text
from tests.conftest import isolated_redis_url, launched_station
from tests.faults.mail import post_emails, sent_count
from tests.processes import wait_until

def test_nets(backend, work_dir, redis_server):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), services=("notify",)) as station:
        client = redis.Redis.from_url(station.env["REDIS_URL"])
        t0 = time.time()
        post_emails(client, 500, f"n-{uuid.uuid4().hex[:6]}", "n")
        wait_until(lambda: sent_count(station) >= 500, 60, 0.1, "sent")
        print("elapsed", time.time() - t0)
        time.sleep(4)
        db = station.database("notify")
        with db.reader() as s:
            rows = s.execute(text("select task_name, created_at, published_at, last_error, attempts from outbox order by created_at")).all()
        nets = [r for r in rows if r[0] == "notify.deliver_message"]
        print("outbox rows", len(rows), "nets", len(nets))
        lag = sorted(((r[2] - r[1]).total_seconds() if r[2] and r[1] else None) for r in nets if r[2])
        print("mark lag quantiles", [lag[int(len(lag)*q)] for q in (0, .25, .5, .75, .9, .99)] if lag else None)
        print("errors", {r[3] for r in nets})
        log = station.processes["notify-worker"].log_text()
        print("relayed lines", [l[:200] for l in log.splitlines() if "relayed" in l][:10])
