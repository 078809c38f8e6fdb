# Fuzz targets (tests/fuzz/README.md).
#
# Always, with any compiler: replay_<target> runs LLVMFuzzerTestOneInput()
# over the committed corpus, registered as fuzz.replay.<target>.
# With -DFEEDD_FUZZ=ON and clang: the libFuzzer binary <target>, built with
# -fsanitize=fuzzer on the target and fuzzer-no-link (coverage) on the code
# under test (a private instrumented copy of it, so the regular libraries
# stay uninstrumented), registered as fuzz.<target>: a short fixed-budget
# run on a copy of the corpus.
set(FEEDD_FUZZ_SRC ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(FEEDD_FUZZ_SECONDS 15 CACHE STRING "Seconds each fuzz.<target> CTest run may take")
# A fixed seed keeps the CI run reproducible: the same mutations in the
# same order every time (raise FEEDD_FUZZ_SECONDS or change the seed for a
# fresh campaign; tests/fuzz/README.md says how to run for longer).
set(FEEDD_FUZZ_SEED 1 CACHE STRING "libFuzzer -seed for the fuzz.<target> CTest runs")

file(GLOB FEEDD_FUZZ_PARSE_SRC CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/parse/*.c)

# name: target; code: sources under test (instrumented copy for libFuzzer);
# replay_libs: what the replay build links instead; extra: libraries both need.
function(feedd_fuzz_target name)
	cmake_parse_arguments(F "" "DICT" "CODE;REPLAY_LIBS;LIBS;INCLUDES" ${ARGN})
	set(src ${FEEDD_FUZZ_SRC}/${name}.c)

	add_executable(replay_${name} ${src} ${FEEDD_FUZZ_SRC}/replay.c)
	target_include_directories(replay_${name} PRIVATE ${FEEDD_FUZZ_SRC} ${F_INCLUDES})
	target_link_libraries(replay_${name} PRIVATE feedd_flags ${F_REPLAY_LIBS} ${F_LIBS})
	add_test(NAME fuzz.replay.${name}
		COMMAND replay_${name} ${FEEDD_FUZZ_SRC}/corpus/${name})
	set_tests_properties(fuzz.replay.${name} PROPERTIES LABELS fuzz TIMEOUT 300)

	if(FEEDD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
		add_library(${name}_code STATIC ${F_CODE})
		target_include_directories(${name}_code PRIVATE ${F_INCLUDES})
		target_compile_options(${name}_code PRIVATE -fsanitize=fuzzer-no-link)
		target_link_libraries(${name}_code PUBLIC feedd_flags ${F_LIBS})
		add_executable(${name} ${src})
		target_include_directories(${name} PRIVATE ${FEEDD_FUZZ_SRC} ${F_INCLUDES})
		target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
		target_link_options(${name} PRIVATE -fsanitize=fuzzer)
		target_link_libraries(${name} PRIVATE ${name}_code ${F_LIBS})
		set(dict "")
		if(F_DICT)
			set(dict -dict=${FEEDD_FUZZ_SRC}/${F_DICT})
		endif()
		add_test(NAME fuzz.${name}
			COMMAND sh ${FEEDD_FUZZ_SRC}/run.sh $<TARGET_FILE:${name}>
				${FEEDD_FUZZ_SRC}/corpus/${name} ${CMAKE_BINARY_DIR}/fuzz-artifacts
				-max_total_time=${FEEDD_FUZZ_SECONDS} -seed=${FEEDD_FUZZ_SEED} ${dict})
		math(EXPR budget "${FEEDD_FUZZ_SECONDS} * 4 + 60")
		set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT ${budget})
	endif()
endfunction()

feedd_fuzz_target(fuzz_parse DICT xml.dict CODE ${FEEDD_FUZZ_PARSE_SRC} REPLAY_LIBS feedd_parse
	LIBS PkgConfig::XML2 PkgConfig::JANSSON m INCLUDES ${PROJECT_SOURCE_DIR}/parse)
feedd_fuzz_target(fuzz_html DICT html.dict CODE ${FEEDD_FUZZ_PARSE_SRC} REPLAY_LIBS feedd_parse
	LIBS PkgConfig::XML2 PkgConfig::JANSSON m INCLUDES ${PROJECT_SOURCE_DIR}/parse)
feedd_fuzz_target(fuzz_html_fast DICT html.dict CODE ${FEEDD_FUZZ_PARSE_SRC} REPLAY_LIBS feedd_parse
	LIBS PkgConfig::XML2 PkgConfig::JANSSON m INCLUDES ${PROJECT_SOURCE_DIR}/parse)
feedd_fuzz_target(fuzz_date CODE ${FEEDD_FUZZ_PARSE_SRC} REPLAY_LIBS feedd_parse
	LIBS PkgConfig::XML2 PkgConfig::JANSSON m INCLUDES ${PROJECT_SOURCE_DIR}/parse)
feedd_fuzz_target(fuzz_url CODE ${FEEDD_FUZZ_PARSE_SRC} REPLAY_LIBS feedd_parse
	LIBS PkgConfig::XML2 PkgConfig::JANSSON m INCLUDES ${PROJECT_SOURCE_DIR}/parse)
if(EXISTS ${PROJECT_SOURCE_DIR}/daemon/conf.c AND EXISTS ${PROJECT_SOURCE_DIR}/daemon/log.c)
	# conf.c needs only log.c (level names) and rules.c (rule lines) from
	# the rest of the daemon.
	# conf.c, rules.c and the secret-file check instrumented; what else
	# conf.c calls (the listen directive, fetch/'s address classes) comes
	# uninstrumented from feedd_core.
	feedd_fuzz_target(fuzz_conf
		CODE ${PROJECT_SOURCE_DIR}/daemon/conf.c ${PROJECT_SOURCE_DIR}/daemon/log.c
			${PROJECT_SOURCE_DIR}/daemon/rules.c ${PROJECT_SOURCE_DIR}/daemon/secret.c
		INCLUDES ${PROJECT_SOURCE_DIR}/store ${PROJECT_SOURCE_DIR}/fetch
		REPLAY_LIBS feedd_core LIBS PkgConfig::JANSSON Threads::Threads m)
	if(TARGET fuzz_conf)
		target_link_libraries(fuzz_conf PRIVATE feedd_core)
	endif()
	foreach(t replay_fuzz_conf fuzz_conf fuzz_conf_code)
		if(TARGET ${t})
			# -iquote: daemon/sched.h must not shadow <sched.h>
			target_compile_options(${t} PRIVATE "SHELL:-iquote ${PROJECT_SOURCE_DIR}/daemon")
		endif()
	endforeach()
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/fetch/addr.c)
	feedd_fuzz_target(fuzz_addr CODE ${PROJECT_SOURCE_DIR}/fetch/addr.c
		REPLAY_LIBS feedd_fetch INCLUDES ${PROJECT_SOURCE_DIR}/fetch)
endif()
