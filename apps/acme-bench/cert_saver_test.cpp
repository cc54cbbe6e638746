#include "cert_saver.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "target.hpp"

namespace akamu::bench {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CertSaver, FilesAndIndexLines) {
  auto tmp = TempDir::create("cert-saver-test-");
  ASSERT_TRUE(tmp);
  const std::string dir = tmp->path() + "/nested/certs";
  auto saver = CertSaver::open(dir);
  ASSERT_TRUE(saver) << saver.error().detail;

  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&saver, w] {
      for (int n = 0; n < kPerThread; ++n) {
        const std::string url = "http://127.0.0.1:1/acme/cert/" + std::to_string(w * 100 + n);
        const std::string pem = "-----BEGIN CERTIFICATE-----\n" + url + "\n";
        EXPECT_TRUE((*saver)->save(w, static_cast<std::uint64_t>(n), url, pem));
      }
    });
  }
  for (auto& t : threads) t.join();

  // Every line is whole, names a file that exists, and the file holds that download's bytes.
  std::istringstream index(slurp(dir + "/index.tsv"));
  std::set<std::string> names;
  std::string line;
  while (std::getline(index, line)) {
    const auto tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string url = line.substr(0, tab);
    const std::string name = line.substr(tab + 1);
    EXPECT_EQ(slurp(dir + "/" + name), "-----BEGIN CERTIFICATE-----\n" + url + "\n");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_TRUE(names.count("3-24.pem"));
  // No temporary file is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);
  }

  // Reopening appends.
  saver->reset();
  auto again = CertSaver::open(dir);
  ASSERT_TRUE(again);
  ASSERT_TRUE((*again)->save(9, 0, "http://x/cert/9", "pem"));
  EXPECT_NE(slurp(dir + "/index.tsv").find("0-0.pem"), std::string::npos);
  EXPECT_NE(slurp(dir + "/index.tsv").find("http://x/cert/9\t9-0.pem\n"), std::string::npos);
}

TEST(CertSaver, RefusesAFileAsDirectory) { EXPECT_FALSE(CertSaver::open("/dev/null/certs")); }

}  // namespace
}  // namespace akamu::bench
