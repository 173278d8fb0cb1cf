"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) that records what it was sent
and answers with the status codes a test gives it."""

import http.server
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict
    body: bytes
    path: str


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # status codes to answer, in turn; 200 once used up
    received: list[Received] = field(default_factory=list)


@contextmanager
def receiving():
    """A receiver serving on 127.0.0.1 (a free port) while the block runs."""
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body, path=self.path))
            code = state.answers.pop(0) if state.answers else 200
            reply = b"boom" if code >= 500 else b"ok"
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for serve_forever's next poll: 0.5 s by default, at the end of every test
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/labelhub"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
