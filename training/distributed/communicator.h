// The few collective operations data-parallel training needs, behind an
// interface so that skewfree-train links no MPI library: a run started by
// mpirun loads the Open MPI implementation (libskewfree_mpi.so) with dlopen,
// every other run uses the single-process one and pays nothing.
#ifndef SKEWFREE_TRAINING_DISTRIBUTED_COMMUNICATOR_H_
#define SKEWFREE_TRAINING_DISTRIBUTED_COMMUNICATOR_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skewfree::training {

// Collective operations over the ranks of one job. Every rank must make the
// same calls in the same order. Thread-compatible: one thread calls them.
class Communicator {
 public:
  virtual ~Communicator() = default;

  // This process's rank in [0, size()).
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Every rank's `mine`, indexed by rank, on every rank.
  virtual absl::StatusOr<std::vector<std::string>> AllGather(absl::string_view mine) = 0;
  // Ends the whole job with `exit_code`, on every rank (a rank that hit bad
  // input must not leave the others waiting in a collective). Never returns.
  [[noreturn]] virtual void Abort(int exit_code) = 0;
  // A name for logs: "1 process" or "Open MPI, 4 ranks".
  virtual std::string Describe() const = 0;
};

// The single-process communicator: rank 0 of 1.
std::unique_ptr<Communicator> MakeLocalCommunicator();

// True when the environment says this process was started by mpirun (Open
// MPI sets OMPI_COMM_WORLD_SIZE; PMIx launchers set PMIX_RANK).
bool LaunchedByMpi();

// The Open MPI communicator when LaunchedByMpi(), else the local one. Loads
// libskewfree_mpi.so from $SKEWFREE_MPI_PLUGIN, or from
// <directory of the executable>/../lib/skewfree/. FailedPrecondition naming
// the path and dlerror() when the plugin cannot be loaded.
absl::StatusOr<std::unique_ptr<Communicator>> ConnectFromEnvironment();

// The plugin's entry point (extern "C" so dlsym finds it): initialises MPI
// and returns a new communicator, or null with a message in `error`.
using CreateCommunicatorFn = Communicator* (*)(std::string* error);
inline constexpr char kCreateCommunicatorSymbol[] = "SkewfreeCreateMpiCommunicator";

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_DISTRIBUTED_COMMUNICATOR_H_
