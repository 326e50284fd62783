"""A small SMTP server on loopback for tests: it keeps every accepted message, and can hold the
reply to one message until the client goes away (a worker killed with the message on the wire).

Per RFC 5321 the server takes a message only by answering 250 after the final dot, so a held
message whose client disconnects before the answer is not kept.
"""

from __future__ import annotations

import socketserver
import threading
from collections import Counter
from email import message_from_bytes


class Sink:
    def __init__(self, *, hold_at: int | None = None):
        self.messages: list[tuple[list[str], bytes]] = []
        self.hold_at = hold_at  # hold the reply to the message with this number (1-based)
        self.holding = threading.Event()
        self.discarded: list[list[str]] = []
        self._lock = threading.Lock()
        self._seen = 0
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                sink._session(self.rfile, self.wfile, self.connection)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def recipients(self) -> Counter:
        with self._lock:
            return Counter(rcpt for rcpts, _ in self.messages for rcpt in rcpts)

    def parsed(self, **kwargs):
        with self._lock:
            return [message_from_bytes(data, **kwargs) for _, data in self.messages]

    def _session(self, rfile, wfile, conn):
        def reply(line: str) -> bool:
            try:
                wfile.write(line.encode() + b"\r\n")
                wfile.flush()
                return True
            except OSError:
                return False

        reply("220 sink ESMTP")
        rcpts: list[str] = []
        while True:
            line = rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                reply("250-sink\r\n250 8BITMIME")
            elif verb == b"MAIL":
                rcpts = []
                reply("250 ok")
            elif verb == b"RCPT":
                rcpts.append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
                reply("250 ok")
            elif verb == b"DATA":
                reply("354 go ahead")
                data = []
                while (chunk := rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                if chunk == b"":
                    return
                with self._lock:
                    self._seen += 1
                    hold = self._seen == self.hold_at
                if hold:
                    self.holding.set()
                    # Wait for the client to vanish; the message was never accepted.
                    while conn.recv(1024):
                        pass
                    self.discarded.append(rcpts)
                    return
                with self._lock:
                    self.messages.append((rcpts, b"".join(data)))
                reply("250 queued")
            elif verb == b"QUIT":
                reply("221 bye")
                return
            else:
                reply("250 ok")
