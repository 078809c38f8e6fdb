# The `listen` endpoints end to end: tests/integration/test_metrics.py runs
# feedd against tests/support/feedserver.py and checks /metrics (with
# promtool, which must be installed: the test fails without it) and
# /healthz.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND AND TARGET feedd)
	add_test(NAME integration.metrics
		COMMAND ${Python3_EXECUTABLE}
			${CMAKE_CURRENT_SOURCE_DIR}/integration/test_metrics.py)
	set_tests_properties(integration.metrics PROPERTIES
		ENVIRONMENT "FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
else()
	add_test(NAME integration.metrics COMMAND sh -c
		"echo 'skip: needs python3 and the feedd target'; exit 77")
endif()
set_tests_properties(integration.metrics PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 120 RUN_SERIAL TRUE)
