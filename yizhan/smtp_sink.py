"""A local SMTP server (aiosmtpd) that keeps every e-mail as a readable .eml file.

`make run` sends the station's e-mail here; tests start the same class in-process.
"""

import logging
import threading
import time
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)


class MailSink:
    """aiosmtpd handler: each DATA becomes one file and, when the sink `keeps` them (tests read them),
    one parsed message in `received`. The sink that `yizhan smtp-sink` serves keeps nothing in memory
    and reads only the headers it logs: it runs for as long as the station does, and parsing a whole
    e-mail cost it about 1 ms, on the cores the station itself uses (bench/pipeline_bench.py)."""

    def __init__(self, directory: Path | None = None, keep: bool = True):
        self.directory = directory
        self.keep = keep
        self.received = []
        self.lock = threading.Lock()
        self.count = 0
        self.refusing = False  # tests flip it to play an SMTP server that is down

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing:
            return "421 Service not available, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.keep:
            message = message_from_bytes(envelope.content, policy=policy.default)
        else:
            message = BytesHeaderParser(policy=policy.default).parsebytes(envelope.content)
        with self.lock:
            self.count += 1
            count = self.count
            if self.keep:
                self.received.append(message)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{count:05d}.eml"
            (self.directory / name).write_bytes(envelope.content)
        log.info("mail %d for %s: %s", count, ", ".join(envelope.rcpt_tos), message["Subject"])
        return "250 Message accepted"


def start_sink(port: int, directory: Path | None = None, host: str = "127.0.0.1", keep: bool = True):
    """Start a sink in a background thread; return (controller, handler)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd narrates every connection
    handler = MailSink(directory, keep)
    controller = Controller(handler, hostname=host, port=port)
    controller.start()
    return controller, handler


def serve(settings, port=None, directory=None) -> None:
    from shared.logs import configure_logging

    configure_logging("smtp-sink", settings.log_level)
    directory = Path(directory) if directory else settings.var_dir / "mail"
    controller, _ = start_sink(port or settings.smtp_port, directory, keep=False)
    log.info("SMTP sink on 127.0.0.1:%d, writing to %s", controller.port, directory)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
