#!/bin/sh
# check-systemd.sh: the shipped unit etc/hookledgerd.service is valid and
# its sandbox is no weaker than recorded (TAP). Run by make check with
# HL_TOP_SRCDIR and HL_BUILDDIR in the environment.
#
# `systemd-analyze verify` runs on a copy whose ExecStart points at the
# built daemon (the installed path need not exist here); `systemd-analyze
# security --offline=yes` rates the unit as shipped, and its "overall
# exposure level" must not exceed the number in tests/systemd-exposure.
# Without systemd-analyze (or one too old for --offline) everything skips.

set -u
S=${HL_TOP_SRCDIR:-.}
B=${HL_BUILDDIR:-.}
unit="$S/etc/hookledgerd.service"
n=0
failed=0

ok() {	# ok STATUS DESCRIPTION [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "1..0 # SKIP no systemd-analyze (apt-get install systemd)"
	exit 0
fi
if ! systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	echo "1..0 # SKIP this systemd-analyze has no security --offline (systemd < 250)"
	exit 0
fi

t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT

# verify: syntax, known directives, executables present.
sed "s#/usr/local/bin/hookledgerd#$B/src/hookledgerd#g" "$unit" \
    > "$t/hookledgerd.service"
out=$(systemd-analyze verify "$t/hookledgerd.service" 2>&1)
st=$?
[ $st -eq 0 ] && [ -z "$out" ]
ok $? "systemd-analyze verify: no complaint" "exit $st: $out"

# security: the recorded exposure is a ceiling.
limit=$(tr -d ' \n' < "$S/tests/systemd-exposure")
out=$(systemd-analyze security --offline=yes "$unit" 2>&1)
st=$?
level=$(printf '%s\n' "$out" |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
[ $st -eq 0 ] && [ -n "$level" ]
ok $? "systemd-analyze security --offline=yes rates the unit ($level)" \
    "exit $st: $(printf '%s\n' "$out" | tail -3)"
if [ -n "$level" ]; then
	awk -v a="$level" -v b="$limit" 'BEGIN { exit !(a + 0 <= b + 0) }'
	ok $? "exposure $level is at most the recorded $limit" \
	    "$(printf '%s\n' "$out" | grep '✗')"
fi

# The settings the daemon's safety rests on, by name, so that a lower
# score elsewhere cannot hide the loss of one of them.
for want in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes \
    CapabilityBoundingSet= 'SystemCallFilter=@system-service' \
    ReadWritePaths=/var/lib/hookledger MemoryDenyWriteExecute=yes \
    PrivateUsers=yes PrivateMounts=yes; do
	grep -qx -- "$want" "$unit"
	ok $? "unit sets $want"
done
grep -q '^LoadCredential=' "$unit"
ok $? "unit hands secrets over with LoadCredential="

echo "1..$n"
[ "$failed" -eq 0 ]
