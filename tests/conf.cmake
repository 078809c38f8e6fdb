# feedd --check-config end to end (tests/integration/check_config.sh): every
# error of a multi-file config with FILE:LINE and the count, the database
# directory checks, secrets masked, relative database resolution, and the
# example config in a fresh checkout.
if(TARGET feedd)
	add_test(NAME conf.check_config
		COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/check_config.sh
			$<TARGET_FILE:feedd> ${PROJECT_SOURCE_DIR})
	set_tests_properties(conf.check_config PROPERTIES LABELS integration TIMEOUT 120)
endif()
