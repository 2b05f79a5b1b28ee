#include "training/input/shuffle_buffer.h"

#include <random>

#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "training/input/batch_buffer.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace skewfree::training::internal {
namespace {

// Random values in every buffer of a prepared batch.
void Fill(std::mt19937_64& random, Batch* batch) {
  for (transform::RawColumns::Column& column : batch->rows.columns) {
    for (float& x : column.floats) x = static_cast<float>(random() % 100000) / 7;
    for (int64_t& x : column.ints) x = static_cast<int64_t>(random());
  }
  for (float& x : batch->rows.labels) x = static_cast<float>(random() % 100000) / 3;
  for (float& x : batch->features.dense) x = static_cast<float>(random() % 100000) / 11;
  for (int32_t& x : batch->features.active) x = static_cast<int32_t>(random());
}

void ExpectSameRows(const Batch& a, const Batch& b, size_t rows) {
  for (size_t c = 0; c < a.rows.columns.size(); ++c) {
    for (size_t r = 0; r < rows; ++r) {
      if (!a.rows.columns[c].floats.empty()) {
        ASSERT_EQ(a.rows.columns[c].floats[r], b.rows.columns[c].floats[r]) << c << " " << r;
      } else {
        ASSERT_EQ(a.rows.columns[c].ints[r], b.rows.columns[c].ints[r]) << c << " " << r;
      }
    }
  }
  for (size_t r = 0; r < rows; ++r) ASSERT_EQ(a.rows.labels[r], b.rows.labels[r]) << r;
  for (size_t i = 0; i < rows * a.features.num_dense; ++i) {
    ASSERT_EQ(a.features.dense[i], b.features.dense[i]) << i;
  }
  for (size_t i = 0; i < rows * a.features.num_active; ++i) {
    ASSERT_EQ(a.features.active[i], b.features.active[i]) << i;
  }
}

// The shuffle the pipeline had with a column-major Batch as its buffer: the
// row-major ShuffleBuffer must give the same rows in the same order.
void CheckAgainstColumnMajor(const transform::Transformer* transformer) {
  const transform::FeatureLayout layout =
      transform::FeatureLayout::Create(skewfree_testing::HumiditySpec()).value();
  constexpr size_t kCapacity = 97, kInput = 1000;
  std::mt19937_64 random(7);
  Batch input, reference, expected, actual;
  PrepareBatch(layout, transformer, kInput, &input);
  Fill(random, &input);
  PrepareBatch(layout, transformer, kCapacity, &reference);
  PrepareBatch(layout, transformer, kInput, &expected);
  PrepareBatch(layout, transformer, kInput, &actual);
  ShuffleBuffer buffer(input, kCapacity);
  size_t reference_rows = 0, next = 0;
  for (size_t out = 0; out < kInput; ++out) {
    const size_t fill = 1 + random() % kCapacity;  // Varying fill levels.
    while (buffer.size() < fill && next < kInput) {
      CopyRow(input, next, &reference, reference_rows++);
      buffer.Push(input, next++);
    }
    ASSERT_EQ(buffer.size(), reference_rows);
    const size_t pick = random() % reference_rows;
    CopyRow(reference, pick, &expected, out);
    --reference_rows;
    if (pick != reference_rows) CopyRow(reference, reference_rows, &reference, pick);
    buffer.Take(pick, &actual, out);
  }
  ExpectSameRows(expected, actual, kInput);
}

TEST(ShuffleBufferTest, SameOrderAsColumnMajorBuffer) {
  const transform::Transformer transformer =
      transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                     skewfree_testing::HumidityState())
          .value();
  CheckAgainstColumnMajor(&transformer);
}

TEST(ShuffleBufferTest, RawRowsOnly) { CheckAgainstColumnMajor(nullptr); }

}  // namespace
}  // namespace skewfree::training::internal
