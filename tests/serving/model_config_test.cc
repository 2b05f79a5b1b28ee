// --model-config-file with the real binary: a version directory copied to a
// new number serves under it, SIGHUP rereads the file (a model added from
// its own directory outside the repository), and a bad file on SIGHUP is
// logged while the list in use keeps serving.
#include <csignal>
#include <filesystem>

#include "common/file_util.h"
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

class ModelConfigTest : public ServingTest {
 protected:
  std::string ConfigPath() const { return dir_.Join("models.textproto"); }
  void WriteConfig(const std::string& text) {
    ASSERT_THAT(skewfree::common::WriteFileAtomically(ConfigPath(), text), IsOk());
  }
  // The version that answered a prediction of `model`; "" on error.
  std::string Answering(const std::string& model) {
    absl::StatusOr<skewfree::client::Prediction> p = client_->Predict(
        model, {{{"beta1", 1.0f}, {"beta2", 1.0f}, {"hour", int64_t{1}}, {"weekday", int64_t{1}}}});
    return p.ok() ? p->model_version : "";
  }
};

TEST_F(ModelConfigTest, CopiedVersionServesAndSighupRereadsTheFile) {
  ASSERT_THAT(PublishVersion(model_dir(), 3), IsOk());
  // `cp -r 3 7`: a promotion, served as version 7.
  std::filesystem::copy(absl::StrCat(model_dir(), "/3"), absl::StrCat(model_dir(), "/7"),
                        std::filesystem::copy_options::recursive);
  WriteConfig(absl::StrCat("model_config_list { config { name: \"humidity\" base_path: \"",
                           model_dir(),
                           "\" model_version_policy { specific { versions: 7 } } } }"));
  StartReady({"--model-config-file", ConfigPath()});
  EXPECT_EQ(Answering("humidity"), "7");
  EXPECT_EQ(Answering("wind"), "");

  const std::string wind_dir = dir_.Join("elsewhere/wind");
  ASSERT_THAT(PublishVersion(wind_dir, 2), IsOk());
  WriteConfig(absl::StrCat(
      "model_config_list {\n"
      "  config { name: \"humidity\" base_path: \"",
      model_dir(), "\" }\n", "  config { name: \"wind\" base_path: \"", wind_dir, "\" }\n}\n"));
  server_.process->Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return Answering("wind") == "2"; })) << server_.process->Describe();
  EXPECT_EQ(Answering("humidity"), "7");  // latest:1 now: still the newest, 7.

  WriteConfig("model_config_list {\n  config { nme: \"x\" }\n}\n");
  server_.process->Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] {
    return server_.process->Stderr().find("the model list in use stays") != std::string::npos;
  }));
  EXPECT_THAT(server_.process->Stderr(), HasSubstr("models.textproto:2:"));
  EXPECT_EQ(Answering("wind"), "2");
  EXPECT_EQ(Answering("humidity"), "7");
}

TEST_F(ModelConfigTest, ConfigFileWithModelFlagsIsRefused) {
  WriteConfig("model_config_list { config { name: \"humidity\" } }");
  CommandResult result =
      RunToEnd({BinPath("skewfree-server"), "--model-repository", repository(),
                "--model-config-file", ConfigPath(), "--version-policy", "all", "--port", "0"},
               Log("refused"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("drop --model and --version-policy"));
}

}  // namespace
}  // namespace skewfree_testing
