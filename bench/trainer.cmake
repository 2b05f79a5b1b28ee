# Trainer benchmarks (issue 3 §7): exact training on 10M rows beside a raw
# read, Adam steps/s beside the input pipeline alone.
add_executable(train_bench ${CMAKE_CURRENT_LIST_DIR}/train_bench.cc)
target_link_libraries(train_bench PRIVATE skewfree::training skewfree::training_input
                      skewfree::simulator benchmark::benchmark skewfree::warnings)
target_compile_definitions(train_bench PRIVATE SKEWFREE_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
add_dependencies(train_bench skewfree-train)
