#include "server/http/infer_json.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "server/http/rapidjson_parse.h"

namespace skewfree::server::http {
namespace {

static_assert(std::endian::native == std::endian::little,
              "raw tensors are little-endian; this host is not");

using inference::InferParameter;
using inference::InferTensorContents;
using inference::ModelInferRequest;
using inference::ModelInferResponse;
using ParameterMap = google::protobuf::Map<std::string, InferParameter>;
using rapidjson::Value;

// More dimensions than any model takes; bounds the nested-data recursion.
constexpr int kMaxRank = 32;
// Bounds count * element size far from overflow (bodies are < 4 GiB).
constexpr int64_t kMaxElements = int64_t{1} << 53;
// Bad values are quoted in errors up to this many bytes.
constexpr size_t kMaxQuoted = 40;

enum class Kind {
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kFp16,
  kBf16,
  kFp32,
  kFp64,
  kBytes
};

struct Datatype {
  const char* name;
  Kind kind;
  int size;  // Bytes per element; 0 for BYTES (4-byte length + bytes each).
};

constexpr Datatype kDatatypes[] = {
    {"BOOL", Kind::kBool, 1},     {"INT8", Kind::kInt8, 1},     {"INT16", Kind::kInt16, 2},
    {"INT32", Kind::kInt32, 4},   {"INT64", Kind::kInt64, 8},   {"UINT8", Kind::kUint8, 1},
    {"UINT16", Kind::kUint16, 2}, {"UINT32", Kind::kUint32, 4}, {"UINT64", Kind::kUint64, 8},
    {"FP16", Kind::kFp16, 2},     {"BF16", Kind::kBf16, 2},     {"FP32", Kind::kFp32, 4},
    {"FP64", Kind::kFp64, 8},     {"BYTES", Kind::kBytes, 0},
};

const Datatype* FindDatatype(absl::string_view name) {
  for (const Datatype& datatype : kDatatypes) {
    if (name == datatype.name) return &datatype;
  }
  return nullptr;
}

std::string DatatypeNames() {
  std::vector<const char*> names;
  for (const Datatype& datatype : kDatatypes) names.push_back(datatype.name);
  return absl::StrJoin(names, ", ");
}

// ---------------------------------------------------------------------------
// Reading the DOM.

absl::string_view Chars(const Value& value) {
  return absl::string_view(value.GetString(), value.GetStringLength());
}

// With numbers parsed as text, numbers and strings are both kStringType. They
// are told apart by what precedes the text in the insitu buffer: a string's
// opening quote (its text is unescaped forward from there, so the quote
// stays), while a number follows '[', ',', ':' or whitespace. Insitu values
// always point into the buffer (never copied, so never RapidJSON's inline
// short strings). The buffer starts with a space so that even a root number
// has a byte before it.
bool IsJsonNumber(const Value& value) { return value.IsString() && value.GetString()[-1] != '"'; }
bool IsJsonString(const Value& value) { return value.IsString() && value.GetString()[-1] == '"'; }

// The value as quoted in an error: numbers as written, strings in quotes.
std::string Describe(const Value& value) {
  if (value.IsString()) {
    absl::string_view text = Chars(value);
    const bool cut = text.size() > kMaxQuoted;
    std::string shown = absl::CHexEscape(text.substr(0, kMaxQuoted));
    if (cut) shown += "...";
    return IsJsonNumber(value) ? shown : absl::StrCat("'", shown, "'");
  }
  if (value.IsBool()) return value.GetBool() ? "true" : "false";
  if (value.IsNull()) return "null";
  return value.IsArray() ? "an array" : "an object";
}

absl::Status Invalid(absl::string_view path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

absl::Status Expected(absl::string_view path, absl::string_view what, const Value& value) {
  return Invalid(path, absl::StrCat("expected ", what, ", got ", Describe(value)));
}

const Value* Member(const Value& object, const char* name) {
  const auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// ---------------------------------------------------------------------------
// Numbers: JSON text -> a datatype's value.

// Null when the value was converted, else what is wrong with it.
using Problem = const char*;
constexpr Problem kNotNumber = "is not a number";
constexpr Problem kNotInteger = "is not an integer";
constexpr Problem kInexact =
    "is not an exact integer (write large integers without fraction or exponent)";
constexpr Problem kOutOfRange = "is out of range";

template <typename T>
Problem FromMagnitude(bool negative, uint64_t magnitude, T* out) {
  if constexpr (std::is_signed_v<T>) {
    const uint64_t limit =
        static_cast<uint64_t>(std::numeric_limits<T>::max()) + (negative ? 1 : 0);
    if (magnitude > limit) return kOutOfRange;
    // Modulo conversion (C++20) gives the minimum right too.
    *out = static_cast<T>(negative ? static_cast<int64_t>(0 - magnitude)
                                   : static_cast<int64_t>(magnitude));
  } else {
    if ((negative && magnitude != 0) || magnitude > std::numeric_limits<T>::max()) {
      return kOutOfRange;
    }
    *out = static_cast<T>(magnitude);
  }
  return nullptr;
}

// Integral JSON text ("3", "-7", also "3.0" or "1e3" if exactly an integer).
template <typename T>
Problem ParseInteger(absl::string_view text, T* out) {
  const bool negative = !text.empty() && text[0] == '-';
  const char* end = text.data() + text.size();
  uint64_t magnitude = 0;
  const auto [ptr, ec] = std::from_chars(text.data() + (negative ? 1 : 0), end, magnitude);
  if (ptr == end) {
    return ec == std::errc() ? FromMagnitude(negative, magnitude, out) : kOutOfRange;
  }
  // A fraction or exponent: exact only up to 2^53 through a double.
  double value = 0;
  const auto [dptr, dec] = std::from_chars(text.data(), end, value);
  if (dptr != end || dec != std::errc()) return dec == std::errc() ? kNotNumber : kOutOfRange;
  if (value != std::trunc(value)) return kNotInteger;
  if (std::fabs(value) > 9007199254740992.0) return kInexact;
  return FromMagnitude(value < 0, static_cast<uint64_t>(std::fabs(value)), out);
}

// Decimal text -> float or double, correctly rounded (FP32 not via double).
template <typename T>
Problem ParseFloat(absl::string_view text, T* out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  if (ptr != end) return kNotNumber;
  if (ec == std::errc()) return nullptr;
  // from_chars leaves *out alone when the result rounds to infinity or to
  // zero; strtof/strtod tell which (this path is rare).
  const std::string copy(text);
  const T value = std::is_same_v<T, float> ? std::strtof(copy.c_str(), nullptr)
                                           : std::strtod(copy.c_str(), nullptr);
  if (std::isinf(value)) return kOutOfRange;
  *out = value;
  return nullptr;
}

// A JSON element of `data` as a T (bool, an integer type, float or double).
template <typename T>
Problem ElementAs(const Value& element, T* out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!element.IsBool()) return "is not a boolean";
    *out = element.GetBool();
    return nullptr;
  } else {
    if (!IsJsonNumber(element)) return kNotNumber;
    if constexpr (std::is_floating_point_v<T>) {
      return ParseFloat(Chars(element), out);
    } else {
      return ParseInteger(Chars(element), out);
    }
  }
}

// ---------------------------------------------------------------------------
// Tensor data: flat or nested JSON arrays, and binary bytes.

std::string ShapeText(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

std::string IndexPath(absl::string_view path, absl::Span<const int64_t> where) {
  std::string text(path);
  for (int64_t index : where) absl::StrAppend(&text, "[", index, "]");
  return text;
}

// What the parser knows about one input while converting its data.
struct TensorText {
  std::string path;  // "inputs[2]"
  const Datatype* datatype = nullptr;
  absl::Span<const int64_t> shape;
  int64_t count = 0;   // Product of the shape.
  size_t reserve = 0;  // Elements worth reserving: min(count, JSON length).
};

absl::Status BadElement(const TensorText& tensor, absl::Span<const int64_t> where,
                        const Value& element, Problem problem) {
  return Invalid(IndexPath(tensor.path + ".data", where),
                 absl::StrCat(Describe(element), " ", problem, " (", tensor.datatype->name, ")"));
}

// Walks an array nested exactly to the shape from dimension `depth` on, in
// row-major order, calling `visit(element)` (which returns a Problem).
// `where` holds the indices of the enclosing arrays, for error paths.
template <typename Visit>
absl::Status WalkNested(const Value& array, const TensorText& tensor, size_t depth,
                        std::vector<int64_t>* where, Visit& visit) {
  const int64_t size = tensor.shape[depth];
  if (!array.IsArray() || static_cast<int64_t>(array.Size()) != size) {
    return Invalid(
        IndexPath(tensor.path + ".data", *where),
        absl::StrCat("expected an array of ", size, " (shape ", ShapeText(tensor.shape), "), got ",
                     array.IsArray() ? absl::StrCat(array.Size(), " values") : Describe(array)));
  }
  for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
    where->push_back(i);
    if (depth + 1 < tensor.shape.size()) {
      SKEWFREE_RETURN_IF_ERROR(WalkNested(array[i], tensor, depth + 1, where, visit));
    } else if (Problem problem = visit(array[i])) {
      return BadElement(tensor, *where, array[i], problem);
    }
    where->pop_back();
  }
  return absl::OkStatus();
}

// Walks `data`, flat or nested to the shape (told by its first element).
template <typename Visit>
absl::Status WalkData(const Value& data, const TensorText& tensor, Visit visit) {
  if (!data.IsArray()) return Expected(tensor.path + ".data", "an array", data);
  std::vector<int64_t> where;
  if (data.Size() > 0 && data[0].IsArray() && !tensor.shape.empty()) {
    return WalkNested(data, tensor, 0, &where, visit);
  }
  if (static_cast<int64_t>(data.Size()) != tensor.count) {
    return Invalid(tensor.path + ".data",
                   absl::StrCat(data.Size(), " values, shape ", ShapeText(tensor.shape), " needs ",
                                tensor.count));
  }
  for (rapidjson::SizeType i = 0; i < data.Size(); ++i) {
    if (Problem problem = visit(data[i])) {
      const int64_t index = i;
      return BadElement(tensor, absl::MakeConstSpan(&index, 1), data[i], problem);
    }
  }
  return absl::OkStatus();
}

template <typename T>
void AppendLittleEndian(T value, std::string* bytes) {
  char buffer[sizeof(T)];
  std::memcpy(buffer, &value, sizeof(T));
  bytes->append(buffer, sizeof(T));
}

void AppendBytesElement(absl::string_view element, std::string* bytes) {
  AppendLittleEndian(static_cast<uint32_t>(element.size()), bytes);
  bytes->append(element.data(), element.size());
}

// Splits BYTES raw data (4-byte little-endian length + bytes, repeated).
// False if it is not exactly such elements.
template <typename Visit>
bool ForEachBytesElement(absl::string_view bytes, Visit visit) {
  while (!bytes.empty()) {
    if (bytes.size() < 4) return false;
    uint32_t length = 0;
    std::memcpy(&length, bytes.data(), 4);
    bytes.remove_prefix(4);
    if (bytes.size() < length) return false;
    visit(bytes.substr(0, length));
    bytes.remove_prefix(length);
  }
  return true;
}

template <typename T, typename Add>
absl::Status ConvertElements(const Value& data, const TensorText& tensor, Add add) {
  return WalkData(data, tensor, [&](const Value& element) {
    T value{};
    const Problem problem = ElementAs(element, &value);
    if (problem == nullptr) add(value);
    return problem;
  });
}

// JSON `data` as T elements, to a typed field (as Field's type) or raw bytes.
template <typename T, typename Field>
absl::Status ConvertNumeric(const Value& data, const TensorText& tensor, Field* field,
                            std::string* raw) {
  if (raw != nullptr) {
    raw->reserve(tensor.reserve * sizeof(T));
    return ConvertElements<T>(data, tensor, [raw](T value) { AppendLittleEndian(value, raw); });
  }
  field->Reserve(static_cast<int>(tensor.reserve));
  return ConvertElements<T>(data, tensor, [field](T value) { field->Add(value); });
}

absl::Status ConvertStrings(const Value& data, const TensorText& tensor,
                            InferTensorContents* contents, std::string* raw) {
  return WalkData(data, tensor, [&](const Value& element) -> Problem {
    if (!IsJsonString(element)) return "is not a string";
    if (raw != nullptr) {
      AppendBytesElement(Chars(element), raw);
    } else {
      contents->add_bytes_contents(element.GetString(), element.GetStringLength());
    }
    return nullptr;
  });
}

// JSON `data` of one input into its typed contents, or into `raw` if not null.
absl::Status ConvertData(const Value& data, const TensorText& tensor, InferTensorContents* contents,
                         std::string* raw) {
  InferTensorContents* c = contents;
  switch (tensor.datatype->kind) {
    case Kind::kBool:
      return ConvertNumeric<bool>(data, tensor, c->mutable_bool_contents(), raw);
    case Kind::kInt8:
      return ConvertNumeric<int8_t>(data, tensor, c->mutable_int_contents(), raw);
    case Kind::kInt16:
      return ConvertNumeric<int16_t>(data, tensor, c->mutable_int_contents(), raw);
    case Kind::kInt32:
      return ConvertNumeric<int32_t>(data, tensor, c->mutable_int_contents(), raw);
    case Kind::kInt64:
      return ConvertNumeric<int64_t>(data, tensor, c->mutable_int64_contents(), raw);
    case Kind::kUint8:
      return ConvertNumeric<uint8_t>(data, tensor, c->mutable_uint_contents(), raw);
    case Kind::kUint16:
      return ConvertNumeric<uint16_t>(data, tensor, c->mutable_uint_contents(), raw);
    case Kind::kUint32:
      return ConvertNumeric<uint32_t>(data, tensor, c->mutable_uint_contents(), raw);
    case Kind::kUint64:
      return ConvertNumeric<uint64_t>(data, tensor, c->mutable_uint64_contents(), raw);
    case Kind::kFp32:
      return ConvertNumeric<float>(data, tensor, c->mutable_fp32_contents(), raw);
    case Kind::kFp64:
      return ConvertNumeric<double>(data, tensor, c->mutable_fp64_contents(), raw);
    case Kind::kBytes:
      return ConvertStrings(data, tensor, contents, raw);
    case Kind::kFp16:
    case Kind::kBf16:
      break;
  }
  return Invalid(tensor.path, absl::StrCat(tensor.datatype->name,
                                           " data must be binary (parameters.binary_data_size)"));
}

// ---------------------------------------------------------------------------
// Parameters.

absl::Status ParameterFromJson(const Value& value, absl::string_view path, InferParameter* out) {
  if (IsJsonString(value)) {
    out->set_string_param(value.GetString(), value.GetStringLength());
  } else if (value.IsBool()) {
    out->set_bool_param(value.GetBool());
  } else if (IsJsonNumber(value)) {
    const absl::string_view text = Chars(value);
    int64_t signed_value = 0;
    uint64_t unsigned_value = 0;
    double double_value = 0;
    if (text.find_first_of(".eE") == absl::string_view::npos &&
        ParseInteger(text, &signed_value) == nullptr) {
      out->set_int64_param(signed_value);
    } else if (text.find_first_of(".eE") == absl::string_view::npos &&
               ParseInteger(text, &unsigned_value) == nullptr) {
      out->set_uint64_param(unsigned_value);
    } else if (ParseFloat(text, &double_value) == nullptr) {
      out->set_double_param(double_value);
    } else {
      return Invalid(path, absl::StrCat(Describe(value), " is out of range"));
    }
  } else {
    return Expected(path, "a string, number or boolean", value);
  }
  return absl::OkStatus();
}

// Copies the object `value` at `path` into `map`, except `transport_key`,
// whose value goes to *transport (null if absent).
absl::Status ParametersFromJson(const Value& value, absl::string_view path,
                                const char* transport_key, ParameterMap* map,
                                const Value** transport) {
  *transport = nullptr;
  if (!value.IsObject()) return Expected(path, "an object", value);
  for (const auto& member : value.GetObject()) {
    const std::string key(Chars(member.name));
    if (key == transport_key) {
      *transport = &member.value;
      continue;
    }
    SKEWFREE_RETURN_IF_ERROR(
        ParameterFromJson(member.value, absl::StrCat(path, ".", key), &(*map)[key]));
  }
  return absl::OkStatus();
}

absl::Status BoolFromJson(const Value* value, absl::string_view path, bool* out) {
  if (value == nullptr) return absl::OkStatus();
  if (!value->IsBool()) return Expected(path, "true or false", *value);
  *out = value->GetBool();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The request.

class RequestParser {
 public:
  RequestParser(absl::string_view binary, bool has_binary_part, size_t json_size,
                ModelInferRequest* request, ResponseEncoding* encoding)
      : binary_(binary),
        has_binary_part_(has_binary_part),
        json_size_(json_size),
        request_(request),
        encoding_(encoding) {}

  absl::Status Parse(const Value& root);

 private:
  absl::Status ParseTopLevel(const Value& root);
  absl::Status ParseInput(const Value& value, int index);
  absl::Status ParseShape(const Value* shape, TensorText* tensor,
                          ModelInferRequest::InferInputTensor* input);
  absl::Status TakeBinary(const Value& size, const TensorText& tensor);
  absl::Status ParseOutput(const Value& value, int index);

  // Constant after construction.
  const absl::string_view binary_;  // The bytes after the JSON header.
  const bool has_binary_part_;      // Whether the body has a JSON length header.
  const size_t json_size_;
  ModelInferRequest* const request_;
  ResponseEncoding* const encoding_;
  // Whether every input goes to raw_input_contents (one of them is binary).
  bool raw_ = false;
  size_t binary_used_ = 0;
};

// Whether an input carries parameters.binary_data_size (checked later).
bool IsBinaryInput(const Value& input) {
  if (!input.IsObject()) return false;
  const Value* parameters = Member(input, "parameters");
  return parameters != nullptr && parameters->IsObject() &&
         Member(*parameters, "binary_data_size") != nullptr;
}

absl::Status RequestParser::Parse(const Value& root) {
  if (!root.IsObject()) return Expected("body", "a JSON object", root);
  SKEWFREE_RETURN_IF_ERROR(ParseTopLevel(root));
  const Value* inputs = Member(root, "inputs");
  if (inputs == nullptr) return Invalid("body", "no \"inputs\"");
  if (!inputs->IsArray()) return Expected("inputs", "an array", *inputs);
  for (const Value& input : inputs->GetArray()) raw_ = raw_ || IsBinaryInput(input);
  for (rapidjson::SizeType i = 0; i < inputs->Size(); ++i) {
    SKEWFREE_RETURN_IF_ERROR(ParseInput((*inputs)[i], static_cast<int>(i)));
  }
  if (const Value* outputs = Member(root, "outputs")) {
    if (!outputs->IsArray()) return Expected("outputs", "an array", *outputs);
    for (rapidjson::SizeType i = 0; i < outputs->Size(); ++i) {
      SKEWFREE_RETURN_IF_ERROR(ParseOutput((*outputs)[i], static_cast<int>(i)));
    }
  }
  if (binary_used_ != binary_.size()) {
    return Invalid(
        "body",
        absl::StrCat(binary_.size() - binary_used_, " bytes left over after the ", json_size_,
                     "-byte JSON header and ", binary_used_, " bytes of binary inputs"));
  }
  return absl::OkStatus();
}

absl::Status RequestParser::ParseTopLevel(const Value& root) {
  if (const Value* id = Member(root, "id")) {
    if (!IsJsonString(*id)) return Expected("id", "a string", *id);
    request_->set_id(id->GetString(), id->GetStringLength());
  }
  if (const Value* parameters = Member(root, "parameters")) {
    const Value* binary_output = nullptr;
    SKEWFREE_RETURN_IF_ERROR(ParametersFromJson(*parameters, "parameters", "binary_data_output",
                                                request_->mutable_parameters(), &binary_output));
    SKEWFREE_RETURN_IF_ERROR(
        BoolFromJson(binary_output, "parameters.binary_data_output", &encoding_->all_binary));
  }
  return absl::OkStatus();
}

absl::Status RequestParser::ParseShape(const Value* shape, TensorText* tensor,
                                       ModelInferRequest::InferInputTensor* input) {
  const std::string path = absl::StrCat(tensor->path, ".shape");
  if (shape == nullptr) return Invalid(tensor->path, "no \"shape\"");
  if (!shape->IsArray()) return Expected(path, "an array", *shape);
  if (shape->Size() > kMaxRank) {
    return Invalid(path, absl::StrCat(shape->Size(), " dimensions, more than ", kMaxRank));
  }
  int64_t count = 1;
  for (rapidjson::SizeType i = 0; i < shape->Size(); ++i) {
    int64_t dim = 0;
    const Value& value = (*shape)[i];
    if (!IsJsonNumber(value) || ParseInteger(Chars(value), &dim) != nullptr || dim < 0) {
      return Expected(absl::StrCat(path, "[", i, "]"), "a dimension >= 0", value);
    }
    input->add_shape(dim);
    count = dim == 0 || count <= kMaxElements / dim ? count * dim : kMaxElements + 1;
  }
  if (count > kMaxElements) {
    return Invalid(path, absl::StrCat(ShapeText(input->shape()), " has too many elements"));
  }
  tensor->shape = input->shape();
  tensor->count = count;
  tensor->reserve = static_cast<size_t>(std::min<int64_t>(count, json_size_));
  return absl::OkStatus();
}

absl::Status RequestParser::ParseInput(const Value& value, int index) {
  TensorText tensor;
  tensor.path = absl::StrCat("inputs[", index, "]");
  if (!value.IsObject()) return Expected(tensor.path, "an object", value);
  ModelInferRequest::InferInputTensor* input = request_->add_inputs();
  const Value* name = Member(value, "name");
  if (name == nullptr || !IsJsonString(*name)) {
    return name == nullptr ? Invalid(tensor.path, "no \"name\"")
                           : Expected(tensor.path + ".name", "a string", *name);
  }
  input->set_name(name->GetString(), name->GetStringLength());
  const Value* datatype = Member(value, "datatype");
  if (datatype == nullptr) return Invalid(tensor.path, "no \"datatype\"");
  tensor.datatype = IsJsonString(*datatype) ? FindDatatype(Chars(*datatype)) : nullptr;
  if (tensor.datatype == nullptr) {
    return Expected(tensor.path + ".datatype", absl::StrCat("one of ", DatatypeNames()), *datatype);
  }
  input->set_datatype(tensor.datatype->name);
  SKEWFREE_RETURN_IF_ERROR(ParseShape(Member(value, "shape"), &tensor, input));
  const Value* binary_size = nullptr;
  if (const Value* parameters = Member(value, "parameters")) {
    SKEWFREE_RETURN_IF_ERROR(ParametersFromJson(*parameters, tensor.path + ".parameters",
                                                "binary_data_size", input->mutable_parameters(),
                                                &binary_size));
  }
  const Value* data = Member(value, "data");
  if (binary_size != nullptr) {
    if (data != nullptr) {
      return Invalid(tensor.path, "has both \"data\" and parameters.binary_data_size");
    }
    return TakeBinary(*binary_size, tensor);
  }
  if (data == nullptr)
    return Invalid(tensor.path, "no \"data\" and no parameters.binary_data_size");
  if (!raw_) return ConvertData(*data, tensor, input->mutable_contents(), nullptr);
  InferTensorContents unused;  // Raw requests have no typed contents at all.
  return ConvertData(*data, tensor, &unused, request_->add_raw_input_contents());
}

absl::Status RequestParser::TakeBinary(const Value& size_value, const TensorText& tensor) {
  const std::string path = absl::StrCat(tensor.path, ".parameters.binary_data_size");
  int64_t size = 0;
  if (!IsJsonNumber(size_value) || ParseInteger(Chars(size_value), &size) != nullptr || size < 0) {
    return Expected(path, "a byte count >= 0", size_value);
  }
  const int element_size = tensor.datatype->size;
  if (element_size > 0 && size != tensor.count * element_size) {
    return Invalid(tensor.path, absl::StrCat("binary_data_size ", size, " but shape ",
                                             ShapeText(tensor.shape), " of ", tensor.datatype->name,
                                             " needs ", tensor.count * element_size, " bytes"));
  }
  const size_t left = binary_.size() - binary_used_;
  if (static_cast<uint64_t>(size) > left) {
    return Invalid(tensor.path, has_binary_part_
                                    ? absl::StrCat("binary_data_size ", size, " but only ", left,
                                                   " bytes are left after the JSON header")
                                    : absl::StrCat("binary_data_size ", size,
                                                   " but the body is all JSON (no "
                                                   "Inference-Header-Content-Length header)"));
  }
  const absl::string_view bytes = binary_.substr(binary_used_, static_cast<size_t>(size));
  binary_used_ += static_cast<size_t>(size);
  if (element_size == 0) {
    int64_t elements = 0;
    if (!ForEachBytesElement(bytes, [&](absl::string_view) { ++elements; }) ||
        elements != tensor.count) {
      return Invalid(tensor.path, absl::StrCat("binary BYTES data is not ", tensor.count,
                                               " elements of a 4-byte length and the bytes"));
    }
  }
  request_->add_raw_input_contents()->assign(bytes.data(), bytes.size());
  return absl::OkStatus();
}

absl::Status RequestParser::ParseOutput(const Value& value, int index) {
  const std::string path = absl::StrCat("outputs[", index, "]");
  if (!value.IsObject()) return Expected(path, "an object", value);
  ModelInferRequest::InferRequestedOutputTensor* output = request_->add_outputs();
  const Value* name = Member(value, "name");
  if (name == nullptr || !IsJsonString(*name)) {
    return name == nullptr ? Invalid(path, "no \"name\"")
                           : Expected(path + ".name", "a string", *name);
  }
  output->set_name(name->GetString(), name->GetStringLength());
  const Value* parameters = Member(value, "parameters");
  if (parameters == nullptr) return absl::OkStatus();
  const Value* binary = nullptr;
  SKEWFREE_RETURN_IF_ERROR(ParametersFromJson(*parameters, path + ".parameters", "binary_data",
                                              output->mutable_parameters(), &binary));
  bool is_binary = false;
  SKEWFREE_RETURN_IF_ERROR(BoolFromJson(binary, path + ".parameters.binary_data", &is_binary));
  if (is_binary) encoding_->binary_outputs.push_back(output->name());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Writing JSON.

// Appends `text` as a JSON string. Bytes that are not UTF-8 become \u00XX
// (read as Latin-1): JSON cannot carry them, and an error message must stay
// valid JSON whatever a client sent.
void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c == '\r') {
      out->append("\\r");
    } else {
      size_t length = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      if (c >= 0xF5) length = 0;
      bool valid = length > 0 && i + length <= text.size();
      for (size_t k = 1; valid && k < length; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      }
      // Overlong 3/4-byte forms, surrogates and > U+10FFFF are not UTF-8.
      const unsigned char c1 = valid ? static_cast<unsigned char>(text[i + 1]) : 0;
      if (valid && length == 3) valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
      if (valid && length == 4) valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
      if (valid) {
        out->append(text.data() + i, length);
        i += length;
        continue;
      }
      absl::StrAppend(out, "\\u00", absl::Hex(c, absl::kZeroPad2));
    }
    ++i;
  }
  out->push_back('"');
}

template <typename T>
void AppendNumber(T value, std::string* out) {
  char buffer[64];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, ptr);
}

void AppendParameter(const InferParameter& parameter, std::string* out) {
  switch (parameter.parameter_choice_case()) {
    case InferParameter::kBoolParam:
      out->append(parameter.bool_param() ? "true" : "false");
      break;
    case InferParameter::kInt64Param:
      AppendNumber(parameter.int64_param(), out);
      break;
    case InferParameter::kUint64Param:
      AppendNumber(parameter.uint64_param(), out);
      break;
    case InferParameter::kStringParam:
      AppendJsonString(parameter.string_param(), out);
      break;
    case InferParameter::kDoubleParam:
      // JSON has no NaN/Infinity: null says "no number" without failing the answer.
      if (std::isfinite(parameter.double_param())) {
        AppendNumber(parameter.double_param(), out);
      } else {
        out->append("null");
      }
      break;
    case InferParameter::PARAMETER_CHOICE_NOT_SET:
      out->append("null");
      break;
  }
}

// `map` as a JSON object with sorted keys (protobuf maps have no order),
// plus "binary_data_size" if `binary_size` >= 0.
void AppendParameters(const ParameterMap& map, int64_t binary_size, std::string* out) {
  std::vector<const ParameterMap::value_type*> entries;
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  out->push_back('{');
  for (const auto* entry : entries) {
    if (out->back() != '{') out->push_back(',');
    AppendJsonString(entry->first, out);
    out->push_back(':');
    AppendParameter(entry->second, out);
  }
  if (binary_size >= 0) {
    if (out->back() != '{') out->push_back(',');
    absl::StrAppend(out, "\"binary_data_size\":", binary_size);
  }
  out->push_back('}');
}

template <typename T>
void AppendShape(const T& shape, std::string* out) {
  out->push_back('[');
  for (int i = 0; i < shape.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendNumber(static_cast<int64_t>(shape[i]), out);
  }
  out->push_back(']');
}

// ---------------------------------------------------------------------------
// The response's output tensors.

// One output's values: typed contents, or the raw bytes.
struct OutputSource {
  std::string path;  // "outputs[0]"
  const ModelInferResponse::InferOutputTensor* output;
  const Datatype* datatype;
  int64_t count;
  const std::string* raw;  // Null for typed contents.
};

// Element `i` of raw bytes as T (memcpy: the bytes need not be aligned).
template <typename T>
T RawElement(const std::string& bytes, int64_t i) {
  T value;
  std::memcpy(&value, bytes.data() + i * sizeof(T), sizeof(T));
  return value;
}

// Appends the `count` values get(i) as a JSON array (T decides the form).
template <typename T, typename Get>
absl::Status AppendValues(const OutputSource& source, Get get, std::string* out) {
  out->push_back('[');
  for (int64_t i = 0; i < source.count; ++i) {
    if (i > 0) out->push_back(',');
    const T value = static_cast<T>(get(i));
    if constexpr (std::is_same_v<T, bool>) {
      out->append(value ? "true" : "false");
    } else {
      if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(value)) {
          return absl::InvalidArgumentError(absl::StrCat(
              source.path, ".data[", i, "]: ", value,
              " cannot be written in JSON; ask for binary output (parameters.binary_data_output)"));
        }
      }
      AppendNumber(value, out);
    }
  }
  out->push_back(']');
  return absl::OkStatus();
}

// T: the datatype's C++ type; `field`: the typed contents that carry it.
template <typename T, typename Field>
absl::Status AppendData(const OutputSource& source, const Field& field, std::string* out) {
  if (source.raw != nullptr) {
    const std::string& raw = *source.raw;
    return AppendValues<T>(
        source, [&raw](int64_t i) { return RawElement<T>(raw, i); }, out);
  }
  return AppendValues<T>(
      source, [&field](int64_t i) { return field.Get(static_cast<int>(i)); }, out);
}

absl::Status AppendStrings(const OutputSource& source, std::string* out) {
  out->push_back('[');
  auto append = [out](absl::string_view element) {
    if (out->back() != '[') out->push_back(',');
    AppendJsonString(element, out);
  };
  if (source.raw != nullptr) {
    ForEachBytesElement(*source.raw, append);  // Checked by CheckCount.
  } else {
    for (const std::string& element : source.output->contents().bytes_contents()) append(element);
  }
  out->push_back(']');
  return absl::OkStatus();
}

absl::Status AppendOutputData(const OutputSource& source, std::string* out) {
  const InferTensorContents& c = source.output->contents();
  switch (source.datatype->kind) {
    case Kind::kBool:
      return AppendData<bool>(source, c.bool_contents(), out);
    case Kind::kInt8:
      return AppendData<int8_t>(source, c.int_contents(), out);
    case Kind::kInt16:
      return AppendData<int16_t>(source, c.int_contents(), out);
    case Kind::kInt32:
      return AppendData<int32_t>(source, c.int_contents(), out);
    case Kind::kInt64:
      return AppendData<int64_t>(source, c.int64_contents(), out);
    case Kind::kUint8:
      return AppendData<uint8_t>(source, c.uint_contents(), out);
    case Kind::kUint16:
      return AppendData<uint16_t>(source, c.uint_contents(), out);
    case Kind::kUint32:
      return AppendData<uint32_t>(source, c.uint_contents(), out);
    case Kind::kUint64:
      return AppendData<uint64_t>(source, c.uint64_contents(), out);
    case Kind::kFp32:
      return AppendData<float>(source, c.fp32_contents(), out);
    case Kind::kFp64:
      return AppendData<double>(source, c.fp64_contents(), out);
    case Kind::kBytes:
      return AppendStrings(source, out);
    case Kind::kFp16:
    case Kind::kBf16:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      source.path, ": ", source.datatype->name,
      " cannot be written in JSON; ask for binary output (parameters.binary_data_output)"));
}

// Typed contents -> little-endian bytes of the datatype.
template <typename T, typename Field>
void EncodeTyped(const Field& field, std::string* bytes) {
  for (const auto& value : field) AppendLittleEndian(static_cast<T>(value), bytes);
}

absl::Status EncodeBinary(const OutputSource& source, std::string* bytes) {
  if (source.raw != nullptr) {
    bytes->append(*source.raw);
    return absl::OkStatus();
  }
  const InferTensorContents& c = source.output->contents();
  switch (source.datatype->kind) {
    case Kind::kBool:
      EncodeTyped<uint8_t>(c.bool_contents(), bytes);
      break;
    case Kind::kInt8:
      EncodeTyped<int8_t>(c.int_contents(), bytes);
      break;
    case Kind::kInt16:
      EncodeTyped<int16_t>(c.int_contents(), bytes);
      break;
    case Kind::kInt32:
      EncodeTyped<int32_t>(c.int_contents(), bytes);
      break;
    case Kind::kInt64:
      EncodeTyped<int64_t>(c.int64_contents(), bytes);
      break;
    case Kind::kUint8:
      EncodeTyped<uint8_t>(c.uint_contents(), bytes);
      break;
    case Kind::kUint16:
      EncodeTyped<uint16_t>(c.uint_contents(), bytes);
      break;
    case Kind::kUint32:
      EncodeTyped<uint32_t>(c.uint_contents(), bytes);
      break;
    case Kind::kUint64:
      EncodeTyped<uint64_t>(c.uint64_contents(), bytes);
      break;
    case Kind::kFp32:
      EncodeTyped<float>(c.fp32_contents(), bytes);
      break;
    case Kind::kFp64:
      EncodeTyped<double>(c.fp64_contents(), bytes);
      break;
    case Kind::kBytes:
      for (const std::string& element : c.bytes_contents()) AppendBytesElement(element, bytes);
      break;
    case Kind::kFp16:
    case Kind::kBf16:
      return absl::InternalError(
          absl::StrCat(source.path, ": ", source.datatype->name, " comes only as raw contents"));
  }
  return absl::OkStatus();
}

// Number of values the output's contents carry, or -1 if the raw bytes are
// not whole elements.
int64_t ContentCount(const OutputSource& source) {
  if (source.raw != nullptr) {
    const int size = source.datatype->size;
    if (size > 0) {
      return source.raw->size() % size == 0 ? static_cast<int64_t>(source.raw->size() / size) : -1;
    }
    int64_t elements = 0;
    const bool whole = ForEachBytesElement(*source.raw, [&](absl::string_view) { ++elements; });
    return whole ? elements : -1;
  }
  const InferTensorContents& c = source.output->contents();
  switch (source.datatype->kind) {
    case Kind::kBool:
      return c.bool_contents_size();
    case Kind::kInt8:
    case Kind::kInt16:
    case Kind::kInt32:
      return c.int_contents_size();
    case Kind::kInt64:
      return c.int64_contents_size();
    case Kind::kUint8:
    case Kind::kUint16:
    case Kind::kUint32:
      return c.uint_contents_size();
    case Kind::kUint64:
      return c.uint64_contents_size();
    case Kind::kFp32:
      return c.fp32_contents_size();
    case Kind::kFp64:
      return c.fp64_contents_size();
    case Kind::kBytes:
      return c.bytes_contents_size();
    case Kind::kFp16:
    case Kind::kBf16:
      break;
  }
  return -1;
}

absl::StatusOr<OutputSource> MakeSource(const ModelInferResponse& response, int index) {
  const ModelInferResponse::InferOutputTensor& output = response.outputs(index);
  OutputSource source{absl::StrCat("outputs[", index, "]"), &output,
                      FindDatatype(output.datatype()), 1, nullptr};
  if (source.datatype == nullptr) {
    return absl::InternalError(
        absl::StrCat(source.path, ": unknown datatype '", output.datatype(), "'"));
  }
  for (int64_t dim : output.shape()) {
    if (dim < 0 || (dim > 0 && source.count > kMaxElements / dim)) {
      return absl::InternalError(
          absl::StrCat(source.path, ": bad shape ", ShapeText(output.shape())));
    }
    source.count *= dim;
  }
  if (response.raw_output_contents_size() > 0) {
    if (index >= response.raw_output_contents_size()) {
      return absl::InternalError(absl::StrCat(source.path, ": no raw_output_contents"));
    }
    source.raw = &response.raw_output_contents(index);
  }
  const int64_t values = ContentCount(source);
  if (values != source.count) {
    return absl::InternalError(absl::StrCat(source.path, ": contents hold ", values,
                                            " values, shape ", ShapeText(output.shape()), " needs ",
                                            source.count));
  }
  return source;
}

bool IsBinaryOutput(const ResponseEncoding& encoding, const std::string& name) {
  return encoding.all_binary ||
         std::find(encoding.binary_outputs.begin(), encoding.binary_outputs.end(), name) !=
             encoding.binary_outputs.end();
}

absl::Status AppendOutput(const ModelInferResponse& response, int index, bool binary,
                          std::string* out, std::string* binary_part) {
  SKEWFREE_ASSIGN_OR_RETURN(const OutputSource source, MakeSource(response, index));
  const ModelInferResponse::InferOutputTensor& output = *source.output;
  out->append("{\"name\":");
  AppendJsonString(output.name(), out);
  out->append(",\"datatype\":");
  AppendJsonString(output.datatype(), out);
  out->append(",\"shape\":");
  AppendShape(output.shape(), out);
  if (binary) {
    const size_t before = binary_part->size();
    SKEWFREE_RETURN_IF_ERROR(EncodeBinary(source, binary_part));
    out->append(",\"parameters\":");
    AppendParameters(output.parameters(), static_cast<int64_t>(binary_part->size() - before), out);
    out->push_back('}');
    return absl::OkStatus();
  }
  if (!output.parameters().empty()) {
    out->append(",\"parameters\":");
    AppendParameters(output.parameters(), -1, out);
  }
  out->append(",\"data\":");
  SKEWFREE_RETURN_IF_ERROR(AppendOutputData(source, out));
  out->push_back('}');
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseInferRequest(absl::string_view body, int64_t json_length,
                               inference::ModelInferRequest* request, ResponseEncoding* encoding) {
  if (json_length == 0) {
    return absl::InvalidArgumentError(
        "Inference-Header-Content-Length: 0 (a body that is one raw input) is not supported: send "
        "a JSON header naming the input's name, shape and datatype");
  }
  if (json_length < -1 || json_length > static_cast<int64_t>(body.size())) {
    return absl::InvalidArgumentError(absl::StrCat("Inference-Header-Content-Length: ", json_length,
                                                   " but the body has ", body.size(), " bytes"));
  }
  const bool has_binary_part = json_length > 0;
  const absl::string_view json = has_binary_part ? body.substr(0, json_length) : body;
  // Insitu parsing reads up to a NUL: one inside would hide what follows it.
  if (const void* nul = std::memchr(json.data(), '\0', json.size())) {
    return absl::InvalidArgumentError(absl::StrCat("body: invalid JSON at offset ",
                                                   static_cast<const char*>(nul) - json.data(),
                                                   ": a NUL byte"));
  }
  // A leading space: see IsJsonNumber.
  std::string buffer;
  buffer.reserve(json.size() + 1);
  buffer.push_back(' ');
  buffer.append(json.data(), json.size());
  rapidjson::Document document;
  internal::ParseInsituNumbersAsText(buffer.data(), &document);
  if (document.HasParseError()) {
    const size_t offset = document.GetErrorOffset();
    return absl::InvalidArgumentError(
        absl::StrCat("body: invalid JSON at offset ", offset > 0 ? offset - 1 : 0, ": ",
                     rapidjson::GetParseError_En(document.GetParseError())));
  }
  RequestParser parser(body.substr(json.size()), has_binary_part, json.size(), request, encoding);
  return parser.Parse(document);
}

absl::Status WriteInferResponse(const inference::ModelInferResponse& response,
                                const ResponseEncoding& encoding, std::string* body,
                                int64_t* json_length) {
  body->clear();
  std::string binary_part;
  bool any_binary = false;
  body->append("{\"model_name\":");
  AppendJsonString(response.model_name(), body);
  body->append(",\"model_version\":");
  AppendJsonString(response.model_version(), body);
  body->append(",\"id\":");
  AppendJsonString(response.id(), body);
  if (!response.parameters().empty()) {
    body->append(",\"parameters\":");
    AppendParameters(response.parameters(), -1, body);
  }
  body->append(",\"outputs\":[");
  for (int i = 0; i < response.outputs_size(); ++i) {
    if (i > 0) body->push_back(',');
    const bool binary = IsBinaryOutput(encoding, response.outputs(i).name());
    any_binary = any_binary || binary;
    SKEWFREE_RETURN_IF_ERROR(AppendOutput(response, i, binary, body, &binary_part));
  }
  body->append("]}");
  *json_length = any_binary ? static_cast<int64_t>(body->size()) : -1;
  body->append(binary_part);
  return absl::OkStatus();
}

std::string ErrorJson(absl::string_view message) {
  std::string out = "{\"error\":";
  AppendJsonString(message, &out);
  out.push_back('}');
  return out;
}

std::string ServerMetadataJson(const inference::ServerMetadataResponse& response) {
  std::string out = "{\"name\":";
  AppendJsonString(response.name(), &out);
  out.append(",\"version\":");
  AppendJsonString(response.version(), &out);
  out.append(",\"extensions\":[");
  for (int i = 0; i < response.extensions_size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(response.extensions(i), &out);
  }
  out.append("]}");
  return out;
}

namespace {

void AppendTensorMetadata(const google::protobuf::RepeatedPtrField<
                              inference::ModelMetadataResponse::TensorMetadata>& tensors,
                          std::string* out) {
  out->push_back('[');
  for (int i = 0; i < tensors.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append("{\"name\":");
    AppendJsonString(tensors[i].name(), out);
    out->append(",\"datatype\":");
    AppendJsonString(tensors[i].datatype(), out);
    out->append(",\"shape\":");
    AppendShape(tensors[i].shape(), out);
    out->push_back('}');
  }
  out->push_back(']');
}

}  // namespace

std::string ModelMetadataJson(const inference::ModelMetadataResponse& response) {
  std::string out = "{\"name\":";
  AppendJsonString(response.name(), &out);
  out.append(",\"versions\":[");
  for (int i = 0; i < response.versions_size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(response.versions(i), &out);
  }
  out.append("],\"platform\":");
  AppendJsonString(response.platform(), &out);
  out.append(",\"inputs\":");
  AppendTensorMetadata(response.inputs(), &out);
  out.append(",\"outputs\":");
  AppendTensorMetadata(response.outputs(), &out);
  out.push_back('}');
  return out;
}

std::string ReadyJson(absl::string_view key, bool value) {
  std::string out = "{";
  AppendJsonString(key, &out);
  out.append(value ? ":true}" : ":false}");
  return out;
}

std::string ModelReadyJson(absl::string_view name, bool ready) {
  std::string out = "{\"name\":";
  AppendJsonString(name, &out);
  out.append(ready ? ",\"ready\":true}" : ",\"ready\":false}");
  return out;
}

}  // namespace skewfree::server::http
