#include "training/input/batch_buffer.h"

#include <cstring>

namespace skewfree::training::internal {

void PrepareBatch(const transform::FeatureLayout& layout, const transform::Transformer* transformer,
                  size_t capacity, Batch* batch) {
  transform::RawColumns& rows = batch->rows;
  rows.columns.resize(layout.num_columns());
  for (int c = 0; c < layout.num_columns(); ++c) {
    if (layout.is_numeric(c)) {
      rows.columns[c].floats.resize(capacity);
      rows.columns[c].ints.clear();
    } else {
      rows.columns[c].ints.resize(capacity);
      rows.columns[c].floats.clear();
    }
  }
  rows.labels.resize(capacity);
  rows.num_rows = capacity;
  transform::CompactBatch& features = batch->features;
  features.num_rows = transformer == nullptr ? 0 : capacity;
  features.num_dense = transformer == nullptr ? 0 : transformer->num_dense();
  features.num_active = transformer == nullptr ? 0 : transformer->num_active();
  features.dense.resize(features.num_rows * features.num_dense);
  features.active.resize(features.num_rows * features.num_active);
}

void FinishBatch(size_t rows, Batch* batch) {
  for (transform::RawColumns::Column& column : batch->rows.columns) {
    if (!column.floats.empty()) column.floats.resize(rows);
    if (!column.ints.empty()) column.ints.resize(rows);
  }
  batch->rows.labels.resize(rows);
  batch->rows.num_rows = rows;
  transform::CompactBatch& features = batch->features;
  if (features.num_dense + features.num_active > 0) {
    features.num_rows = rows;
    features.dense.resize(rows * features.num_dense);
    features.active.resize(rows * features.num_active);
  }
}

void CopyRow(const Batch& src, size_t from, Batch* dst, size_t to) {
  for (size_t c = 0; c < src.rows.columns.size(); ++c) {
    const transform::RawColumns::Column& in = src.rows.columns[c];
    transform::RawColumns::Column& out = dst->rows.columns[c];
    if (!out.floats.empty()) {
      out.floats[to] = in.floats[from];
    } else {
      out.ints[to] = in.ints[from];
    }
  }
  dst->rows.labels[to] = src.rows.labels[from];
  const int nd = src.features.num_dense;
  const int na = src.features.num_active;
  const float* dense = src.features.dense.data() + from * nd;
  float* dense_out = dst->features.dense.data() + to * nd;
  for (int i = 0; i < nd; ++i) dense_out[i] = dense[i];
  const int32_t* active = src.features.active.data() + from * na;
  int32_t* active_out = dst->features.active.data() + to * na;
  for (int i = 0; i < na; ++i) active_out[i] = active[i];
}

void CopyRows(const Batch& src, size_t from, size_t count, Batch* dst, size_t to) {
  for (size_t c = 0; c < src.rows.columns.size(); ++c) {
    const transform::RawColumns::Column& in = src.rows.columns[c];
    transform::RawColumns::Column& out = dst->rows.columns[c];
    if (!out.floats.empty()) {
      std::memcpy(&out.floats[to], &in.floats[from], count * sizeof(float));
    } else {
      std::memcpy(&out.ints[to], &in.ints[from], count * sizeof(int64_t));
    }
  }
  std::memcpy(&dst->rows.labels[to], &src.rows.labels[from], count * sizeof(float));
  const int nd = src.features.num_dense;
  const int na = src.features.num_active;
  if (nd > 0) {
    std::memcpy(&dst->features.dense[to * nd], &src.features.dense[from * nd],
                count * nd * sizeof(float));
  }
  if (na > 0) {
    std::memcpy(&dst->features.active[to * na], &src.features.active[from * na],
                count * na * sizeof(int32_t));
  }
}

}  // namespace skewfree::training::internal
