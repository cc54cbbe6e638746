#include "store/open_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <string>

#include "core/database_url.hpp"
#include "store/blocking_store.hpp"

namespace akamu::store {
namespace {

using core::ProblemType;

class ScratchDir {
 public:
  ScratchDir()
      : dir_(std::filesystem::temp_directory_path() /
             ("akamu-open-store-test-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// Restores the working directory even when an assertion returns early.
class ChangeDir {
 public:
  explicit ChangeDir(const std::filesystem::path& to) : from_(std::filesystem::current_path()) {
    std::filesystem::current_path(to);
  }
  ~ChangeDir() { std::filesystem::current_path(from_); }

 private:
  std::filesystem::path from_;
};

TEST(OpenStore, RejectsUnsupportedUrls) {
  for (const char* url : {"", "mysql://akamu:s3cret@db.internal/akamu", "mysql://x/y",
                          "sqlite3:x.db", "SQLITE:x.db", "/var/lib/akamu.db", "x.db"}) {
    auto store = openStore(url);
    ASSERT_FALSE(store) << url;
    EXPECT_EQ(store.error().type, ProblemType::kMalformed) << url;
    EXPECT_TRUE(store.error().detail.starts_with("unsupported database url")) << url;
    EXPECT_EQ(store.error().detail.find("s3cret"), std::string::npos) << "leaks the password";
  }
}

TEST(OpenStore, RecognisesPostgresUrls) {
  for (const char* url : {"postgres://a@h/d", "postgresql://a:pw@h:5432/d?sslmode=require",
                          "host=127.0.0.1 port=5432 dbname=akamu", "dbname=akamu"}) {
    EXPECT_TRUE(core::isPostgresUrl(url)) << url;
  }
  for (const char* url : {"sqlite::memory:", "sqlite:///x=y.db", "sqlite://a=b", "mysql://x/y",
                          "x.db", "", "/tmp/a=b.db", "a.b=c"}) {
    EXPECT_FALSE(core::isPostgresUrl(url)) << url;
  }
}

TEST(OpenStore, PostgresWithoutAnEventLoopIsRefusedWithoutThePassword) {
  auto store = openStore("postgresql://akamu:s3cret@127.0.0.1:1/akamu");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().type, ProblemType::kServerInternal);
  EXPECT_EQ(store.error().detail.find("s3cret"), std::string::npos);
}

TEST(OpenStore, UnreachablePostgresIsAClearErrorWithoutThePassword) {
  boost::asio::io_context io;
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto store = openStore("postgresql://akamu:s3cret@127.0.0.1:1/akamu?connect_timeout=2", {},
                         io.get_executor());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().type, ProblemType::kServerInternal);
  EXPECT_NE(store.error().detail.find("127.0.0.1"), std::string::npos) << store.error().detail;
  EXPECT_EQ(store.error().detail.find("s3cret"), std::string::npos) << store.error().detail;
}

TEST(OpenStore, RejectsSqliteUrlsWithoutUsablePath) {
  for (const char* url : {"sqlite:", "sqlite://", "sqlite:x.db?mode=ro"}) {
    auto store = openStore(url);
    ASSERT_FALSE(store) << url;
    EXPECT_EQ(store.error().type, ProblemType::kMalformed) << url;
  }
}

TEST(OpenStore, OpensInMemory) {
  auto store = openStore("sqlite::memory:");
  ASSERT_TRUE(store) << store.error().detail;
  ASSERT_NE(store->get(), nullptr);
  auto missing = runBlocking((*store)->getAccount("x"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST(OpenStore, AbsoluteAndRelativePaths) {
  ScratchDir scratch;
  auto absolute = scratch.path() / "abs.db";
  {
    auto store = openStore("sqlite://" + absolute.string());
    ASSERT_TRUE(store) << store.error().detail;
  }
  EXPECT_TRUE(std::filesystem::exists(absolute));

  ChangeDir cd(scratch.path());
  for (const char* url : {"sqlite://rel1.db", "sqlite:rel2.db"}) {
    auto store = openStore(url, StoreOptions{.pool_connections = 1});
    ASSERT_TRUE(store) << url << ": " << store.error().detail;
  }
  EXPECT_TRUE(std::filesystem::exists(scratch.path() / "rel1.db"));
  EXPECT_TRUE(std::filesystem::exists(scratch.path() / "rel2.db"));
}

TEST(OpenStore, UnopenableFileIsServerInternal) {
  auto store = openStore("sqlite:///nonexistent-akamu-dir/sub/x.db");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().type, ProblemType::kServerInternal);
}

TEST(OpenStore, ReadOnlySplitServesReadsAndForwardsWrites) {
  ScratchDir scratch;
  for (std::size_t ro : {0u, 2u}) {
    auto opened =
        openStore("sqlite://" + (scratch.path() / ("z" + std::to_string(ro) + ".db")).string(),
                  StoreOptions{.pool_connections = 1, .ro_connections = ro});
    ASSERT_TRUE(opened) << opened.error().detail;
    BlockingStore store(**opened);
    acme::Account a;
    a.id = "acct";
    a.thumbprint = "thumb";
    ASSERT_TRUE(store.insertAccount(a));
    auto got = store.readOnly().findAccountByThumbprint("thumb");
    ASSERT_TRUE(got && got->has_value()) << ro;
    EXPECT_EQ((*got)->id, "acct");
    // A write through the read-only view lands in the database all the same.
    a.contacts = {"mailto:x@example.com"};
    auto written = store.readOnly().updateAccountIf(a, a.status, a.thumbprint);
    ASSERT_TRUE(written && *written) << ro;
    auto again = store.getAccount("acct");
    ASSERT_TRUE(again && again->has_value());
    EXPECT_EQ((*again)->contacts, a.contacts);
    EXPECT_EQ(&store.readOnly().async() == &**opened, ro == 0) << ro;
  }
}

}  // namespace
}  // namespace akamu::store
