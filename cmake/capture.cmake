# Runs BIN ARG and writes its stdout to OUT; fails the build when BIN fails.
#   cmake -DBIN=<program> -DARG=<option> -DOUT=<file> -P capture.cmake
execute_process(COMMAND ${BIN} ${ARG} OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "${BIN} ${ARG} failed (${rc})")
endif()
file(RENAME ${OUT}.tmp ${OUT})
