#include "client/tools/load_generator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "client/status_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"

namespace skewfree::client {
namespace {

constexpr char kModelInferMethod[] = "/inference.GRPCInferenceService/ModelInfer";
using InferStub = grpc::TemplatedGenericStub<grpc::ByteBuffer, inference::ModelInferResponse>;

int64_t RequestRows(const inference::ModelInferRequest& request) {
  if (request.inputs_size() == 0 || request.inputs(0).shape_size() == 0) return 0;
  return request.inputs(0).shape(0);
}

int64_t AnswerRows(const inference::ModelInferResponse& response) {
  if (response.outputs_size() == 0) return -1;
  if (response.raw_output_contents_size() > 0) {
    return static_cast<int64_t>(response.raw_output_contents(0).size() / sizeof(float));
  }
  return response.outputs(0).contents().fp32_contents_size();
}

// What every slot shares: the request, the stop rule, errors.
class Run {
 public:
  Run(grpc::ByteBuffer request, int64_t rows, const LoadOptions& options)
      : request_(std::move(request)),
        rows_(rows),
        options_(options),
        end_(absl::Now() + options.duration) {}

  const grpc::ByteBuffer& request() const { return request_; }
  int64_t rows() const { return rows_; }
  const LoadOptions& options() const { return options_; }

  // Claims the next call; false once the run is over.
  bool NextCall() {
    if (options_.requests > 0) return issued_.fetch_add(1) < options_.requests;
    return absl::Now() < end_;
  }

  void RecordError(std::string message) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (static_cast<int>(errors_.size()) < options_.max_error_messages) {
      errors_.push_back(std::move(message));
    }
  }
  std::vector<std::string> errors() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return errors_;
  }

 private:
  // Constant after construction.
  const grpc::ByteBuffer request_;
  const int64_t rows_;
  const LoadOptions options_;
  const absl::Time end_;

  std::atomic<int64_t> issued_{0};
  absl::Mutex mu_;
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
};

// One outstanding call at a time; the next starts from the previous one's
// completion callback. Thread-compatible: only one callback runs at a time.
class Slot {
 public:
  Slot(InferStub* stub, Run* run, absl::BlockingCounter* finished)
      : stub_(stub), run_(run), finished_(finished) {}

  void Start() {
    if (!run_->NextCall()) {
      finished_->DecrementCount();
      return;
    }
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + run_->options().timeout));
    response_.Clear();
    start_ = absl::Now();
    stub_->UnaryCall(context_.get(), kModelInferMethod, grpc::StubOptions(), &run_->request(),
                     &response_, [this](grpc::Status status) { OnDone(status); });
  }

  std::vector<int64_t>& latencies() { return latencies_; }
  std::map<std::string, int64_t>& versions() { return versions_; }
  int64_t failed() const { return failed_; }

 private:
  void OnDone(const grpc::Status& status) {
    const int64_t ns = absl::ToInt64Nanoseconds(absl::Now() - start_);
    if (!status.ok()) {
      Fail(FromGrpcStatus(status).ToString());
    } else if (AnswerRows(response_) != run_->rows()) {
      Fail(absl::StrCat("answer holds ", AnswerRows(response_), " values for ", run_->rows(),
                        " rows"));
    } else {
      latencies_.push_back(ns);
      ++versions_[response_.model_version()];
    }
    Start();
  }
  void Fail(std::string message) {
    ++failed_;
    run_->RecordError(std::move(message));
  }

  InferStub* const stub_;
  Run* const run_;
  absl::BlockingCounter* const finished_;
  std::unique_ptr<grpc::ClientContext> context_;
  inference::ModelInferResponse response_;
  absl::Time start_;
  std::vector<int64_t> latencies_;
  std::map<std::string, int64_t> versions_;
  int64_t failed_ = 0;
};

absl::Status CheckOptions(absl::Span<const std::shared_ptr<grpc::Channel>> channels,
                          const LoadOptions& options) {
  if (channels.empty()) return absl::InvalidArgumentError("no channel to send load on");
  if (options.concurrency < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("concurrency must be at least 1, got ", options.concurrency));
  }
  if (options.requests < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("requests must not be negative, got ", options.requests));
  }
  if (options.requests == 0 && options.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("give a positive duration or a number of requests");
  }
  return absl::OkStatus();
}

}  // namespace

double LoadResult::Qps() const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 ? static_cast<double>(ok_calls) / seconds : 0.0;
}

double LoadResult::RowsPerSecond() const { return Qps() * static_cast<double>(rows_per_request); }

absl::Duration LoadResult::Percentile(double q) const {
  if (latencies_ns.empty()) return absl::ZeroDuration();
  const double rank = std::ceil(q * static_cast<double>(latencies_ns.size()));
  const size_t index = std::clamp<size_t>(static_cast<size_t>(rank), 1, latencies_ns.size());
  return absl::Nanoseconds(latencies_ns[index - 1]);
}

std::string FormatLoadResult(const LoadResult& r) {
  auto us = [&](double q) { return absl::ToDoubleMicroseconds(r.Percentile(q)); };
  std::string out = absl::StrFormat(
      "calls: %d ok, %d failed in %.3f s\n"
      "QPS: %.0f\nrows/s: %.0f (%d rows/request)\n"
      "latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f\n",
      r.ok_calls, r.failed_calls, absl::ToDoubleSeconds(r.elapsed), r.Qps(), r.RowsPerSecond(),
      r.rows_per_request, us(0.5), us(0.9), us(0.99), us(0.999));
  absl::StrAppend(&out, "versions:");
  for (const auto& [version, calls] : r.calls_by_version) {
    absl::StrAppend(&out, " ", version.empty() ? "(none)" : version, "=", calls);
  }
  absl::StrAppend(&out, "\nerrors: ", r.failed_calls, "\n");
  for (const std::string& error : r.first_errors) absl::StrAppend(&out, "  ", error, "\n");
  return out;
}

absl::StatusOr<LoadResult> RunLoad(absl::Span<const std::shared_ptr<grpc::Channel>> channels,
                                   const inference::ModelInferRequest& request,
                                   const LoadOptions& options) {
  if (absl::Status status = CheckOptions(channels, options); !status.ok()) return status;
  grpc::ByteBuffer serialized;
  bool own_buffer = false;
  if (!grpc::SerializationTraits<inference::ModelInferRequest>::Serialize(request, &serialized,
                                                                          &own_buffer)
           .ok()) {
    return absl::InternalError("cannot serialize the request");
  }
  std::vector<std::unique_ptr<InferStub>> stubs;
  for (const auto& channel : channels) stubs.push_back(std::make_unique<InferStub>(channel));
  Run run(std::move(serialized), RequestRows(request), options);
  absl::BlockingCounter finished(options.concurrency);
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < options.concurrency; ++i) {
    slots.push_back(std::make_unique<Slot>(stubs[i % stubs.size()].get(), &run, &finished));
  }
  const absl::Time start = absl::Now();
  for (auto& slot : slots) slot->Start();
  finished.Wait();
  LoadResult result;
  result.elapsed = absl::Now() - start;
  result.rows_per_request = run.rows();
  for (auto& slot : slots) {
    result.failed_calls += slot->failed();
    result.latencies_ns.insert(result.latencies_ns.end(), slot->latencies().begin(),
                               slot->latencies().end());
    for (const auto& [version, calls] : slot->versions()) {
      result.calls_by_version[version] += calls;
    }
  }
  result.ok_calls = static_cast<int64_t>(result.latencies_ns.size());
  std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
  result.first_errors = run.errors();
  return result;
}

}  // namespace skewfree::client
