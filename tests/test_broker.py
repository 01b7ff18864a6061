"""The no-server broker hands every message over whole, even while it is being written."""

import threading

from kombu import Connection

from crmadmin import broker
from crmadmin.celery import filesystem_broker_options

MESSAGES = 1500


def test_filesystem_urls_use_crmadmins_transport(tmp_path):
    with Connection("filesystem://", transport_options=filesystem_broker_options(tmp_path)) as c:
        assert isinstance(c.transport, broker.Transport)


def test_a_reader_racing_the_writer_gets_every_message_whole(tmp_path):
    options = filesystem_broker_options(tmp_path)
    body = "x" * 20_000  # big enough that writing it takes a moment
    received: list[dict] = []
    errors: list[BaseException] = []
    done_writing = threading.Event()

    def read() -> None:
        with Connection("filesystem://", transport_options=options) as conn:
            queue = conn.SimpleQueue("race")
            try:
                while len(received) < MESSAGES:
                    try:
                        message = queue.get(timeout=0.2 if done_writing.is_set() else 5)
                    except queue.Empty:
                        if done_writing.is_set():
                            return
                        continue
                    received.append(message.payload)
                    message.ack()
            except BaseException as exc:  # an empty or cut message fails to decode here
                errors.append(exc)
            finally:
                queue.close()

    reader = threading.Thread(target=read)
    reader.start()
    with Connection("filesystem://", transport_options=options) as conn:
        queue = conn.SimpleQueue("race")
        for n in range(MESSAGES):
            queue.put({"n": n, "body": body})
        queue.close()
    done_writing.set()
    reader.join(timeout=120)

    assert errors == []
    assert sorted(m["n"] for m in received) == list(range(MESSAGES))
    assert all(m["body"] == body for m in received)
    assert not list((tmp_path / "queue").glob(f"*{broker.PARTIAL_SUFFIX}"))
