// TSan build only: the gRPC annotations (grpc_tsan_annotations.cc) give TSan
// exactly the edge gRPC promises and nothing more. A child process (this
// binary with --child=...) makes callback calls to an in-process server with
// the stage's TSAN_OPTIONS and tsan.supp, but its reports on stderr:
//   - a field written before the call starts and read in its callback is
//     ordered by gRPC: no report, over many calls (without the annotations
//     TSan reports races in grpcpp's CallbackWithStatusTag::Run here: the
//     child failed 6 runs of 6 with 1000 calls);
//   - the same field written after the call started races with the callback:
//     TSan reports it with our callback's frame, so neither the annotations
//     nor a suppression hides a race in our code.
#include <unistd.h>

#include <climits>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "tests/serving/subprocess.h"
#include "tests/temp_dir.h"

namespace {

constexpr int kCalls = 1000;

// What the caller and the callback share.
struct Shared {
  int before_start = 0;
  int seen_in_callback = 0;
};

// One health check with the callback API; `write_after_start` writes the
// shared field after the call has started (a race) instead of before.
void CallOnce(grpc::GenericStub& stub, Shared& shared, int i, bool write_after_start) {
  grpc::Slice empty_message;  // HealthCheckRequest{} (any service)
  grpc::ByteBuffer request(&empty_message, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  absl::Notification done;
  if (!write_after_start) shared.before_start = i;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status) {
                   shared.seen_in_callback = shared.before_start;
                   done.Notify();
                 });
  if (write_after_start) shared.before_start = i;
  done.WaitForNotification();
}

// The child: a server with the default health service on loopback and
// kCalls calls to it. Exit code 0, or TSan's 66 on a report.
int RunChild(bool write_after_start) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  // gRPC refuses to start a server without a service of its own; this one
  // answers UNIMPLEMENTED and makes it a callback server like ours.
  grpc::CallbackGenericService unimplemented;
  builder.RegisterCallbackGenericService(&unimplemented);
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 2;
  grpc::GenericStub stub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  Shared shared;
  for (int i = 1; i <= kCalls; ++i) CallOnce(stub, shared, i, write_after_start);
  server->Shutdown();
  return shared.seen_in_callback > 0 ? 0 : 3;
}

std::string SelfPath() {
  char path[PATH_MAX] = {};
  const ssize_t size = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return size > 0 ? std::string(path, size) : std::string();
}

// Runs this binary as the child, with the stage's options but the reports
// on stderr (never in the stage's sanitizer-logs, which would fail it).
skewfree_testing::CommandResult RunChildProcess(const std::string& mode) {
  skewfree_testing::TempDir dir;
  return skewfree_testing::RunToEnd(
      {"/usr/bin/env",
       absl::StrCat("TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:"
                    "ignore_noninstrumented_modules=1:suppressions=",
                    SKEWFREE_TSAN_SUPPRESSIONS),
       SelfPath(), absl::StrCat("--child=", mode)},
      dir.Join(mode), std::chrono::seconds(120));
}

TEST(GrpcTsanAnnotationsTest, WriteBeforeTheCallStartsIsOrdered) {
  const skewfree_testing::CommandResult result = RunChildProcess("before");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find("ThreadSanitizer"), std::string::npos) << result.err;
}

TEST(GrpcTsanAnnotationsTest, WriteAfterTheCallStartedIsReportedInOurCallback) {
  const skewfree_testing::CommandResult result = RunChildProcess("after");
  EXPECT_EQ(result.exit_code, 66) << result.err;
  EXPECT_NE(result.err.find("WARNING: ThreadSanitizer: data race"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("grpc_tsan_annotations_test.cc"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("CallbackWithStatusTag::Run"), std::string::npos) << result.err;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--child=before") == 0) return RunChild(false);
    if (std::strcmp(argv[i], "--child=after") == 0) return RunChild(true);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
