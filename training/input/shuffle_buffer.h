// The rows waiting in the pipeline's shuffle buffer, stored row by row.
#ifndef SKEWFREE_TRAINING_INPUT_SHUFFLE_BUFFER_H_
#define SKEWFREE_TRAINING_INPUT_SHUFFLE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "training/input/input_pipeline.h"

namespace skewfree::training::internal {

// Holds up to `capacity` rows (raw values, label and features) as one
// contiguous record each, so that taking a random row touches one or two
// cache lines instead of one per column (a Batch is column-major).
// Thread-compatible.
class ShuffleBuffer {
 public:
  // Rows have the shape of `prototype`, a batch prepared by PrepareBatch
  // (any capacity); every batch passed later must have that shape.
  ShuffleBuffer(const Batch& prototype, size_t capacity);

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  // Appends row `row` of `src`; size() < capacity().
  void Push(const Batch& src, size_t row);
  // Copies row `slot` to row `to` of `dst` (prepared with room for it), then
  // moves the last row into `slot` and shrinks by one: the order the
  // column-major buffer gave, so the shuffle is unchanged.
  void Take(size_t slot, Batch* dst, size_t to);

 private:
  // Constant after construction.
  std::vector<int> int_columns_;    // Spec columns holding int64 values.
  std::vector<int> float_columns_;  // Spec columns holding floats.
  int num_dense_ = 0;
  int num_active_ = 0;
  size_t words_ = 0;  // 4-byte words per record.
  size_t capacity_ = 0;

  std::vector<uint32_t> records_;  // capacity_ x words_.
  size_t size_ = 0;
};

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_SHUFFLE_BUFFER_H_
