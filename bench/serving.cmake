# Serving benchmark: the real skewfree-server against an empty handler,
# driven by the client library's load generator (issue 4 section 6).
add_executable(skewfree-empty-server empty_server.cc)
target_link_libraries(skewfree-empty-server PRIVATE skewfree::inference_grpc gRPC::grpc++
                      absl::flags absl::flags_parse absl::flat_hash_map absl::strings
                      skewfree::warnings)

# The benchmark itself: run by hand (build/bin/serving_bench); exit 3 when a
# target is missed.
add_executable(serving_bench serving_bench.cc)
target_link_libraries(serving_bench PRIVATE skewfree::client_tools skewfree::model skewfree::test_util
                      absl::flags absl::flags_parse absl::str_format skewfree::warnings)
target_compile_definitions(serving_bench PRIVATE SKEWFREE_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
add_dependencies(serving_bench skewfree-server skewfree-empty-server skewfree-train skewfree-simulate)

# Drain under a storm: CANCELLED vs UNAVAILABLE over many drains (issue 12).
add_executable(drain_bench drain_bench.cc)
target_link_libraries(drain_bench PRIVATE skewfree::client skewfree::model skewfree::test_util
                      absl::flags absl::flags_parse absl::str_format absl::synchronization
                      skewfree::warnings)
target_compile_definitions(drain_bench PRIVATE SKEWFREE_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
add_dependencies(drain_bench skewfree-server)

# HTTP/JSON (issue 11): the empty handler on the same HTTP library (the
# ceiling) and the benchmark (build/bin/http_bench; exit 3 when a target is
# missed).
add_executable(skewfree-empty-http-server empty_http_server.cc)
target_link_libraries(skewfree-empty-http-server PRIVATE skewfree::server_http absl::flags
                      absl::flags_parse absl::str_format skewfree::warnings)
add_executable(http_bench http_bench.cc http_load.cc)
target_link_libraries(http_bench PRIVATE skewfree::client_tools skewfree::model skewfree::test_util
                      absl::flags absl::flags_parse absl::str_format absl::strings skewfree::warnings)
target_compile_definitions(http_bench PRIVATE SKEWFREE_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
add_dependencies(http_bench skewfree-server skewfree-empty-http-server)

# Drift monitoring's cost inside the server, without the transport (issue 10).
add_executable(drift_bench drift_bench.cc)
target_link_libraries(drift_bench PRIVATE skewfree::server skewfree::test_util absl::str_format
                      skewfree::warnings)
