// Buffer management of Batch: sizing for a fixed capacity and copying rows
// between batches prepared alike.
#ifndef SKEWFREE_TRAINING_INPUT_BATCH_BUFFER_H_
#define SKEWFREE_TRAINING_INPUT_BATCH_BUFFER_H_

#include <cstddef>

#include "training/input/input_pipeline.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace skewfree::training::internal {

// Resizes every buffer of `batch` for `capacity` rows (no reallocation once
// the buffers have grown) and sets the shapes; num_rows becomes `capacity`.
// `transformer` may be null (raw rows only, no features).
void PrepareBatch(const transform::FeatureLayout& layout, const transform::Transformer* transformer,
                  size_t capacity, Batch* batch);
// Shrinks a prepared batch to its first `rows` rows.
void FinishBatch(size_t rows, Batch* batch);
// Copies `count` rows from src[from...] to dst[to...]; both prepared alike.
void CopyRows(const Batch& src, size_t from, size_t count, Batch* dst, size_t to);
// One row, without per-column memcpy calls.
void CopyRow(const Batch& src, size_t from, Batch* dst, size_t to);

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_BATCH_BUFFER_H_
