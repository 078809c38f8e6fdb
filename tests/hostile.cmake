# The "prove it" suites (issue 6), driven by Python 3 (stdlib only) against
# servers the tests start on 127.0.0.1 (tests/hostile/hostile_server.py):
#
#   integration.hostile       feedd against every misbehaving server and
#                             document at once, beside good feeds
#   integration.hostile_bulk  the same checks with the 200,000-entry document
#                             beside the good feeds: storing it must not stall
#                             every other feed (kept apart so a failure names
#                             that cause)
#   integration.crash         SIGKILL at random moments while storing, 200
#                             times, the database checked after each;
#                             FEEDD_CRASH_KILLS=2000 for a longer run by hand
#   integration.crash_first_due  restarts every 2 s must not starve a feed
#                             that was never polled yet
#   integration.crash_pg      integration.crash's checks on PostgreSQL (a
#                             fresh database on the pg fixture's server)
#
# Without python3 or the feedd target they report a skip (77). They run
# serially: their timing checks must not compete with other tests for the CPU.
find_package(Python3 COMPONENTS Interpreter QUIET)

if(FEEDD_SANITIZE)
	set(FEEDD_HOSTILE_SANITIZED 1)
else()
	set(FEEDD_HOSTILE_SANITIZED 0)
endif()

# name | script | argument | extra environment
set(FEEDD_HOSTILE_TESTS
	"hostile|test_hostile.py||FEEDD_HOSTILE_EXCLUDE=many-entries"
	"hostile_bulk|test_hostile.py||FEEDD_HOSTILE_ONLY=many-entries"
	"crash|test_crash.py||"
	"crash_pg|test_crash.py||FEEDD_CRASH_DB=pg"
	"crash_first_due|test_crash.py|first_due|"
)
foreach(spec ${FEEDD_HOSTILE_TESTS})
	string(REPLACE "|" ";" parts "${spec}")
	list(GET parts 0 name)
	list(GET parts 1 script)
	list(GET parts 2 arg)
	list(GET parts 3 extra)
	if(Python3_Interpreter_FOUND AND TARGET feedd AND TARGET feedctl)
		add_test(NAME integration.${name}
			COMMAND ${Python3_EXECUTABLE}
				${CMAKE_CURRENT_SOURCE_DIR}/hostile/${script} ${arg})
		set_tests_properties(integration.${name} PROPERTIES ENVIRONMENT
			"FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SANITIZED=${FEEDD_HOSTILE_SANITIZED};${extra}")
	else()
		add_test(NAME integration.${name} COMMAND sh -c
			"echo 'skip: needs python3 and the feedd target'; exit 77")
	endif()
	set_tests_properties(integration.${name} PROPERTIES LABELS integration
		SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
endforeach()
feedd_require_pg(integration.crash_pg)
