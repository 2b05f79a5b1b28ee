// Every bad request gets its exact code and a message naming the input (and
// row), and the server keeps answering; metadata and readiness.
#include "server/inference_service.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/bundle.h"
#include "server/server_test_util.h"

namespace skewfree::server {
namespace {

using ::skewfree_testing::BundleWithBias;
using ::skewfree_testing::RawRequest;
using ::skewfree_testing::SomeRows;
using ::skewfree_testing::TypedRequest;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class InferenceServiceTest : public ::skewfree_testing::ServerFixture {
 protected:
  void SetUp() override {
    ASSERT_TRUE(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(20)).ok());
    StartServer();
  }

  // The call fails with `code` and a message containing every part; then a
  // good call still succeeds.
  void ExpectError(const inference::ModelInferRequest& request, grpc::StatusCode code,
                   std::vector<std::string> parts) {
    inference::ModelInferResponse response;
    const grpc::Status status = Infer(request, &response);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    for (const std::string& part : parts) {
      EXPECT_THAT(status.error_message(), HasSubstr(part));
    }
    inference::ModelInferResponse good;
    EXPECT_TRUE(Infer(TypedRequest(SomeRows(2)), &good).ok()) << "server stopped answering";
  }

  static inference::ModelInferRequest::InferInputTensor* Input(
      inference::ModelInferRequest* request, const std::string& name) {
    for (auto& input : *request->mutable_inputs()) {
      if (input.name() == name) return &input;
    }
    return nullptr;
  }
};

TEST_F(InferenceServiceTest, UnknownModelOrVersionIsNotFound) {
  auto request = TypedRequest(SomeRows(2));
  request.set_model_name("nope");
  ExpectError(request, grpc::StatusCode::NOT_FOUND, {"unknown model 'nope'"});
  request = TypedRequest(SomeRows(2));
  request.set_model_version("7");
  ExpectError(request, grpc::StatusCode::NOT_FOUND, {"humidity", "version '7'"});
}

TEST_F(InferenceServiceTest, SpecificVersionAnswers) {
  auto request = TypedRequest(SomeRows(2));
  request.set_model_version("1");
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(request, &response).ok());
  EXPECT_EQ(response.model_version(), "1");
}

TEST_F(InferenceServiceTest, MissingUnknownAndDuplicateInputs) {
  auto request = TypedRequest(SomeRows(2));
  request.mutable_inputs()->RemoveLast();
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"missing input 'weekday'"});
  request = TypedRequest(SomeRows(2));
  request.mutable_inputs(3)->set_name("wday");
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"unknown input 'wday'"});
  request = TypedRequest(SomeRows(2));
  *request.add_inputs() = request.inputs(0);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"input 'beta1'", "more than once"});
  request = TypedRequest(SomeRows(2));
  request.clear_inputs();
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"missing input 'beta1'"});
}

TEST_F(InferenceServiceTest, WrongDatatype) {
  auto request = TypedRequest(SomeRows(2));
  Input(&request, "hour")->set_datatype("FP32");
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"input 'hour'", "datatype 'FP32'", "INT32 or INT64"});
  request = TypedRequest(SomeRows(2));
  Input(&request, "beta2")->set_datatype("INT64");
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"input 'beta2'", "datatype 'INT64'", "FP32 or FP64"});
  request = TypedRequest(SomeRows(2));
  Input(&request, "beta1")->set_datatype("BYTES");
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"input 'beta1'", "'BYTES'"});
}

TEST_F(InferenceServiceTest, Fp64NumericInputsAreAccepted) {
  const auto rows = SomeRows(3);
  auto request = TypedRequest(rows);
  auto* beta1 = Input(&request, "beta1");
  beta1->set_datatype("FP64");
  beta1->mutable_contents()->clear_fp32_contents();
  for (const auto& row : rows) beta1->mutable_contents()->add_fp64_contents(row.beta1);
  inference::ModelInferResponse fp64, fp32;
  ASSERT_TRUE(Infer(request, &fp64).ok());
  ASSERT_TRUE(Infer(TypedRequest(rows), &fp32).ok());
  EXPECT_THAT(fp64.outputs(0).contents().fp32_contents(),
              ::testing::Pointwise(::testing::Eq(), fp32.outputs(0).contents().fp32_contents()));
}

TEST_F(InferenceServiceTest, ShapeThatDoesNotMatchTheContents) {
  auto request = TypedRequest(SomeRows(2));
  Input(&request, "beta1")->set_shape(0, 3);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"input 'beta1'", "needs 3 values", "fp32_contents, got 2"});
  request = TypedRequest(SomeRows(2));
  Input(&request, "hour")->add_shape(2);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"input 'hour'", "shape [2, 2] is not [N] or [N, 1]"});
  request = TypedRequest(SomeRows(2));
  Input(&request, "hour")->set_shape(0, -1);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"input 'hour'", "shape [-1]"});
  request = RawRequest(SomeRows(2));
  request.mutable_raw_input_contents(2)->pop_back();
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"input 'hour'", "raw_input_contents[2] has 7 bytes", "needs 8"});
  request = RawRequest(SomeRows(2));
  request.mutable_raw_input_contents()->RemoveLast();
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"3 raw_input_contents for 4 inputs"});
}

TEST_F(InferenceServiceTest, InputsOfDifferentLengths) {
  auto request = TypedRequest(SomeRows(2));
  auto* beta2 = Input(&request, "beta2");
  beta2->set_shape(0, 3);
  beta2->mutable_contents()->add_fp32_contents(1.0f);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"input 'beta2' has 3 rows but input 'beta1' has 2"});
}

TEST_F(InferenceServiceTest, BothTypedAndRawContents) {
  auto request = RawRequest(SomeRows(2));
  request.mutable_inputs(1)->mutable_contents()->add_fp32_contents(1.0f);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"input 'beta2'", "typed contents", "raw_input_contents"});
}

TEST_F(InferenceServiceTest, NanInfAndCategoriesOutsideTheirBucketsNameColumnAndRow) {
  auto request = TypedRequest(SomeRows(3));
  Input(&request, "beta1")
      ->mutable_contents()
      ->set_fp32_contents(1, std::numeric_limits<float>::quiet_NaN());
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"'beta1' row 1", "not finite"});
  request = TypedRequest(SomeRows(3));
  Input(&request, "beta2")
      ->mutable_contents()
      ->set_fp32_contents(2, std::numeric_limits<float>::infinity());
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"'beta2' row 2", "inf"});
  request = TypedRequest(SomeRows(3));
  Input(&request, "hour")->mutable_contents()->set_int64_contents(2, 24);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"'hour' row 2", "value 24", "[0, 24)"});
  request = TypedRequest(SomeRows(3));
  Input(&request, "weekday")->mutable_contents()->set_int64_contents(0, -1);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"'weekday' row 0", "value -1", "[0, 7)"});
  // The same through raw bytes.
  request = RawRequest(SomeRows(3));
  const int32_t bad = 24;
  std::memcpy(request.mutable_raw_input_contents(2)->data() + 4, &bad, 4);
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT, {"'hour' row 1", "value 24"});
}

TEST_F(InferenceServiceTest, EmptyBatch) {
  ExpectError(TypedRequest({}), grpc::StatusCode::INVALID_ARGUMENT,
              {"empty batch", "input 'beta1' has 0 rows"});
  ExpectError(RawRequest({}), grpc::StatusCode::INVALID_ARGUMENT, {"empty batch"});
}

TEST_F(InferenceServiceTest, UnknownRequestedOutput) {
  auto request = TypedRequest(SomeRows(2));
  request.add_outputs()->set_name("temperature");
  ExpectError(request, grpc::StatusCode::INVALID_ARGUMENT,
              {"unknown output 'temperature'", "'humidity'"});
  request = TypedRequest(SomeRows(2));
  request.add_outputs()->set_name("humidity");
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(request, &response).ok());
}

TEST_F(InferenceServiceTest, TooManyRowsIsResourceExhausted) {
  ExpectError(TypedRequest(SomeRows(1001)), grpc::StatusCode::RESOURCE_EXHAUSTED,
              {"input 'beta1' has 1001 rows", "1000"});
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(TypedRequest(SomeRows(1000)), &response).ok());
}

TEST_F(InferenceServiceTest, ExpiredDeadlineIsDeadlineExceeded) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  inference::ModelInferResponse response;
  const grpc::Status status = stub_->ModelInfer(&context, TypedRequest(SomeRows(2)), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(InferenceServiceTest, ModelMetadataFromTheSpec) {
  ASSERT_TRUE(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(30)).ok());
  server_.reset();
  StartServer([](Server::Options* options) {
    options->versions.policy = ParseVersionPolicy("latest:2").value();
  });
  grpc::ClientContext context;
  inference::ModelMetadataRequest request;
  request.set_name("humidity");
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(stub_->ModelMetadata(&context, request, &metadata).ok());
  EXPECT_EQ(metadata.name(), "humidity");
  EXPECT_THAT(metadata.versions(), ElementsAre("2", "1"));
  EXPECT_EQ(metadata.platform(), "skewfree_linear");
  ASSERT_EQ(metadata.inputs_size(), 4);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"beta1", "FP32"}, {"beta2", "FP32"}, {"hour", "INT64"}, {"weekday", "INT64"}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(metadata.inputs(i).name(), expected[i].first);
    EXPECT_EQ(metadata.inputs(i).datatype(), expected[i].second);
    EXPECT_THAT(metadata.inputs(i).shape(), ElementsAre(-1));
  }
  ASSERT_EQ(metadata.outputs_size(), 1);
  EXPECT_EQ(metadata.outputs(0).name(), "humidity");
  EXPECT_EQ(metadata.outputs(0).datatype(), "FP32");
  EXPECT_THAT(metadata.outputs(0).shape(), ElementsAre(-1, 1));

  grpc::ClientContext unknown_context;
  request.set_version("9");
  EXPECT_EQ(stub_->ModelMetadata(&unknown_context, request, &metadata).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext unknown_model_context;
  request.set_name("nope");
  EXPECT_EQ(stub_->ModelMetadata(&unknown_model_context, request, &metadata).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(InferenceServiceTest, ModelReady) {
  auto ready = [&](const std::string& name, const std::string& version, bool* answer) {
    grpc::ClientContext context;
    inference::ModelReadyRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelReadyResponse response;
    grpc::Status status = stub_->ModelReady(&context, request, &response);
    *answer = response.ready();
    return status.error_code();
  };
  bool answer = false;
  EXPECT_EQ(ready("humidity", "", &answer), grpc::StatusCode::OK);
  EXPECT_TRUE(answer);
  EXPECT_EQ(ready("humidity", "1", &answer), grpc::StatusCode::OK);
  EXPECT_TRUE(answer);
  EXPECT_EQ(ready("humidity", "2", &answer), grpc::StatusCode::OK);
  EXPECT_FALSE(answer);
  EXPECT_EQ(ready("nope", "", &answer), grpc::StatusCode::NOT_FOUND);
}

class NotLoadedTest : public ::skewfree_testing::ServerFixture {};

TEST_F(NotLoadedTest, ListedModelWithoutVersionIsUnavailable) {
  StartServer([](Server::Options* options) { options->versions.models = {"humidity"}; });
  inference::ModelInferResponse response;
  const grpc::Status status = Infer(TypedRequest(SomeRows(2)), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("'humidity' has no version loaded"));
}

class MessageSizeTest : public ::skewfree_testing::ServerFixture {};

TEST_F(MessageSizeTest, LargerThanMaxMessageBytesIsResourceExhausted) {
  ASSERT_TRUE(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(20)).ok());
  StartServer([](Server::Options* options) {
    options->max_message_bytes = 16 << 10;
    options->inference.max_batch = 100000;
  });
  inference::ModelInferResponse response;
  EXPECT_EQ(Infer(TypedRequest(SomeRows(5000)), &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(Infer(TypedRequest(SomeRows(10)), &response).ok());
}

}  // namespace
}  // namespace skewfree::server
