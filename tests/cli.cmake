# feedctl as a user types it (tests/cli/): help against feedctl(1), the
# reading commands against a database feedd --once filled from
# tests/support/feedserver.py, OPML import/export, and migrate (SQLite ->
# PostgreSQL -> SQLite, under the pg fixture). Python 3 (stdlib only)
# drives them; without it they report a skip (77).
find_package(Python3 COMPONENTS Interpreter QUIET)

if(Python3_Interpreter_FOUND)
	add_test(NAME cli.help_man
		COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/cli/help_man.py
			$<TARGET_FILE:feedctl> ${PROJECT_SOURCE_DIR}/docs/man/feedctl.1)
	set(FEEDD_CLI_TESTS read opml migrate)
	foreach(name ${FEEDD_CLI_TESTS})
		if(TARGET feedd)
			add_test(NAME cli.${name}
				COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/cli/${name}.py)
			set_tests_properties(cli.${name} PROPERTIES ENVIRONMENT
				"FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
		else()
			add_test(NAME cli.${name} COMMAND sh -c "echo 'skip: needs the feedd target'; exit 77")
		endif()
	endforeach()
	set_tests_properties(cli.help_man cli.read cli.opml cli.migrate PROPERTIES
		LABELS cli SKIP_RETURN_CODE 77 TIMEOUT 120)
	set_property(TEST cli.migrate APPEND PROPERTY LABELS pg)
	set_property(TEST cli.migrate PROPERTY TIMEOUT 300)
	feedd_require_pg(cli.migrate)
else()
	foreach(name help_man read opml migrate)
		add_test(NAME cli.${name} COMMAND sh -c "echo 'skip: needs python3'; exit 77")
		set_tests_properties(cli.${name} PROPERTIES LABELS cli SKIP_RETURN_CODE 77)
	endforeach()
endif()
