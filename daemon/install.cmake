# Install rules beyond the binaries: the systemd unit and sysusers entry,
# the example config (never over a live one) and the man pages.
# Included from daemon/CMakeLists.txt.

# Where systemd looks for units and sysusers.d files: from systemd.pc when
# present, overridable (packagers, or a --prefix install as non-root).
pkg_get_variable(FEEDD_PC_UNITDIR systemd systemdsystemunitdir)
pkg_get_variable(FEEDD_PC_SYSUSERSDIR systemd sysusersdir)
if(NOT FEEDD_PC_UNITDIR)
	set(FEEDD_PC_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
if(NOT FEEDD_PC_SYSUSERSDIR)
	set(FEEDD_PC_SYSUSERSDIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)
endif()
set(FEEDD_SYSTEMD_UNITDIR "${FEEDD_PC_UNITDIR}" CACHE PATH
	"Directory for feedd.service (default: systemd.pc's systemdsystemunitdir)")
set(FEEDD_SYSUSERSDIR "${FEEDD_PC_SYSUSERSDIR}" CACHE PATH
	"Directory for the sysusers.d entry (default: systemd.pc's sysusersdir)")

configure_file(${PROJECT_SOURCE_DIR}/systemd/feedd.service.in
	${CMAKE_CURRENT_BINARY_DIR}/feedd.service @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/feedd.service
	DESTINATION ${FEEDD_SYSTEMD_UNITDIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/feedd.sysusers
	DESTINATION ${FEEDD_SYSUSERSDIR} RENAME feedd.conf)

# The example config becomes feedd.conf only where there is none yet; an
# existing (edited) one is kept and the example put beside it. The check
# runs at install time, so it sees DESTDIR; file(INSTALL) adds DESTDIR to
# an absolute destination itself.
set(FEEDD_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/feedd)
install(CODE "
	if(EXISTS \"\$ENV{DESTDIR}${FEEDD_CONFDIR}/feedd.conf\")
		message(STATUS \"Keeping existing: \$ENV{DESTDIR}${FEEDD_CONFDIR}/feedd.conf\")
		file(INSTALL \"${PROJECT_SOURCE_DIR}/etc/feedd.conf\"
			DESTINATION \"${FEEDD_CONFDIR}\" RENAME feedd.conf.example)
	else()
		file(INSTALL \"${PROJECT_SOURCE_DIR}/etc/feedd.conf\"
			DESTINATION \"${FEEDD_CONFDIR}\")
	endif()
")

install(FILES ${PROJECT_SOURCE_DIR}/docs/man/feedd.8
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/feedd.conf.5
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/feedctl.1
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
