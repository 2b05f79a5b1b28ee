# Sanitizer and analysis builds, each in its own build directory (see
# scripts/test.sh):
#   SKEWFREE_SANITIZE=address  ASan + UBSan, the first report fails the test
#   SKEWFREE_SANITIZE=thread   TSan, with Debian's Abseil locks and gRPC's hand-over
#                              of a call made visible
#   SKEWFREE_THREAD_SAFETY=ON  clang's -Wthread-safety (errors with -Werror)
# -O1 (after the build type's -O3): half the compile time, clearer stacks.
# Included from the root CMakeLists.txt before any target is defined, so the
# flags reach every target of ours (Debian's libraries stay uninstrumented).
set(SKEWFREE_SANITIZE "" CACHE STRING "Sanitizer build: empty, address (ASan+UBSan) or thread (TSan)")
set_property(CACHE SKEWFREE_SANITIZE PROPERTY STRINGS "" address thread)
option(SKEWFREE_THREAD_SAFETY "Check the lock annotations with clang's -Wthread-safety" OFF)
option(SKEWFREE_FUZZ "Build the libFuzzer targets in fuzz/ (clang; with SKEWFREE_SANITIZE=address)" OFF)

if(SKEWFREE_SANITIZE STREQUAL "address")
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all)
  add_compile_options(${_san} -O1 -fno-omit-frame-pointer -g1)
  add_link_options(${_san})
elseif(SKEWFREE_SANITIZE STREQUAL "thread")
  # -U__SANITIZE_THREAD__: headers must describe Debian's libraries as they
  # were built, without TSan; protobuf's map_field.h adds two fields to
  # MapFieldBase under it (a different layout than libprotobuf's: crashes).
  # -Wno-tsan: Abseil's flag headers use atomic_thread_fence, which gcc warns
  # TSan does not model; flags are written before any thread starts.
  add_compile_options(-fsanitize=thread -U__SANITIZE_THREAD__ -O1 -fno-omit-frame-pointer -g1
                      -Wno-tsan)
  add_link_options(-fsanitize=thread)
  # TSan cannot see Debian's prebuilt absl::Mutex nor gRPC core's hand-over of
  # a call's tag between threads; every executable gets the wrappers that tell
  # it about each lock and unlock (absl_tsan_annotations.cc) and each start
  # and completion of a gRPC operation (grpc_tsan_annotations.cc).
  add_library(skewfree_tsan_annotations OBJECT ${CMAKE_CURRENT_LIST_DIR}/absl_tsan_annotations.cc
                                               ${CMAKE_CURRENT_LIST_DIR}/grpc_tsan_annotations.cc)
  # PIC: it is linked into the MPI module (a shared object) too.
  set_target_properties(skewfree_tsan_annotations PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(skewfree_tsan_annotations PRIVATE absl::synchronization absl::status
                                                          ${CMAKE_DL_LIBS})
  link_libraries(skewfree_tsan_annotations ${CMAKE_DL_LIBS})
elseif(NOT SKEWFREE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "SKEWFREE_SANITIZE must be empty, address or thread, not '${SKEWFREE_SANITIZE}'")
endif()

if(SKEWFREE_THREAD_SAFETY)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SKEWFREE_THREAD_SAFETY needs clang (CXX=clang++-14)")
  endif()
  add_compile_options(-Wthread-safety)
endif()

if(SKEWFREE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SKEWFREE_FUZZ needs clang (CXX=clang++-14)")
  endif()
  # Coverage feedback in all our code; fuzz/ links the libFuzzer driver.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
