# OpenSSL: scripts/setup.sh passes -DOPENSSL_ROOT_DIR=<cached 3.5 build> when the system
# OpenSSL is older. The rpath is written as DT_RPATH (--disable-new-dtags) so that libraries
# we load that also link libssl.so.3 (libpq, libunbound) resolve to the same OpenSSL.
find_package(OpenSSL 3.0 REQUIRED)
message(STATUS "OpenSSL ${OPENSSL_VERSION} at ${OPENSSL_INCLUDE_DIR}")
if(OPENSSL_ROOT_DIR)
  get_filename_component(_ossl_libdir "${OPENSSL_CRYPTO_LIBRARY}" DIRECTORY)
  set(CMAKE_BUILD_RPATH "${_ossl_libdir}")
  set(CMAKE_INSTALL_RPATH "${_ossl_libdir}")
  add_link_options(-Wl,--disable-new-dtags)
endif()

find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json url)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(tl-expected REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED COMPONENTS core)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
# IDNA2008 (RFC 5891) checks of A-labels in DNS identifiers.
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
# libunbound's pkg-config file drags in libevent's; the library itself is all we link.
find_library(UNBOUND_LIBRARY unbound REQUIRED)
find_path(UNBOUND_INCLUDE_DIR unbound.h REQUIRED)
add_library(Unbound::unbound UNKNOWN IMPORTED)
set_target_properties(Unbound::unbound PROPERTIES IMPORTED_LOCATION "${UNBOUND_LIBRARY}"
                                                  INTERFACE_INCLUDE_DIRECTORIES "${UNBOUND_INCLUDE_DIR}")
if(AKAMU_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_JSON_NO_LIB BOOST_URL_NO_LIB)
