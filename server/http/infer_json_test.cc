#include "server/http/infer_json.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/infer_request.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"

namespace skewfree::server::http {
namespace {

using ::inference::ModelInferRequest;
using ::inference::ModelInferResponse;
using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// One input's JSON: {"name": name, "datatype": datatype, "shape": shape, "data": data}.
std::string Input(const std::string& name, const std::string& datatype, const std::string& shape,
                  const std::string& data) {
  return absl::StrCat(R"({"name":")", name, R"(","datatype":")", datatype, R"(","shape":)", shape,
                      R"(,"data":)", data, "}");
}

std::string Body(const std::vector<std::string>& inputs) {
  return absl::StrCat(R"({"inputs":[)", absl::StrJoin(inputs, ","), "]}");
}

absl::Status Parse(const std::string& body, ModelInferRequest* request,
                   ResponseEncoding* encoding = nullptr, int64_t json_length = -1) {
  ResponseEncoding unused;
  return ParseInferRequest(body, json_length, request, encoding ? encoding : &unused);
}

std::string HumidityBody(const std::string& hour_datatype = "INT64") {
  return Body({Input("beta1", "FP32", "[3]", "[0.5, -1.25, 3]"),
               Input("beta2", "FP32", "[3,1]", "[[1.5],[2],[-0.1]]"),
               Input("hour", hour_datatype, "[3]", "[0, 12, 23]"),
               Input("weekday", hour_datatype, "[3,1]", "[1, 2, 6]")});
}

TEST(ParseInferRequestTest, FlatAndNestedDataToTypedContents) {
  ModelInferRequest request;
  ASSERT_THAT(Parse(HumidityBody(), &request), IsOk());
  EXPECT_TRUE(request.model_name().empty());
  ASSERT_EQ(request.inputs_size(), 4);
  EXPECT_EQ(request.raw_input_contents_size(), 0);
  EXPECT_THAT(request.inputs(0).contents().fp32_contents(), ElementsAre(0.5f, -1.25f, 3.0f));
  EXPECT_THAT(request.inputs(1).shape(), ElementsAre(3, 1));
  EXPECT_THAT(request.inputs(1).contents().fp32_contents(), ElementsAre(1.5f, 2.0f, -0.1f));
  EXPECT_THAT(request.inputs(2).contents().int64_contents(), ElementsAre(0, 12, 23));
  EXPECT_THAT(request.inputs(3).contents().int64_contents(), ElementsAre(1, 2, 6));
}

TEST(ParseInferRequestTest, GoesThroughTheGrpcValidation) {
  const transform::FeatureLayout layout =
      transform::FeatureLayout::Create(skewfree_testing::HumiditySpec()).value();
  for (const char* datatype : {"INT64", "INT32"}) {
    ModelInferRequest request;
    ASSERT_THAT(Parse(HumidityBody(datatype), &request), IsOk());
    transform::RawBatchView batch;
    ASSERT_THAT(BuildRawBatchView(request, layout, 100, &batch), IsOk());
    EXPECT_EQ(batch.num_rows, 3u);
  }
  // The same with one binary input: every input raw, still accepted.
  const std::string json = Body({Input("beta1", "FP32", "[3]", "[0.5, -1.25, 3]"),
                                 Input("beta2", "FP32", "[3]", "[1, 2, 3]"),
                                 Input("hour", "INT64", "[3]", "[0, 12, 23]"),
                                 R"({"name":"weekday","datatype":"INT64","shape":[3],)"
                                 R"("parameters":{"binary_data_size":24}})"});
  ModelInferRequest request;
  ASSERT_THAT(Parse(json + Bytes<int64_t>({1, 2, 6}), &request, nullptr, json.size()), IsOk());
  transform::RawBatchView batch;
  ASSERT_THAT(BuildRawBatchView(request, layout, 100, &batch), IsOk());
  EXPECT_EQ(batch.num_rows, 3u);
  // A missing input is the gRPC path's error.
  request.Clear();
  ASSERT_THAT(Parse(Body({Input("beta1", "FP32", "[1]", "[1]")}), &request), IsOk());
  EXPECT_THAT(BuildRawBatchView(request, layout, 100, &batch),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing input")));
}

TEST(ParseInferRequestTest, NestedToHigherRanks) {
  ModelInferRequest request;
  ASSERT_THAT(
      Parse(Body({Input("x", "INT32", "[2,2,3]", "[[[1,2,3],[4,5,6]],[[7,8,9],[10,11,12]]]")}),
            &request),
      IsOk());
  EXPECT_THAT(request.inputs(0).contents().int_contents(),
              ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  request.Clear();
  ASSERT_THAT(Parse(Body({Input("x", "FP64", "[2,0]", "[[],[]]"), Input("y", "FP32", "[0]", "[]")}),
                    &request),
              IsOk());
  EXPECT_EQ(request.inputs(0).contents().fp64_contents_size(), 0);
}

TEST(ParseInferRequestTest, EveryDatatypeToItsTypedField) {
  ModelInferRequest request;
  ASSERT_THAT(
      Parse(
          Body({Input("b", "BOOL", "[2]", "[true,false]"), Input("i8", "INT8", "[2]", "[-128,127]"),
                Input("i16", "INT16", "[2]", "[-32768,32767]"),
                Input("i32", "INT32", "[2]", "[-2147483648,2147483647]"),
                Input("i64", "INT64", "[2]", "[-9223372036854775808,9223372036854775807]"),
                Input("u8", "UINT8", "[2]", "[0,255]"), Input("u16", "UINT16", "[1]", "[65535]"),
                Input("u32", "UINT32", "[1]", "[4294967295]"),
                Input("u64", "UINT64", "[1]", "[18446744073709551615]"),
                Input("f32", "FP32", "[3]", "[0.1,1e-50,-0]"),
                Input("f64", "FP64", "[2]", "[0.1,1e300]"),
                Input("s", "BYTES", "[2]", R"(["a\"b\u00e9",""])")}),
          &request),
      IsOk());
  ASSERT_EQ(request.inputs_size(), 12);
  const auto contents = [&](int i) { return request.inputs(i).contents(); };
  EXPECT_THAT(contents(0).bool_contents(), ElementsAre(true, false));
  EXPECT_THAT(contents(1).int_contents(), ElementsAre(-128, 127));
  EXPECT_THAT(contents(2).int_contents(), ElementsAre(-32768, 32767));
  EXPECT_THAT(contents(3).int_contents(), ElementsAre(std::numeric_limits<int32_t>::min(),
                                                      std::numeric_limits<int32_t>::max()));
  EXPECT_THAT(contents(4).int64_contents(), ElementsAre(std::numeric_limits<int64_t>::min(),
                                                        std::numeric_limits<int64_t>::max()));
  EXPECT_THAT(contents(5).uint_contents(), ElementsAre(0u, 255u));
  EXPECT_THAT(contents(6).uint_contents(), ElementsAre(65535u));
  EXPECT_THAT(contents(7).uint_contents(), ElementsAre(4294967295u));
  EXPECT_THAT(contents(8).uint64_contents(), ElementsAre(std::numeric_limits<uint64_t>::max()));
  EXPECT_THAT(contents(9).fp32_contents(), ElementsAre(0.1f, 0.0f, 0.0f));
  EXPECT_TRUE(std::signbit(contents(9).fp32_contents(2)));
  EXPECT_THAT(contents(10).fp64_contents(), ElementsAre(0.1, 1e300));
  EXPECT_THAT(contents(11).bytes_contents(), ElementsAre("a\"b\xc3\xa9", ""));
}

TEST(ParseInferRequestTest, IntegralFractionAndExponentAreIntegers) {
  ModelInferRequest request;
  ASSERT_THAT(Parse(Body({Input("x", "INT64", "[3]", "[3.0, 1e3, -2.5e1]")}), &request), IsOk());
  EXPECT_THAT(request.inputs(0).contents().int64_contents(), ElementsAre(3, 1000, -25));
}

TEST(ParseInferRequestTest, AnyBinaryInputMakesEveryInputRaw) {
  const std::string json = absl::StrCat(
      R"({"id":"r7","inputs":[)", Input("b", "BOOL", "[2]", "[true,false]"), ",",
      Input("i8", "INT8", "[2]", "[-1,2]"), ",", Input("u16", "UINT16", "[1]", "[513]"), ",",
      R"({"name":"bin","datatype":"FP32","shape":[2,1],"parameters":{"binary_data_size":8}},)",
      Input("f64", "FP64", "[1,1]", "[[0.5]]"), ",", Input("s", "BYTES", "[2]", R"(["ab",""])"),
      ",", R"({"name":"bs","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":7}}]})");
  const std::string bytes_element = std::string("\x03\0\0\0xyz", 7);
  const std::string body = json + Bytes<float>({1.5f, -2.0f}) + bytes_element;
  ModelInferRequest request;
  ASSERT_THAT(Parse(body, &request, nullptr, json.size()), IsOk());
  EXPECT_EQ(request.id(), "r7");
  ASSERT_EQ(request.raw_input_contents_size(), 7);
  for (const auto& input : request.inputs()) {
    EXPECT_FALSE(input.has_contents()) << input.name();
    EXPECT_FALSE(input.parameters().contains("binary_data_size")) << input.name();
  }
  EXPECT_EQ(request.raw_input_contents(0), std::string("\x01\x00", 2));
  EXPECT_EQ(request.raw_input_contents(1), std::string("\xff\x02", 2));
  EXPECT_EQ(request.raw_input_contents(2), std::string("\x01\x02", 2));
  EXPECT_EQ(request.raw_input_contents(3), Bytes<float>({1.5f, -2.0f}));
  EXPECT_EQ(request.raw_input_contents(4), Bytes<double>({0.5}));
  EXPECT_EQ(request.raw_input_contents(5), std::string("\x02\0\0\0ab\0\0\0\0", 10));
  EXPECT_EQ(request.raw_input_contents(6), bytes_element);
}

TEST(ParseInferRequestTest, FloatsRoundTripBitExactThroughTheResponseWriter) {
  std::mt19937 rng(42);
  ModelInferResponse response;
  auto* f32 = response.add_outputs();
  f32->set_name("f32");
  f32->set_datatype("FP32");
  auto* f64 = response.add_outputs();
  f64->set_name("f64");
  f64->set_datatype("FP64");
  for (int i = 0; i < 20000; ++i) {
    // Random bit patterns cover every exponent, denormals included.
    const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    const double d = std::bit_cast<double>((static_cast<uint64_t>(rng()) << 32) | rng());
    if (std::isfinite(f)) f32->mutable_contents()->add_fp32_contents(f);
    if (std::isfinite(d)) f64->mutable_contents()->add_fp64_contents(d);
  }
  for (float f : {std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::min(), 0.1f, 1.0f / 3.0f}) {
    f32->mutable_contents()->add_fp32_contents(f);
  }
  f32->add_shape(f32->contents().fp32_contents_size());
  f64->add_shape(f64->contents().fp64_contents_size());
  std::string body;
  int64_t json_length = 0;
  ASSERT_THAT(WriteInferResponse(response, {}, &body, &json_length), IsOk());
  EXPECT_EQ(json_length, -1);
  // An output's JSON is also a valid input's: read the answer back as a request.
  const size_t outputs = body.find("\"outputs\"");
  ASSERT_NE(outputs, std::string::npos);
  body.replace(outputs, 9, "\"inputs\"");
  ModelInferRequest request;
  ASSERT_THAT(Parse(body, &request), IsOk());
  ASSERT_EQ(request.inputs_size(), 2);
  const auto& sent32 = f32->contents().fp32_contents();
  const auto& got32 = request.inputs(0).contents().fp32_contents();
  ASSERT_EQ(got32.size(), sent32.size());
  for (int i = 0; i < sent32.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(got32[i]), std::bit_cast<uint32_t>(sent32[i])) << sent32[i];
  }
  const auto& sent64 = f64->contents().fp64_contents();
  const auto& got64 = request.inputs(1).contents().fp64_contents();
  ASSERT_EQ(got64.size(), sent64.size());
  for (int i = 0; i < sent64.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint64_t>(got64[i]), std::bit_cast<uint64_t>(sent64[i])) << sent64[i];
  }
}

TEST(ParseInferRequestTest, Fp32TextIsReadAsFloatNotThroughDouble) {
  // 1.00000005960464477550 is just above the midpoint between 1 and the next
  // float: decimal -> float rounds up, decimal -> double -> float gives 1
  // (the double nearest to it is the midpoint itself, then ties to even).
  ModelInferRequest request;
  ASSERT_THAT(Parse(Body({Input("x", "FP32", "[1]", "[1.00000005960464477550]")}), &request),
              IsOk());
  EXPECT_EQ(request.inputs(0).contents().fp32_contents(0), std::nextafter(1.0f, 2.0f));
}

TEST(ParseInferRequestTest, ParametersAreCopiedAndTransportOnesConsumed) {
  const std::string body =
      R"({"id":"a","parameters":{"binary_data_output":true,"s":"x","t":true,"i":-5,)"
      R"("u":18446744073709551615,"d":0.25,"e":1e3},)"
      R"("inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],)"
      R"("parameters":{"binary_data":true,"k":"v"}}],)"
      R"("outputs":[{"name":"y","parameters":{"binary_data":true,"classification":0}},)"
      R"({"name":"z","parameters":{"binary_data":false}},{"name":"w"}]})";
  ModelInferRequest request;
  ResponseEncoding encoding;
  ASSERT_THAT(Parse(body, &request, &encoding), IsOk());
  EXPECT_TRUE(encoding.all_binary);
  EXPECT_THAT(encoding.binary_outputs, ElementsAre("y"));
  const auto& parameters = request.parameters();
  EXPECT_FALSE(parameters.contains("binary_data_output"));
  EXPECT_EQ(parameters.at("s").string_param(), "x");
  EXPECT_TRUE(parameters.at("t").bool_param());
  EXPECT_EQ(parameters.at("i").int64_param(), -5);
  EXPECT_EQ(parameters.at("u").uint64_param(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(parameters.at("d").double_param(), 0.25);
  EXPECT_EQ(parameters.at("e").double_param(), 1000.0);
  // binary_data is transport only on outputs; on an input it is copied.
  EXPECT_TRUE(request.inputs(0).parameters().at("binary_data").bool_param());
  EXPECT_EQ(request.inputs(0).parameters().at("k").string_param(), "v");
  ASSERT_EQ(request.outputs_size(), 3);
  EXPECT_EQ(request.outputs(0).name(), "y");
  EXPECT_FALSE(request.outputs(0).parameters().contains("binary_data"));
  EXPECT_EQ(request.outputs(0).parameters().at("classification").int64_param(), 0);
  EXPECT_TRUE(request.outputs(1).parameters().empty());
  EXPECT_EQ(request.outputs(2).name(), "w");
}

struct ErrorCase {
  std::string body;
  int64_t json_length;
  std::string message;
};

TEST(ParseInferRequestTest, ErrorsNameThePathAndTheValue) {
  const std::string bin_input =
      R"({"name":"x","datatype":"FP32","shape":[10,1],"parameters":{"binary_data_size":40}})";
  const std::string bin_json = Body({bin_input});
  const std::vector<ErrorCase> cases = {
      {"{\"inputs\": [", -1, "body: invalid JSON at offset 12: "},
      {"{\"a\":1} x", -1, "body: invalid JSON at offset 8: "},
      {std::string("{\"inputs\":[]}\0x", 15), -1, "body: invalid JSON at offset 13: a NUL byte"},
      {"[1]", -1, "body: expected a JSON object, got an array"},
      {"42", -1, "body: expected a JSON object, got 42"},
      {"{}", -1, "body: no \"inputs\""},
      {R"({"inputs":{}})", -1, "inputs: expected an array, got an object"},
      {R"({"id":3,"inputs":[]})", -1, "id: expected a string, got 3"},
      {R"({"inputs":[],"parameters":[]})", -1, "parameters: expected an object, got an array"},
      {R"({"inputs":[],"parameters":{"p":null}})", -1,
       "parameters.p: expected a string, number or boolean, got null"},
      {R"({"inputs":[],"parameters":{"p":1e999}})", -1,
       "body: invalid JSON at offset 31: Number too big"},
      {R"({"inputs":[],"parameters":{"binary_data_output":"yes"}})", -1,
       "parameters.binary_data_output: expected true or false, got 'yes'"},
      {R"({"inputs":[7]})", -1, "inputs[0]: expected an object, got 7"},
      {R"({"inputs":[{"datatype":"FP32","shape":[1],"data":[1]}]})", -1, "inputs[0]: no \"name\""},
      {R"({"inputs":[{"name":1}]})", -1, "inputs[0].name: expected a string, got 1"},
      {R"({"inputs":[{"name":"x","shape":[1],"data":[1]}]})", -1, "inputs[0]: no \"datatype\""},
      {Body({Input("x", "FP33", "[1]", "[1]")}), -1,
       "inputs[0].datatype: expected one of BOOL, INT8"},
      {R"({"inputs":[{"name":"x","datatype":"FP32","data":[1]}]})", -1, "inputs[0]: no \"shape\""},
      {Body({Input("x", "FP32", "[-1]", "[1]")}), -1,
       "inputs[0].shape[0]: expected a dimension >= 0, got -1"},
      {Body({Input("x", "FP32", "[1.5]", "[1]")}), -1,
       "inputs[0].shape[0]: expected a dimension >= 0, got 1.5"},
      {Body({Input("x", "FP32", "[4294967296,4294967296]", "[1]")}), -1,
       "inputs[0].shape: [4294967296,4294967296] has too many elements"},
      {R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1]}]})", -1,
       "inputs[0]: no \"data\" and no parameters.binary_data_size"},
      {Body({Input("x", "FP32", "[1]", "7")}), -1, "inputs[0].data: expected an array, got 7"},
      {Body({Input("a", "INT64", "[1]", "[1]"), Input("x", "INT64", "[6]", "[1,2,3,4,5,\"abc\"]")}),
       -1, "inputs[1].data[5]: 'abc' is not a number (INT64)"},
      {Body({Input("x", "INT64", "[3]", "[1,2]")}), -1,
       "inputs[0].data: 2 values, shape [3] needs 3"},
      {Body({Input("x", "INT64", "[2,2]", "[[1,2],[3]]")}), -1,
       "inputs[0].data[1]: expected an array of 2 (shape [2,2]), got 1 values"},
      {Body({Input("x", "INT64", "[2,2]", "[[1,2],7]")}), -1,
       "inputs[0].data[1]: expected an array of 2 (shape [2,2]), got 7"},
      {Body({Input("x", "INT64", "[2,2]", "[[1,2],[3,4.5]]")}), -1,
       "inputs[0].data[1][1]: 4.5 is not an integer (INT64)"},
      {Body({Input("x", "INT64", "[2]", "[[1],[2]]")}), -1,
       "inputs[0].data[0]: an array is not a number (INT64)"},
      {Body({Input("x", "INT8", "[1]", "[128]")}), -1,
       "inputs[0].data[0]: 128 is out of range (INT8)"},
      {Body({Input("x", "UINT8", "[1]", "[-1]")}), -1,
       "inputs[0].data[0]: -1 is out of range (UINT8)"},
      {Body({Input("x", "INT64", "[1]", "[9223372036854775808]")}), -1,
       "inputs[0].data[0]: 9223372036854775808 is out of range (INT64)"},
      {Body({Input("x", "INT64", "[1]", "[1e17]")}), -1,
       "inputs[0].data[0]: 1e17 is not an exact integer"},
      {Body({Input("x", "FP32", "[1]", "[1e39]")}), -1,
       "inputs[0].data[0]: 1e39 is out of range (FP32)"},
      {Body({Input("x", "FP64", "[1]", "[\"1.5\"]")}), -1,
       "inputs[0].data[0]: '1.5' is not a number (FP64)"},
      {Body({Input("x", "BOOL", "[1]", "[1]")}), -1,
       "inputs[0].data[0]: 1 is not a boolean (BOOL)"},
      {Body({Input("x", "BYTES", "[1]", "[1]")}), -1,
       "inputs[0].data[0]: 1 is not a string (BYTES)"},
      {Body({Input("x", "FP16", "[1]", "[1]")}), -1,
       "inputs[0]: FP16 data must be binary (parameters.binary_data_size)"},
      {Body({Input("x", "FP32", "[1]", "[\"" + std::string(50, 'z') + "\"]")}), -1,
       absl::StrCat("'", std::string(40, 'z'), "...' is not a number")},
      {bin_json, 0, "Inference-Header-Content-Length: 0 (a body that is one raw input)"},
      {bin_json, static_cast<int64_t>(bin_json.size()) + 1, "but the body has"},
      {bin_json, -1, "inputs[0]: binary_data_size 40 but the body is all JSON"},
      {bin_json + std::string(39, 'x'), static_cast<int64_t>(bin_json.size()),
       "inputs[0]: binary_data_size 40 but only 39 bytes are left after the JSON header"},
      {bin_json + std::string(41, 'x'), static_cast<int64_t>(bin_json.size()),
       absl::StrCat("body: 1 bytes left over after the ", bin_json.size(),
                    "-byte JSON header and 40 bytes of binary inputs")},
      {Body(
           {R"({"name":"x","datatype":"FP32","shape":[10,1],"parameters":{"binary_data_size":4}})"}),
       -1, "inputs[0]: binary_data_size 4 but shape [10,1] of FP32 needs 40 bytes"},
      {Body({R"({"name":"x","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":-4}})"}),
       -1, "inputs[0].parameters.binary_data_size: expected a byte count >= 0, got -4"},
      {Body({R"({"name":"x","datatype":"FP32","shape":[1],"data":[1],)"
             R"("parameters":{"binary_data_size":4}})"}),
       -1, "inputs[0]: has both \"data\" and parameters.binary_data_size"},
      {Body(
           {R"({"name":"x","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":5}})"}) +
           std::string("\x02\0\0\0a", 5),
       static_cast<int64_t>(Body({R"({"name":"x","datatype":"BYTES","shape":[1],)"
                                  R"("parameters":{"binary_data_size":5}})"})
                                .size()),
       "inputs[0]: binary BYTES data is not 1 elements"},
      {R"({"inputs":[],"outputs":[{"name":"y","parameters":{"binary_data":1}}]})", -1,
       "outputs[0].parameters.binary_data: expected true or false, got 1"},
      {R"({"inputs":[],"outputs":[{}]})", -1, "outputs[0]: no \"name\""},
  };
  for (const ErrorCase& c : cases) {
    ModelInferRequest request;
    EXPECT_THAT(Parse(c.body, &request, nullptr, c.json_length),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.body;
  }
}

TEST(ParseInferRequestTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  ModelInferRequest request;
  EXPECT_THAT(Parse(Body({Input("x", "FP32", "[1]", deep)}), &request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Parse(deep, &request), StatusIs(absl::StatusCode::kInvalidArgument));
}

ModelInferResponse TwoOutputs(bool raw) {
  ModelInferResponse response;
  response.set_model_name("humidity");
  response.set_model_version("3");
  response.set_id("q\"1");
  (*response.mutable_parameters())["b"].set_bool_param(true);
  (*response.mutable_parameters())["a"].set_int64_param(-2);
  auto* y = response.add_outputs();
  y->set_name("y");
  y->set_datatype("FP32");
  y->add_shape(2);
  y->add_shape(1);
  auto* k = response.add_outputs();
  k->set_name("k");
  k->set_datatype("INT16");
  k->add_shape(3);
  if (raw) {
    response.add_raw_output_contents(Bytes<float>({0.1f, -3.0f}));
    response.add_raw_output_contents(Bytes<int16_t>({-1, 2, 300}));
  } else {
    y->mutable_contents()->add_fp32_contents(0.1f);
    y->mutable_contents()->add_fp32_contents(-3.0f);
    for (int v : {-1, 2, 300}) k->mutable_contents()->add_int_contents(v);
  }
  return response;
}

TEST(WriteInferResponseTest, JsonFromTypedOrRawContentsIsTheSame) {
  const std::string expected =
      R"({"model_name":"humidity","model_version":"3","id":"q\"1","parameters":{"a":-2,"b":true},)"
      R"("outputs":[{"name":"y","datatype":"FP32","shape":[2,1],"data":[0.1,-3]},)"
      R"({"name":"k","datatype":"INT16","shape":[3],"data":[-1,2,300]}]})";
  for (bool raw : {false, true}) {
    std::string body;
    int64_t json_length = 0;
    ASSERT_THAT(WriteInferResponse(TwoOutputs(raw), {}, &body, &json_length), IsOk());
    EXPECT_EQ(body, expected) << raw;
    EXPECT_EQ(json_length, -1);
  }
}

TEST(WriteInferResponseTest, BinaryOutputsAreAppendedAfterTheJson) {
  for (bool raw : {false, true}) {
    ResponseEncoding encoding;
    encoding.binary_outputs = {"k"};
    std::string body;
    int64_t json_length = 0;
    ASSERT_THAT(WriteInferResponse(TwoOutputs(raw), encoding, &body, &json_length), IsOk());
    ASSERT_GT(json_length, 0);
    const std::string json = body.substr(0, json_length);
    EXPECT_THAT(json, HasSubstr(R"({"name":"y","datatype":"FP32","shape":[2,1],"data":[0.1,-3]})"));
    EXPECT_THAT(json, HasSubstr(R"({"name":"k","datatype":"INT16","shape":[3],)"
                                R"("parameters":{"binary_data_size":6}}]})"));
    EXPECT_EQ(body.substr(json_length), Bytes<int16_t>({-1, 2, 300}));

    encoding = ResponseEncoding();
    encoding.all_binary = true;
    ASSERT_THAT(WriteInferResponse(TwoOutputs(raw), encoding, &body, &json_length), IsOk());
    EXPECT_THAT(body.substr(0, json_length), Not(HasSubstr("\"data\"")));
    EXPECT_EQ(body.substr(json_length), Bytes<float>({0.1f, -3.0f}) + Bytes<int16_t>({-1, 2, 300}));
  }
}

TEST(WriteInferResponseTest, EveryDatatypeAndBytes) {
  ModelInferResponse response;
  const auto add = [&](const char* name, const char* datatype, int64_t n) {
    auto* output = response.add_outputs();
    output->set_name(name);
    output->set_datatype(datatype);
    output->add_shape(n);
    return output->mutable_contents();
  };
  add("b", "BOOL", 2)->mutable_bool_contents()->Add(true);
  response.mutable_outputs(0)->mutable_contents()->add_bool_contents(false);
  add("u", "UINT64", 1)->add_uint64_contents(std::numeric_limits<uint64_t>::max());
  add("i", "INT64", 1)->add_int64_contents(std::numeric_limits<int64_t>::min());
  add("d", "FP64", 1)->add_fp64_contents(1e300);
  auto* s = add("s", "BYTES", 2);
  s->add_bytes_contents("a\n\x01");
  s->add_bytes_contents("\xff");
  std::string body;
  int64_t json_length = 0;
  ASSERT_THAT(WriteInferResponse(response, {}, &body, &json_length), IsOk());
  EXPECT_THAT(body, HasSubstr(R"("data":[true,false])"));
  EXPECT_THAT(body, HasSubstr(R"("data":[18446744073709551615])"));
  EXPECT_THAT(body, HasSubstr(R"("data":[-9223372036854775808])"));
  EXPECT_THAT(body, HasSubstr(R"("data":[1e+300])"));
  EXPECT_THAT(body, HasSubstr(R"("data":["a\n\u0001","\u00ff"])"));
  ResponseEncoding encoding{.binary_outputs = {"s"}};
  ASSERT_THAT(WriteInferResponse(response, encoding, &body, &json_length), IsOk());
  EXPECT_EQ(body.substr(json_length), std::string("\x03\0\0\0a\n\x01\x01\0\0\0\xff", 12));
}

TEST(WriteInferResponseTest, NonFiniteJsonIsInvalidArgumentBinaryIsFine) {
  ModelInferResponse response = TwoOutputs(false);
  response.mutable_outputs(0)->mutable_contents()->set_fp32_contents(
      1, std::numeric_limits<float>::infinity());
  std::string body;
  int64_t json_length = 0;
  EXPECT_THAT(WriteInferResponse(response, {}, &body, &json_length),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("outputs[0].data[1]: inf cannot be written in JSON")));
  ResponseEncoding binary;
  binary.all_binary = true;
  EXPECT_THAT(WriteInferResponse(response, binary, &body, &json_length), IsOk());
}

TEST(WriteInferResponseTest, ContentsThatDoNotMatchTheShapeAreInternal) {
  ModelInferResponse response = TwoOutputs(true);
  response.mutable_raw_output_contents(1)->pop_back();
  std::string body;
  int64_t json_length = 0;
  EXPECT_THAT(WriteInferResponse(response, {}, &body, &json_length),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("outputs[1]: contents hold -1")));
  response = TwoOutputs(false);
  response.mutable_outputs(0)->set_datatype("FP8");
  EXPECT_THAT(WriteInferResponse(response, {}, &body, &json_length),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("unknown datatype 'FP8'")));
}

TEST(OtherJsonTest, ErrorJsonEscapes) {
  EXPECT_EQ(ErrorJson("plain"), R"({"error":"plain"})");
  EXPECT_EQ(ErrorJson("a \"q\" \\ b\n\t\x01"), R"({"error":"a \"q\" \\ b\n\t\u0001"})");
  // UTF-8 passes; bytes that are not UTF-8 are escaped so the JSON stays valid.
  EXPECT_EQ(ErrorJson("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
            "{\"error\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
  EXPECT_EQ(ErrorJson("\xc3(\x80\xed\xa0\x80"), R"({"error":"\u00c3(\u0080\u00ed\u00a0\u0080"})");
}

TEST(OtherJsonTest, MetadataAndReadiness) {
  inference::ServerMetadataResponse server;
  server.set_name("skewfree");
  server.set_version("0.1.0");
  server.add_extensions("binary_tensor_data");
  EXPECT_EQ(ServerMetadataJson(server),
            R"({"name":"skewfree","version":"0.1.0","extensions":["binary_tensor_data"]})");
  inference::ModelMetadataResponse model;
  model.set_name("humidity");
  model.add_versions("1");
  model.add_versions("2");
  model.set_platform("skewfree_linear");
  auto* input = model.add_inputs();
  input->set_name("beta1");
  input->set_datatype("FP32");
  input->add_shape(-1);
  input->add_shape(1);
  auto* output = model.add_outputs();
  output->set_name("humidity");
  output->set_datatype("FP32");
  output->add_shape(-1);
  EXPECT_EQ(ModelMetadataJson(model),
            R"({"name":"humidity","versions":["1","2"],"platform":"skewfree_linear",)"
            R"("inputs":[{"name":"beta1","datatype":"FP32","shape":[-1,1]}],)"
            R"("outputs":[{"name":"humidity","datatype":"FP32","shape":[-1]}]})");
  EXPECT_EQ(ReadyJson("live", true), R"({"live":true})");
  EXPECT_EQ(ReadyJson("ready", false), R"({"ready":false})");
  EXPECT_EQ(ModelReadyJson("m\"", true), R"({"name":"m\"","ready":true})");
}

}  // namespace
}  // namespace skewfree::server::http
