// Wire compatibility: a Python client (Debian's python3-grpcio, stubs
// generated from our proto) gets the same predictions as the bundle in process.
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

TEST_F(ServingTest, PythonClientGetsTheBundlesPredictions) {
  ASSERT_THAT(PublishVersion(model_dir(), 3), IsOk());
  StartReady();
  const CommandResult python = RunToEnd(
      {"/usr/bin/python3", SKEWFREE_PYTHON_CLIENT, SKEWFREE_PYTHON_STUBS, server_.target()},
      Log("python"));
  ASSERT_EQ(python.exit_code, 0) << python.out << python.err;

  absl::StatusOr<std::shared_ptr<const skewfree::model::Bundle>> bundle =
      skewfree::model::Bundle::Load(model_dir() + "/3");
  ASSERT_THAT(bundle, IsOk());
  const skewfree::transform::RawColumns rows =
      ToColumns({{1.234f, 1.234f, 16, 5}, {-3.5f, 2.25f, 0, 0}, {4.9f, -4.9f, 23, 6}});
  std::vector<float> expected(3);
  ASSERT_THAT((*bundle)->Predict(rows.View(), absl::MakeSpan(expected)), IsOk());
  std::string want;
  for (float v : expected) absl::StrAppendFormat(&want, "%.9g 3\n", v);
  EXPECT_EQ(python.out, want);
}

}  // namespace
}  // namespace skewfree_testing
