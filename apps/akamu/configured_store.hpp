#pragma once
// The store named by a config file, opened for a command-line tool (with or without a server
// running on it), with the event loop its calls run on.
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace akamu::cli {

struct OpenedStore {
  boost::asio::io_context io;
  std::unique_ptr<store::Store> store;
};

// Null after printing "<command>: <why>" to stderr.
std::unique_ptr<OpenedStore> openConfiguredStore(const std::string& config_path,
                                                 const std::string& command);

}  // namespace akamu::cli
