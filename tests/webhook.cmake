# Webhook transport (daemon/webhook.c): unit.webhook and unit.webhook_http
# come from tests/unit/. This checks the receiver those tests (and the
# end-to-end hook tests) rely on: its signature check and its scripting.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
	add_test(NAME integration.webhook_receiver
		COMMAND ${Python3_EXECUTABLE}
			${CMAKE_CURRENT_SOURCE_DIR}/integration/webhook_receiver.py)
else()
	add_test(NAME integration.webhook_receiver COMMAND sh -c
		"echo 'skip: needs python3'; exit 77")
endif()
set_tests_properties(integration.webhook_receiver PROPERTIES
	LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 60)
