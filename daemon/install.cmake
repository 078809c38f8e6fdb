# Install rules beyond the binaries: the systemd unit, sysusers.d and
# tmpfiles.d entries, the example config (never over a live one), the man
# pages, the schema document and feedctl's bash completion.
# Included from daemon/CMakeLists.txt, which sets FEEDD_CONFDIR,
# FEEDD_DEFAULT_CONFIG and FEEDD_STATE_DIR from GNUInstallDirs.

# Where systemd looks for units, sysusers.d and tmpfiles.d files. For
# prefix /usr, systemd.pc's answer (Debian 12: /lib/systemd/system and
# /usr/lib/{sysusers,tmpfiles}.d); for any other prefix, under it (systemd
# also reads /usr/local/lib/systemd/system, /usr/local/lib/sysusers.d and
# /usr/local/lib/tmpfiles.d). Overridable, e.g. for a --prefix install as
# non-root.
set(FEEDD_PC_UNITDIR "")
set(FEEDD_PC_SYSUSERSDIR "")
set(FEEDD_PC_TMPFILESDIR "")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
	pkg_get_variable(FEEDD_PC_UNITDIR systemd systemdsystemunitdir)
	pkg_get_variable(FEEDD_PC_SYSUSERSDIR systemd sysusersdir)
	pkg_get_variable(FEEDD_PC_TMPFILESDIR systemd tmpfilesdir)
endif()
if(NOT FEEDD_PC_UNITDIR)
	set(FEEDD_PC_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
if(NOT FEEDD_PC_SYSUSERSDIR)
	set(FEEDD_PC_SYSUSERSDIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)
endif()
if(NOT FEEDD_PC_TMPFILESDIR)
	set(FEEDD_PC_TMPFILESDIR ${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d)
endif()
set(FEEDD_SYSTEMD_UNITDIR "${FEEDD_PC_UNITDIR}" CACHE PATH
	"Directory for feedd.service (default: systemd.pc's for prefix /usr, else PREFIX/lib/systemd/system)")
set(FEEDD_SYSUSERSDIR "${FEEDD_PC_SYSUSERSDIR}" CACHE PATH
	"Directory for the sysusers.d entry (default: systemd.pc's for prefix /usr, else PREFIX/lib/sysusers.d)")
set(FEEDD_TMPFILESDIR "${FEEDD_PC_TMPFILESDIR}" CACHE PATH
	"Directory for the tmpfiles.d entry (default: systemd.pc's for prefix /usr, else PREFIX/lib/tmpfiles.d)")
set(FEEDD_BASH_COMPLETIONDIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" CACHE PATH
	"Directory for feedctl's bash completion")

# The unit. StateDirectory= and ConfigurationDirectory= only know /var/lib
# and /etc; for another layout the unit names the directories itself and
# tmpfiles.d creates the state directory.
if(FEEDD_STATE_DIR STREQUAL "/var/lib/feedd")
	set(FEEDD_UNIT_STATE "StateDirectory=feedd\nStateDirectoryMode=0750")
else()
	set(FEEDD_UNIT_STATE "# ${FEEDD_STATE_DIR} is not under /var/lib, which is all StateDirectory=\n# knows: feedd.tmpfiles creates it, and it is made writable here.\nReadWritePaths=${FEEDD_STATE_DIR}")
endif()
if(FEEDD_CONFDIR STREQUAL "/etc/feedd")
	set(FEEDD_UNIT_CONFDIR "ConfigurationDirectory=feedd")
else()
	set(FEEDD_UNIT_CONFDIR "# No ConfigurationDirectory=: it names directories under /etc only.")
endif()
configure_file(${PROJECT_SOURCE_DIR}/systemd/feedd.service.in
	${CMAKE_CURRENT_BINARY_DIR}/feedd.service @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/feedd.service
	DESTINATION ${FEEDD_SYSTEMD_UNITDIR})

# Files written for the Debian layout (/etc/feedd, /var/lib/feedd) get this
# build's paths instead, so what a man page or the example config says is
# where this build looks. With prefix /usr they are installed unchanged.
function(feedd_localize src out)
	file(READ ${src} text)
	string(REPLACE "/var/lib/feedd" "${FEEDD_STATE_DIR}" text "${text}")
	string(REPLACE "/etc/feedd" "${FEEDD_CONFDIR}" text "${text}")
	set(old "")
	if(EXISTS ${out})
		file(READ ${out} old)
	endif()
	if(NOT old STREQUAL text)
		file(WRITE ${out} "${text}")
	endif()
	set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
endfunction()

set(FEEDD_LOCAL ${CMAKE_CURRENT_BINARY_DIR}/localized)
foreach(f systemd/feedd.sysusers systemd/feedd.tmpfiles etc/feedd.conf
		docs/man/feedd.8 docs/man/feedd.conf.5 docs/man/feedctl.1 store/SCHEMA.md)
	feedd_localize(${PROJECT_SOURCE_DIR}/${f} ${FEEDD_LOCAL}/${f})
endforeach()

install(FILES ${FEEDD_LOCAL}/systemd/feedd.sysusers
	DESTINATION ${FEEDD_SYSUSERSDIR} RENAME feedd.conf)
install(FILES ${FEEDD_LOCAL}/systemd/feedd.tmpfiles
	DESTINATION ${FEEDD_TMPFILESDIR} RENAME feedd.conf)

# The example config becomes feedd.conf only where there is none yet; an
# existing (edited) one is kept and the example put beside it. Mode 0640:
# a config may hold passwords. Its group must be feedd for the service to
# read it; the group exists only once systemd-sysusers has run, so the
# Debian postinst sets it, and README says how for a plain install. The
# check runs at install time, so it sees DESTDIR; file(INSTALL) adds
# DESTDIR to an absolute destination itself. feeds.d/, which the example
# includes, is made 0750 for the same reason.
install(CODE "
	set(perms FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
	if(EXISTS \"\$ENV{DESTDIR}${FEEDD_CONFDIR}/feedd.conf\")
		message(STATUS \"Keeping existing: \$ENV{DESTDIR}${FEEDD_CONFDIR}/feedd.conf\")
		file(INSTALL \"${FEEDD_LOCAL}/etc/feedd.conf\"
			DESTINATION \"${FEEDD_CONFDIR}\" RENAME feedd.conf.example \${perms})
	else()
		file(INSTALL \"${FEEDD_LOCAL}/etc/feedd.conf\"
			DESTINATION \"${FEEDD_CONFDIR}\" \${perms})
	endif()
	if(NOT EXISTS \"\$ENV{DESTDIR}${FEEDD_CONFDIR}/feeds.d\")
		file(MAKE_DIRECTORY \"\$ENV{DESTDIR}${FEEDD_CONFDIR}/feeds.d\")
		execute_process(COMMAND chmod 0750 \"\$ENV{DESTDIR}${FEEDD_CONFDIR}/feeds.d\")
	endif()
")

install(FILES ${FEEDD_LOCAL}/docs/man/feedd.8
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${FEEDD_LOCAL}/docs/man/feedd.conf.5
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${FEEDD_LOCAL}/docs/man/feedctl.1
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${FEEDD_LOCAL}/store/SCHEMA.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/etc/feedctl.bash-completion
	DESTINATION ${FEEDD_BASH_COMPLETIONDIR} RENAME feedctl)
