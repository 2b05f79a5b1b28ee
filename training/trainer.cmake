# The trainer (issue 3 §3-6): model, optimizers, save points, metrics, report,
# export, and the skewfree-train binary. Included from training/CMakeLists.txt.
add_library(skewfree_training
  adam.cc
  analysis.cc
  checkpoint_store.cc
  evaluator.cc
  linear_regression.cc
  normal_equations.cc
  progress.cc
  report.cc
  trainer.cc
  training_metrics.cc
)
add_library(skewfree::training ALIAS skewfree_training)
target_include_directories(skewfree_training PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(skewfree_training
  PUBLIC skewfree::model skewfree::transform skewfree::training_input skewfree::proto absl::status absl::statusor
         absl::span absl::time absl::strings
  PRIVATE Eigen3::Eigen prometheus-cpp::pull prometheus-cpp::push prometheus-cpp::core
          absl::strings absl::str_format skewfree::warnings)

foreach(_test adam_test checkpoint_store_test linear_regression_test normal_equations_test
              progress_test report_test training_metrics_test)
  # Prefixed: target names are global and other folders have tests too.
  add_executable(trainer_${_test} ${CMAKE_CURRENT_SOURCE_DIR}/${_test}.cc)
  target_link_libraries(trainer_${_test} PRIVATE skewfree::training skewfree::test_util
                        GTest::gtest_main absl::strings absl::str_format skewfree::warnings)
  gtest_discover_tests(trainer_${_test} DISCOVERY_TIMEOUT 60)
endforeach()

add_executable(skewfree-train ${CMAKE_CURRENT_SOURCE_DIR}/train_main.cc)
target_link_libraries(skewfree-train PRIVATE skewfree::training skewfree::common absl::flags absl::flags_parse
                      absl::flags_usage absl::flags_config absl::str_format absl::strings skewfree::warnings)

