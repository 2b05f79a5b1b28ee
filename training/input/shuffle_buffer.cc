#include "training/input/shuffle_buffer.h"

#include <algorithm>
#include <cstring>

namespace skewfree::training::internal {

ShuffleBuffer::ShuffleBuffer(const Batch& prototype, size_t capacity)
    : num_dense_(prototype.features.num_dense),
      num_active_(prototype.features.num_active),
      capacity_(std::max<size_t>(capacity, 1)) {
  const std::vector<transform::RawColumns::Column>& columns = prototype.rows.columns;
  for (size_t c = 0; c < columns.size(); ++c) {
    (columns[c].floats.empty() ? int_columns_ : float_columns_).push_back(static_cast<int>(c));
  }
  // Record: int64 values (two words each), floats, the label, dense
  // features, active indices.
  words_ = 2 * int_columns_.size() + float_columns_.size() + 1 + num_dense_ + num_active_;
  records_.resize(capacity_ * words_);
}

void ShuffleBuffer::Push(const Batch& src, size_t row) {
  uint32_t* out = records_.data() + size_ * words_;
  const std::vector<transform::RawColumns::Column>& columns = src.rows.columns;
  for (int c : int_columns_) {
    std::memcpy(out, &columns[c].ints[row], sizeof(int64_t));
    out += 2;
  }
  for (int c : float_columns_) std::memcpy(out++, &columns[c].floats[row], sizeof(float));
  std::memcpy(out++, &src.rows.labels[row], sizeof(float));
  const float* dense = src.features.dense.data() + row * num_dense_;
  for (int i = 0; i < num_dense_; ++i) std::memcpy(out++, &dense[i], sizeof(float));
  const int32_t* active = src.features.active.data() + row * num_active_;
  for (int i = 0; i < num_active_; ++i) std::memcpy(out++, &active[i], sizeof(int32_t));
  ++size_;
}

void ShuffleBuffer::Take(size_t slot, Batch* dst, size_t to) {
  uint32_t* record = records_.data() + slot * words_;
  const uint32_t* in = record;
  std::vector<transform::RawColumns::Column>& columns = dst->rows.columns;
  for (int c : int_columns_) {
    std::memcpy(&columns[c].ints[to], in, sizeof(int64_t));
    in += 2;
  }
  for (int c : float_columns_) std::memcpy(&columns[c].floats[to], in++, sizeof(float));
  std::memcpy(&dst->rows.labels[to], in++, sizeof(float));
  float* dense = dst->features.dense.data() + to * num_dense_;
  for (int i = 0; i < num_dense_; ++i) std::memcpy(&dense[i], in++, sizeof(float));
  int32_t* active = dst->features.active.data() + to * num_active_;
  for (int i = 0; i < num_active_; ++i) std::memcpy(&active[i], in++, sizeof(int32_t));
  --size_;
  if (slot != size_) {
    std::copy_n(records_.data() + size_ * words_, words_, record);
  }
}

}  // namespace skewfree::training::internal
