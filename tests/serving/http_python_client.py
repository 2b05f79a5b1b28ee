#!/usr/bin/python3
"""An HTTP/JSON client with only Python's standard library (urllib, json):
server and model metadata, then ModelInfer as JSON and with a binary output.

Usage: http_python_client.py PORT
Prints the model's inputs, then one line per row: the prediction's FP32 bits
(%08x) and the model version, after checking that the JSON and the binary
answers agree and that `id` is echoed."""
import json
import struct
import sys
import urllib.error
import urllib.request

ROWS = [(1.234, 1.234, 16, 5), (-3.5, 2.25, 0, 0), (4.9, -4.9, 23, 6)]
BASE = "http://127.0.0.1:%s" % sys.argv[1]


def call(path, body=None, headers=None):
    request = urllib.request.Request(BASE + path, data=body, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, dict(answer.headers), answer.read()


def infer_body(binary_output):
    columns = list(zip(*ROWS))
    inputs = [{"name": name, "datatype": datatype, "shape": [len(ROWS), 1], "data": list(values)}
              for (name, datatype), values in zip(
                  [("beta1", "FP32"), ("beta2", "FP32"), ("hour", "INT64"), ("weekday", "INT64")],
                  columns)]
    body = {"id": "python-http", "inputs": inputs}
    if binary_output:
        body["outputs"] = [{"name": "humidity", "parameters": {"binary_data": True}}]
    return json.dumps(body).encode()


def main():
    status, _, body = call("/v2")
    server = json.loads(body)
    assert status == 200 and server["name"] == "skewfree", server
    status, _, body = call("/v2/health/ready")
    assert status == 200 and json.loads(body) == {"ready": True}, body
    _, _, body = call("/v2/models/humidity")
    metadata = json.loads(body)
    print("inputs", " ".join("%s:%s" % (i["name"], i["datatype"]) for i in metadata["inputs"]))

    headers = {"Content-Type": "application/json"}
    _, _, body = call("/v2/models/humidity/infer", infer_body(False), headers)
    answer = json.loads(body)
    assert answer["id"] == "python-http", answer
    output = answer["outputs"][0]
    assert output["shape"] == [len(ROWS), 1], output
    values = [struct.unpack("<I", struct.pack("<f", v))[0] for v in output["data"]]

    _, answer_headers, body = call("/v2/models/humidity/infer", infer_body(True), headers)
    length = int(answer_headers["Inference-Header-Content-Length"])
    binary = list(struct.unpack("<%dI" % len(ROWS), body[length:]))
    assert binary == values, (binary, values)

    try:
        call("/v2/models/nope/infer", infer_body(False), headers)
        raise AssertionError("unknown model answered")
    except urllib.error.HTTPError as e:
        assert e.code == 404 and "nope" in json.loads(e.read())["error"], e
    for v in values:
        print("%08x %s" % (v, answer["model_version"]))


if __name__ == "__main__":
    main()
