"""moto's server for the tests, with two differences from `moto_server`.

1. DynamoDB requests are applied one at a time. DynamoDB applies a conditional write atomically;
   moto's threaded server reads the current item, parses the condition and writes without a lock,
   so two concurrent conditional puts on one key can both succeed. The reconciler's dispatch claim
   and Powertools' idempotency record rely on that atomicity, and under load the tests saw both
   callers win. Other services stay concurrent (SQS long polls must not stall everything else).
2. It binds port 0 itself and prints the port it got, so no other process can take the port between
   choosing and binding it (two test files sharing one moto reset each other's state).
3. It does not log every request. The log goes to a pipe the starting process drains only while its
   event loop runs: a caller blocked in spawnSync (bench/s3.ts runs each measurement in a child that
   way) let the pipe fill after ~64 KiB of request lines, moto blocked writing the next one, and every
   request of the measurement hung until the client's 30 s timeout.

Usage: python3 moto_server.py [HOST]   prints "moto listening on PORT" once it accepts connections.
"""

import logging
import os
import socket
import sys
import threading

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_dynamodb = threading.Lock()
_call = DomainDispatcherApplication.__call__


def _serialised(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _dynamodb:
            return _call(self, environ, start_response)
    return _call(self, environ, start_response)


DomainDispatcherApplication.__call__ = _serialised


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=True, fd=sock.fileno())
    print(f"moto listening on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
