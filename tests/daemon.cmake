# daemon/ registrations beyond the unit tests (unit.conf, unit.sched and
# unit.daemon_misc come from tests/unit/): feedctl's OPML commands end to
# end, the systemd unit, and the man pages.

add_test(NAME integration.opml
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/opml.sh
		$<TARGET_FILE:feedctl> ${CMAKE_CURRENT_SOURCE_DIR}/data)
set_tests_properties(integration.opml PROPERTIES LABELS integration TIMEOUT 60)

# The build's configured unit: `systemd-analyze verify` clean and
# `security --offline` exposure <= 2.0 (install.layout checks the /usr one).
add_test(NAME integration.systemd_unit
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/systemd_unit.sh ${PROJECT_SOURCE_DIR}
		${CMAKE_BINARY_DIR}/daemon/feedd.service
		${CMAKE_BINARY_DIR}/daemon/localized/systemd/feedd.sysusers)
set_tests_properties(integration.systemd_unit PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 60)

add_test(NAME integration.manpages
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/manpages.sh
		$<TARGET_FILE:feedctl> ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.manpages PROPERTIES LABELS integration TIMEOUT 60)
