# The shared conformance suite (cases from Python feedparser's tests) lives
# beside the checkout in ../shared; the gate skips when it is absent.
add_test(NAME conformance COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/conformance_gate.py
	${PROJECT_SOURCE_DIR}/../shared/conformance/run $<TARGET_FILE:feedctl>)
set_tests_properties(conformance PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 600)
