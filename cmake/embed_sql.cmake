# Writes OUT, a C file holding the SQL files of SQL_DIR as strings, in name order:
#   const struct sql_file sql_files[]; const int sql_files_count;
#     every SQL_DIR/*.sql file (the migrations `flowetl init` applies), as it is;
#   const struct sql_file sql_merge_files[]; const int sql_merge_files_count;
#     every SQL_DIR/merge/*.sql file (one statement each, the loader's), with its
#     leading "--" comment lines dropped, its final newline dropped and every other
#     newline made a space: the statement on one line, as the loader sends it;
#   const struct sql_file sql_citus_files[]; const int sql_citus_files_count;
#     every SQL_DIR/citus/*.sql file, named "citus/NNN_name.sql" (the Citus layout).

# Appends to body one array entry per file of dir/*.sql; merge: a loader statement.
function(embed_dir dir merge prefix)
  file(GLOB files RELATIVE ${dir} ${dir}/*.sql)
  list(SORT files)
  set(count 0)
  foreach(f ${files})
    if(merge)
      file(READ ${dir}/${f} text)
      string(REGEX REPLACE "^(--[^\n]*\n)+" "" text "${text}")
      string(REGEX REPLACE "\n$" "" text "${text}")
      string(REPLACE "\n" " " text "${text}")
      string(HEX "${text}" hex)
    else()
      file(READ ${dir}/${f} hex HEX)
    endif()
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
    string(APPEND body "  {\"${prefix}${f}\", (const char[]){${bytes} 0}},\n")
    math(EXPR count "${count} + 1")
  endforeach()
  set(body "${body}" PARENT_SCOPE)
  set(count ${count} PARENT_SCOPE)
endfunction()

set(body "/* Generated from the files of sql/ by cmake/embed_sql.cmake. Do not edit. */\n#include \"load/sql_embed.h\"\n\nconst struct sql_file sql_files[] = {\n")
embed_dir(${SQL_DIR} FALSE "")
string(APPEND body "};\nconst int sql_files_count = ${count};\n\nconst struct sql_file sql_merge_files[] = {\n")
embed_dir(${SQL_DIR}/merge TRUE "")
string(APPEND body "};\nconst int sql_merge_files_count = ${count};\n\nconst struct sql_file sql_citus_files[] = {\n")
embed_dir(${SQL_DIR}/citus FALSE "citus/")
string(APPEND body "};\nconst int sql_citus_files_count = ${count};\n")
file(WRITE ${OUT}.tmp "${body}")
configure_file(${OUT}.tmp ${OUT} COPYONLY)
