#include "common/listen_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http_get.h"
#include "tests/status_matchers.h"

namespace skewfree::common {
namespace {

using ::skewfree_testing::BoundFamily;
using ::skewfree_testing::Connects;
using ::skewfree_testing::HasIpv6Loopback;
using ::skewfree_testing::StatusIs;
using ::testing::HasSubstr;

TEST(ListenTcpTest, WildcardIsOneDualStackSocket) {
  for (const std::string address : {"0.0.0.0", "::", "[::]", ""}) {
    SCOPED_TRACE(address);
    absl::StatusOr<ListeningSockets> sockets = ListenTcp(address, 0);
    ASSERT_TRUE(sockets.ok()) << sockets.status();
    ASSERT_EQ(sockets->fds().size(), 1u);
    EXPECT_GT(sockets->port(), 0);
    EXPECT_TRUE(Connects("127.0.0.1", sockets->port()));
    if (!HasIpv6Loopback()) continue;
    EXPECT_EQ(BoundFamily(sockets->fds().front()), AF_INET6);
    EXPECT_TRUE(Connects("::1", sockets->port()));
  }
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine: IPv4 half only";
}

TEST(ListenTcpTest, SpecificAddressOnly) {
  absl::StatusOr<ListeningSockets> v4 = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_TRUE(Connects("127.0.0.1", v4->port()));
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  EXPECT_FALSE(Connects("::1", v4->port()));
  absl::StatusOr<ListeningSockets> v6 = ListenTcp("[::1]", 0);
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_TRUE(Connects("::1", v6->port()));
  EXPECT_FALSE(Connects("127.0.0.1", v6->port()));
}

TEST(ListenTcpTest, NameListensOnEachAddressOnOnePort) {
  absl::StatusOr<ListeningSockets> sockets = ListenTcp("localhost", 0);
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  ASSERT_GE(sockets->fds().size(), 1u);
  EXPECT_TRUE(Connects("127.0.0.1", sockets->port()));
}

TEST(ListenTcpTest, ErrorsNameTheAddress) {
  absl::StatusOr<ListeningSockets> first = ListenTcp("0.0.0.0", 0);
  ASSERT_TRUE(first.ok()) << first.status();
  const int port = first->port();
  absl::StatusOr<ListeningSockets> taken = ListenTcp("127.0.0.1", port);
  EXPECT_THAT(taken, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(taken.status().message(), HasSubstr(absl::StrCat("127.0.0.1:", port)));
  EXPECT_THAT(ListenTcp("::", 65536), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ListenTcp("no-such-host.invalid", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ListenTcp("192.0.2.1", 0), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ListenTcpTest, ReleaseHandsOverTheDescriptors) {
  absl::StatusOr<ListeningSockets> sockets = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  const int port = sockets->port();
  std::vector<int> fds = sockets->Release();
  ASSERT_EQ(fds.size(), 1u);
  *sockets = ListeningSockets();  // Closes nothing: released.
  EXPECT_TRUE(Connects("127.0.0.1", port));
  for (int fd : fds) close(fd);
  EXPECT_FALSE(Connects("127.0.0.1", port));
}

TEST(ListenTcpTest, JoinHostPortBracketsIpv6) {
  EXPECT_EQ(JoinHostPort("::1", 80), "[::1]:80");
  EXPECT_EQ(JoinHostPort("[::1]", 80), "[::1]:80");
  EXPECT_EQ(JoinHostPort("0.0.0.0", 80), "0.0.0.0:80");
}

}  // namespace
}  // namespace skewfree::common
