# Serving benchmark: the real skewfree-server against an empty handler,
# driven by the client library's load generator (issue 4 section 6).
add_executable(skewfree-empty-server empty_server.cc)
target_link_libraries(skewfree-empty-server PRIVATE skewfree::proto gRPC::grpc++
                      absl::flags absl::flags_parse absl::flat_hash_map absl::strings
                      skewfree::warnings)
