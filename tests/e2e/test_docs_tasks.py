"""docs/tasks.md stays true: its plain redis-py example opens a ticket through
real workers, and every field of every contract is documented under its task."""

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from marshmallow import fields

from shared.contracts import CONTRACTS
from tests.e2e.test_dead_letters import tickets_with_key
from tests.processes import wait_until

pytestmark = pytest.mark.e2e

DOC = Path(__file__).resolve().parents[2] / "docs" / "tasks.md"
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def first_python_block(text: str) -> str:
    match = re.search(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert match, "docs/tasks.md has no ```python block"
    return match.group(1)


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, title) of each Markdown heading outside fenced code blocks."""
    found, fenced = [], False
    for index, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"^(#{1,6})\s+(.*)$", line)
        if match:
            found.append((index, len(match.group(1)), match.group(2)))
    return found


def section(text: str, task_name: str) -> str:
    """The text under the first heading naming the task, up to the next heading of its level or above."""
    lines = text.splitlines()
    all_headings = headings(text)
    for position, (start, level, title) in enumerate(all_headings):
        if task_name in title:
            end = next((i for i, lvl, _ in all_headings[position + 1:] if lvl <= level), len(lines))
            return "\n".join(lines[start:end])
    raise AssertionError(f"docs/tasks.md has no heading naming {task_name}")


def documented_fields(schema, prefix: str = ""):
    """(dotted name, field) for every field of a schema, nested schemas (and lists of them) included."""
    for name, field in schema.fields.items():
        dotted = prefix + (field.data_key or name)
        yield dotted, field
        if isinstance(field, fields.Nested):
            yield from documented_fields(field.schema, dotted + ".")
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            yield from documented_fields(field.inner.schema, dotted + "[].")


def table_row(text: str, dotted: str) -> list[str] | None:
    """The cells of the table row whose first cell is `dotted`, or None."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells and cells[0] == f"`{dotted}`":
            return cells
    return None


def test_the_plain_redis_example_in_docs_creates_a_ticket(running_station):
    key = f"docs-example-{uuid.uuid4()}"
    code = first_python_block(doc_text())
    assert "desk.create_ticket" in code and "TICKET_KEY" in code

    result = subprocess.run([sys.executable, "-c", code], env={**running_station.env, "TICKET_KEY": key},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    task_id = result.stdout.strip()
    assert UUID_PATTERN.match(task_id), f"the example should print the task id, printed {result.stdout!r}"

    try:
        tickets = wait_until(lambda: tickets_with_key(running_station, key), 30, 0.2, "the ticket the docs example posts")
    except AssertionError:
        print(running_station.logs())
        raise
    assert len(tickets) == 1
    assert tickets[0].status == "submitted" and tickets[0].created_by == "system"


def test_every_contract_field_is_documented():
    text = doc_text()
    missing = []
    for task_name, schema in CONTRACTS.items():
        body = section(text, task_name)
        for dotted, field in documented_fields(schema()):
            if f"`{dotted}`" not in body:
                missing.append(f"{task_name}: `{dotted}` not documented")
                continue
            row = table_row(body, dotted)
            if row is None:
                missing.append(f"{task_name}: `{dotted}` has no row in the field table")
            elif len(row) < 3 or row[2].startswith("yes") != bool(field.required):
                missing.append(f"{task_name}: `{dotted}` required should be {'yes' if field.required else 'no'}")
        example = re.search(r"^```json\n(.*?)^```", body, re.DOTALL | re.MULTILINE)
        if example is None:
            missing.append(f"{task_name}: no JSON example")
        else:
            errors = schema().validate(json.loads(example.group(1)))
            if errors:
                missing.append(f"{task_name}: the JSON example breaks the contract: {errors}")
    assert not missing, "docs/tasks.md is out of step with shared/contracts.py:\n" + "\n".join(missing)
