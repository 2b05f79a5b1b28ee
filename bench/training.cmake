# Training benchmarks (issue 3 §7): plain binaries printing figures beside
# their ceilings. Included from bench/CMakeLists.txt.
add_executable(ingest_bench ${CMAKE_CURRENT_SOURCE_DIR}/ingest_bench.cc)
target_link_libraries(ingest_bench PRIVATE skewfree::training_input skewfree::simulator
                      skewfree::transform skewfree::common skewfree::warnings)
# Optional: with libfast-float-dev (header-only), the float case also times
# fast_float::from_chars beside the hand-written parser.
find_path(FAST_FLOAT_INCLUDE_DIR fast_float/fast_float.h)
if(FAST_FLOAT_INCLUDE_DIR)
  target_include_directories(ingest_bench PRIVATE ${FAST_FLOAT_INCLUDE_DIR})
  target_compile_definitions(ingest_bench PRIVATE SKEWFREE_HAVE_FAST_FLOAT=1)
endif()
add_executable(simulate_bench ${CMAKE_CURRENT_SOURCE_DIR}/simulate_bench.cc)
target_link_libraries(simulate_bench PRIVATE skewfree::simulator skewfree::warnings)
