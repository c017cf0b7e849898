#!/bin/sh
# check-hardening.sh: prove that configure's hardening flags reached the
# binaries, by reading them with readelf (TAP). Run by make check with
# HL_BUILDDIR and what configure decided (HL_HARDENING, HL_FORTIFY, HL_CET,
# HL_SANITIZERS) in the environment.
#
# Per binary (hookledgerd, hookledger): PIE (ET_DYN with the PIE flag),
# BIND_NOW, a GNU_RELRO segment, a GNU_STACK segment without X,
# __stack_chk_fail and fortified __*_chk functions referenced, and the
# IBT/SHSTK property when the toolchain can produce it. Per object of ours:
# the compiler flags recorded in its debug info, and the CET property.

set -u
B=${HL_BUILDDIR:-.}
n=0
failed=0

ok() {	# ok COND-STATUS DESCRIPTION [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

if [ "${HL_HARDENING:-yes}" != yes ]; then
	echo "1..0 # SKIP configured with --disable-hardening"
	exit 0
fi
if ! command -v readelf >/dev/null 2>&1; then
	echo "1..0 # SKIP no readelf (binutils)"
	exit 0
fi

arch=$(uname -m)
# Debian 12's glibc start files (Scrt1.o, crti.o, crtn.o) carry no CET
# property, and the linker keeps the property only when every input has
# it: find out whether this toolchain can produce a CET binary at all.
toolchain_cet=no
if [ "${HL_CET:-no}" = yes ] && [ "$arch" = x86_64 ]; then
	t=$(mktemp -d) || exit 1
	echo 'int main(void){return 0;}' > "$t/c.c"
	if ${CC:-cc} -fcf-protection=full -O2 "$t/c.c" -o "$t/c" 2>/dev/null &&
	    readelf -nW "$t/c" | grep -q 'x86 feature: IBT, SHSTK'; then
		toolchain_cet=yes
	fi
	rm -rf "$t"
fi

for prog in hookledgerd hookledger; do
	f="$B/src/$prog"
	if [ ! -f "$f" ]; then
		ok 1 "$prog: built" "no $f"
		continue
	fi
	h=$(readelf -hW "$f")
	d=$(readelf -dW "$f")
	l=$(readelf -lW "$f")
	syms=$(readelf --dyn-syms -W "$f" | awk '$7 == "UND" { print $8 }' |
	    sed 's/@.*//')

	echo "$h" | grep -q '^ *Type: *DYN' &&
	    echo "$d" | grep -q 'FLAGS_1.*PIE'
	ok $? "$prog: position-independent executable (ET_DYN, PIE)" \
	    "$(echo "$h" | grep Type:)"

	echo "$d" | grep -qE '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW'
	ok $? "$prog: BIND_NOW (full RELRO)" "$(echo "$d" | grep FLAGS)"

	echo "$l" | grep -q '^ *GNU_RELRO '
	ok $? "$prog: GNU_RELRO segment"

	st=$(echo "$l" | awk '$1 == "GNU_STACK" { print $7 }')
	[ -n "$st" ] && [ "${st#*E}" = "$st" ]
	ok $? "$prog: GNU_STACK present and not executable (flags $st)"

	echo "$syms" | grep -qx '__stack_chk_fail'
	ok $? "$prog: references __stack_chk_fail (stack protector)"

	if [ "${HL_FORTIFY:-no}" = 3 ] || [ "${HL_FORTIFY:-no}" = 2 ]; then
		chk=$(echo "$syms" | grep -E '^__[a-z0-9_]+_chk$' |
		    grep -vx '__stack_chk_fail' | sort -u | tr '\n' ' ')
		[ -n "$chk" ]
		ok $? "$prog: fortified functions referenced: $chk"
	else
		skip "$prog: fortified functions referenced" \
		    "_FORTIFY_SOURCE off in this build (sanitizers or no -O)"
	fi

	if [ "$toolchain_cet" = yes ]; then
		readelf -nW "$f" | grep -q 'x86 feature: IBT, SHSTK'
		ok $? "$prog: CET property (IBT, SHSTK)"
	else
		skip "$prog: CET property (IBT, SHSTK)" \
		    "this toolchain's start files carry no CET property"
	fi
done

# Every object of ours: the flags recorded by the compiler (DW_AT_producer,
# present when CFLAGS has -g) and the CET property, which the linker may
# drop from the binary but which each object must have.
objs=$(find "$B/src" "$B/tests" -name '*.o' 2>/dev/null | sort)
nobj=$(echo "$objs" | grep -c . || true)
[ "$nobj" -gt 0 ]
ok $? "objects found under src/ and tests/ ($nobj)"
miss_flags=""
no_debug=0
miss_cet=""
for o in $objs; do
	p=$(readelf --debug-dump=info "$o" 2>/dev/null |
	    grep -m1 'DW_AT_producer' || true)
	if [ -z "$p" ]; then
		no_debug=$((no_debug + 1))
	else
		for fl in -fstack-protector-strong -fstack-clash-protection \
		    -fPIE; do
			case "$p" in
			*" $fl"*) ;;
			*) miss_flags="$miss_flags ${o#"$B"/}($fl)" ;;
			esac
		done
		if [ "${HL_CET:-no}" = yes ]; then
			case "$p" in
			*" -fcf-protection"*) ;;
			*) miss_flags="$miss_flags ${o#"$B"/}(-fcf-protection)" ;;
			esac
		fi
		# Fortify needs an optimisation level of at least 1.
		if [ "${HL_FORTIFY:-no}" != no ]; then
			# (the last -O wins; gcc records each given)
			lastopt=$(printf '%s\n' "$p" | tr ' ' '\n' |
			    grep -E '^-O' | tail -1)
			case "$lastopt" in
			-O0|"") miss_flags="$miss_flags ${o#"$B"/}(-O)" ;;
			esac
		fi
	fi
	if [ "${HL_CET:-no}" = yes ] && [ "$arch" = x86_64 ]; then
		readelf -nW "$o" | grep -q 'x86 feature: IBT, SHSTK' ||
		    miss_cet="$miss_cet ${o#"$B"/}"
	fi
done
if [ "$no_debug" -eq "$nobj" ]; then
	skip "every object compiled with the hardening flags" \
	    "no debug info (CFLAGS without -g): the flags are not recorded"
else
	[ -z "$miss_flags" ]
	ok $? "every object compiled with the hardening flags" \
	    "missing:$miss_flags"
fi
if [ "${HL_CET:-no}" = yes ] && [ "$arch" = x86_64 ]; then
	[ -z "$miss_cet" ]
	ok $? "every object carries the CET property (IBT, SHSTK)" \
	    "missing:$miss_cet"
else
	skip "every object carries the CET property" \
	    "-fcf-protection unsupported here or not x86_64"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
