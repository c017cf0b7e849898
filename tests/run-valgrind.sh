#!/bin/sh
# run-valgrind.sh: run each Check suite named on the command line under
# valgrind's memcheck, in one process (CK_FORK=no, so that memcheck sees
# every test). Left out: the cases tagged "fault" (they fault on purpose,
# which without a fork would end the whole run) and "sweep" (exhaustive
# sweeps that take over ten minutes under memcheck; the main and the
# sanitized runs have both). Used by `make check-valgrind`, which sets
# the test environment.
#
# For each PROGRAM: PROGRAM.vg.tap gets its TAP, PROGRAM.vg.log valgrind's
# report. A program fails when a test fails, when memcheck finds an error,
# or when memory is definitely lost (--errors-for-leak-kinds=definite);
# "possibly lost" and "still reachable" blocks (libraries' one-time
# allocations) do not fail it. To find where an uninitialised value came
# from, run again with VALGRIND_OPTS=--track-origins=yes (twice as slow).
# At most HL_VALGRIND_JOBS programs (default 2) run at once.
# Exit status: 0 when every program passes, 1 otherwise.

set -u
VALGRIND=${VALGRIND:-valgrind}
jobs=${HL_VALGRIND_JOBS:-2}

if ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "run-valgrind: no $VALGRIND (apt-get install valgrind)" >&2
	exit 1
fi
[ $# -gt 0 ] || { echo "usage: run-valgrind.sh PROGRAM..." >&2; exit 2; }

CK_FORK=no; export CK_FORK
CK_EXCLUDE_TAGS="fault sweep"; export CK_EXCLUDE_TAGS

one() {
	t=$1
	t0=$(date +%s)
	"$VALGRIND" --quiet --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --num-callers=30 \
	    --log-file="$t.vg.log" "./$t" > "$t.vg.tap" 2>&1
	st=$?
	secs=$(($(date +%s) - t0))
	if [ $st -eq 0 ]; then
		echo "PASS: $t (valgrind, ${secs}s)"
	else
		if [ $st -eq 99 ]; then
			why="memcheck errors or definite leaks"
		else
			why="exit $st"
		fi
		echo "FAIL: $t (valgrind: $why, ${secs}s)"
		grep -E '^not ok' "$t.vg.tap" | head -20
		head -80 "$t.vg.log"
		return 1
	fi
}

# A pool of $jobs workers: xargs runs this script again, once a program.
if [ "$1" = --one ]; then
	one "$2"
	exit $?
fi
printf '%s\n' "$@" | xargs -n 1 -P "$jobs" sh "$0" --one || exit 1
exit 0
