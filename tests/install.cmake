# Install layout and packaging (tests/install/).
#
# install.layout: two small builds (prefixes /usr and /usr/local,
# -DBUILD_TESTING=OFF) installed into DESTDIRs; the unit, --help, the man
# pages, the config and the sysusers/tmpfiles entries name the same paths.
add_test(NAME install.layout
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install/layout.sh ${PROJECT_SOURCE_DIR}
		${CMAKE_BINARY_DIR} ${CMAKE_COMMAND} ${CMAKE_C_COMPILER})
set_tests_properties(install.layout PROPERTIES LABELS install TIMEOUT 300 RUN_SERIAL TRUE)

# install.completion: etc/feedctl.bash-completion in bash, against a
# stand-in feedctl printing the documented help format and against the
# real feedctl with a database feedd wrote.
find_program(FEEDD_BASH bash REQUIRED)
add_test(NAME install.completion
	COMMAND ${FEEDD_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/install/completion.sh ${PROJECT_SOURCE_DIR}
		$<TARGET_FILE:feedctl> $<TARGET_FILE:feedd>)
set_tests_properties(install.completion PROPERTIES LABELS install TIMEOUT 60)

# install.deb: dpkg-buildpackage, the .deb's contents, lintian (0 errors),
# and apt-get install/remove/purge in a fresh Debian root (mmdebstrap from
# the host's apt sources). Root and the Debian mirror; about a minute.
add_test(NAME install.deb
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install/deb.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(install.deb PROPERTIES LABELS install TIMEOUT 900 RUN_SERIAL TRUE)
