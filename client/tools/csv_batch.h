// CSV files in and out of `skewfree-client predict --csv`: the columns the
// model takes are picked by name from the header, typed by the model's
// metadata; every other column is carried through to the output untouched.
#ifndef SKEWFREE_CLIENT_TOOLS_CSV_BATCH_H_
#define SKEWFREE_CLIENT_TOOLS_CSV_BATCH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "client/batch.h"
#include "inference/grpc_service.pb.h"

namespace skewfree::client {

struct CsvTable {
  std::string header;              // The header line as read.
  std::vector<std::string> lines;  // Data lines as read (no newline).
  Batch batch;                     // The model's inputs, one row per line.
};

// The model's inputs named in ModelMetadata, as empty typed columns.
absl::StatusOr<std::vector<Column>> InputColumns(const inference::ModelMetadataResponse& metadata);

// Parses `path` (header line, comma separated, no quoting). InvalidArgument
// names file:line, column and value for a missing column or bad value.
absl::StatusOr<CsvTable> ReadCsv(const std::string& path, std::vector<Column> inputs);

// The table with a `prediction` column appended (%.9g, exact for FP32).
// InvalidArgument if the counts differ.
absl::StatusOr<std::string> CsvWithPredictions(const CsvTable& table,
                                               absl::Span<const float> predictions);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_TOOLS_CSV_BATCH_H_
