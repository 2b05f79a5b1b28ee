// Humidity rows for load: drawn from the lecture's distributions (betas
// uniform in [-5, 5], hour and weekday uniform), reproducible by seed.
#ifndef SKEWFREE_CLIENT_TOOLS_HUMIDITY_SAMPLE_H_
#define SKEWFREE_CLIENT_TOOLS_HUMIDITY_SAMPLE_H_

#include <cstdint>

#include "client/batch.h"

namespace skewfree::client {

// Columns beta1, beta2 (FP32), hour, weekday (INT64).
Batch RandomHumidityBatch(int rows, uint64_t seed);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_TOOLS_HUMIDITY_SAMPLE_H_
