#include "client/tools/humidity_sample.h"

#include <random>
#include <vector>

namespace skewfree::client {

Batch RandomHumidityBatch(int rows, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<float> beta(-5.0f, 5.0f);
  std::uniform_int_distribution<int64_t> hour(0, 23), weekday(0, 6);
  std::vector<Column> columns(4);
  columns[0].name = "beta1";
  columns[1].name = "beta2";
  columns[2].name = "hour";
  columns[3].name = "weekday";
  columns[2].type = columns[3].type = DataType::kInt64;
  for (int i = 0; i < rows; ++i) {
    columns[0].floats.push_back(beta(random));
    columns[1].floats.push_back(beta(random));
    columns[2].ints.push_back(hour(random));
    columns[3].ints.push_back(weekday(random));
  }
  return Batch::FromColumns(std::move(columns)).value();  // Equal lengths by construction.
}

}  // namespace skewfree::client
