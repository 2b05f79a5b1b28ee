// ListenTcp on a kernel without IPv6 (booted with ipv6.disable=1, as some
// hosts are): this binary's own socket() makes AF_INET6 fail the way such a
// kernel does, so the fallbacks run here, and its own getaddrinfo() gives a
// test name both families, as /etc/hosts often gives "localhost". A binary
// of its own, as the interposed functions serve the whole process.
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "common/listen_socket.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http_get.h"
#include "tests/status_matchers.h"

namespace {

std::atomic<bool> g_no_ipv6{false};

// Resolves to ::1 and 127.0.0.1, in that order.
constexpr char kBothFamilies[] = "both-families.test";

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** found) {
  using GetAddrInfo = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
  static const GetAddrInfo next = reinterpret_cast<GetAddrInfo>(dlsym(RTLD_NEXT, "getaddrinfo"));
  if (node == nullptr || std::strcmp(node, kBothFamilies) != 0) {
    return next(node, service, hints, found);
  }
  addrinfo numeric = hints == nullptr ? addrinfo{} : *hints;
  numeric.ai_flags |= AI_NUMERICHOST;
  addrinfo* ipv6 = nullptr;
  addrinfo* ipv4 = nullptr;
  if (const int error = next("::1", service, &numeric, &ipv6)) return error;
  if (const int error = next("127.0.0.1", service, &numeric, &ipv4)) {
    freeaddrinfo(ipv6);
    return error;
  }
  addrinfo* last = ipv6;
  while (last->ai_next != nullptr) last = last->ai_next;
  last->ai_next = ipv4;  // freeaddrinfo frees the chain node by node.
  *found = ipv6;
  return 0;
}

// Forwards to the next socket() (libc's, or a sanitizer's), except for
// AF_INET6 while g_no_ipv6 is set.
extern "C" int socket(int domain, int type, int protocol) {
  using Socket = int (*)(int, int, int);
  static const Socket next = reinterpret_cast<Socket>(dlsym(RTLD_NEXT, "socket"));
  if (domain == AF_INET6 && g_no_ipv6.load()) {
    errno = EAFNOSUPPORT;
    return -1;
  }
  return next(domain, type, protocol);
}

namespace skewfree::common {
namespace {

using ::skewfree_testing::BoundFamily;
using ::skewfree_testing::Connects;
using ::skewfree_testing::StatusIs;
using ::testing::HasSubstr;

class NoIpv6Test : public ::testing::Test {
 protected:
  NoIpv6Test() { g_no_ipv6 = true; }
  ~NoIpv6Test() override { g_no_ipv6 = false; }
};

TEST_F(NoIpv6Test, TheInterposedSocketRefusesIpv6Only) {
  EXPECT_EQ(socket(AF_INET6, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  close(fd);
}

// Every wildcard form falls back to 0.0.0.0.
TEST_F(NoIpv6Test, WildcardListensOnIpv4) {
  for (const char* address : {"", "0.0.0.0", "::", "[::]"}) {
    absl::StatusOr<ListeningSockets> sockets = ListenTcp(address, 0);
    ASSERT_TRUE(sockets.ok()) << address << ": " << sockets.status();
    ASSERT_EQ(sockets->fds().size(), 1u) << address;
    EXPECT_EQ(BoundFamily(sockets->fds()[0]), AF_INET) << address;
    EXPECT_TRUE(Connects("127.0.0.1", sockets->port())) << address;
  }
}

// A name of both families (as "localhost" often is): the address of the
// missing family is skipped, as gRPC skips it.
TEST_F(NoIpv6Test, NameListensOnItsIpv4Address) {
  absl::StatusOr<ListeningSockets> sockets = ListenTcp(kBothFamilies, 0);
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  ASSERT_EQ(sockets->fds().size(), 1u);
  EXPECT_EQ(BoundFamily(sockets->fds()[0]), AF_INET);
  EXPECT_TRUE(Connects("127.0.0.1", sockets->port()));
}

// The same name with IPv6 present: a socket for each address, on one port.
TEST(ListenTcpTest, NameOfBothFamiliesListensOnBoth) {
  if (!skewfree_testing::HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  absl::StatusOr<ListeningSockets> sockets = ListenTcp(kBothFamilies, 0);
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  ASSERT_EQ(sockets->fds().size(), 2u);
  EXPECT_EQ(BoundFamily(sockets->fds()[0]), AF_INET6);
  EXPECT_EQ(BoundFamily(sockets->fds()[1]), AF_INET);
  EXPECT_TRUE(Connects("::1", sockets->port()));
  EXPECT_TRUE(Connects("127.0.0.1", sockets->port()));
}

// An IPv6 address alone cannot be listened on: the error names it.
TEST_F(NoIpv6Test, Ipv6AddressIsAnError) {
  absl::StatusOr<ListeningSockets> sockets = ListenTcp("::1", 0);
  EXPECT_THAT(sockets, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(sockets.status().message(), HasSubstr("[::1]:0"));
  EXPECT_THAT(sockets.status().message(), HasSubstr("Address family not supported"));
}

}  // namespace
}  // namespace skewfree::common
