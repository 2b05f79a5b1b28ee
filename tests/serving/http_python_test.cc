// A Python client with only the standard library (urllib + json) talks to
// the HTTP/JSON endpoint and gets the bits gRPC answers.
#include <cstring>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

TEST_F(ServingTest, PythonHttpClientGetsGrpcsAnswers) {
  ASSERT_THAT(PublishVersion(model_dir(), 3), IsOk());
  StartReady();
  const CommandResult python =
      RunToEnd({"/usr/bin/python3", SKEWFREE_HTTP_PYTHON_CLIENT, absl::StrCat(server_.http_port)},
               Log("python"));
  ASSERT_EQ(python.exit_code, 0) << python.out << python.err;

  std::vector<skewfree::client::Row> rows;
  for (const HumidityRow& r : std::vector<HumidityRow>{
           {1.234f, 1.234f, 16, 5}, {-3.5f, 2.25f, 0, 0}, {4.9f, -4.9f, 23, 6}}) {
    rows.push_back(
        {{"beta1", r.beta1}, {"beta2", r.beta2}, {"hour", r.hour}, {"weekday", r.weekday}});
  }
  absl::StatusOr<skewfree::client::Prediction> grpc = client_->Predict("humidity", rows);
  ASSERT_THAT(grpc, IsOk());
  std::string want = "inputs beta1:FP32 beta2:FP32 hour:INT64 weekday:INT64\n";
  for (float v : grpc->values) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    absl::StrAppendFormat(&want, "%08x %s\n", bits, grpc->model_version);
  }
  EXPECT_EQ(python.out, want);
}

}  // namespace
}  // namespace skewfree_testing
