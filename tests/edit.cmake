# feedctl discover, add, remove, enable, disable (tests/edit/): discover
# against tests/support/feedserver.py on 127.0.0.1, the edits against a
# config in a temporary directory with a stand-in systemctl
# ($FEEDCTL_SYSTEMCTL), and a running feedd reloaded by it. Python 3
# (stdlib only) drives them; without it they report a skip (77).
find_package(Python3 COMPONENTS Interpreter QUIET)

foreach(name discover edit)
	if(Python3_Interpreter_FOUND AND TARGET feedd)
		add_test(NAME edit.${name}
			COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/edit/${name}.py)
		set_tests_properties(edit.${name} PROPERTIES ENVIRONMENT
			"FEEDD=$<TARGET_FILE:feedd>;FEEDCTL=$<TARGET_FILE:feedctl>;FEEDD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
	else()
		add_test(NAME edit.${name} COMMAND sh -c
			"echo 'skip: needs python3 and the feedd target'; exit 77")
	endif()
	set_tests_properties(edit.${name} PROPERTIES LABELS cli
		SKIP_RETURN_CODE 77 TIMEOUT 180)
endforeach()
