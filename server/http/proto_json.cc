#include "server/http/proto_json.h"

#include <charconv>
#include <cmath>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace skewfree::server::http {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void AppendMessage(const Message& message, std::string* out);

void AppendString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (byte < 0x20) {
      absl::StrAppend(out, "\\u00", absl::Hex(byte, absl::kZeroPad2));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

template <typename T>
void AppendFloating(T value, std::string* out) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char buffer[64];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, result.ptr);
}

// One value of `field` (element `index` if repeated, -1 if singular).
void AppendValue(const Message& message, const FieldDescriptor* field, int index,
                 std::string* out) {
  const Reflection* r = message.GetReflection();
  const bool rep = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrAppend(
          out, rep ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrAppend(
          out, rep ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrAppend(
          out, rep ? r->GetRepeatedUInt32(message, field, index) : r->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrAppend(
          out, rep ? r->GetRepeatedUInt64(message, field, index) : r->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return AppendFloating(
          rep ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field), out);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return AppendFloating(
          rep ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field), out);
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field))
                      ? "true"
                      : "false");
      return;
    case FieldDescriptor::CPPTYPE_ENUM:
      return AppendString(
          (rep ? r->GetRepeatedEnum(message, field, index) : r->GetEnum(message, field))->name(),
          out);
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string value =
          rep ? r->GetRepeatedString(message, field, index) : r->GetString(message, field);
      return AppendString(
          field->type() == FieldDescriptor::TYPE_BYTES ? absl::Base64Escape(value) : value, out);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return AppendMessage(
          rep ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field), out);
  }
}

// A map field: {key: value}, keys as strings.
void AppendMap(const Message& message, const FieldDescriptor* field, std::string* out) {
  const Reflection* r = message.GetReflection();
  out->push_back('{');
  for (int i = 0; i < r->FieldSize(message, field); ++i) {
    const Message& entry = r->GetRepeatedMessage(message, field, i);
    const FieldDescriptor* key = entry.GetDescriptor()->map_key();
    std::string key_text;
    AppendValue(entry, key, -1, &key_text);
    if (i > 0) out->push_back(',');
    if (key_text.front() == '"') {
      out->append(key_text);
    } else {
      AppendString(key_text, out);
    }
    out->push_back(':');
    AppendValue(entry, entry.GetDescriptor()->map_value(), -1, out);
  }
  out->push_back('}');
}

void AppendMessage(const Message& message, std::string* out) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const bool optional =
        field->containing_oneof() != nullptr ||
        (!field->is_repeated() && field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE);
    if (optional && !r->HasField(message, field)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendString(field->name(), out);
    out->push_back(':');
    if (field->is_map()) {
      AppendMap(message, field, out);
    } else if (field->is_repeated()) {
      out->push_back('[');
      for (int j = 0; j < r->FieldSize(message, field); ++j) {
        if (j > 0) out->push_back(',');
        AppendValue(message, field, j, out);
      }
      out->push_back(']');
    } else {
      AppendValue(message, field, -1, out);
    }
  }
  out->push_back('}');
}

// Calls `visit(name, value)` for each member of the object `object`. By index:
// comparing RapidJSON's member iterators is ambiguous in C++20 (clang's
// -Wambiguous-reversed-operator).
template <typename F>
absl::Status ForEachMember(const rapidjson::Value& object, F visit) {
  for (rapidjson::SizeType i = 0; i < object.MemberCount(); ++i) {
    const auto& member = *(object.MemberBegin() + i);
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    if (absl::Status status = visit(name, member.value); !status.ok()) return status;
  }
  return absl::OkStatus();
}

// `body` as a JSON object (an empty body as {}).
absl::Status ParseObject(absl::string_view body, rapidjson::Document* document) {
  if (body.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    document->SetObject();
    return absl::OkStatus();
  }
  document->Parse(body.data(), body.size());
  if (document->HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("body: invalid JSON at offset ", document->GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(document->GetParseError())));
  }
  if (!document->IsObject()) return absl::InvalidArgumentError("body: not a JSON object");
  return absl::OkStatus();
}

absl::StatusOr<inference::ModelRepositoryParameter> Parameter(const std::string& key,
                                                              const rapidjson::Value& value) {
  inference::ModelRepositoryParameter parameter;
  if (value.IsBool()) {
    parameter.set_bool_param(value.GetBool());
  } else if (value.IsInt64()) {
    parameter.set_int64_param(value.GetInt64());
  } else if (value.IsString() && key.rfind("file:", 0) == 0) {
    std::string bytes;
    if (!absl::Base64Unescape(absl::string_view(value.GetString(), value.GetStringLength()),
                              &bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameters.", key, ": not base64 (a file's content)"));
    }
    parameter.set_bytes_param(std::move(bytes));
  } else if (value.IsString()) {
    parameter.set_string_param(std::string(value.GetString(), value.GetStringLength()));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("parameters.", key, ": not a string, bool or integer"));
  }
  return parameter;
}

}  // namespace

std::string MessageJson(const google::protobuf::Message& message) {
  std::string out;
  AppendMessage(message, &out);
  return out;
}

absl::Status ParseRepositoryIndexJson(absl::string_view body,
                                      inference::RepositoryIndexRequest* request) {
  rapidjson::Document document;
  if (absl::Status status = ParseObject(body, &document); !status.ok()) return status;
  return ForEachMember(document, [request](const std::string& key, const rapidjson::Value& value) {
    if (key != "ready") {
      return absl::InvalidArgumentError(absl::StrCat("body: unknown field '", key, "'"));
    }
    if (!value.IsBool()) return absl::InvalidArgumentError("body: ready is not a bool");
    request->set_ready(value.GetBool());
    return absl::OkStatus();
  });
}

absl::Status ParseRepositoryParametersJson(
    absl::string_view body,
    google::protobuf::Map<std::string, inference::ModelRepositoryParameter>* parameters) {
  rapidjson::Document document;
  if (absl::Status status = ParseObject(body, &document); !status.ok()) return status;
  return ForEachMember(document, [parameters](const std::string& key,
                                              const rapidjson::Value& value) {
    if (key != "parameters") {
      return absl::InvalidArgumentError(absl::StrCat("body: unknown field '", key, "'"));
    }
    if (!value.IsObject()) return absl::InvalidArgumentError("body: parameters is not an object");
    return ForEachMember(value, [parameters](const std::string& name, const rapidjson::Value& v) {
      absl::StatusOr<inference::ModelRepositoryParameter> parameter = Parameter(name, v);
      if (!parameter.ok()) return parameter.status();
      (*parameters)[name] = *std::move(parameter);
      return absl::OkStatus();
    });
  });
}

}  // namespace skewfree::server::http
