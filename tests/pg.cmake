# PostgreSQL: the CTest fixture `pg`, one private server for the whole run
# (tests/support/pgserver.py: initdb + pg_ctl into a temporary directory,
# unix socket only; as root the server runs as the system user feedd-test).
#
# pg.start writes the libpq connection string of a database owned by role
# feedd to ${CMAKE_BINARY_DIR}/pg/conninfo, e.g.
#   host=/tmp/feedd-pg-k2j4x7 port=41601 user=feedd dbname=feedd
# feedd is no superuser but may CREATE DATABASE, so a test makes a fresh
# database of its own (Python: pgserver.fixture().create_database()). A
# test that needs PostgreSQL is registered with
#
#   feedd_require_pg(NAME ...)
#
# (FIXTURES_REQUIRED pg, and FEEDD_TEST_PG_FILE set to that file, added to
# what the test already has: call it after set_tests_properties), and
# CTest runs pg.start before it and pg.stop after the last such test,
# whether it passed or not. Without python3 or the server binaries
# pg.start fails, and so do the tests that need it: PostgreSQL support is
# not tested, which is a failure, not a skip.
find_package(Python3 COMPONENTS Interpreter QUIET)

set(FEEDD_TEST_PG_DIR ${CMAKE_BINARY_DIR}/pg)
set(FEEDD_TEST_PG_FILE ${FEEDD_TEST_PG_DIR}/conninfo)
set(FEEDD_PGSERVER ${CMAKE_CURRENT_SOURCE_DIR}/support/pgserver.py)

function(feedd_require_pg)
	foreach(t ${ARGN})
		set_property(TEST ${t} APPEND PROPERTY FIXTURES_REQUIRED pg)
		set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
			"FEEDD_TEST_PG_FILE=${FEEDD_TEST_PG_FILE}")
	endforeach()
endfunction()

if(Python3_Interpreter_FOUND)
	add_test(NAME pg.start COMMAND ${Python3_EXECUTABLE} ${FEEDD_PGSERVER}
		start ${FEEDD_TEST_PG_DIR})
	add_test(NAME pg.stop COMMAND ${Python3_EXECUTABLE} ${FEEDD_PGSERVER}
		stop ${FEEDD_TEST_PG_DIR})
	add_test(NAME pg.harness COMMAND ${Python3_EXECUTABLE}
		${CMAKE_CURRENT_SOURCE_DIR}/pg/test_harness.py)
	# docs/postgresql.md's SQL on a server of its own (password logins).
	add_test(NAME pg.docs COMMAND ${Python3_EXECUTABLE}
		${CMAKE_CURRENT_SOURCE_DIR}/pg/test_docs.py)
	# tests/support/pg_views_check.py, which the SQLite -> PostgreSQL
	# round-trip test is to use: on two SQLite files written through
	# store/, and on SQLite against stand-in PostgreSQL views.
	add_test(NAME pg.views_check COMMAND ${Python3_EXECUTABLE}
		${CMAKE_CURRENT_SOURCE_DIR}/pg/test_views_check.py $<TARGET_FILE:store_fill>)
else()
	foreach(name pg.start pg.stop pg.harness pg.docs pg.views_check)
		add_test(NAME ${name} COMMAND sh -c
			"echo 'python3 is needed to run a PostgreSQL server for the tests'; exit 1")
	endforeach()
endif()
set_tests_properties(pg.start PROPERTIES FIXTURES_SETUP pg LABELS pg TIMEOUT 120)
set_tests_properties(pg.stop PROPERTIES FIXTURES_CLEANUP pg LABELS pg TIMEOUT 120)
set_tests_properties(pg.harness PROPERTIES LABELS pg TIMEOUT 300)
feedd_require_pg(pg.harness)
set_tests_properties(pg.docs pg.views_check PROPERTIES LABELS pg TIMEOUT 300)
