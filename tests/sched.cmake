# The first poll and cron-safe --once: tests/integration/test_firstpoll.py
# runs the real feedd against tests/support/feedserver.py on 127.0.0.1.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
add_test(NAME integration.firstpoll
	COMMAND ${Python3_EXECUTABLE}
		${CMAKE_CURRENT_SOURCE_DIR}/integration/test_firstpoll.py)
set_tests_properties(integration.firstpoll PROPERTIES LABELS integration
	TIMEOUT 600 RUN_SERIAL TRUE
	ENVIRONMENT "FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

