# End-to-end tests: the real feedd and feedctl against tests/support/
# feedserver.py on 127.0.0.1. Python 3 (stdlib only) drives them; without
# it, or without the feedd binary, they report a skip (77).
find_package(Python3 COMPONENTS Interpreter QUIET)

set(FEEDD_INTEGRATION_TESTS
	e2e   # daemon lifecycle: cycle, change, follow, SIGHUP, kill -9, SIGTERM
	once  # --once exit statuses, 410/301 memory, --check-config
	rules # keep/block rules: stored or not, counts, feedctl rules, SIGHUP
	hooks # exec hooks: batches, retries, timeouts, kill -9, slow hooks, config
)
foreach(name ${FEEDD_INTEGRATION_TESTS})
	if(Python3_Interpreter_FOUND AND TARGET feedd)
		add_test(NAME integration.${name}
			COMMAND ${Python3_EXECUTABLE}
				${CMAKE_CURRENT_SOURCE_DIR}/integration/test_${name}.py)
		set_tests_properties(integration.${name} PROPERTIES
			ENVIRONMENT "FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
	else()
		add_test(NAME integration.${name} COMMAND sh -c
			"echo 'skip: needs python3 and the feedd target'; exit 77")
	endif()
	set_tests_properties(integration.${name} PROPERTIES LABELS integration
		SKIP_RETURN_CODE 77 TIMEOUT 180 RUN_SERIAL TRUE)
endforeach()

# feedd on PostgreSQL while its server goes away: private servers of its
# own (it stops and starts them), ordered after the pg fixture.
if(Python3_Interpreter_FOUND AND TARGET feedd)
	add_test(NAME integration.pgfaults
		COMMAND ${Python3_EXECUTABLE}
			${CMAKE_CURRENT_SOURCE_DIR}/integration/test_pgfaults.py)
	set_tests_properties(integration.pgfaults PROPERTIES
		ENVIRONMENT "FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
else()
	add_test(NAME integration.pgfaults COMMAND sh -c
		"echo 'skip: needs python3 and the feedd target'; exit 77")
endif()
set_tests_properties(integration.pgfaults PROPERTIES LABELS "integration;pg"
	SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
feedd_require_pg(integration.pgfaults)
