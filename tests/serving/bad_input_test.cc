// Every bad input of issue 4 section 2 gets its gRPC code and names what was
// wrong, and the server still answers afterwards.
#include <cmath>
#include <limits>

#include <csignal>
#include <fstream>
#include <string>

#include "client/batch.h"
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using inference::ModelInferRequest;
using skewfree::client::Batch;
using skewfree::client::BuildInferRequest;
using skewfree::client::Column;
using skewfree::client::DataType;
using skewfree::client::Encoding;
using ::testing::HasSubstr;

Batch Rows(float beta1 = 1.0f, int64_t hour = 16, int64_t weekday = 5) {
  return *Batch::FromColumns({{"beta1", DataType::kFp32, {0.5f, beta1}, {}},
                              {"beta2", DataType::kFp32, {1.0f, 2.0f}, {}},
                              {"hour", DataType::kInt64, {}, {3, hour}},
                              {"weekday", DataType::kInt64, {}, {0, weekday}}});
}

ModelInferRequest Typed(const Batch& batch = Rows()) {
  return BuildInferRequest("humidity", "", batch, Encoding::kTyped);
}

class BadInputTest : public ServingTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(PublishVersion(model_dir(), 1).ok());
    StartReady({"--max-batch", "1000"});
  }

  void ExpectInvalid(const ModelInferRequest& request, const std::string& needle) {
    EXPECT_THAT(client_->Infer(request),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(needle)))
        << request.ShortDebugString().substr(0, 300);
  }

  void TearDown() override {
    // Still serving after all of it.
    EXPECT_THAT(client_->Infer(Typed()), IsOk());
    EXPECT_TRUE(server_.process->running());
  }
};

TEST_F(BadInputTest, UnknownModelOrVersionIsNotFound) {
  ModelInferRequest request = Typed();
  request.set_model_name("nosuchmodel");
  EXPECT_THAT(client_->Infer(request),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nosuchmodel")));
  request = Typed();
  request.set_model_version("99");
  EXPECT_THAT(client_->Infer(request), StatusIs(absl::StatusCode::kNotFound, HasSubstr("99")));
}

TEST_F(BadInputTest, MissingUnknownAndMistypedInputsAreNamed) {
  ModelInferRequest missing = Typed();
  missing.mutable_inputs()->RemoveLast();  // weekday
  ExpectInvalid(missing, "weekday");

  ModelInferRequest unknown = Typed();
  auto* extra = unknown.add_inputs();
  *extra = unknown.inputs(0);
  extra->set_name("colour");
  ExpectInvalid(unknown, "colour");

  ModelInferRequest int_beta =
      Typed(*Batch::FromColumns({{"beta1", DataType::kInt64, {}, {1, 2}},
                                 {"beta2", DataType::kFp32, {1, 2}, {}},
                                 {"hour", DataType::kInt64, {}, {1, 2}},
                                 {"weekday", DataType::kInt64, {}, {1, 2}}}));
  ExpectInvalid(int_beta, "beta1");

  ModelInferRequest float_hour =
      Typed(*Batch::FromColumns({{"beta1", DataType::kFp32, {1, 2}, {}},
                                 {"beta2", DataType::kFp32, {1, 2}, {}},
                                 {"hour", DataType::kFp32, {1, 2}, {}},
                                 {"weekday", DataType::kInt64, {}, {1, 2}}}));
  ExpectInvalid(float_hour, "hour");

  ModelInferRequest bytes = Typed();
  bytes.mutable_inputs(1)->set_datatype("BYTES");
  ExpectInvalid(bytes, "beta2");
}

TEST_F(BadInputTest, ShapesAndLengthsMustAgree) {
  ModelInferRequest shape = Typed();
  shape.mutable_inputs(0)->set_shape(0, 3);  // 2 values.
  ExpectInvalid(shape, "beta1");

  ModelInferRequest lengths = Typed();
  for (int i = 0; i < 4; ++i) lengths.mutable_inputs(i)->mutable_shape()->Clear();
  lengths.mutable_inputs(2)->mutable_contents()->add_int64_contents(4);
  lengths.mutable_inputs(2)->add_shape(3);
  for (int i : {0, 1, 3}) lengths.mutable_inputs(i)->add_shape(2);
  ExpectInvalid(lengths, "hour");

  ModelInferRequest raw = BuildInferRequest("humidity", "", Rows(), Encoding::kRaw);
  raw.mutable_raw_input_contents(1)->pop_back();  // 7 bytes for 2 FP32.
  ExpectInvalid(raw, "beta2");

  ModelInferRequest both = BuildInferRequest("humidity", "", Rows(), Encoding::kRaw);
  *both.mutable_inputs(0)->mutable_contents() = Typed().inputs(0).contents();
  EXPECT_THAT(client_->Infer(both), StatusIs(absl::StatusCode::kInvalidArgument));

  ModelInferRequest empty = Typed(*Batch::FromColumns({{"beta1", DataType::kFp32, {}, {}},
                                                       {"beta2", DataType::kFp32, {}, {}},
                                                       {"hour", DataType::kInt64, {}, {}},
                                                       {"weekday", DataType::kInt64, {}, {}}}));
  EXPECT_THAT(client_->Infer(empty), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(BadInputTest, BadValuesNameInputAndRow) {
  ExpectInvalid(Typed(Rows(std::numeric_limits<float>::quiet_NaN())), "beta1");
  ExpectInvalid(Typed(Rows(std::numeric_limits<float>::infinity())), "row 1");
  ExpectInvalid(Typed(Rows(1.0f, 24)), "hour");
  ExpectInvalid(Typed(Rows(1.0f, 24)), "row 1");
  ExpectInvalid(Typed(Rows(1.0f, 3, -1)), "weekday");
  ExpectInvalid(BuildInferRequest("humidity", "", Rows(1.0f, 3, 7), Encoding::kRaw), "weekday");
}

TEST_F(BadInputTest, TooManyRowsIsRefused) {
  std::vector<Column> columns = Rows().columns();
  for (Column& c : columns) {
    if (c.type == DataType::kFp32)
      c.floats.resize(1001, 1.0f);
    else
      c.ints.resize(1001, 1);
  }
  const absl::Status status = client_->Infer(Typed(*Batch::FromColumns(columns))).status();
  EXPECT_TRUE(status.code() == absl::StatusCode::kResourceExhausted ||
              status.code() == absl::StatusCode::kInvalidArgument)
      << status;
}

// The state letter of /proc/PID/stat ('R', 'S', 'T' for stopped...).
char ProcessState(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

TEST_F(BadInputTest, ExpiredDeadlineIsDeadlineExceeded) {
  skewfree::client::PredictionClient::Options options;
  options.channel.target = server_.target();
  options.timeout = absl::Milliseconds(200);
  auto client = *skewfree::client::PredictionClient::Create(options);
  ASSERT_TRUE(client->Predict("humidity", Rows()).ok());  // Connected.
  // A stopped server cannot answer within the deadline: the call ends with
  // DEADLINE_EXCEEDED, deterministically, however fast the machine is.
  server_.process->Signal(SIGSTOP);
  // Stopping is asynchronous: wait until every thread of it has stopped.
  ASSERT_TRUE(WaitUntil([&] { return ProcessState(server_.process->pid()) == 'T'; }));
  const absl::Status status = client->Predict("humidity", Rows()).status();
  server_.process->Signal(SIGCONT);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The late request is dropped by the server, which keeps answering.
  EXPECT_TRUE(client->Predict("humidity", Rows()).ok());
}

TEST_F(BadInputTest, RefusedCallsAreCountedByCode) {
  ModelInferRequest bad = Typed(Rows(1.0f, 24));
  ASSERT_FALSE(client_->Infer(bad).ok());
  ASSERT_THAT(client_->Infer(Typed()), IsOk());
  absl::StatusOr<std::string> metrics = HttpGet(server_.metrics_port, "/metrics");
  ASSERT_THAT(metrics, IsOk());
  EXPECT_GE(MetricValue(*metrics, "skewfree_requests_total",
                        {"model=\"humidity\"", "code=\"INVALID_ARGUMENT\""}),
            1);
  EXPECT_GE(MetricValue(*metrics, "skewfree_requests_total", {"model=\"humidity\"", "code=\"OK\""}),
            1);
  EXPECT_GE(MetricValue(*metrics, "skewfree_inference_rows_total", {"model=\"humidity\""}), 2);
  EXPECT_EQ(MetricValue(*metrics, "skewfree_model_loaded_version", {"model=\"humidity\""}), 1);
}

// A folder that never held a version (lost+found, or a model whose first
// version is still being trained) is not a model: NOT_FOUND, and ServerReady
// stays true. (A model listed with --model and no version is UNAVAILABLE:
// server/inference_service_test.cc.)
TEST(NotLoadedTest, FolderWithoutVersionsIsNotAModel) {
  TempDir dir;
  ASSERT_TRUE(PublishVersion(dir.Join("repo/humidity"), 1).ok());
  std::filesystem::create_directories(dir.Join("repo/later"));
  absl::StatusOr<RunningServer> server = StartServer(dir.Join("repo"), dir.Join("server"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = MakeClient(server->target());
  ASSERT_TRUE(WaitUntil([&] { return client->Infer(Typed()).ok(); }))
      << server->process->Describe();
  ModelInferRequest later = Typed();
  later.set_model_name("later");
  EXPECT_THAT(client->Infer(later), StatusIs(absl::StatusCode::kNotFound, HasSubstr("later")));
  absl::StatusOr<bool> ready = client->ServerReady();
  ASSERT_THAT(ready, IsOk());
  EXPECT_TRUE(*ready);
  EXPECT_THAT(client->Infer(Typed()), IsOk());
}

}  // namespace
}  // namespace skewfree_testing
