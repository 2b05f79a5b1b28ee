// The humidity bundle the inference-request fuzz targets validate and
// predict with, made once per process.
#ifndef SKEWFREE_FUZZ_HUMIDITY_BUNDLE_H_
#define SKEWFREE_FUZZ_HUMIDITY_BUNDLE_H_

#include <memory>

#include "model/bundle.h"
#include "skewfree/v1/bundle.pb.h"
#include "tests/humidity_rows.h"

namespace skewfree_fuzz {

inline const skewfree::model::Bundle& HumidityBundle() {
  static const auto* bundle = new std::shared_ptr<const skewfree::model::Bundle>(
      skewfree::model::Bundle::FromProto(skewfree_testing::HumidityBundle(1)).value());
  return **bundle;
}

}  // namespace skewfree_fuzz

#endif  // SKEWFREE_FUZZ_HUMIDITY_BUNDLE_H_
