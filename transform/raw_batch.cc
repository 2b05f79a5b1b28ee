#include "transform/raw_batch.h"

namespace skewfree::transform {

RawBatchView RawColumns::View() const {
  RawBatchView view;
  view.num_rows = num_rows;
  for (const Column& column : columns) {
    if (!column.floats.empty()) {
      view.columns.emplace_back(absl::MakeConstSpan(column.floats));
    } else {
      view.columns.emplace_back(absl::MakeConstSpan(column.ints));
    }
  }
  return view;
}

void RawColumns::Clear() {
  num_rows = 0;
  for (Column& column : columns) {
    column.floats.clear();
    column.ints.clear();
  }
  labels.clear();
}

}  // namespace skewfree::transform
