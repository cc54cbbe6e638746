function(akamu_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  # GCC 12 reports -Wrestrict false positives inside libstdc++'s std::string at -O3 (GCC bug
  # 105651); they are not in our code and would make the Release build fail with -Werror.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(AKAMU_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(AKAMU_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
