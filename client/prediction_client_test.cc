// PredictionClient against an in-process fake server.
#include "client/prediction_client.h"

#include <thread>

#include "client/fake_inference_server.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::client {
namespace {

using PredictionClientTest = ::skewfree_testing::FakeServerTest;
using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(PredictionClientTest, PredictsTypedAndRaw) {
  for (Encoding encoding : {Encoding::kTyped, Encoding::kRaw}) {
    absl::StatusOr<Prediction> p = Client(encoding)->Predict("humidity", Rows());
    ASSERT_THAT(p, IsOk());
    EXPECT_THAT(p->values, ElementsAre(3.0f, -8.0f));
    EXPECT_EQ(p->model_version, "7");
  }
}

TEST_F(PredictionClientTest, ServerErrorsKeepTheirCode) {
  EXPECT_THAT(Client()->Predict("missing", Rows()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no model 'missing'")));
  EXPECT_THAT(Client(Encoding::kTyped, absl::Milliseconds(50))->Predict("slow", Rows()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(PredictionClientTest, HealthPerService) {
  auto client = Client();
  EXPECT_EQ(client->Health("").value_or(HealthState::kUnknown), HealthState::kServing);
  EXPECT_EQ(client->Health("humidity").value_or(HealthState::kUnknown), HealthState::kServing);
  EXPECT_EQ(client->Health("down").value_or(HealthState::kUnknown), HealthState::kNotServing);
  EXPECT_THAT(client->Health("nobody"), StatusIs(absl::StatusCode::kNotFound));
  absl::StatusOr<inference::ModelMetadataResponse> metadata = client->ModelMetadata("humidity");
  ASSERT_THAT(metadata, IsOk());
  EXPECT_THAT(metadata->versions(), ElementsAre("7"));
  EXPECT_THAT(client->ServerLive(), StatusIs(absl::StatusCode::kUnimplemented));
}

TEST_F(PredictionClientTest, UnreachableServerIsUnavailable) {
  PredictionClient::Options options;
  options.channel.target = "127.0.0.1:1";
  options.timeout = absl::Seconds(2);
  EXPECT_THAT((*PredictionClient::Create(options))->Predict("humidity", Rows()),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(PredictionClientOptionsTest, BadTlsOptionsAreRejected) {
  PredictionClient::Options options;
  options.channel.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(PredictionClient::Create(options), StatusIs(absl::StatusCode::kNotFound));
  options.channel.tls_ca_file = "";
  options.channel.tls_cert_file = "cert.pem";
  EXPECT_THAT(PredictionClient::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.channel.tls_cert_file = "";
  options.timeout = absl::ZeroDuration();
  EXPECT_THAT(PredictionClient::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::client
