#include "server/server_metrics.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"

namespace skewfree::server {

struct ServerMetrics::Families {
  prometheus::Family<prometheus::Counter>* requests;
  prometheus::Family<prometheus::Counter>* rows;
  prometheus::Family<prometheus::Gauge>* loaded_version;
  prometheus::Family<prometheus::Counter>* loads;
  prometheus::Family<prometheus::Gauge>* inflight;
};

const char* ProtocolName(Protocol protocol) {
  return protocol == Protocol::kHttp ? "http" : "grpc";
}

VersionMetrics::VersionMetrics(prometheus::Family<prometheus::Counter>* requests,
                               prometheus::Counter* rows, std::map<std::string, std::string> labels)
    : requests_family_(requests), rows_(rows), labels_(std::move(labels)) {
  // A served version's OK series exists from its load on (a dashboard sees
  // 0, not nothing); the others appear when first used.
  if (rows_ != nullptr) {
    for (Protocol protocol : {Protocol::kGrpc, Protocol::kHttp}) {
      CountRequestsOf(protocol, absl::StatusCode::kOk);
    }
  }
}

prometheus::Counter* VersionMetrics::CountRequestsOf(Protocol protocol, absl::StatusCode code) {
  const int index = static_cast<int>(code);
  if (index < 0 || index >= kNumCodes) return CountRequestsOf(protocol, absl::StatusCode::kUnknown);
  std::atomic<prometheus::Counter*>& slot = requests_[static_cast<int>(protocol)][index];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter != nullptr) return counter;
  // Rare (first error of this kind): Family::Add locks and returns the same
  // child to racing callers, so storing it twice is harmless.
  std::map<std::string, std::string> labels = labels_;
  labels["protocol"] = ProtocolName(protocol);
  labels["code"] = absl::StatusCodeToString(code);
  counter = &requests_family_->Add(labels);
  slot.store(counter, std::memory_order_release);
  return counter;
}

void VersionMetrics::CountRequest(Protocol protocol, absl::StatusCode code) {
  CountRequestsOf(protocol, code)->Increment();
}

const std::vector<double>& ServerMetrics::DurationBuckets() {
  static const std::vector<double>* const kBuckets = [] {
    auto* buckets = new std::vector<double>();
    for (double decade = 1e-5; decade < 10; decade *= 10) {
      for (double step : {1.0, 2.0, 5.0}) buckets->push_back(decade * step);
    }
    return buckets;
  }();
  return *kBuckets;
}

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Create() {
  auto registry = std::make_shared<prometheus::Registry>();
  auto families = std::make_unique<Families>();
  // prometheus-cpp throws on invalid names; ours are constant, but nothing
  // may escape our API as an exception.
  try {
    families->requests =
        &prometheus::BuildCounter()
             .Name("skewfree_requests_total")
             .Help(
                 "ModelInfer calls by model, version that answered, protocol (grpc|http) and "
                 "gRPC code.")
             .Register(*registry);
    families->rows = &prometheus::BuildCounter()
                          .Name("skewfree_inference_rows_total")
                          .Help("Rows predicted successfully, by model and version.")
                          .Register(*registry);
    families->loaded_version = &prometheus::BuildGauge()
                                    .Name("skewfree_model_loaded_version")
                                    .Help("Newest version served per model (0: none).")
                                    .Register(*registry);
    families->loads = &prometheus::BuildCounter()
                           .Name("skewfree_model_loads_total")
                           .Help("Version loads by model and result (success|failure).")
                           .Register(*registry);
    families->inflight = &prometheus::BuildGauge()
                              .Name("skewfree_inflight_requests")
                              .Help("ModelInfer calls being handled now.")
                              .Register(*registry);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot register metrics: ", e.what()));
  }
  return std::unique_ptr<ServerMetrics>(
      new ServerMetrics(std::move(registry), std::move(families)));
}

ServerMetrics::ServerMetrics(std::shared_ptr<prometheus::Registry> registry,
                             std::unique_ptr<Families> families)
    : registry_(std::move(registry)),
      duration_(std::make_shared<HistogramFamily>(
          "skewfree_request_duration_seconds",
          "ModelInfer latency inside the server, by model and protocol.", DurationBuckets())),
      drift_(std::make_shared<DriftMetrics>()),
      drift_details_(drift_->Details()),
      families_(std::move(families)),
      inflight_(&families_->inflight->Add({})),
      unknown_model_(std::make_unique<VersionMetrics>(
          families_->requests, nullptr,
          std::map<std::string, std::string>{{"model", ""}, {"version", ""}})) {}

ServerMetrics::~ServerMetrics() = default;

ModelMetrics* ServerMetrics::ForModel(const std::string& model) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = models_.try_emplace(model);
  ModelMetrics& metrics = it->second;
  if (inserted) {
    for (Protocol protocol : {Protocol::kGrpc, Protocol::kHttp}) {
      metrics.duration[static_cast<int>(protocol)] =
          duration_->Add({{"model", model}, {"protocol", ProtocolName(protocol)}});
    }
    metrics.loaded_version = &families_->loaded_version->Add({{"model", model}});
    metrics.load_success = &families_->loads->Add({{"model", model}, {"result", "success"}});
    metrics.load_failure = &families_->loads->Add({{"model", model}, {"result", "failure"}});
    metrics.no_version = std::make_unique<VersionMetrics>(
        families_->requests, nullptr,
        std::map<std::string, std::string>{{"model", model}, {"version", ""}});
  }
  return &metrics;
}

VersionMetrics* ServerMetrics::ForVersion(const std::string& model, int64_t version) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<VersionMetrics>& metrics = versions_[{model, version}];
  if (metrics == nullptr) {
    std::map<std::string, std::string> labels{{"model", model}, {"version", absl::StrCat(version)}};
    metrics = std::make_unique<VersionMetrics>(families_->requests, &families_->rows->Add(labels),
                                               labels);
  }
  return metrics.get();
}

}  // namespace skewfree::server
