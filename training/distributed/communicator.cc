#include "training/distributed/communicator.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace skewfree::training {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  absl::StatusOr<std::vector<std::string>> AllGather(absl::string_view mine) override {
    return std::vector<std::string>{std::string(mine)};
  }
  [[noreturn]] void Abort(int exit_code) override { std::exit(exit_code); }
  std::string Describe() const override { return "1 process"; }
};

std::string PluginPath() {
  if (const char* path = std::getenv("SKEWFREE_MPI_PLUGIN"); path != nullptr && *path != '\0') {
    return path;
  }
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return (exe.parent_path() / ".." / "lib" / "skewfree" / "libskewfree_mpi.so")
      .lexically_normal()
      .string();
}

}  // namespace

std::unique_ptr<Communicator> MakeLocalCommunicator() {
  return std::make_unique<LocalCommunicator>();
}

bool LaunchedByMpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
}

absl::StatusOr<std::unique_ptr<Communicator>> ConnectFromEnvironment() {
  if (!LaunchedByMpi()) return MakeLocalCommunicator();
  const std::string path = PluginPath();
  // RTLD_GLOBAL: Open MPI loads its own components with dlopen and needs
  // libmpi's symbols visible to them.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("started by mpirun, but the MPI plugin ",
                                                      path, " does not load: ", ::dlerror(),
                                                      " (set SKEWFREE_MPI_PLUGIN to its path)"));
  }
  auto create = reinterpret_cast<CreateCommunicatorFn>(::dlsym(handle, kCreateCommunicatorSymbol));
  if (create == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has no ", kCreateCommunicatorSymbol, ": ", ::dlerror()));
  }
  std::string error;
  Communicator* communicator = create(&error);
  if (communicator == nullptr) {
    return absl::UnavailableError(absl::StrCat("MPI initialisation failed: ", error));
  }
  // The handle stays open for the life of the process: MPI_Finalize runs
  // from the communicator's destructor, inside the plugin.
  return std::unique_ptr<Communicator>(communicator);
}

}  // namespace skewfree::training
