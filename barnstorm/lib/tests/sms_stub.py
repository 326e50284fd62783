"""A local stand-in for Twilio's Messages API: real HTTP on 127.0.0.1, answering as Twilio does.

    with TwilioStub() as stub:
        provider = TwilioProvider(account_sid=stub.account_sid, auth_token=stub.auth_token,
                                  from_number="+15155550100", api_base=stub.url)
        provider.send(to="+15155550123", body="Hi")
        stub.messages                          # what Twilio was asked to send
        stub.fail_next(500)                    # the next request gets a server error
        stub.delay_next_response(2.0)          # the message is created; the answer comes too late
        params, headers = stub.signed_webhook(url, {"MessageSid": …, "From": …, "Body": "STOP"})

It checks HTTP basic auth (the account SID and auth token), refuses numbers that are not E.164
and Twilio's magic test numbers with Twilio's error codes, and answers a created message with
201 and the Message resource's JSON (sid "SM…", status "queued", num_segments …).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from barnstorm.lib.sms.base import FAILING_TEST_NUMBERS, segments

_MESSAGES = re.compile(r"/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Messages(?:/(?P<sid>SM[0-9a-f]{32}))?\.json")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


class TwilioStub:
    def __init__(self) -> None:
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.messages: dict[str, dict] = {}  # sid -> the Message resource, in creation order
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._failures: list[int] = []
        self._delays: list[float] = []
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> TwilioStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub._serve(self)

            do_POST = do_GET

            def log_message(self, format, *args):
                pass

        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="TwilioStub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> TwilioStub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # test controls -----------------------------------------------------------------------------

    def fail_next(self, status: int) -> None:
        """The next request is answered with this HTTP status and a Twilio error, doing nothing."""
        with self._lock:
            self._failures.append(status)

    def delay_next_response(self, seconds: float) -> None:
        """The next request is carried out, but its answer is held back `seconds`."""
        with self._lock:
            self._delays.append(seconds)

    def signed_webhook(self, url: str, params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """Form fields and headers of a webhook Twilio would POST to `url`, signed with the auth token."""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return dict(params), {SIGNATURE_HEADER: signature, "Content-Type": "application/x-www-form-urlencoded"}

    # the API -----------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()} if length else {}
        with self._lock:
            self.requests.append((handler.command, path))
            failure = self._failures.pop(0) if self._failures else None
            delay = self._delays.pop(0) if self._delays else 0.0
            if failure is not None:
                status, payload = failure, _error(failure, 20500 if failure >= 500 else 20429, "Stub failure")
            else:
                status, payload = self._route(handler.command, path, handler.headers.get("Authorization", ""), form)
        if delay:
            self._release.wait(delay)
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def _route(self, method: str, path: str, authorization: str, form: dict[str, str]) -> tuple[int, dict]:
        match = _MESSAGES.fullmatch(path)
        if not match:
            return 404, _error(404, 20404, "The requested resource was not found")
        if authorization != "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode():
            return 401, _error(401, 20003, "Authenticate")
        if match["account"] != self.account_sid:
            return 403, _error(403, 20003, "Account SID does not match the credentials")
        if method == "GET" and match["sid"]:
            message = self.messages.get(match["sid"])
            return (200, message) if message else (404, _error(404, 20404, "Message not found"))
        if method != "POST" or match["sid"]:
            return 405, _error(405, 20004, "Method not allowed")
        return self._create(form)

    def _create(self, form: dict[str, str]) -> tuple[int, dict]:
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From", ""), form.get("MessagingServiceSid", "")
        if not to:
            return 400, _error(400, 21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(to):
            return 400, _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in FAILING_TEST_NUMBERS:
            code, message = FAILING_TEST_NUMBERS[to]
            return 400, _error(400, int(code), message)
        if not sender and not service:
            return 400, _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return 400, _error(400, 21602, "Message body is required.")
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(timezone.now(), usegmt=True)
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "messaging_service_sid": service or None,
            "to": to,
            "from": sender or None,  # a messaging service picks the number later
            "body": body,
            "status": "accepted" if service and not sender else "queued",
            "num_segments": str(segments(body)),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "status_callback": form.get("StatusCallback"),
        }
        self.messages[sid] = message
        return 201, message


def _error(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
