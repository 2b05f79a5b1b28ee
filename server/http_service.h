// The Open Inference Protocol over HTTP/JSON (KServe v2 REST, Triton's HTTP
// API): routes an HTTP request to the InferenceHandler's call, with the JSON
// codec of server/http/infer_json.h on either side. The HTTP counterpart of
// inference_service.h; the HTTP server itself is server/http/http_server.h.
#ifndef SKEWFREE_SERVER_HTTP_SERVICE_H_
#define SKEWFREE_SERVER_HTTP_SERVICE_H_

#include "absl/status/status.h"
#include "server/http/http_router.h"
#include "server/http/http_server.h"
#include "server/inference_handler.h"

namespace skewfree::server {

// The HTTP status of an error: INVALID_ARGUMENT, OUT_OF_RANGE and
// FAILED_PRECONDITION 400, PERMISSION_DENIED 403, NOT_FOUND 404,
// RESOURCE_EXHAUSTED 413, UNIMPLEMENTED 501, UNAVAILABLE 503,
// DEADLINE_EXCEEDED 504, others 500.
int HttpStatusOf(absl::StatusCode code);

// Thread-safe. Borrows the handler, which must outlive it.
class HttpService {
 public:
  explicit HttpService(InferenceHandler* handler) : handler_(handler) {}
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Answers one request: JSON bodies, {"error": "..."} on failure (404
  // unknown path, 405 wrong method, else HttpStatusOf the call's code).
  void Handle(const http::HttpRequest& request, http::HttpResponse* response) const;
  // Whether Handle blocks for long on `request` (a model load or unload),
  // so the HTTP server runs it off its event loop.
  static bool Blocks(const http::HttpRequest& request);

 private:
  absl::Status Infer(const http::Route& route, const http::HttpRequest& request,
                     http::HttpResponse* response) const;
  absl::Status Health(const http::Route& route, http::HttpResponse* response) const;
  absl::Status Metadata(const http::Route& route, http::HttpResponse* response) const;
  // Triton's statistics, model configuration and repository extensions.
  absl::Status Extension(const http::Route& route, const http::HttpRequest& request,
                         http::HttpResponse* response) const;
  absl::Status Repository(const http::Route& route, const http::HttpRequest& request,
                          http::HttpResponse* response) const;

  InferenceHandler* const handler_;
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_HTTP_SERVICE_H_
