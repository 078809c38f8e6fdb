# store/: integration tests beyond the unit tests (tests/unit/test_store.c).
# Helper programs under tests/store/ link only the store module.
foreach(prog store_fill store_concurrent store_crash store_changelog)
	add_executable(${prog} ${CMAKE_CURRENT_SOURCE_DIR}/store/${prog}.c)
	target_include_directories(${prog} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
	target_link_libraries(${prog} PRIVATE feedd_store PkgConfig::SQLITE3
		PkgConfig::LIBPQ)
endforeach()

# A reader process reads in a loop while a writer stores 5,000 articles.
add_test(NAME store.concurrent COMMAND sh -c
	"d=$(mktemp -d) && $<TARGET_FILE:store_concurrent> $d 200; rc=$?; rm -rf $d; exit $rc")
# kill -9 of the writer at random moments, 50 times; more by hand with
# `store_crash DIR 1000`.
add_test(NAME store.crash COMMAND sh -c
	"d=$(mktemp -d) && $<TARGET_FILE:store_crash> $d 50; rc=$?; rm -rf $d; exit $rc")
set_tests_properties(store.concurrent store.crash PROPERTIES LABELS integration
	TIMEOUT 120)
# The same reader and writer on PostgreSQL (fixture pg). store.crash stays
# SQLite's: it checks the file after kill -9 with PRAGMA integrity_check.
add_test(NAME store.concurrent.pg COMMAND sh -c
	"d=$(mktemp -d) && $<TARGET_FILE:store_concurrent> $d 200; rc=$?; rm -rf $d; exit $rc")
set_tests_properties(store.concurrent.pg PROPERTIES LABELS "integration;pg"
	TIMEOUT 120 SKIP_RETURN_CODE 77 FIXTURES_REQUIRED pg
	ENVIRONMENT "FEEDD_TEST_PG_FILE=${CMAKE_BINARY_DIR}/pg/conninfo")
# The change log has no gap: four writers commit overlapping refreshes in
# any order while a reader follows "seq > cursor"; it must see every row
# once, in order (store/SCHEMA.md, "The change log"). On PostgreSQL, where
# the seq is taken at INSERT, and on SQLite (one writer at a time).
add_test(NAME store.changelog.pg COMMAND sh -c
	"d=$(mktemp -d) && $<TARGET_FILE:store_changelog> $d 60; rc=$?; rm -rf $d; exit $rc")
set_tests_properties(store.changelog.pg PROPERTIES LABELS "integration;pg"
	TIMEOUT 120 SKIP_RETURN_CODE 77 FIXTURES_REQUIRED pg
	ENVIRONMENT "FEEDD_TEST_PG_FILE=${CMAKE_BINARY_DIR}/pg/conninfo")
add_test(NAME store.changelog COMMAND sh -c
	"d=$(mktemp -d) && $<TARGET_FILE:store_changelog> $d 60; rc=$?; rm -rf $d; exit $rc")
set_tests_properties(store.changelog PROPERTIES LABELS integration TIMEOUT 120)

# feedctl follow on PostgreSQL wakes on the commit's NOTIFY (its fallback
# poll set to a minute), and stops on SIGINT and SIGTERM.
add_test(NAME store.follow.pg COMMAND ${Python3_EXECUTABLE}
	${CMAKE_CURRENT_SOURCE_DIR}/pg/test_follow.py $<TARGET_FILE:feedctl>
	$<TARGET_FILE:store_fill>)
set_tests_properties(store.follow.pg PROPERTIES LABELS "integration;pg"
	TIMEOUT 120)
feedd_require_pg(store.follow.pg)

# feedctl's reading commands, and the Python reader printed in SCHEMA.md.
add_test(NAME store.feedctl COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/store/feedctl_read.sh
	$<TARGET_FILE:feedctl> $<TARGET_FILE:store_fill>)
add_test(NAME store.python_reader COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/store/python_reader.sh
	$<TARGET_FILE:store_fill> ${PROJECT_SOURCE_DIR}/store/SCHEMA.md)
set_tests_properties(store.feedctl store.python_reader PROPERTIES
	LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 60)
