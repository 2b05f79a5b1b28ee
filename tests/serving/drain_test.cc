// SIGTERM during load: calls in flight complete, new ones are refused, the
// server exits 0.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "client/batch.h"
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

struct Call {
  absl::Time start;
  absl::Time end;
  absl::Status status;
};

TEST_F(ServingTest, SigtermDrainsInFlightCallsAndExitsZero) {
  ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk());
  StartReady({"--drain-timeout", "10s"});
  // Large requests keep calls in flight long enough to be caught by SIGTERM.
  std::vector<HumidityRow> rows(30000);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i] = {static_cast<float>(i % 10) - 4.5f, 1.0f, static_cast<int64_t>(i % 24),
               static_cast<int64_t>(i % 7)};
  }
  std::vector<skewfree::client::Column> columns = {
      {"beta1", skewfree::client::DataType::kFp32, {}, {}},
      {"beta2", skewfree::client::DataType::kFp32, {}, {}},
      {"hour", skewfree::client::DataType::kInt64, {}, {}},
      {"weekday", skewfree::client::DataType::kInt64, {}, {}}};
  for (const HumidityRow& r : rows) {
    columns[0].floats.push_back(r.beta1);
    columns[1].floats.push_back(r.beta2);
    columns[2].ints.push_back(r.hour);
    columns[3].ints.push_back(r.weekday);
  }
  const skewfree::client::Batch batch = *skewfree::client::Batch::FromColumns(columns);

  absl::Mutex mu;
  std::vector<Call> calls;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      auto client = MakeClient(server_.target(), skewfree::client::Encoding::kRaw);
      while (!stop) {
        Call call{absl::Now(), {}, {}};
        call.status = client->Predict("humidity", batch).status();
        call.end = absl::Now();
        absl::MutexLock lock(&mu);
        calls.push_back(call);
        if (!call.status.ok()) break;
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] {
    absl::MutexLock lock(&mu);
    return calls.size() >= 12;
  }));
  const absl::Time sigterm = absl::Now();
  server_.process->Signal(SIGTERM);
  const std::optional<int> code = server_.process->WaitFor(std::chrono::seconds(15));
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(code, 0) << server_.process->Describe();

  int in_flight_ok = 0;
  for (const Call& call : calls) {
    if (std::getenv("DRAIN_DEBUG")) {
      std::cerr << absl::ToDoubleMilliseconds(call.start - sigterm) << " .. "
                << absl::ToDoubleMilliseconds(call.end - sigterm) << " " << call.status << "\n";
    }
    // Running at SIGTERM and answered: the drain let it finish.
    if (call.start < sigterm && call.end > sigterm) in_flight_ok += call.status.ok();
    if (!call.status.ok()) {
      // Refused at the door: UNAVAILABLE once the port is closed; CANCELLED
      // for a call whose request was still arriving when shutdown began
      // (gRPC's Server::Shutdown cancels calls not yet handed to a handler).
      EXPECT_TRUE(call.status.code() == absl::StatusCode::kUnavailable ||
                  call.status.code() == absl::StatusCode::kCancelled)
          << call.status;
    }
  }
  EXPECT_GT(in_flight_ok, 0) << "no call in flight at SIGTERM completed";
}

}  // namespace
}  // namespace skewfree_testing
