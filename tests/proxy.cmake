# feedd through failing proxies, end to end: the log line names the feed,
# its URL and the proxy (password masked) with the cause.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND AND TARGET feedd)
	add_test(NAME integration.proxy
		COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_proxy.py)
	set_tests_properties(integration.proxy PROPERTIES
		ENVIRONMENT "FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
else()
	add_test(NAME integration.proxy COMMAND sh -c
		"echo 'skip: needs python3 and the feedd target'; exit 77")
endif()
set_tests_properties(integration.proxy PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 120)
