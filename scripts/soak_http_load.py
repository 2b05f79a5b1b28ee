#!/usr/bin/python3
"""HTTP load for scripts/soak.sh: closed-loop threads, each on its own
keep-alive connection, calling POST /v2/models/MODEL/infer (no version, so
the server picks the latest while versions come and go), alternating a
single-row JSON body and a 1000-row body in Triton's binary tensor form,
until the deadline.

Usage: soak_http_load.py --port PORT --duration SECONDS [--threads 2]
                         [--model humidity] [--host 127.0.0.1]
A call is OK when it answers 200 and holds one finite value per row. Prints
the first few errors to stderr, then "http calls ok=X failed=Y ..." on stdout;
exits 1 on any failed call."""
import argparse
import http.client
import json
import math
import random
import struct
import sys
import threading
import time

INPUTS = [("beta1", "FP32", "f"), ("beta2", "FP32", "f"), ("hour", "INT64", "q"),
          ("weekday", "INT64", "q")]
MAX_ERRORS_SHOWN = 5


def random_rows(rng, n):
    return [(rng.uniform(-5, 5), rng.uniform(-5, 5), rng.randrange(24), rng.randrange(7))
            for _ in range(n)]


def json_body(rows):
    columns = list(zip(*rows))
    inputs = [{"name": name, "datatype": datatype, "shape": [len(rows), 1], "data": list(values)}
              for (name, datatype, _), values in zip(INPUTS, columns)]
    return json.dumps({"inputs": inputs}).encode(), {"Content-Type": "application/json"}


def binary_body(rows):
    """Triton's binary form: JSON header, then each input's little-endian
    column; the header's length goes in Inference-Header-Content-Length."""
    n = len(rows)
    columns = list(zip(*rows))
    inputs, raw = [], []
    for (name, datatype, fmt), values in zip(INPUTS, columns):
        data = struct.pack("<%d%s" % (n, fmt), *values)
        raw.append(data)
        inputs.append({"name": name, "datatype": datatype, "shape": [n, 1],
                       "parameters": {"binary_data_size": len(data)}})
    header = json.dumps({"inputs": inputs, "outputs": [
        {"name": "humidity", "parameters": {"binary_data": True}}]}).encode()
    return header + b"".join(raw), {"Inference-Header-Content-Length": str(len(header)),
                                    "Content-Type": "application/octet-stream"}


def flatten(data):
    for value in data:
        if isinstance(value, list):
            yield from flatten(value)
        else:
            yield value


def check_answer(response, body, n):
    """The n predictions of an answer, or raises ValueError naming what is off."""
    if response.status != 200:
        raise ValueError("HTTP %d: %s" % (response.status, body[:300]))
    header_length = response.getheader("Inference-Header-Content-Length")
    if header_length is None:
        output = json.loads(body)["outputs"][0]
        values = [float(v) for v in flatten(output["data"])]
    else:
        output = json.loads(body[:int(header_length)])["outputs"][0]
        raw = body[int(header_length):]
        if len(raw) != 4 * n or output["parameters"]["binary_data_size"] != 4 * n:
            raise ValueError("binary answer of %d bytes for %d rows" % (len(raw), n))
        values = struct.unpack("<%df" % n, raw)
    if output["name"] != "humidity" or len(values) != n:
        raise ValueError("output %r holds %d values for %d rows" % (output["name"], len(values), n))
    if not all(math.isfinite(v) for v in values):
        raise ValueError("a non-finite prediction in %r" % (values[:10],))


class Worker(threading.Thread):
    def __init__(self, index, args, deadline, errors, errors_lock):
        super().__init__(name="http-load-%d" % index)
        self.args, self.deadline = args, deadline
        self.errors, self.errors_lock = errors, errors_lock
        self.path = "/v2/models/%s/infer" % args.model
        rng = random.Random(index)
        # A few prepared bodies: the client's CPU goes to calls, not encoding.
        self.bodies = [(1, json_body(random_rows(rng, 1))) for _ in range(8)] + \
                      [(1000, binary_body(random_rows(rng, 1000))) for _ in range(2)]
        self.ok = self.failed = self.rows = self.connections = 0

    def connect(self):
        self.connections += 1
        return http.client.HTTPConnection(self.args.host, self.args.port, timeout=30)

    def run(self):
        connection = self.connect()
        call = 0
        while time.monotonic() < self.deadline:
            # Even calls single-row JSON, odd calls 1000-row binary.
            n, (body, headers) = self.bodies[(call // 2) % 8] if call % 2 == 0 else \
                self.bodies[8 + (call // 2) % 2]
            call += 1
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                check_answer(response, response.read(), n)
                self.ok += 1
                self.rows += n
            except (ValueError, KeyError, IndexError, TypeError) as error:
                self.fail(n, error)  # The answer was read whole: the connection stays.
            except (OSError, http.client.HTTPException) as error:
                self.fail(n, error)
                connection.close()
                connection = self.connect()
        connection.close()

    def fail(self, n, error):
        self.failed += 1
        with self.errors_lock:
            if len(self.errors) < MAX_ERRORS_SHOWN:
                self.errors.append("%s: %d-row call: %s: %s" % (
                    self.name, n, type(error).__name__, error))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default="humidity")
    args = parser.parse_args()
    start = time.monotonic()
    errors, errors_lock = [], threading.Lock()
    workers = [Worker(i, args, start + args.duration, errors, errors_lock)
               for i in range(args.threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - start
    ok = sum(w.ok for w in workers)
    failed = sum(w.failed for w in workers)
    for error in errors:
        print(error, file=sys.stderr)
    if failed > len(errors):
        print("... and %d more errors" % (failed - len(errors)), file=sys.stderr)
    print("http calls ok=%d failed=%d in %.1f s (%d threads, %d connections, %.0f rows/s)" % (
        ok, failed, elapsed, len(workers), sum(w.connections for w in workers),
        sum(w.rows for w in workers) / elapsed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
