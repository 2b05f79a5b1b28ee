// The HTTP/JSON endpoint (KServe v2 REST, Triton's HTTP API) of the real
// skewfree-server on loopback: every endpoint and error status, binary
// tensors, keep-alive, a stuck client, drain, metrics, TLS, and answers
// bit-identical to gRPC's.
#include <signal.h>

#include <charconv>
#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "tests/http_client.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

const std::vector<HumidityRow> kRows = {
    {1.234f, 1.234f, 16, 5}, {-3.5f, 2.25f, 0, 0}, {4.9f, -4.9f, 23, 6}};

// Shortest text that parses back to the same value (floats exactly).
template <typename T>
std::string Shortest(T value) {
  char buffer[64];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof(buffer), value).ptr);
}

template <typename T, typename F>
std::string JsonArray(const std::vector<HumidityRow>& rows, F field) {
  std::vector<std::string> values;
  for (const HumidityRow& row : rows) values.push_back(Shortest(static_cast<T>(field(row))));
  return absl::StrCat("[", absl::StrJoin(values, ","), "]");
}

// The binary form: JSON header (inputs [n, 1] with binary_data_size, the
// output asked binary) and the columns' little-endian bytes after it.
std::pair<std::string, size_t> BinaryBody(const std::vector<HumidityRow>& rows) {
  std::string raw;
  auto append = [&raw](auto value) {
    raw.append(reinterpret_cast<const char*>(&value), sizeof(value));
  };
  for (const HumidityRow& r : rows) append(r.beta1);
  for (const HumidityRow& r : rows) append(r.beta2);
  for (const HumidityRow& r : rows) append(r.hour);
  for (const HumidityRow& r : rows) append(r.weekday);
  const size_t n = rows.size();
  auto input = [n](const char* name, const char* datatype, size_t bytes) {
    return absl::StrFormat(
        R"({"name":"%s","shape":[%d,1],"datatype":"%s","parameters":{"binary_data_size":%d}})",
        name, n, datatype, bytes * n);
  };
  const std::string json =
      absl::StrCat(R"({"inputs":[)", input("beta1", "FP32", 4), ",", input("beta2", "FP32", 4), ",",
                   input("hour", "INT64", 8), ",", input("weekday", "INT64", 8),
                   R"(],"outputs":[{"name":"humidity","parameters":{"binary_data":true}}]})");
  return {json + raw, json.size()};
}

// The infer body with every input as JSON data of shape [n].
std::string JsonBody(const std::vector<HumidityRow>& rows, const std::string& extra = "") {
  const size_t n = rows.size();
  auto input = [n](const char* name, const char* datatype, const std::string& data) {
    return absl::StrFormat(R"({"name":"%s","shape":[%d],"datatype":"%s","data":%s})", name, n,
                           datatype, data);
  };
  return absl::StrCat(
      R"({"id":"h-1",)", extra, R"("inputs":[)",
      input("beta1", "FP32", JsonArray<float>(rows, [](auto& r) { return r.beta1; })), ",",
      input("beta2", "FP32", JsonArray<float>(rows, [](auto& r) { return r.beta2; })), ",",
      input("hour", "INT64", JsonArray<int64_t>(rows, [](auto& r) { return r.hour; })), ",",
      input("weekday", "INT64", JsonArray<int64_t>(rows, [](auto& r) { return r.weekday; })), "]}");
}

// The floats of the first "data":[...] array of a JSON answer.
std::vector<float> JsonData(const std::string& body) {
  std::vector<float> values;
  size_t at = body.find("\"data\":[");
  if (at == std::string::npos) return values;
  const char* p = body.c_str() + at + 8;
  while (*p != ']' && *p != '\0') {
    char* end = nullptr;
    values.push_back(std::strtof(p, &end));
    if (end == p) break;
    p = end + (*end == ',' ? 1 : 0);
  }
  return values;
}

std::vector<uint32_t> Bits(const std::vector<float>& values) {
  std::vector<uint32_t> bits(values.size());
  std::memcpy(bits.data(), values.data(), values.size() * sizeof(float));
  return bits;
}

class HttpTest : public ServingTest {
 protected:
  void SetUp() override { ASSERT_THAT(PublishVersion(model_dir(), 3), IsOk()); }

  HttpAnswer Call(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    absl::StatusOr<HttpAnswer> answer = HttpCall(server_.http_port, method, path, body, headers);
    EXPECT_THAT(answer, IsOk()) << method << " " << path;
    return answer.value_or(HttpAnswer{});
  }

  // The predictions gRPC gives for `rows` (typed contents).
  std::vector<float> GrpcPredictions(const std::vector<HumidityRow>& rows) {
    inference::ModelInferRequest request;
    request.set_model_name("humidity");
    for (const char* name : {"beta1", "beta2", "hour", "weekday"}) {
      auto* input = request.add_inputs();
      input->set_name(name);
      input->add_shape(static_cast<int64_t>(rows.size()));
      const bool fp32 = name[0] == 'b';
      input->set_datatype(fp32 ? "FP32" : "INT64");
      for (const HumidityRow& r : rows) {
        if (fp32) input->mutable_contents()->add_fp32_contents(name[4] == '1' ? r.beta1 : r.beta2);
        if (!fp32)
          input->mutable_contents()->add_int64_contents(name[0] == 'h' ? r.hour : r.weekday);
      }
    }
    absl::StatusOr<inference::ModelInferResponse> response = client_->Infer(request);
    EXPECT_THAT(response, IsOk());
    if (!response.ok()) return {};
    const auto& contents = response->outputs(0).contents().fp32_contents();
    return {contents.begin(), contents.end()};
  }
};

TEST_F(HttpTest, HealthAndMetadata) {
  StartReady();
  HttpAnswer server = Call("GET", "/v2");
  EXPECT_EQ(server.status, 200);
  EXPECT_EQ(server.Header("Content-Type"), "application/json");
  EXPECT_THAT(server.body, HasSubstr(R"("name":"skewfree")"));
  EXPECT_THAT(server.body, HasSubstr("binary_tensor_data"));
  HttpAnswer live = Call("GET", "/v2/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, R"({"live":true})");
  HttpAnswer ready = Call("GET", "/v2/health/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"ready":true})");
  for (const char* path : {"/v2/models/humidity", "/v2/models/humidity/versions/3"}) {
    HttpAnswer metadata = Call("GET", path);
    EXPECT_EQ(metadata.status, 200) << path;
    EXPECT_THAT(metadata.body, HasSubstr(R"("name":"humidity","versions":["3"])")) << path;
    EXPECT_THAT(metadata.body, HasSubstr(R"({"name":"beta1","datatype":"FP32","shape":[-1]})"));
  }
  for (const char* path : {"/v2/models/humidity/ready", "/v2/models/humidity/versions/3/ready"}) {
    HttpAnswer model_ready = Call("GET", path);
    EXPECT_EQ(model_ready.status, 200) << path;
    EXPECT_EQ(model_ready.body, R"({"name":"humidity","ready":true})");
  }
}

TEST_F(HttpTest, JsonInferAnswersGrpcsBits) {
  StartReady();
  HttpAnswer answer = Call("POST", "/v2/models/humidity/infer", JsonBody(kRows));
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.Header("Content-Type"), "application/json");
  EXPECT_THAT(answer.body, HasSubstr(R"("model_name":"humidity","model_version":"3","id":"h-1")"));
  EXPECT_THAT(answer.body, HasSubstr(R"("datatype":"FP32","shape":[3,1])"));
  const std::vector<float> http = JsonData(answer.body);
  ASSERT_EQ(http.size(), kRows.size()) << answer.body;
  EXPECT_EQ(Bits(http), Bits(GrpcPredictions(kRows)));
  HttpAnswer versioned = Call("POST", "/v2/models/humidity/versions/3/infer", JsonBody(kRows));
  EXPECT_EQ(versioned.status, 200) << versioned.body;
  EXPECT_EQ(Bits(JsonData(versioned.body)), Bits(http));
}

TEST_F(HttpTest, ManyRowsGiveTheSameBitsOverHttpJsonHttpBinaryGrpcTypedAndGrpcRaw) {
  StartReady();
  std::vector<HumidityRow> rows;
  for (int i = 0; i < 500; ++i) {
    rows.push_back({static_cast<float>(i) * 0.3311f - 80.123f,
                    1.0f / static_cast<float>(i + 3) - 0.33333334f, i % 24, (i * 5) % 7});
  }
  const std::vector<uint32_t> typed = Bits(GrpcPredictions(rows));
  ASSERT_EQ(typed.size(), rows.size());
  std::vector<skewfree::client::Row> client_rows;
  for (const HumidityRow& r : rows) {
    client_rows.push_back(
        {{"beta1", r.beta1}, {"beta2", r.beta2}, {"hour", r.hour}, {"weekday", r.weekday}});
  }
  absl::StatusOr<skewfree::client::Prediction> raw =
      MakeClient(server_.target(), skewfree::client::Encoding::kRaw)
          ->Predict("humidity", client_rows);
  ASSERT_THAT(raw, IsOk());
  EXPECT_EQ(Bits(raw->values), typed);

  HttpAnswer json = Call("POST", "/v2/models/humidity/infer", JsonBody(rows));
  ASSERT_EQ(json.status, 200) << json.body.substr(0, 300);
  EXPECT_EQ(Bits(JsonData(json.body)), typed);

  const auto [body, header_length] = BinaryBody(rows);
  HttpAnswer binary = Call("POST", "/v2/models/humidity/infer", body,
                           {{"Inference-Header-Content-Length", absl::StrCat(header_length)}});
  ASSERT_EQ(binary.status, 200) << binary.body.substr(0, 300);
  size_t answer_header = 0;
  ASSERT_TRUE(absl::SimpleAtoi(binary.Header("Inference-Header-Content-Length"), &answer_header));
  ASSERT_EQ(binary.body.size(), answer_header + rows.size() * sizeof(float));
  std::vector<float> values(rows.size());
  std::memcpy(values.data(), binary.body.data() + answer_header, values.size() * sizeof(float));
  EXPECT_EQ(Bits(values), typed);
}

TEST_F(HttpTest, BinaryInputsAndOutputs) {
  StartReady();
  const auto [body, json_length] = BinaryBody(kRows);
  HttpAnswer answer = Call("POST", "/v2/models/humidity/infer", body,
                           {{"Inference-Header-Content-Length", absl::StrCat(json_length)},
                            {"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.Header("Content-Type"), "application/octet-stream");
  size_t header_length = 0;
  ASSERT_TRUE(absl::SimpleAtoi(answer.Header("Inference-Header-Content-Length"), &header_length));
  ASSERT_EQ(answer.body.size(), header_length + kRows.size() * sizeof(float));
  EXPECT_THAT(answer.body.substr(0, header_length), HasSubstr(R"("binary_data_size":12)"));
  std::vector<float> binary(kRows.size());
  std::memcpy(binary.data(), answer.body.data() + header_length, 12);
  EXPECT_EQ(Bits(binary), Bits(GrpcPredictions(kRows)));
}

TEST_F(HttpTest, ErrorStatuses) {
  StartReady({"--max-message-bytes", "4096"});
  HttpAnswer bad_json = Call("POST", "/v2/models/humidity/infer", R"({"inputs":[{"name":)");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_THAT(bad_json.body, HasSubstr("offset"));
  EXPECT_THAT(bad_json.body, ::testing::StartsWith(R"({"error":)"));
  std::vector<HumidityRow> rows = kRows;
  rows[1].hour = 24;  // Out of the hour column's range.
  HttpAnswer bad_row = Call("POST", "/v2/models/humidity/infer", JsonBody(rows));
  EXPECT_EQ(bad_row.status, 400) << bad_row.body;
  EXPECT_THAT(bad_row.body, HasSubstr("hour"));
  EXPECT_THAT(bad_row.body, HasSubstr("row 1"));
  EXPECT_EQ(Call("POST", "/v2/models/nope/infer", JsonBody(kRows)).status, 404);
  EXPECT_EQ(Call("POST", "/v2/models/humidity/versions/9/infer", JsonBody(kRows)).status, 404);
  EXPECT_EQ(Call("GET", "/v2/models/nope").status, 404);
  EXPECT_EQ(Call("GET", "/v2/models/humidity/versions/9").status, 404);
  EXPECT_EQ(Call("GET", "/v2/models/nope/ready").status, 404);
  HttpAnswer wrong_method = Call("GET", "/v2/models/humidity/infer");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("Allow"), "POST");
  EXPECT_EQ(Call("POST", "/v2/health/ready").status, 405);
  EXPECT_EQ(Call("DELETE", "/v2").status, 405);
  HttpAnswer unknown = Call("GET", "/v2/nowhere");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, HasSubstr("/v2/nowhere"));
  HttpAnswer too_large = Call("POST", "/v2/models/humidity/infer", std::string(5000, ' '));
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(too_large.Header("Content-Type"), "application/json");
  EXPECT_EQ(too_large.body,
            "{\"error\":\"request body of 5000 bytes is larger than the server's limit of 4096 "
            "bytes (--max-message-bytes)\"}");
  EXPECT_EQ(too_large.Header("Connection"), "close");
  // Past the limit but within the body: a row limit of the handler.
  HttpAnswer bad_header = Call("POST", "/v2/models/humidity/infer", JsonBody(kRows),
                               {{"Inference-Header-Content-Length", "99999"}});
  EXPECT_EQ(bad_header.status, 400);
}

TEST_F(HttpTest, MaxBatchIsTooLarge) {
  StartReady({"--max-batch", "2"});
  HttpAnswer answer = Call("POST", "/v2/models/humidity/infer", JsonBody(kRows));
  EXPECT_EQ(answer.status, 413) << answer.body;
}

TEST_F(HttpTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartReady();
  absl::StatusOr<std::unique_ptr<HttpConnection>> connection =
      HttpConnection::Connect(server_.http_port);
  ASSERT_THAT(connection, IsOk());
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<HttpAnswer> infer =
        (*connection)->Request("POST", "/v2/models/humidity/infer", JsonBody(kRows));
    ASSERT_THAT(infer, IsOk()) << i;
    EXPECT_EQ(infer->status, 200) << i;
    absl::StatusOr<HttpAnswer> ready = (*connection)->Request("GET", "/v2/health/ready");
    ASSERT_THAT(ready, IsOk()) << i;
    EXPECT_EQ(ready->status, 200);
    // An error answer keeps the connection too.
    absl::StatusOr<HttpAnswer> missing = (*connection)->Request("GET", "/v2/models/nope");
    ASSERT_THAT(missing, IsOk()) << i;
    EXPECT_EQ(missing->status, 404);
  }
}

TEST_F(HttpTest, StuckClientIsCutOffAndOthersAreServed) {
  StartReady({"--http-timeout", "1s", "--http-threads", "1"});
  absl::StatusOr<std::unique_ptr<HttpConnection>> stuck =
      HttpConnection::Connect(server_.http_port);
  ASSERT_THAT(stuck, IsOk());
  // Half a body, then nothing.
  ASSERT_THAT((*stuck)->SendRaw("POST /v2/models/humidity/infer HTTP/1.1\r\nHost: x\r\n"
                                "Content-Length: 1000\r\n\r\n{\"inputs\":"),
              IsOk());
  // One event loop, yet other clients are answered meanwhile.
  const absl::Time start = absl::Now();
  EXPECT_EQ(Call("GET", "/v2/health/live").status, 200);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_TRUE((*stuck)->ClosedWithin(5000));
  EXPECT_GT(absl::Now() - start, absl::Milliseconds(300));  // Closed by the timeout.
}

TEST_F(HttpTest, DrainAnswersNotReadyAndStillServes) {
  StartReady({"--drain-grace", "3s", "--drain-quiet", "0s", "--drain-timeout", "10s"});
  server_.process->Signal(SIGTERM);
  ASSERT_TRUE(WaitUntil([&] { return Call("GET", "/v2/health/ready").status == 400; }));
  HttpAnswer ready = Call("GET", "/v2/health/ready");
  EXPECT_EQ(ready.body, R"({"ready":false})");
  HttpAnswer model_ready = Call("GET", "/v2/models/humidity/ready");
  EXPECT_EQ(model_ready.status, 400);
  EXPECT_EQ(model_ready.body, R"({"name":"humidity","ready":false})");
  EXPECT_EQ(Call("GET", "/v2/health/live").status, 200);
  // Within the grace, calls already on their way are still answered.
  HttpAnswer infer = Call("POST", "/v2/models/humidity/infer", JsonBody(kRows));
  EXPECT_EQ(infer.status, 200) << infer.body;
  EXPECT_EQ(server_.process->WaitFor(std::chrono::seconds(15)), 0);
}

TEST_F(HttpTest, MetricsCountHttpCalls) {
  StartReady();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call("POST", "/v2/models/humidity/infer", JsonBody(kRows)).status, 200);
  }
  EXPECT_EQ(Call("POST", "/v2/models/humidity/versions/9/infer", JsonBody(kRows)).status, 404);
  absl::StatusOr<std::string> metrics = HttpGet(server_.metrics_port, "/metrics");
  ASSERT_THAT(metrics, IsOk());
  EXPECT_EQ(MetricValue(*metrics, "skewfree_requests_total", {"protocol=\"http\"", "code=\"OK\""}),
            3)
      << *metrics;
  EXPECT_GE(
      MetricValue(*metrics, "skewfree_requests_total", {"protocol=\"http\"", "code=\"NOT_FOUND\""}),
      1);
  EXPECT_EQ(MetricValue(*metrics, "skewfree_requests_total", {"protocol=\"grpc\""}), 0);
}

// A CA, a server certificate for 127.0.0.1 and a client certificate.
constexpr char kMakeCertificates[] = R"sh(
set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=ca
leaf() {
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n%s\n' "$2" "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
    -days 2 -extfile "$1.ext" 2>/dev/null
}
leaf server serverAuth subjectAltName=IP:127.0.0.1
leaf client clientAuth ''
)sh";

class HttpTlsTest : public HttpTest {
 protected:
  void SetUp() override {
    HttpTest::SetUp();
    const CommandResult certs =
        RunToEnd({"/bin/sh", "-c", absl::StrCat("cd ", dir_.path(), " && ", kMakeCertificates)},
                 Log("openssl"));
    ASSERT_EQ(certs.exit_code, 0) << certs.err;
  }

  // curl's status code ("000" when no HTTP answer) for GET /v2/health/ready.
  std::string Curl(const std::string& scheme, std::vector<std::string> args,
                   const std::string& log) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-s",         "-o", "/dev/null", "-w",
                                     "%{http_code}",  "--max-time", "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(absl::StrCat(scheme, "://127.0.0.1:", server_.http_port, "/v2/health/ready"));
    return RunToEnd(argv, Log(log)).out;
  }

  std::string File(const std::string& name) const { return dir_.Join(name); }
};

TEST_F(HttpTlsTest, HttpsOnlyWithTheGrpcCertificate) {
  absl::StatusOr<RunningServer> server =
      StartServer(repository(), Log("server"),
                  {"--tls-cert", File("server.pem"), "--tls-key", File("server.key")});
  ASSERT_THAT(server, IsOk());
  server_ = *std::move(server);
  ASSERT_TRUE(WaitUntil([&] {
    return Curl("https", {"--cacert", File("ca.pem")}, "ok") == "200";
  }));
  EXPECT_EQ(Curl("http", {}, "plain"), "000");
  EXPECT_EQ(Curl("https", {}, "unknown_ca"), "000");
}

TEST_F(HttpTlsTest, MutualTlsNeedsAClientCertificate) {
  absl::StatusOr<RunningServer> server =
      StartServer(repository(), Log("server"),
                  {"--tls-cert", File("server.pem"), "--tls-key", File("server.key"),
                   "--tls-client-ca", File("ca.pem")});
  ASSERT_THAT(server, IsOk());
  server_ = *std::move(server);
  const std::vector<std::string> client = {"--cacert",         File("ca.pem"), "--cert",
                                           File("client.pem"), "--key",        File("client.key")};
  ASSERT_TRUE(WaitUntil([&] { return Curl("https", client, "client") == "200"; }));
  EXPECT_EQ(Curl("https", {"--cacert", File("ca.pem")}, "no_client_cert"), "000");
}

TEST_F(HttpTest, StatisticsAndConfigAreTritonsJson) {
  StartReady();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Call("POST", "/v2/models/humidity/infer", JsonBody(kRows)).status, 200);
  }
  for (const char* path :
       {"/v2/models/stats", "/v2/models/humidity/stats", "/v2/models/humidity/versions/3/stats"}) {
    HttpAnswer stats = Call("GET", path);
    EXPECT_EQ(stats.status, 200) << path;
    // Numbers, not protobuf's JSON strings.
    EXPECT_THAT(stats.body, HasSubstr(R"("version":"3",)")) << path;
    EXPECT_THAT(stats.body, HasSubstr(R"("inference_count":6,"execution_count":2,)")) << path;
    EXPECT_THAT(stats.body, HasSubstr(R"("success":{"count":2,"ns":)")) << path;
  }
  EXPECT_EQ(Call("GET", "/v2/models/humidity/versions/9/stats").status, 404);
  HttpAnswer config = Call("GET", "/v2/models/humidity/config");
  EXPECT_EQ(config.status, 200);
  EXPECT_THAT(config.body, HasSubstr(R"({"name":"humidity","platform":"skewfree_linear",)"));
  EXPECT_THAT(config.body, HasSubstr(R"({"name":"hour","data_type":"TYPE_INT64","dims":[1]})"));
  EXPECT_EQ(Call("GET", "/v2/models/nope/config").status, 404);
  // Loading needs --model-control=explicit.
  EXPECT_EQ(Call("POST", "/v2/repository/models/humidity/load").status, 400);
}

TEST_F(HttpTest, RepositoryLoadUnloadBehindTheRestrictedHeader) {
  StartReady({"--model-control", "explicit", "--model", "humidity", "--restricted-api",
              "model-repository:x-admin-token=s3cret"});
  const std::vector<std::pair<std::string, std::string>> admin = {{"X-Admin-Token", "s3cret"}};
  HttpAnswer refused = Call("POST", "/v2/repository/index");
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, HasSubstr("x-admin-token"));
  EXPECT_THAT(refused.body, ::testing::Not(HasSubstr("s3cret")));
  EXPECT_EQ(Call("POST", "/v2/repository/index", "", {{"X-Admin-Token", "wrong"}}).status, 403);
  EXPECT_EQ(Call("POST", "/v2/repository/models/humidity/unload").status, 403);
  HttpAnswer index = Call("POST", "/v2/repository/index", R"({"ready":true})", admin);
  EXPECT_EQ(index.status, 200);
  EXPECT_THAT(index.body, HasSubstr(R"([{"name":"humidity","version":"3","state":"READY")"));
  // Other groups stay open.
  EXPECT_EQ(Call("GET", "/v2/models/humidity/ready").status, 200);

  HttpAnswer unload = Call("POST", "/v2/repository/models/humidity/unload", "", admin);
  EXPECT_EQ(unload.status, 200) << unload.body;
  EXPECT_NE(Call("POST", "/v2/models/humidity/infer", JsonBody(kRows)).status, 200);
  HttpAnswer load = Call("POST", "/v2/repository/models/humidity/load", "", admin);
  EXPECT_EQ(load.status, 200) << load.body;
  EXPECT_EQ(Call("POST", "/v2/models/humidity/infer", JsonBody(kRows)).status, 200);
  HttpAnswer bad = Call("POST", "/v2/repository/models/humidity/load",
                        R"({"parameters":{"config":"{}"}})", admin);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Call("POST", "/v2/repository/models/nope/load", "", admin).status, 404);
}

TEST_F(HttpTest, OffWithMinusOne) {
  StartReady({"--http-port", "-1"});
  EXPECT_EQ(server_.http_port, 0);
  EXPECT_THAT(server_.process->Stdout(), ::testing::Not(HasSubstr("http listening")));
}

}  // namespace
}  // namespace skewfree_testing
