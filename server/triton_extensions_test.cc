// Triton's extensions over gRPC on the in-process server: statistics, model
// configuration, repository index and explicit load/unload (also under
// load), the restricted API, request parameters, and the health service
// name.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "inference/grpc_service.grpc.pb.h"
#include "model/bundle.h"
#include "server/inference_handler.h"
#include "server/server.h"
#include "server/server_test_util.h"
#include "server/version_policy.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::server {
namespace {

using ::skewfree_testing::BundleWithBias;
using ::skewfree_testing::Eventually;
using ::skewfree_testing::HealthCheck;
using ::skewfree_testing::IsOk;
using ::skewfree_testing::ServerFixture;
using ::skewfree_testing::SomeRows;
using ::skewfree_testing::TypedRequest;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

constexpr int kServing = 1;
constexpr int kNotServing = 2;

inference::ModelInferRequest RequestFor(const std::string& model, int rows) {
  inference::ModelInferRequest request = TypedRequest(SomeRows(rows));
  request.set_model_name(model);
  return request;
}

class TritonExtensionsTest : public ServerFixture {
 protected:
  // Writes a version of `model` (its bundle named after it).
  void WriteModel(const std::string& model, double bias) {
    v1::Bundle bundle = BundleWithBias(bias);
    bundle.mutable_metadata()->set_model_name(model);
    ASSERT_THAT(model::WriteBundle(repo_.Join(model), bundle).status(), IsOk());
  }

  // A call's context: 10 s deadline, plus `key: value` metadata if given.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& key = "",
                                                      const std::string& value = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!key.empty()) context->AddMetadata(key, value);
    return context;
  }

  grpc::Status Statistics(const std::string& name, const std::string& version,
                          inference::ModelStatisticsResponse* response) {
    inference::ModelStatisticsRequest request;
    request.set_name(name);
    request.set_version(version);
    return stub_->ModelStatistics(Context().get(), request, response);
  }

  grpc::Status Load(const std::string& name) {
    inference::RepositoryModelLoadRequest request;
    request.set_model_name(name);
    inference::RepositoryModelLoadResponse response;
    return stub_->RepositoryModelLoad(Context().get(), request, &response);
  }

  grpc::Status Unload(const std::string& name) {
    inference::RepositoryModelUnloadRequest request;
    request.set_model_name(name);
    inference::RepositoryModelUnloadResponse response;
    return stub_->RepositoryModelUnload(Context().get(), request, &response);
  }

  grpc::Status Index(bool ready, inference::RepositoryIndexResponse* response,
                     const std::string& key = "", const std::string& value = "") {
    inference::RepositoryIndexRequest request;
    request.set_ready(ready);
    return stub_->RepositoryIndex(Context(key, value).get(), request, response);
  }

  // Explicit model control, serving `models` from the start.
  void StartExplicit(std::vector<std::string> models) {
    StartServer([&](Server::Options* options) {
      options->versions.control = ModelControl::kExplicit;
      options->versions.models = models;
    });
  }
};

TEST_F(TritonExtensionsTest, ServerMetadataListsTheExtensions) {
  WriteModel("humidity", 1);
  StartServer();
  inference::ServerMetadataResponse metadata;
  ASSERT_TRUE(stub_->ServerMetadata(Context().get(), {}, &metadata).ok());
  EXPECT_THAT(metadata.extensions(),
              IsSupersetOf({"model_repository", "model_configuration", "statistics",
                            "binary_tensor_data", "grpc_health_v1"}));
}

TEST_F(TritonExtensionsTest, StatisticsCountGoodAndBadCalls) {
  WriteModel("humidity", 1);
  StartServer();
  const uint64_t before_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  inference::ModelInferResponse answer;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Infer(RequestFor("humidity", 5), &answer).ok());
  inference::ModelInferRequest bad = RequestFor("humidity", 5);
  bad.mutable_inputs(0)->set_name("nope");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Infer(bad, &answer).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(Infer(RequestFor("absent", 5), &answer).error_code(), grpc::StatusCode::NOT_FOUND);
  const uint64_t after_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));

  inference::ModelStatisticsResponse response;
  ASSERT_TRUE(Statistics("humidity", "", &response).ok());
  ASSERT_EQ(response.model_stats_size(), 1);
  const inference::ModelStatistics& stats = response.model_stats(0);
  EXPECT_EQ(stats.name(), "humidity");
  EXPECT_EQ(stats.version(), "1");
  EXPECT_EQ(stats.inference_count(), 15u);
  EXPECT_EQ(stats.execution_count(), 3u);
  EXPECT_GE(stats.last_inference(), before_ms);
  EXPECT_LE(stats.last_inference(), after_ms);
  const inference::InferStatistics& infer = stats.inference_stats();
  EXPECT_EQ(infer.success().count(), 3u);
  EXPECT_GT(infer.success().ns(), 0u);
  EXPECT_EQ(infer.fail().count(), 2u);
  EXPECT_GT(infer.fail().ns(), 0u);
  for (const auto* phase :
       {&infer.compute_input(), &infer.compute_infer(), &infer.compute_output()}) {
    EXPECT_EQ(phase->count(), 3u);
  }
  EXPECT_GT(infer.compute_infer().ns(), 0u);
  EXPECT_LE(infer.compute_input().ns() + infer.compute_infer().ns() + infer.compute_output().ns(),
            infer.success().ns());
  EXPECT_EQ(infer.queue().count(), 0u);

  inference::ModelStatisticsResponse all;
  ASSERT_TRUE(Statistics("", "", &all).ok());
  ASSERT_EQ(all.model_stats_size(), 1);
  EXPECT_EQ(all.model_stats(0).execution_count(), 3u);
  inference::ModelStatisticsResponse one;
  ASSERT_TRUE(Statistics("humidity", "1", &one).ok());
  EXPECT_EQ(one.model_stats(0).inference_count(), 15u);

  inference::ModelStatisticsResponse none;
  grpc::Status status = Statistics("absent", "", &none);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("'absent'"));
  EXPECT_EQ(Statistics("humidity", "9", &none).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(TritonExtensionsTest, StatisticsAreCumulativeAcrossUnloadAndReload) {
  WriteModel("humidity", 1);
  StartServer();
  inference::ModelInferResponse answer;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(Infer(RequestFor("humidity", 3), &answer).ok());
  ASSERT_THAT(common::RemoveTree(repo_.Join("humidity/1")), IsOk());
  server_->Rescan();
  EXPECT_TRUE(Eventually([&] {
    inference::ModelStatisticsResponse gone;
    return Statistics("humidity", "1", &gone).error_code() == grpc::StatusCode::NOT_FOUND;
  }));

  WriteModel("humidity", 1);  // Version 1 again.
  server_->Rescan();
  ASSERT_TRUE(Eventually([&] { return Infer(RequestFor("humidity", 3), &answer).ok(); }));
  inference::ModelStatisticsResponse response;
  ASSERT_TRUE(Statistics("humidity", "1", &response).ok());
  EXPECT_EQ(response.model_stats(0).execution_count(), 3u);
  EXPECT_EQ(response.model_stats(0).inference_count(), 9u);
}

TEST_F(TritonExtensionsTest, ModelConfigIsDerivedFromTheSpec) {
  WriteModel("humidity", 1);
  StartServer();
  inference::ModelConfigRequest request;
  request.set_name("humidity");
  inference::ModelConfigResponse response;
  ASSERT_TRUE(stub_->ModelConfig(Context().get(), request, &response).ok());
  const inference::ModelConfig& config = response.config();
  EXPECT_EQ(config.name(), "humidity");
  EXPECT_EQ(config.platform(), "skewfree_linear");
  EXPECT_EQ(config.max_batch_size(), 1000);  // The fixture's --max-batch.
  ASSERT_EQ(config.input_size(), 4);
  std::vector<std::string> names;
  for (const inference::ModelInput& input : config.input()) {
    names.push_back(input.name());
    const bool numeric = input.name().rfind("beta", 0) == 0;
    EXPECT_EQ(input.data_type(), numeric ? inference::TYPE_FP32 : inference::TYPE_INT64)
        << input.name();
    EXPECT_THAT(input.dims(), ElementsAre(1)) << input.name();
  }
  EXPECT_THAT(names, ElementsAre("beta1", "beta2", "hour", "weekday"));
  ASSERT_EQ(config.output_size(), 1);
  EXPECT_EQ(config.output(0).name(), "humidity");
  EXPECT_EQ(config.output(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.output(0).dims(), ElementsAre(1));
  ASSERT_TRUE(config.version_policy().has_latest());  // The default, latest:1.
  EXPECT_EQ(config.version_policy().latest().num_versions(), 1u);

  request.set_name("absent");
  EXPECT_EQ(stub_->ModelConfig(Context().get(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_name("humidity");
  request.set_version("7");
  EXPECT_EQ(stub_->ModelConfig(Context().get(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(ToModelVersionPolicyTest, EachKindAsTriton) {
  inference::ModelVersionPolicy latest;
  ToModelVersionPolicy(ParseVersionPolicy("latest:2").value(), &latest);
  EXPECT_EQ(latest.latest().num_versions(), 2u);
  inference::ModelVersionPolicy specific;
  ToModelVersionPolicy(ParseVersionPolicy("specific:3,5").value(), &specific);
  EXPECT_THAT(specific.specific().versions(), ElementsAre(3, 5));
  inference::ModelVersionPolicy all;
  ToModelVersionPolicy(ParseVersionPolicy("all").value(), &all);
  EXPECT_TRUE(all.has_all());
}

TEST_F(TritonExtensionsTest, RepositoryIndexShowsStates) {
  WriteModel("humidity", 1);
  WriteModel("broken", 1);
  ASSERT_THAT(common::WriteFileAtomically(repo_.Join("broken/1/bundle.pb"), "not a bundle"),
              IsOk());
  StartServer();
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(Index(false, &index).ok());
  bool humidity_ready = false;
  bool broken_unavailable = false;
  for (const auto& row : index.models()) {
    if (row.name() == "humidity" && row.version() == "1") humidity_ready = row.state() == "READY";
    if (row.name() == "broken" && row.state() == "UNAVAILABLE") {
      broken_unavailable = true;
      EXPECT_FALSE(row.reason().empty());
    }
  }
  EXPECT_TRUE(humidity_ready) << index.DebugString();
  EXPECT_TRUE(broken_unavailable) << index.DebugString();

  inference::RepositoryIndexResponse ready;
  ASSERT_TRUE(Index(true, &ready).ok());
  ASSERT_GE(ready.models_size(), 1);
  for (const auto& row : ready.models()) {
    EXPECT_EQ(row.state(), "READY");
    EXPECT_NE(row.name(), "broken");
  }
}

TEST_F(TritonExtensionsTest, ExplicitLoadAndUnload) {
  WriteModel("humidity", 1);
  WriteModel("other", 2);
  StartExplicit({"humidity"});
  inference::ModelInferResponse answer;
  EXPECT_EQ(Infer(RequestFor("other", 1), &answer).error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(Load("other").ok());
  EXPECT_TRUE(Infer(RequestFor("other", 1), &answer).ok());
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(Index(true, &index).ok());
  std::vector<std::string> ready;
  for (const auto& row : index.models()) ready.push_back(row.name());
  EXPECT_THAT(ready, IsSupersetOf({"humidity", "other"}));

  ASSERT_TRUE(Unload("other").ok());
  EXPECT_NE(Infer(RequestFor("other", 1), &answer).error_code(), grpc::StatusCode::OK);
  EXPECT_TRUE(Infer(RequestFor("humidity", 1), &answer).ok());
  EXPECT_EQ(Load("absent").error_code(), grpc::StatusCode::NOT_FOUND);

  inference::RepositoryModelLoadRequest with_config;
  with_config.set_model_name("other");
  (*with_config.mutable_parameters())["config"].set_string_param("{}");
  inference::RepositoryModelLoadResponse loaded;
  const grpc::Status status = stub_->RepositoryModelLoad(Context().get(), with_config, &loaded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("'config'"));
}

TEST_F(TritonExtensionsTest, LoadAndUnloadNeedExplicitMode) {
  WriteModel("humidity", 1);
  StartServer();
  EXPECT_EQ(Load("humidity").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Unload("humidity").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  inference::ModelInferResponse answer;
  EXPECT_TRUE(Infer(RequestFor("humidity", 1), &answer).ok());
}

// A client hammers model A while model B is loaded and unloaded again and
// again: not one call to A fails.
TEST_F(TritonExtensionsTest, LoadAndUnloadUnderLoadFailNoCall) {
  WriteModel("humidity", 1);
  WriteModel("other", 2);
  StartExplicit({"humidity"});
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  std::atomic<int> failures{0};
  std::string first_failure;
  std::thread client([&] {
    auto stub = inference::GRPCInferenceService::NewStub(channel_);
    const inference::ModelInferRequest request = RequestFor("humidity", 8);
    while (!stop.load()) {
      inference::ModelInferResponse answer;
      const grpc::Status status = stub->ModelInfer(Context().get(), request, &answer);
      calls.fetch_add(1);
      if (!status.ok() && failures.fetch_add(1) == 0) first_failure = status.error_message();
    }
  });
  // At least 20 rounds, and until A has been called often enough to overlap
  // them (bounded: a slow machine still ends).
  const absl::Time end = absl::Now() + absl::Seconds(20);
  int rounds = 0;
  for (; rounds < 20 || (calls.load() < 1000 && absl::Now() < end); ++rounds) {
    EXPECT_TRUE(Load("other").ok()) << rounds;
    inference::ModelInferResponse answer;
    EXPECT_TRUE(Infer(RequestFor("other", 1), &answer).ok()) << rounds;
    EXPECT_TRUE(Unload("other").ok()) << rounds;
    // Reloading A itself (explicit mode's way to pick up new versions) fails
    // none of its calls either.
    if (rounds % 5 == 0) {
      EXPECT_TRUE(Load("humidity").ok()) << rounds;
    }
  }
  stop.store(true);
  client.join();
  EXPECT_GT(calls.load(), rounds);
  EXPECT_EQ(failures.load(), 0) << first_failure;
}

// The same on the handler alone, without gRPC, so that TSan (which cannot
// follow gRPC core's hand-overs and skips the in-process gRPC tests) checks
// the counters and the snapshot swaps: two threads call model A and read
// its statistics while B is loaded and unloaded and A reloaded.
TEST(TritonHandlerTest, LoadAndUnloadUnderLoadFailNoCallWithoutTransport) {
  skewfree_testing::TempDir repo;
  for (const char* name : {"humidity", "other"}) {
    v1::Bundle bundle = BundleWithBias(1);
    bundle.mutable_metadata()->set_model_name(name);
    ASSERT_THAT(model::WriteBundle(repo.Join(name), bundle).status(), IsOk());
  }
  std::unique_ptr<ServerMetrics> metrics = ServerMetrics::Create().value();
  VersionManager::Options options;
  options.repository = repo.path();
  options.models = {"humidity"};
  options.control = ModelControl::kExplicit;
  options.metrics = metrics.get();
  std::unique_ptr<VersionManager> versions = VersionManager::Create(std::move(options)).value();
  InferenceHandler handler(InferenceHandler::Options(), versions.get(), metrics.get());

  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  std::atomic<int> failures{0};
  auto hammer = [&] {
    const inference::ModelInferRequest request = RequestFor("humidity", 8);
    while (!stop.load()) {
      inference::ModelInferResponse answer;
      if (!handler.Infer(request, absl::InfiniteFuture(), Protocol::kGrpc, &answer).ok()) {
        failures.fetch_add(1);
      }
      calls.fetch_add(1);
      inference::ModelStatisticsRequest stats_request;
      inference::ModelStatisticsResponse stats;
      if (!handler.ModelStatistics(stats_request, &stats).ok()) failures.fetch_add(1);
    }
  };
  std::thread first(hammer);
  std::thread second(hammer);
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("other");
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("other");
  inference::RepositoryModelLoadRequest reload;
  reload.set_model_name("humidity");
  // At least 10 rounds, and until the callers have made enough calls to
  // overlap them (bounded: a slow machine still ends).
  const absl::Time end = absl::Now() + absl::Seconds(20);
  for (int round = 0; round < 10 || (calls.load() < 2000 && absl::Now() < end); ++round) {
    EXPECT_THAT(handler.RepositoryModelLoad(load), IsOk()) << round;
    inference::RepositoryIndexResponse index;
    EXPECT_THAT(handler.RepositoryIndex({}, &index), IsOk());
    EXPECT_THAT(handler.RepositoryModelUnload(unload), IsOk()) << round;
    if (round % 3 == 0) {
      EXPECT_THAT(handler.RepositoryModelLoad(reload), IsOk()) << round;
    }
  }
  stop.store(true);
  first.join();
  second.join();
  EXPECT_GT(calls.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  inference::ModelStatisticsRequest request;
  request.set_name("humidity");
  inference::ModelStatisticsResponse stats;
  ASSERT_THAT(handler.ModelStatistics(request, &stats), IsOk());
  ASSERT_EQ(stats.model_stats_size(), 1);
  EXPECT_EQ(stats.model_stats(0).execution_count(), static_cast<uint64_t>(calls.load()));
  EXPECT_EQ(stats.model_stats(0).inference_count(), 8u * static_cast<uint64_t>(calls.load()));
}

TEST_F(TritonExtensionsTest, RestrictedRepositoryNeedsTheHeader) {
  WriteModel("humidity", 1);
  StartServer([](Server::Options* options) {
    options->inference.restricted =
        RestrictedApi::Parse("model-repository,model-config:X-Admin-Token=s3cret").value();
  });
  inference::RepositoryIndexResponse index;
  grpc::Status status = Index(false, &index);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), AllOf(HasSubstr("x-admin-token"), Not(HasSubstr("s3cret"))));
  status = Index(false, &index, "x-admin-token", "wrong");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), Not(HasSubstr("s3cret")));
  EXPECT_TRUE(Index(false, &index, "x-admin-token", "s3cret").ok());
  EXPECT_EQ(Load("humidity").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  inference::ModelConfigRequest config_request;
  config_request.set_name("humidity");
  inference::ModelConfigResponse config;
  EXPECT_EQ(stub_->ModelConfig(Context().get(), config_request, &config).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      stub_->ModelConfig(Context("x-admin-token", "s3cret").get(), config_request, &config).ok());
  // Other groups stay open.
  inference::ModelStatisticsResponse stats;
  EXPECT_TRUE(Statistics("humidity", "", &stats).ok());
  inference::ModelInferResponse answer;
  EXPECT_TRUE(Infer(RequestFor("humidity", 1), &answer).ok());
}

TEST_F(TritonExtensionsTest, ParametersThatChangeTheAnswerAreRefused) {
  WriteModel("humidity", 1);
  StartServer();
  inference::ModelInferResponse answer;
  for (const char* name : {"classification", "class_count"}) {
    inference::ModelInferRequest request = RequestFor("humidity", 2);
    auto* output = request.add_outputs();
    output->set_name("humidity");
    (*output->mutable_parameters())[name].set_int64_param(3);
    const grpc::Status status = Infer(request, &answer);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(status.error_message(),
                AllOf(HasSubstr(std::string("'") + name + "'"), HasSubstr("output 'humidity'")));
  }
  inference::ModelInferRequest sequence = RequestFor("humidity", 2);
  (*sequence.mutable_parameters())["sequence_id"].set_int64_param(42);
  grpc::Status status = Infer(sequence, &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("'sequence_id'"));

  inference::ModelInferRequest shared = RequestFor("humidity", 2);
  (*shared.mutable_inputs(1)->mutable_parameters())["shared_memory_region"].set_string_param("r");
  status = Infer(shared, &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("input 'beta2'"), HasSubstr("'shared_memory_region'")));

  inference::ModelInferRequest text_priority = RequestFor("humidity", 2);
  (*text_priority.mutable_parameters())["priority"].set_string_param("high");
  EXPECT_EQ(Infer(text_priority, &answer).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TritonExtensionsTest, PriorityAndTimeoutAreAcceptedAndIgnored) {
  WriteModel("humidity", 1);
  StartServer();
  inference::ModelInferResponse plain;
  ASSERT_TRUE(Infer(RequestFor("humidity", 4), &plain).ok());
  inference::ModelInferRequest request = RequestFor("humidity", 4);
  (*request.mutable_parameters())["priority"].set_uint64_param(1);
  (*request.mutable_parameters())["timeout"].set_int64_param(1000000);
  inference::ModelInferResponse answer;
  const grpc::Status status = Infer(request, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.outputs(0).contents().SerializeAsString(),
            plain.outputs(0).contents().SerializeAsString());
}

TEST_F(TritonExtensionsTest, HealthKnowsTheServiceName) {
  const std::string service = "inference.GRPCInferenceService";
  StartServer();
  EXPECT_EQ(HealthCheck(channel_, service), kNotServing);
  WriteModel("humidity", 1);
  server_->Rescan();
  EXPECT_TRUE(Eventually([&] { return HealthCheck(channel_, service) == kServing; }));
  EXPECT_EQ(HealthCheck(channel_, ""), kServing);
  server_->BeginDrain();
  EXPECT_EQ(HealthCheck(channel_, service), kNotServing);
}

}  // namespace
}  // namespace skewfree::server
