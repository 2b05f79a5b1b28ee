# Training benchmarks (issue 3 §7): plain binaries printing figures beside
# their ceilings. Included from bench/CMakeLists.txt.
add_executable(ingest_bench ${CMAKE_CURRENT_SOURCE_DIR}/ingest_bench.cc)
target_link_libraries(ingest_bench PRIVATE skewfree::training_input skewfree::simulator
                      skewfree::transform skewfree::warnings)
add_executable(simulate_bench ${CMAKE_CURRENT_SOURCE_DIR}/simulate_bench.cc)
target_link_libraries(simulate_bench PRIVATE skewfree::simulator skewfree::warnings)
