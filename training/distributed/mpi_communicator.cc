// The Open MPI implementation of Communicator, built as the module
// libskewfree_mpi.so: only a run started by mpirun loads it (and libmpi).
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "training/distributed/communicator.h"

namespace skewfree::training {
namespace {

std::string ErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<size_t>(length));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string Describe() const override { return absl::StrCat("Open MPI, ", size_, " ranks"); }

  absl::StatusOr<std::vector<std::string>> AllGather(absl::string_view mine) override {
    if (mine.size() > static_cast<size_t>(INT32_MAX)) {
      return absl::InvalidArgumentError("AllGather: more than 2 GB from one rank");
    }
    const int length = static_cast<int>(mine.size());
    std::vector<int> lengths(static_cast<size_t>(size_));
    int code = MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD);
    if (code != MPI_SUCCESS) return absl::UnavailableError(ErrorText(code));
    std::vector<int> offsets(static_cast<size_t>(size_), 0);
    int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[r] = static_cast<int>(total);
      total += lengths[r];
    }
    if (total > INT32_MAX) return absl::InvalidArgumentError("AllGather: more than 2 GB in all");
    std::string all(static_cast<size_t>(total), '\0');
    code = MPI_Allgatherv(mine.data(), length, MPI_BYTE, all.data(), lengths.data(), offsets.data(),
                          MPI_BYTE, MPI_COMM_WORLD);
    if (code != MPI_SUCCESS) return absl::UnavailableError(ErrorText(code));
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) out.push_back(all.substr(offsets[r], lengths[r]));
    return out;
  }

  [[noreturn]] void Abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]].
  }

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace
}  // namespace skewfree::training

extern "C" skewfree::training::Communicator* SkewfreeCreateMpiCommunicator(std::string* error) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    const int code = MPI_Init(nullptr, nullptr);
    if (code != MPI_SUCCESS) {
      *error = skewfree::training::ErrorText(code);
      return nullptr;
    }
  }
  return new skewfree::training::MpiCommunicator();
}
