// Real binaries for end-to-end tests and benchmarks: start a process with
// its stdout/stderr in files, wait for the "grpc listening on ADDR:PORT"
// line, signal it, and always kill it when the object goes away.
#ifndef SKEWFREE_TESTS_SERVING_SUBPROCESS_H_
#define SKEWFREE_TESTS_SERVING_SUBPROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace skewfree_testing {

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process. Thread-compatible. The destructor SIGKILLs and reaps it
// if it still runs, so no test leaves a server behind, even on failure.
class Subprocess {
 public:
  // `argv[0]` is the binary's path. Output goes to `<log_prefix>.out/.err`.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(std::vector<std::string> argv,
                                                           const std::string& log_prefix) {
    auto process = std::unique_ptr<Subprocess>(new Subprocess(argv, log_prefix));
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    // Everything the child touches is prepared here: after fork() only
    // async-signal-safe calls are allowed (the parent has gRPC threads).
    const std::string out_path = process->stdout_path();
    const std::string err_path = process->stderr_path();
    const pid_t pid = ::fork();
    if (pid < 0) return absl::InternalError("fork failed");
    if (pid == 0) {
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    process->pid_ = pid;
    return process;
  }

  ~Subprocess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_code_.has_value(); }
  std::string stdout_path() const { return log_prefix_ + ".out"; }
  std::string stderr_path() const { return log_prefix_ + ".err"; }
  std::string Stdout() const { return ReadWholeFile(stdout_path()); }
  std::string Stderr() const { return ReadWholeFile(stderr_path()); }
  std::string Describe() const {
    return absl::StrCat(absl::StrJoin(argv_, " "), "\n--- stdout:\n", Stdout(), "--- stderr:\n",
                        Stderr());
  }

  void Signal(int signal) const {
    if (running()) ::kill(pid_, signal);
  }

  // Exit code (128 + signal if killed by one); blocks.
  int Wait() {
    if (exit_code_) return *exit_code_;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return *exit_code_;
  }

  // Exit code if the process ends within `timeout`, else nullopt.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return exit_code_;
  }

  // Polls stdout for `<what> listening on ADDR:PORT` and returns PORT.
  absl::StatusOr<int> WaitForPort(const std::string& what, std::chrono::milliseconds timeout) {
    const std::regex pattern(what + " listening on \\S*:([0-9]+)");
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      std::smatch match;
      const std::string out = Stdout();
      if (std::regex_search(out, match, pattern)) return std::stoi(match[1]);
      if (WaitFor(std::chrono::milliseconds(0))) {
        return absl::InternalError(
            absl::StrCat("exited with ", *exit_code_, " before listening:\n", Describe()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return absl::DeadlineExceededError(
        absl::StrCat("no '", what, " listening on' line:\n", Describe()));
  }

 private:
  Subprocess(std::vector<std::string> argv, std::string log_prefix)
      : argv_(std::move(argv)), log_prefix_(std::move(log_prefix)) {}

  const std::vector<std::string> argv_;
  const std::string log_prefix_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Runs a command to its end (killed after `timeout`); exit code and output.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
inline CommandResult RunToEnd(std::vector<std::string> argv, const std::string& log_prefix,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  CommandResult result;
  absl::StatusOr<std::unique_ptr<Subprocess>> process =
      Subprocess::Start(std::move(argv), log_prefix);
  if (!process.ok()) {
    result.err = process.status().ToString();
    return result;
  }
  std::optional<int> code = (*process)->WaitFor(timeout);
  result.exit_code = code.value_or(-1);
  result.out = (*process)->Stdout();
  result.err = (*process)->Stderr();
  if (!code) result.err += "\n(killed after the timeout)";
  return result;
}

// VmHWM (peak resident set) of a process in kB, from /proc; -1 if unknown.
inline int64_t PeakRssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_SERVING_SUBPROCESS_H_
