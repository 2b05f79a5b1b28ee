#include "client/tools/cli.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/tools/csv_batch.h"
#include "client/tools/drift_report.h"
#include "client/tools/heatmap.h"
#include "client/tools/http_fetch.h"
#include "client/tools/humidity_sample.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace skewfree::client {
namespace {

// Atomically: an interrupted run never leaves half a CSV or SVG behind.
absl::Status WriteText(const std::string& path, const std::string& text) {
  return common::WriteFileAtomically(path, text);
}

// Sends `batch` in requests of at most `rows_per_request` rows.
absl::StatusOr<Prediction> PredictInChunks(const PredictionClient& client, const std::string& model,
                                           const Batch& batch, int rows_per_request) {
  Prediction all;
  const size_t step = static_cast<size_t>(std::max(1, rows_per_request));
  for (size_t first = 0; first < batch.num_rows(); first += step) {
    const size_t last = std::min(batch.num_rows(), first + step);
    std::vector<Column> columns;
    for (const Column& full : batch.columns()) {
      Column part{full.name, full.type, {}, {}};
      if (full.type == DataType::kFp32) {
        part.floats.assign(full.floats.begin() + first, full.floats.begin() + last);
      } else {
        part.ints.assign(full.ints.begin() + first, full.ints.begin() + last);
      }
      columns.push_back(std::move(part));
    }
    SKEWFREE_ASSIGN_OR_RETURN(Prediction chunk,
                              client.Predict(model, *Batch::FromColumns(columns)));
    all.values.insert(all.values.end(), chunk.values.begin(), chunk.values.end());
    all.model_version = chunk.model_version;
  }
  return all;
}

absl::Status PredictCsv(const PredictionClient& client, const PredictCommand& command) {
  SKEWFREE_ASSIGN_OR_RETURN(inference::ModelMetadataResponse metadata,
                            client.ModelMetadata(command.model));
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<Column> inputs, InputColumns(metadata));
  SKEWFREE_ASSIGN_OR_RETURN(CsvTable table, ReadCsv(command.csv, std::move(inputs)));
  SKEWFREE_ASSIGN_OR_RETURN(Prediction prediction,
                            PredictInChunks(client, command.model, table.batch, command.batch));
  SKEWFREE_ASSIGN_OR_RETURN(std::string csv, CsvWithPredictions(table, prediction.values));
  if (command.out.empty()) {
    std::cout << csv;
    return absl::OkStatus();
  }
  std::cerr << table.lines.size() << " rows predicted by version " << prediction.model_version
            << " -> " << command.out << "\n";
  return WriteText(command.out, csv);
}

}  // namespace

absl::Status RunPredict(const PredictionClient& client, const PredictCommand& command) {
  if (!command.csv.empty()) return PredictCsv(client, command);
  std::vector<std::string> missing;
  if (!command.beta1) missing.push_back("--beta1");
  if (!command.beta2) missing.push_back("--beta2");
  if (!command.hour) missing.push_back("--hour");
  if (!command.weekday) missing.push_back("--weekday");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("predict needs --csv FILE or all of ", absl::StrJoin(missing, ", ")));
  }
  const Row row = {{"beta1", *command.beta1},
                   {"beta2", *command.beta2},
                   {"hour", *command.hour},
                   {"weekday", *command.weekday}};
  SKEWFREE_ASSIGN_OR_RETURN(Prediction prediction, client.Predict(command.model, {row}));
  std::cout << absl::StrFormat("%s = %.9g (model %s version %s)\n", command.model,
                               prediction.values[0], command.model, prediction.model_version);
  return absl::OkStatus();
}

absl::Status RunHealth(const PredictionClient& client, const std::string& model) {
  SKEWFREE_ASSIGN_OR_RETURN(bool live, client.ServerLive());
  SKEWFREE_ASSIGN_OR_RETURN(bool ready, client.ServerReady());
  std::cout << "live: " << (live ? "true" : "false") << "\nready: " << (ready ? "true" : "false")
            << "\n";
  bool all_serving = live && ready;
  std::vector<std::string> services = {""};
  if (!model.empty()) services.push_back(model);
  for (const std::string& service : services) {
    SKEWFREE_ASSIGN_OR_RETURN(HealthState state, client.Health(service));
    std::cout << "health[" << (service.empty() ? "server" : service)
              << "]: " << HealthStateName(state) << "\n";
    all_serving = all_serving && state == HealthState::kServing;
  }
  if (!all_serving) return absl::FailedPreconditionError("the server is not serving");
  return absl::OkStatus();
}

absl::Status RunMetadata(const PredictionClient& client, const std::string& model) {
  SKEWFREE_ASSIGN_OR_RETURN(inference::ServerMetadataResponse server, client.ServerMetadata());
  std::cout << "server: " << server.name() << " " << server.version()
            << "\nextensions: " << absl::StrJoin(server.extensions(), ", ") << "\n";
  if (model.empty()) return absl::OkStatus();
  SKEWFREE_ASSIGN_OR_RETURN(inference::ModelMetadataResponse metadata, client.ModelMetadata(model));
  std::cout << "model: " << metadata.name() << " (platform " << metadata.platform()
            << ")\nversions: " << absl::StrJoin(metadata.versions(), ", ") << "\n";
  auto print = [](const char* kind, const auto& tensors) {
    for (const auto& t : tensors) {
      std::cout << kind << ": " << t.name() << " " << t.datatype() << " ["
                << absl::StrJoin(t.shape(), ", ") << "]\n";
    }
  };
  print("input", metadata.inputs());
  print("output", metadata.outputs());
  return absl::OkStatus();
}

absl::Status RunHeatmap(const PredictionClient& client, const HeatmapCommand& command) {
  if (command.grid < 1 || command.grid > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("--grid must be in [1, 100], got ", command.grid));
  }
  const Batch batch = HeatmapBatch(command.grid, -5.0f, 5.0f);
  SKEWFREE_ASSIGN_OR_RETURN(Prediction prediction,
                            PredictInChunks(client, command.model, batch, 8192));
  SKEWFREE_ASSIGN_OR_RETURN(Heatmap heatmap, AverageCells(prediction.values, command.grid));
  std::cout << "mean predicted " << command.model << " by weekday x hour (version "
            << prediction.model_version << ", " << command.grid * command.grid
            << " beta pairs per cell)\n"
            << HeatmapTable(heatmap);
  if (command.svg.empty()) return absl::OkStatus();
  return WriteText(command.svg,
                   HeatmapSvg(heatmap, absl::StrCat("Mean predicted ", command.model, ", version ",
                                                    prediction.model_version)));
}

absl::Status RunBench(const ChannelOptions& channel, const BenchCommand& command) {
  if (command.batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch must be at least 1, got ", command.batch));
  }
  if (command.channels < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--channels must be at least 1, got ", command.channels));
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < command.channels; ++i) {
    SKEWFREE_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> c, CreateChannel(channel, i));
    channels.push_back(std::move(c));
  }
  const inference::ModelInferRequest request = BuildInferRequest(
      command.model, command.model_version, RandomHumidityBatch(command.batch, 42),
      command.raw ? Encoding::kRaw : Encoding::kTyped);
  SKEWFREE_ASSIGN_OR_RETURN(LoadResult result, RunLoad(channels, request, command.load));
  std::cout << FormatLoadResult(result) << std::flush;
  if (result.failed_calls > 0) {
    return absl::AbortedError(
        absl::StrCat(result.failed_calls, " calls failed, first: ",
                     result.first_errors.empty() ? std::string("?") : result.first_errors[0]));
  }
  if (result.ok_calls == 0) return absl::UnavailableError("no call completed");
  return absl::OkStatus();
}

absl::Status RunDrift(const DriftCommand& command) {
  SKEWFREE_ASSIGN_OR_RETURN(std::string page,
                            HttpFetch(command.metrics_target, "/drift", command.timeout));
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<FeatureDriftView> views,
                            ParseDriftPage(page, command.model));
  std::cout << "drift of model " << command.model << " (http://" << command.metrics_target
            << "/drift; PSI > 0.25 is a shift, '-' below --drift-min-rows)\n"
            << DriftTable(views);
  if (command.svg.empty()) return absl::OkStatus();
  return WriteText(command.svg,
                   DriftSvg(views, absl::StrCat("Training vs serving, model ", command.model)));
}

}  // namespace skewfree::client
