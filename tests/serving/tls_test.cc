// TLS and mutual TLS with certificates made here by openssl: a CA, a server
// certificate for 127.0.0.1/localhost (SAN), a client certificate, and a
// client certificate from another CA that mutual TLS must refuse.
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

constexpr char kMakeCertificates[] = R"sh(
set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
ca() { key "$1.key"; openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1"; }
leaf() {  # name ca usage san
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' "$3" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
}
ca ca
ca rogue_ca
leaf server ca serverAuth 'subjectAltName=IP:127.0.0.1,DNS:localhost'
leaf client ca clientAuth ''
leaf rogue rogue_ca clientAuth ''
)sh";

class TlsTest : public ServingTest {
 protected:
  void SetUp() override {
    ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk());
    const CommandResult certs =
        RunToEnd({"/bin/sh", "-c", absl::StrCat("cd ", dir_.path(), " && ", kMakeCertificates)},
                 Log("openssl"));
    ASSERT_EQ(certs.exit_code, 0) << certs.err;
  }

  std::string Pem(const std::string& name) const { return dir_.Join(name + ".pem"); }
  std::string Key(const std::string& name) const { return dir_.Join(name + ".key"); }

  // Starts the TLS server and waits until a client with `cert` sees it ready.
  void StartTls(bool mutual) {
    std::vector<std::string> args = {"--tls-cert", Pem("server"), "--tls-key", Key("server")};
    if (mutual) args.insert(args.end(), {"--tls-client-ca", Pem("ca")});
    absl::StatusOr<RunningServer> server = StartServer(repository(), Log("server"), args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    skewfree::client::PredictionClient::Options options;
    options.channel.target = server_.target();
    options.channel.tls_ca_file = Pem("ca");
    options.channel.tls_cert_file = Pem("client");
    options.channel.tls_key_file = Key("client");
    client_ = *skewfree::client::PredictionClient::Create(options);
    ASSERT_TRUE(WaitReady(*client_)) << server_.process->Describe();
  }

  CommandResult Predict(std::vector<std::string> tls_args, const std::string& log) {
    std::vector<std::string> args = {"predict", "--beta1",   "1.234", "--beta2",
                                     "1.234",   "--hour",    "16",    "--weekday",
                                     "5",       "--timeout", "3s"};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    return RunClient(args, log);
  }
};

TEST_F(TlsTest, TlsServesTlsClientsOnly) {
  StartTls(/*mutual=*/false);
  const CommandResult tls = Predict({"--tls-ca", Pem("ca")}, "tls");
  EXPECT_EQ(tls.exit_code, 0) << tls.err;
  EXPECT_THAT(tls.out, ::testing::HasSubstr("version 1"));
  const CommandResult by_name =
      Predict({"--tls-ca", Pem("ca"), "--tls-server-name", "localhost"}, "by_name");
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
  const CommandResult plaintext = Predict({}, "plaintext");
  EXPECT_NE(plaintext.exit_code, 0);
  EXPECT_THAT(plaintext.err, ::testing::HasSubstr("UNAVAILABLE"));
  const CommandResult wrong_ca = Predict({"--tls-ca", Pem("rogue_ca")}, "wrong_ca");
  EXPECT_NE(wrong_ca.exit_code, 0);
}

TEST_F(TlsTest, MutualTlsRefusesClientsWithoutAGoodCertificate) {
  StartTls(/*mutual=*/true);
  const CommandResult good = Predict(
      {"--tls-ca", Pem("ca"), "--tls-cert", Pem("client"), "--tls-key", Key("client")}, "good");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  const CommandResult no_cert = Predict({"--tls-ca", Pem("ca")}, "no_cert");
  EXPECT_NE(no_cert.exit_code, 0) << no_cert.out;
  EXPECT_THAT(no_cert.err, ::testing::HasSubstr("UNAVAILABLE"));
  const CommandResult rogue = Predict(
      {"--tls-ca", Pem("ca"), "--tls-cert", Pem("rogue"), "--tls-key", Key("rogue")}, "rogue");
  EXPECT_NE(rogue.exit_code, 0) << rogue.out;
  // The refusals did not hurt the server.
  EXPECT_THAT(client_->ServerReady(), IsOk());
}

}  // namespace
}  // namespace skewfree_testing
