#include "server/http/rapidjson_parse.h"

namespace skewfree::server::http::internal {

void ParseInsituNumbersAsText(char* buffer, rapidjson::Document* document) {
  document->ParseInsitu<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(
      buffer);
}

}  // namespace skewfree::server::http::internal
