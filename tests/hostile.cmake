# The "prove it" suites (issue 6), driven by Python 3 (stdlib only) against
# servers the tests start on 127.0.0.1 (tests/hostile/hostile_server.py):
#
#   integration.hostile  feedd against every misbehaving server and document
#                        at once beside good feeds (tests/hostile/test_hostile.py)
#   integration.crash    SIGKILL at random moments while storing, 200 times,
#                        checking the database after each (test_crash.py);
#                        FEEDD_CRASH_KILLS=2000 for a longer run by hand
#
# Without python3 or the feedd target they report a skip (77). Both run
# serially: their timing checks must not compete with other tests for the CPU.
find_package(Python3 COMPONENTS Interpreter QUIET)

if(FEEDD_SANITIZE)
	set(FEEDD_HOSTILE_SANITIZED 1)
else()
	set(FEEDD_HOSTILE_SANITIZED 0)
endif()

foreach(name hostile crash)
	if(Python3_Interpreter_FOUND AND TARGET feedd AND TARGET feedctl)
		add_test(NAME integration.${name}
			COMMAND ${Python3_EXECUTABLE}
				${CMAKE_CURRENT_SOURCE_DIR}/hostile/test_${name}.py)
		set_tests_properties(integration.${name} PROPERTIES ENVIRONMENT
			"FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SANITIZED=${FEEDD_HOSTILE_SANITIZED}")
	else()
		add_test(NAME integration.${name} COMMAND sh -c
			"echo 'skip: needs python3 and the feedd target'; exit 77")
	endif()
	set_tests_properties(integration.${name} PROPERTIES LABELS integration
		SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
endforeach()
