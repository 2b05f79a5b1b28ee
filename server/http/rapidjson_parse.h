// RapidJSON's parse, in a file of its own for one compile flag (see
// CMakeLists.txt). Private to server/http's .cc files: the template-heavy
// RapidJSON headers stay out of widely included headers.
#ifndef SKEWFREE_SERVER_HTTP_RAPIDJSON_PARSE_H_
#define SKEWFREE_SERVER_HTTP_RAPIDJSON_PARSE_H_

#include "rapidjson/document.h"

namespace skewfree::server::http::internal {

// Parses the NUL-terminated `buffer` in place into `document` (errors in
// document->HasParseError()): iterative, so deep nesting does not use the
// stack, and numbers kept as their text (kStringType values pointing into
// `buffer`), so each is converted once, straight to its datatype.
void ParseInsituNumbersAsText(char* buffer, rapidjson::Document* document);

}  // namespace skewfree::server::http::internal

#endif  // SKEWFREE_SERVER_HTTP_RAPIDJSON_PARSE_H_
