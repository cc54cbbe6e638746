function(akamu_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  # GCC 12 at -O3 reports false positives inside libstdc++'s std::string and std::vector
  # (-Wrestrict: GCC bug 105651; -Warray-bounds/-Wstringop-* on vector reallocation:
  # GCC bugs 107852, 106199). They are not in our code and would fail Release -Werror builds.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-array-bounds
                                             -Wno-stringop-overflow -Wno-stringop-overread)
  endif()
  if(AKAMU_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(AKAMU_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
