"""The base class of every yizhan task: validate, then run once.

Before the body runs, the payload is checked against the task's contract
(shared.contracts). A payload that fails, or that the station's rules refuse,
becomes a dead letter: never retried, never a crash. A transactional task runs
in one database transaction together with its inbox record, so a task id that
was already processed (a redelivery, a relay that published twice) does nothing.
"""

import json
import logging

from celery import Task
from celery.exceptions import Retry
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, OperationalError

from shared.backoff import backoff_seconds
from shared.celery_app import max_task_delay
from shared.contracts import ContractError, load_payload
from shared.dead_letters import record_dead_letter, task_body_text
from shared.errors import DomainError
from shared.logs import request_id_var, task_var
from shared.work_counts import counting

log = logging.getLogger(__name__)
# No station payload comes near this; a larger one is a mistake or an attack, not a task.
MAX_PAYLOAD_BYTES = 256 * 1024


class ContractTask(Task):
    # The body takes (session, payload); False: the body takes (payload) and manages its own transactions.
    transactional = True
    # Arguments are checked against the contract, not against the function's signature.
    typing = False
    database_retries = 10

    @property
    def runtime(self):
        """The service's runtime, which made this task's Celery app (shared.service_app)."""
        return self.app.runtime

    @property
    def database(self):
        return self.runtime.database

    def __call__(self, *args, **kwargs):
        request_token = request_id_var.set(self.request.get("request_id"))
        task_token = task_var.set((self.request.id, self.name))
        try:
            # The Flask Celery pattern: tasks run inside their app's context (flask examples/celery).
            with self.runtime.flask_app.app_context(), counting(self.runtime.name, self.name):
                return self._validated_run(args, kwargs)
        finally:
            request_id_var.reset(request_token)
            task_var.reset(task_token)

    def _validated_run(self, args, kwargs):
        try:
            if len(args) != 1 or kwargs:
                raise ContractError(self.name, {"_schema": ["a task takes exactly one positional argument, the payload"]})
            size = len(json.dumps(args[0], ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
            if size > MAX_PAYLOAD_BYTES:
                raise ContractError(self.name, {"_schema": [f"payload too large: {size} bytes, at most {MAX_PAYLOAD_BYTES}"]})
            payload = load_payload(self.name, args[0])
            log.info("running %s (delivery %d)", self.name, self.request.retries + 1)
            if not self.transactional:
                return self.run(payload)
            return self._run_once(payload)
        except ContractError as exc:
            self._dead_letter(args, kwargs, f"contract: {json.dumps(exc.messages, ensure_ascii=False)}")
        except DomainError as exc:
            self._dead_letter(args, kwargs, f"refused: {exc.message} {json.dumps(exc.fields, ensure_ascii=False)}")
        except Retry:
            raise
        except OperationalError as exc:
            # The database is away (restarting, failing over): try again later, then keep it as a dead letter.
            if self.request.retries >= self.database_retries:
                self._dead_letter(args, kwargs, f"database unavailable after {self.request.retries} retries: {exc}")
                return None
            raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries, max_task_delay(self.app)),
                             max_retries=self.database_retries) from None
        except Exception as exc:
            # A bug must not lose the message: keep it for an operator to replay once fixed.
            log.exception("%s failed", self.name)
            self._dead_letter(args, kwargs, f"error: {type(exc).__name__}: {exc}")
        return None

    def _run_once(self, payload):
        processed = self.database.infrastructure.processed_task
        task_id = self.request.id
        try:
            with self.database.transaction() as session:
                # The inbox row first, alone: a task id already processed (a redelivery, a relay that
                # published twice, another worker at the same moment) fails here on the primary key
                # before the body does anything, in one statement instead of a read and a write. A Core
                # INSERT: nothing reads the row back, and the unit of work's flush cost twice as much.
                session.execute(insert(processed.__table__), {"task_id": task_id, "task_name": self.name})
                return self.run(session, payload)
        except IntegrityError:
            with self.database.reader() as session:
                if session.get(processed, task_id) is not None:
                    log.info("task %s already processed; doing nothing", task_id)
                    return None
            raise

    def _dead_letter(self, args, kwargs, reason: str):
        body = task_body_text(args, kwargs)
        headers = {"id": self.request.id, "task": self.name, "request_id": self.request.get("request_id")}
        record_dead_letter(self.database, queue=(self.request.delivery_info or {}).get("routing_key") or self.name.split(".")[0],
                           reason=reason, body=body, headers=headers, task_name=self.name, task_id=self.request.id)
