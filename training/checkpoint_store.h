// Save points (F4): numbered checkpoint files in a model directory, written
// atomically, each carrying a checksum, the newest few kept.
#ifndef SKEWFREE_TRAINING_CHECKPOINT_STORE_H_
#define SKEWFREE_TRAINING_CHECKPOINT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "skewfree/v1/checkpoint.pb.h"

namespace skewfree::training {

// Format 2 has typed fields (InputPosition's seed, batch size, ...; history
// as repeated HistoryPoint/EvalPoint) where format 1 packed bytes and kept
// parallel arrays. Format 1 save points are refused, not converted: they come
// from runs of the previous release, which that release can finish.
inline constexpr int kCheckpointFormatVersion = 2;

// File format: the line "skewfree-checkpoint 2 <hex sha256 of payload>\n",
// then the serialized skewfree.v1.Checkpoint. A truncated or altered file
// fails the checksum, so it is never mistaken for a valid save point.
std::string EncodeCheckpoint(const v1::Checkpoint& checkpoint);
// DataLoss naming `path` for a bad header, checksum mismatch or bad payload;
// FailedPrecondition naming `path` for a checkpoint of another format version
// (an intact save point this build cannot resume: never skipped silently).
absl::StatusOr<v1::Checkpoint> DecodeCheckpoint(absl::string_view contents,
                                                const std::string& path);

struct CheckpointStoreOptions {
  std::string dir;  // The model directory; created if missing.
  int keep = 5;     // How many of the newest checkpoints survive a Write.
};

// Files <dir>/ckpt-<step, 12 digits>.pb. Thread-compatible.
class CheckpointStore {
 public:
  static absl::StatusOr<std::unique_ptr<CheckpointStore>> Create(CheckpointStoreOptions options);

  // Writes checkpoint.step() atomically (temp file + fsync + rename), then
  // removes all but the newest `keep` files.
  absl::Status Write(const v1::Checkpoint& checkpoint);

  // The newest checkpoint that reads and verifies; nullopt if there is none.
  // Each unreadable newer file is described in `problems` (path: reason).
  // FailedPrecondition when the newest intact checkpoint has another format
  // version: resuming from an older one, or from scratch, would lose work.
  absl::StatusOr<std::optional<v1::Checkpoint>> LoadNewestValid(
      std::vector<std::string>* problems) const;

  // Paths of the checkpoint files, oldest first.
  absl::StatusOr<std::vector<std::string>> List() const;
  std::string PathFor(int64_t step) const;

 private:
  explicit CheckpointStore(CheckpointStoreOptions options) : options_(std::move(options)) {}

  const CheckpointStoreOptions options_;
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_CHECKPOINT_STORE_H_
