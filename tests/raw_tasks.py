"""Post a task straight onto a Redis list, as another community system would,
without Celery: the message Celery's Redis transport (kombu) expects."""

import base64
import json
import uuid

EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def task_body(payload) -> bytes:
    return json.dumps([[payload], {}, EMBED], ensure_ascii=False).encode()


def envelope(queue: str, task: str | None, body: bytes, content_type="application/json",
             task_id: str | None = None) -> dict:
    """The list entry kombu's Redis transport writes for one task message, as a dict."""
    task_id = task_id or str(uuid.uuid4())
    headers = {"lang": "py", "id": task_id, "root_id": task_id, "parent_id": None, "group": None,
               "retries": 0, "eta": None, "expires": None, "timelimit": [None, None]}
    if task is not None:
        headers["task"] = task
    return {
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": content_type,
        "headers": headers,
        "properties": {"correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
                       "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())},
    }


def post_raw(client, queue: str, task: str | None, body: bytes, content_type="application/json",
             task_id: str | None = None) -> str:
    message = envelope(queue, task, body, content_type, task_id)
    client.lpush(queue, json.dumps(message))
    return message["headers"]["id"]


def post_task(client, task: str, payload, task_id: str | None = None) -> str:
    return post_raw(client, task.split(".")[0], task, task_body(payload), task_id=task_id)
