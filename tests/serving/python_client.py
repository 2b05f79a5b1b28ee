#!/usr/bin/python3
"""A non-C++ client: calls ModelInfer on a skewfree-server with stubs that
protoc generated from proto/inference/grpc_service.proto, typed and raw.

Usage: python_client.py STUB_DIR TARGET
Prints one line per row: the prediction (%.9g) and the model version, after
checking that typed and raw answers agree and that `id` is echoed."""
import struct
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from inference import grpc_service_pb2 as pb  # noqa: E402
from inference import grpc_service_pb2_grpc as pb_grpc  # noqa: E402

ROWS = [(1.234, 1.234, 16, 5), (-3.5, 2.25, 0, 0), (4.9, -4.9, 23, 6)]


def request(raw):
    req = pb.ModelInferRequest(model_name="humidity", id="python-%s" % raw)
    columns = list(zip(*ROWS))
    for (name, datatype), values in zip(
            [("beta1", "FP32"), ("beta2", "FP32"), ("hour", "INT64"), ("weekday", "INT32")],
            columns):
        tensor = req.inputs.add(name=name, datatype=datatype, shape=[len(values), 1])
        fmt = {"FP32": "f", "INT64": "q", "INT32": "i"}[datatype]
        if raw:
            req.raw_input_contents.append(struct.pack("<%d%s" % (len(values), fmt), *values))
        elif datatype == "FP32":
            tensor.contents.fp32_contents.extend(values)
        elif datatype == "INT64":
            tensor.contents.int64_contents.extend(values)
        else:
            tensor.contents.int_contents.extend(values)
    return req


def values(response, raw):
    output = response.outputs[0]
    assert output.datatype == "FP32", output.datatype
    assert list(output.shape) == [len(ROWS), 1], output.shape
    if raw:
        assert not output.contents.fp32_contents
        return list(struct.unpack("<%df" % len(ROWS), response.raw_output_contents[0]))
    assert not response.raw_output_contents
    return list(output.contents.fp32_contents)


def main():
    with grpc.insecure_channel(sys.argv[2]) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        assert stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live
        metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name="humidity"), timeout=10)
        assert [i.name for i in metadata.inputs] == ["beta1", "beta2", "hour", "weekday"], metadata
        answers = {}
        for raw in (False, True):
            response = stub.ModelInfer(request(raw), timeout=10)
            assert response.id == "python-%s" % raw, response.id
            answers[raw] = values(response, raw)
        assert answers[False] == answers[True], answers
        try:
            bad = request(False)
            bad.inputs[2].contents.int64_contents[0] = 24
            stub.ModelInfer(bad, timeout=10)
            raise AssertionError("hour 24 was accepted")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
        for value in answers[False]:
            print("%.9g %s" % (value, response.model_version))


if __name__ == "__main__":
    main()
