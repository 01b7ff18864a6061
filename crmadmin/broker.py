"""The no-server broker: kombu's file-system transport, with every message written whole.

kombu creates a message's file and only then writes into it, and a worker listing the
folder in between reads an empty message and drops it (kombu issue #1551): a queued job
was lost now and then on a loaded machine. Here a message is written under a name the
workers ignore and renamed into place, which is atomic, so they see it whole or not at all.

Importing this module makes ``filesystem://`` broker URLs use it.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# Not a message name: a worker reads only files named ``<id>.<queue>.msg``.
PARTIAL_SUFFIX = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = "crmadmin.broker:Transport"
