#include "server/http/proto_json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::server::http {
namespace {

using skewfree_testing::IsOk;
using skewfree_testing::StatusIs;
using ::testing::HasSubstr;

TEST(ProtoJsonTest, IntegersAreNumbersAndNamesAsInTheProto) {
  inference::ModelStatisticsResponse response;
  inference::ModelStatistics* stats = response.add_model_stats();
  stats->set_name("humidity");
  stats->set_version("3");
  stats->set_inference_count(18446744073709551615ull);
  stats->mutable_inference_stats()->mutable_success()->set_count(7);
  stats->mutable_inference_stats()->mutable_success()->set_ns(123456789012);
  const std::string json = MessageJson(response);
  EXPECT_THAT(json, HasSubstr(R"({"model_stats":[{"name":"humidity","version":"3",)"));
  EXPECT_THAT(json, HasSubstr(R"("last_inference":0,"inference_count":18446744073709551615,)"));
  EXPECT_THAT(json, HasSubstr(R"("success":{"count":7,"ns":123456789012})"));
  EXPECT_THAT(json, HasSubstr(R"("batch_stats":[])"));
  // Unset messages are left out.
  EXPECT_THAT(json, ::testing::Not(HasSubstr("\"fail\"")));
}

TEST(ProtoJsonTest, EnumsByNameMapsAsObjectsOneofsWhenSet) {
  inference::ModelConfig config;
  config.set_name("humidity");
  config.set_max_batch_size(8);
  inference::ModelInput* input = config.add_input();
  input->set_name("beta1");
  input->set_data_type(inference::TYPE_FP32);
  input->add_dims(1);
  (*config.mutable_parameters())["a\"b"].set_string_value("x\ny");
  config.mutable_version_policy()->mutable_latest()->set_num_versions(2);
  const std::string json = MessageJson(config);
  EXPECT_THAT(json, HasSubstr(R"("input":[{"name":"beta1","data_type":"TYPE_FP32","dims":[1]}])"));
  EXPECT_THAT(json, HasSubstr(R"("version_policy":{"latest":{"num_versions":2}})"));
  EXPECT_THAT(json, HasSubstr(R"("parameters":{"a\"b":{"string_value":"x\u000ay"}})"));
  EXPECT_THAT(json, HasSubstr(R"("max_batch_size":8)"));
}

TEST(ProtoJsonTest, RepositoryBodies) {
  inference::RepositoryIndexRequest index;
  EXPECT_THAT(ParseRepositoryIndexJson("", &index), IsOk());
  EXPECT_FALSE(index.ready());
  EXPECT_THAT(ParseRepositoryIndexJson(R"({"ready": true})", &index), IsOk());
  EXPECT_TRUE(index.ready());
  EXPECT_THAT(ParseRepositoryIndexJson(R"({"ready": 1})", &index),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRepositoryIndexJson(R"({"ready": tru)", &index),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("offset")));

  inference::RepositoryModelLoadRequest load;
  EXPECT_THAT(ParseRepositoryParametersJson(
                  R"({"parameters": {"config": "{}", "file:1/m": "AAE=", "n": 3, "b": true}})",
                  load.mutable_parameters()),
              IsOk());
  EXPECT_EQ(load.parameters().at("config").string_param(), "{}");
  EXPECT_EQ(load.parameters().at("file:1/m").bytes_param(), std::string("\0\1", 2));
  EXPECT_EQ(load.parameters().at("n").int64_param(), 3);
  EXPECT_TRUE(load.parameters().at("b").bool_param());
  EXPECT_THAT(
      ParseRepositoryParametersJson(R"({"parameters": {"x": 1.5}})", load.mutable_parameters()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parameters.x")));
  EXPECT_THAT(ParseRepositoryParametersJson(R"({"other": 1})", load.mutable_parameters()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other")));
}

}  // namespace
}  // namespace skewfree::server::http
