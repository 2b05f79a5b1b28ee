#include "server/model_config_file.h"

#include <string>

#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::server {
namespace {

using skewfree_testing::IsOk;
using skewfree_testing::StatusIs;
using skewfree_testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPath[] = "/etc/skewfree/models.textproto";

absl::StatusOr<ModelList> Parse(const std::string& text, const std::string& repository = "/repo") {
  return ParseModelConfig(text, kPath, repository);
}

TEST(ModelConfigFileTest, ParsesEveryPolicyAndPath) {
  absl::StatusOr<ModelList> list = Parse(R"pb(
    model_config_list {
      config {
        name: "humidity"
        base_path: "/models/humidity"
        model_platform: "skewfree_linear"
        model_version_policy { latest { num_versions: 2 } }
      }
      config {
        name: "pressure"
        base_path: "relative/pressure"
        model_version_policy { specific { versions: 4 versions: 3 versions: 4 } }
      }
      config {
        name: "wind"
        model_version_policy { all {} }
      }
      config { name: "rain" base_path: "/r" }
      config {
        name: "snow"
        base_path: "/s"
        model_version_policy { latest {} }
      }
    }
  )pb");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->models.size(), 5u);
  EXPECT_EQ(list->models[0],
            (ModelSource{"humidity", "/models/humidity", ParseVersionPolicy("latest:2").value()}));
  // Relative to the file's directory.
  EXPECT_EQ(list->models[1], (ModelSource{"pressure", "/etc/skewfree/relative/pressure",
                                          ParseVersionPolicy("specific:3,4").value()}));
  // No base_path: in --model-repository.
  EXPECT_EQ(list->models[2],
            (ModelSource{"wind", "/repo/wind", ParseVersionPolicy("all").value()}));
  // No policy, or latest without a count: TF Serving's default, the newest.
  EXPECT_EQ(list->models[3].policy, ParseVersionPolicy("latest:1").value());
  EXPECT_EQ(list->models[4].policy, ParseVersionPolicy("latest:1").value());
}

TEST(ModelConfigFileTest, EmptyFileListsNoModels) {
  absl::StatusOr<ModelList> list = Parse("");
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(list->models, IsEmpty());
}

TEST(ModelConfigFileTest, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_THAT(Parse("model_config_list {\n  config { name: \"a\" \n  bogus: 1 }\n}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/etc/skewfree/models.textproto:3:8: ")));
  EXPECT_THAT(Parse("model_config_list {\n  config { name: \"a\" \n  bogus: 1 }\n}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bogus")));
  EXPECT_THAT(Parse("model_config_list { config { name: \"a\" }"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("models.textproto:1:")));
}

TEST(ModelConfigFileTest, BadValuesNameTheirConfigLine) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"model_config_list {\n config { name: \"a\" base_path: \"/a\" }\n"
       " config { name: \"a\" base_path: \"/b\" }\n}",
       "models.textproto:3:2: model 'a' is listed twice"},
      {"model_config_list {\n\n  config { name: \"\" base_path: \"/a\" }\n}",
       "models.textproto:3:3: bad model name ''"},
      {"model_config_list { config { name: \"a/b\" } }", ":1:21: bad model name 'a/b'"},
      {"model_config_list { config { name: \".hidden\" } }", "bad model name '.hidden'"},
      {"model_config_list { config { name: \"a\" model_version_policy { specific {} } } }",
       ":1:21: model 'a': model_version_policy specific lists no versions"},
      {"model_config_list { config { name: \"a\"\n model_version_policy { specific { versions: 0 "
       "} } } }",
       "model 'a': model_version_policy specific: version 0 is not >= 1"},
      {"model_config_list { config { name: \"a\"\n model_platform: \"tensorflow\" } }",
       ":1:21: model 'a': model_platform 'tensorflow' is not served here (only "
       "'skewfree_linear' bundles)"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(Parse(c.text), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)))
        << c.text;
  }
}

TEST(ModelConfigFileTest, NoBasePathNeedsARepository) {
  EXPECT_THAT(Parse("model_config_list { config { name: \"a\" } }", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model 'a' has no base_path and there is no --model-repository")));
}

TEST(ModelConfigFileTest, ReadsTheFileAndNamesAMissingOne) {
  TempDir dir;
  ASSERT_THAT(common::WriteFileAtomically(
                  dir.Join("models.textproto"),
                  "model_config_list { config { name: \"m\" base_path: \"m-dir\" } }\n"),
              IsOk());
  absl::StatusOr<ModelList> list = ReadModelConfigFile(dir.Join("models.textproto"), "");
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(list->models, ElementsAre(ModelSource{"m", dir.Join("m-dir"),
                                                    ParseVersionPolicy("latest:1").value()}));
  EXPECT_THAT(ReadModelConfigFile(dir.Join("missing.textproto"), ""),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.textproto")));
}

}  // namespace
}  // namespace skewfree::server
