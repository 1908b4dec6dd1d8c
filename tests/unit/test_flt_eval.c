/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiler and evaluator tests: expression × fake event (tests/unit/testsrc.c) → true, false or the compile
 * error "line:col: message". Expectations follow the rules reference §2.3-§2.5.
 *
 * Default event: test.str "Bash", test.str2 "Bash", test.path "/usr/bin/bash", test.buf "\x01\x02hello\0x",
 * test.u64 42, test.s64 -5, test.double 1.5, test.bool true, test.reltime 1000, test.abstime 1.7e18,
 * test.ip 10.1.2.3, test.net 192.168.1.20, test.list (a,b,c), test.u64list (1,2,3),
 * test.args (-n host -t 10 -xvalue -- -z), evt.type open; test.missing/test.error never have a value and
 * test.emptylist is a list with no items.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/strbuf.h"
#include "falco/engine/flt.h"
#include "testsrc.h"

struct ecase {
	const char *in;
	const char *want; /* "T", "F" or "E line:col: message" */
};

#define OPS_ERR(op, t) "E 1:1: '" op "' operator not supported for " t " filters"

static const struct ecase cases[] = {
	/* strings: every operator */
	{"test.str = Bash", "T"},
	{"test.str = bash", "F"},
	{"test.str == Bash", "T"},
	{"test.str != bash", "T"},
	{"test.str != Bash", "F"},
	{"test.str = 'Bash '", "F"},
	{"test.str < 5", "F"},
	{"test.str > 5", "T"},
	{"test.str >= 5", "T"},
	{"test.str <= 5", "F"},
	{"test.str contains as", "T"},
	{"test.str contains AS", "F"},
	{"test.str contains ''", "T"},
	{"test.str contains Bashx", "F"},
	{"test.str icontains ASH", "T"},
	{"test.str icontains asx", "F"},
	{"test.str startswith Ba", "T"},
	{"test.str startswith ba", "F"},
	{"test.str startswith Bash1", "F"},
	{"test.str endswith sh", "T"},
	{"test.str endswith Ba", "F"},
	{"test.str glob 'B*h'", "T"},
	{"test.str glob 'b*'", "F"},
	{"test.str glob 'B?sh'", "T"},
	{"test.str glob '[AB]ash'", "T"},
	{"test.str iglob 'b*H'", "T"},
	{"test.str iglob 'x*'", "F"},
	{"test.path glob '/usr/*'", "T"},
	{"test.str regex 'B.sh'", "T"},
	{"test.str regex 'as'", "F"},
	{"test.str regex 'Bas'", "F"},
	{"test.str regex 'ash'", "F"},
	{"test.str regex '.*as.*'", "T"},
	{"test.str regex 'x|Bash'", "T"},
	{"test.str regex 'Bash|B'", "T"},
	{"test.str regex '(B)(a)(s)(h)'", "T"},
	{"test.str regex '[[:upper:]][a-z]+'", "T"},
	{"test.str regex 'bash'", "F"},
	{"test.str regex '('",
	 "E 1:16: invalid regex pattern: missing closing parenthesis (at offset 1)"},
	{"test.str in (a, Bash)", "T"},
	{"test.str in (a, bash)", "F"},
	{"test.str in (a,'Bash')", "T"},
	{"test.str in ()", "F"},
	{"test.str in Bash", "T"},
	{"test.str intersects (Bash, x)", "T"},
	{"test.str intersects (x)", "F"},
	{"test.str pmatch (Bash)", "T"},
	{"test.str exists", "T"},
	/* pmatch: component-wise prefixes, globs inside components */
	{"test.path pmatch (/usr)", "T"},
	{"test.path pmatch (/usr/)", "T"},
	{"test.path pmatch (/usr/bin/bash)", "T"},
	{"test.path pmatch (/usr/b)", "F"},
	{"test.path pmatch (/usr/bin/bash/x)", "F"},
	{"test.path pmatch (/usr/*/bash)", "T"},
	{"test.path pmatch (/usr/b*)", "T"},
	{"test.path pmatch (/usr/x*)", "F"},
	{"test.path pmatch (/etc, /usr/bin)", "T"},
	{"test.path pmatch (/etc, /opt/*)", "F"},
	{"test.path pmatch (/)", "T"},
	{"test.path pmatch ()", "F"},
	/* modifiers */
	{"test.str = oneof (Bash, x)", "T"},
	{"test.str = oneof (Bash, Bash)", "F"},
	{"test.str = oneof (x, y)", "F"},
	{"test.str contains anyof (x, as)", "T"},
	{"test.str contains anyof (x, y)", "F"},
	{"test.str startswith allof (B, Ba)", "T"},
	{"test.str startswith allof (B, x)", "F"},
	{"test.str != allof (x, y)", "T"},
	{"test.str regex anyof ('B.*', 'x')", "T"},
	{"test.str glob oneof ('B*', '*h')", "F"},
	{"test.str glob oneof ('B*', 'x*')", "T"},
	{"test.str iglob anyof ('b*')", "T"},
	{"test.str icontains allof (b, A)", "T"},
	{"test.str endswith anyof Ba", "F"},
	{"test.str endswith anyof ash", "T"},
	{"test.str = allof ()", "T"},
	{"test.str = anyof ()", "F"},
	{"test.missing = allof ()", "F"},
	{"test.u64 = anyof (1, 42)", "T"},
	{"test.buf bcontains anyof (6869, 6c6c)", "T"},
	/* buffers */
	{"test.buf bcontains 68656c6c6f", "T"},
	{"test.buf bcontains 0102", "T"},
	{"test.buf bcontains 6869", "F"},
	{"test.buf bcontains 0078", "T"},
	{"test.buf bstartswith 0102", "T"},
	{"test.buf bstartswith 02", "F"},
	{"test.buf bstartswith 0A", "F"},
	{"test.buf contains hello", "T"},
	{"test.buf startswith hello", "F"},
	{"test.buf endswith x", "T"},
	{"test.buf = hello", "F"},
	{"test.buf bcontains 0g",
	 "E 1:20: bcontains and bstartswith operator support hex strings only"},
	{"test.buf bcontains 012",
	 "E 1:20: bcontains and bstartswith operator support hex strings only"},
	{"test.str bcontains 01", OPS_ERR("bcontains", "string")},
	{"test.path bstartswith 01", OPS_ERR("bstartswith", "fspath")},
	{"test.buf glob 'a*'", OPS_ERR("glob", "bytebuf")},
	{"test.buf icontains a", OPS_ERR("icontains", "bytebuf")},
	/* numbers */
	{"test.u64 = 42", "T"},
	{"test.u64 != 42", "F"},
	{"test.u64 < 43", "T"},
	{"test.u64 <= 42", "T"},
	{"test.u64 > 42", "F"},
	{"test.u64 >= 0x2a", "T"},
	{"test.u64 = 0x2A", "T"},
	{"test.u64 = 042", "T"},
	{"test.u64 = +42", "T"},
	{"test.s64 = -0x5", "T"},
	{"test.s64 = -05", "T"},
	{"test.u64 in (1, 42)", "T"},
	{"test.u64 in (1, 2)", "F"},
	{"test.u64 intersects (42)", "T"},
	{"test.u64 = -1", "E 1:12: filter error: invalid uint64 value '-1'"},
	{"test.u64 = abc", "E 1:12: filter error: invalid uint64 value 'abc'"},
	{"test.u64 = 4.2", "E 1:12: filter error: invalid uint64 value '4.2'"},
	{"test.u64 in (1, x)", "E 1:17: filter error: invalid uint64 value 'x'"},
	{"test.u64 contains 4", OPS_ERR("contains", "uint64")},
	{"test.u64 pmatch (4)", OPS_ERR("pmatch", "uint64")},
	{"test.u64 regex '4'", OPS_ERR("regex", "uint64")},
	{"test.s64 = -5", "T"},
	{"test.s64 < 0", "T"},
	{"test.s64 > -6", "T"},
	{"test.s64 >= -4", "F"},
	{"test.s64 in (-5, 3)", "T"},
	{"test.s64 = 1.5", "E 1:12: filter error: invalid int64 value '1.5'"},
	{"test.double = 1.5", "T"},
	{"test.double > 1", "T"},
	{"test.double < 1.4", "F"},
	{"test.double in (1.5, 2)", "T"},
	{"test.double in (1, 2)", "F"},
	{"test.double = 1.5e+0", "T"},
	{"test.bool = true", "T"},
	{"test.bool = false", "F"},
	{"test.bool != false", "T"},
	{"test.bool in (true)", "T"},
	{"test.bool in (false)", "F"},
	{"test.bool = yes", "E 1:13: filter error: unrecognized boolean value yes"},
	{"test.bool < 1", OPS_ERR("<", "bool")},
	{"test.reltime = 1000", "T"},
	{"test.reltime < 999", "F"},
	{"test.abstime > 1600000000000000000", "T"},
	{"test.abstime in (1700000000000000000)", "T"},
	/* addresses and networks */
	{"test.ip = 10.1.2.3", "T"},
	{"test.ip = 10.1.2.4", "F"},
	{"test.ip != 10.1.2.4", "T"},
	{"test.ip in (1.1.1.1, 10.1.2.3)", "T"},
	{"test.ip in (1.1.1.1, ::1)", "F"},
	{"test.ip = ::1", "F"},
	{"test.ip != ::1", "T"},
	{"test.ip = 10.1.2.0/24", "E 1:11: filter error: invalid IP address '10.1.2.0/24'"},
	{"test.ip contains 10", OPS_ERR("contains", "ipaddr")},
	{"test.net = 192.168.0.0/16", "T"},
	{"test.net = 192.168.1.0/24", "T"},
	{"test.net = 192.168.1.16/29", "T"},
	{"test.net = 192.168.1.24/29", "F"},
	{"test.net = 10.0.0.0/8", "F"},
	{"test.net != 10.0.0.0/8", "T"},
	{"test.net = 0.0.0.0/0", "T"},
	{"test.net = ::/0", "F"},
	{"test.net in (10.0.0.0/8, 192.168.1.16/28)", "T"},
	{"test.net intersects (10.0.0.0/8)", "F"},
	{"test.net = 192.168.1.20", "T"},
	{"test.net = 192.168.1.21", "F"},
	{"test.net = 192.168.1.0/33", "E 1:12: filter error: invalid IP network '192.168.1.0/33'"},
	/* lists */
	{"test.list in (a, b, c, d)", "T"},
	{"test.list in (a, b)", "F"},
	{"test.list intersects (c, x)", "T"},
	{"test.list intersects (x, y)", "F"},
	{"test.list in (a)", "F"},
	{"test.list intersects a", "T"},
	{"test.list exists", "T"},
	{"test.list = a", OPS_ERR("=", "list")},
	{"test.list contains a", OPS_ERR("contains", "list")},
	{"test.list pmatch (a)", OPS_ERR("pmatch", "list")},
	{"test.u64list in (1, 2, 3)", "T"},
	{"test.u64list intersects (3, 9)", "T"},
	{"test.u64list in (1, 2)", "F"},
	{"test.emptylist exists", "F"},
	{"test.emptylist in (a)", "F"},
	{"test.emptylist intersects (a)", "F"},
	{"not test.emptylist in (a)", "T"},
	{"test.list[1] = b", "T"},
	{"test.list[0] in (a, x)", "T"},
	{"test.list[5] exists", "F"},
	{"test.list[01] = b", "E 1:1: invalid index '01' for field 'test.list': expected a number"},
	/* lists of more than 8 values are hashed: every hashable type */
	{"test.str in (a1, a2, a3, a4, a5, a6, a7, a8, Bash)", "T"},
	{"test.str in (a1, a2, a3, a4, a5, a6, a7, a8, bash)", "F"},
	{"test.str intersects (a1, a2, a3, a4, a5, a6, a7, a8, Bash)", "T"},
	{"test.list in (a, b, c, d, e, f, g, h, i)", "T"},
	{"test.list in (a, b, d, e, f, g, h, i, j)", "F"},
	{"test.list intersects (x1, x2, x3, x4, x5, x6, x7, x8, c)", "T"},
	{"test.list intersects (x1, x2, x3, x4, x5, x6, x7, x8, x9)", "F"},
	{"test.u64 in (1, 2, 3, 4, 5, 6, 7, 8, 42)", "T"},
	{"test.u64 in (1, 2, 3, 4, 5, 6, 7, 8, 9)", "F"},
	{"test.s64 in (1, 2, 3, 4, 5, 6, 7, 8, -5)", "T"},
	{"test.s64 in (1, 2, 3, 4, 5, 6, 7, 8, 5)", "F"},
	{"test.u64list in (1, 2, 3, 4, 5, 6, 7, 8, 9)", "T"},
	{"test.u64list intersects (4, 5, 6, 7, 8, 9, 10, 11, 12)", "F"},
	{"test.reltime in (1, 2, 3, 4, 5, 6, 7, 8, 1000)", "T"},
	{"test.bool in (false, false, false, false, false, false, false, false, true)", "T"},
	{"test.bool in (false, false, false, false, false, false, false, false, false)", "F"},
	{"test.ip in (::1, ::2, 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5, 1.1.1.6, 10.1.2.3)",
	 "T"},
	{"test.ip in (::1, ::2, 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5, 1.1.1.6, 10.1.2.4)",
	 "F"},
	{"test.net in (1.0.0.0/8, 2.0.0.0/8, 3.0.0.0/8, 4.0.0.0/8, 5.0.0.0/8, 6.0.0.0/8, 7.0.0.0/8, "
	 "8.0.0.0/8, 192.168.0.0/16)",
	 "T"},
	{"test.buf in (a1, a2, a3, a4, a5, a6, a7, a8, hello)", "F"},
	/* an indexed list field that still extracts a list: scalar operators apply to any item */
	{"test.ilist[0] = b", "T"},
	{"test.ilist[0] = x", "F"},
	{"test.ilist[0] != a", "T"},
	{"test.ilist[0] contains anyof (x, c)", "T"},
	{"test.ilist = b", "E 1:1: '=' operator not supported for list filters"},
	/* integers across signedness */
	{"test.u64 != val(test.s64)", "T"},
	{"test.u64 <= val(test.s64)", "F"},
	{"test.s64 <= val(test.u64)", "T"},
	{"test.s64 >= val(test.u64)", "F"},
	{"test.s64 = val(test.s64)", "T"},
	{"test.double = val(test.double)", "T"},
	{"test.double < val(test.double)", "F"},
	/* missing values: false for every operator, so `not` of them is true */
	{"test.missing = x", "F"},
	{"test.missing != x", "F"},
	{"not test.missing != x", "T"},
	{"not test.missing = x", "T"},
	{"test.missing exists", "F"},
	{"not test.missing exists", "T"},
	{"test.missing in (x)", "F"},
	{"test.missing intersects (x)", "F"},
	{"test.missing pmatch (/)", "F"},
	{"test.missing contains ''", "F"},
	{"test.missing regex '.*'", "F"},
	{"test.missing glob '*'", "F"},
	{"test.missing != anyof (x)", "F"},
	{"test.missing icontains x", "F"},
	{"test.missing startswith ''", "F"},
	{"test.missing endswith ''", "F"},
	{"test.missing iglob '*'", "F"},
	{"test.missing < 1", "F"},
	{"test.missing >= 0", "F"},
	{"test.missing startswith allof ('')", "F"},
	{"not test.missing icontains x", "T"},
	{"not test.missing startswith oneof ('', x)", "T"},
	{"test.missing = val(test.missing)", "F"},
	{"test.missing != val(test.str)", "F"},
	{"test.str = val(test.missing)", "F"},
	{"test.str != val(test.missing)", "F"},
	{"not test.str != val(test.missing)", "T"},
	{"tolower(test.missing) != x", "F"},
	{"len(test.missing) >= 0", "F"},
	{"test.error = x", "F"},
	{"test.error != x", "F"},
	{"test.error exists", "F"},
	{"not test.error exists", "T"},
	/* field arguments */
	{"test.arg[hello] = hello", "T"},
	{"test.arg['a b'] = 'a b'", "T"},
	{"test.arg exists", "E 1:1: field 'test.arg' requires an argument"},
	{"test.str[x] = a", "E 1:1: field 'test.str' does not take an argument"},
	{"test.opt = noarg", "T"},
	{"test.opt[x] = x", "T"},
	{"test.idx[3] = 30", "T"},
	{"test.idx[0] = 0", "T"},
	{"test.idx[10] = 100", "T"},
	{"test.idx[03] = 30", "E 1:1: invalid index '03' for field 'test.idx': expected a number"},
	{"test.idx[x] = 0", "E 1:1: invalid index 'x' for field 'test.idx': expected a number"},
	{"test.idx[-1] = 0", "E 1:1: invalid index '-1' for field 'test.idx': expected a number"},
	{"test.dot.flags = flags", "T"},
	{"test.dot.deep = noarg", "T"},
	{"test.dot.deep.x = x", "T"},
	{"test.dot.a.b = a.b", "T"},
	{"test.dot[y] = y", "T"},
	{"test.dot.x[y] = x",
	 "E 1:1: field 'test.dot' takes an argument after a dot or in brackets, not both"},
	{"test.prep[ok] = '<ok>'", "T"},
	{"test.prep[bad] exists", "E 1:1: unknown test argument bad"},
	{"test.nosuch = x", "E 1:1: filter_check called with nonexistent field test.nosuch"},
	{"test.nosuch['a b'] = x",
	 "E 1:1: filter_check called with nonexistent field test.nosuch[a b]"},
	{"test.str = x and\n  nosuch.field exists",
	 "E 2:3: filter_check called with nonexistent field nosuch.field"},
	{"nosuch_macro", "E 1:1: Undefined macro 'nosuch_macro' used in filter."},
	{"test.str = x or (a and test.u64 = 1)", "E 1:18: Undefined macro 'a' used in filter."},
	/* transformers */
	{"tolower(test.str) = bash", "T"},
	{"tolower(test.str) = Bash", "F"},
	{"toupper(test.str) = BASH", "T"},
	{"toupper(basename(test.path)) = BASH", "T"},
	{"basename(test.path) = bash", "T"},
	{"basename(test.str) = Bash", "T"},
	{"basename(test.arg['/a/b/']) = ''", "T"},
	{"b64(test.arg[YmFzaA==]) = bash", "T"},
	{"b64(test.arg[YmFzaA]) = bash", "T"},
	{"b64(test.arg[Zm9vYmFy]) = foobar", "T"},
	{"b64(test.arg['@@@@']) exists", "F"},
	{"len(test.str) = 4", "T"},
	{"b64(test.path) exists",
	 "E 1:1: can't add field transformer: type 'fspath' is not supported by 'b64' "
	 "transformer applied on field 'test.path'"},
	{"b64(test.buf) exists", "F"},
	{"b64(test.list) exists", "F"},
	{"len(test.arg['a\\x00b']) = 1", "T"},
	{"len(test.str) > 3", "T"},
	{"len(test.list) = 3", "T"},
	{"len(test.buf) = 9", "T"},
	{"len(test.emptylist) exists", "F"},
	{"len(test.missing) exists", "F"},
	{"len(test.u64) = 8",
	 "E 1:1: can't add field transformer: type 'uint64' is not supported by 'len' transformer applied on field 'test.u64'"},
	{"tolower(test.u64) = 8",
	 "E 1:1: can't add field transformer: type 'uint64' is not supported by 'tolower' transformer applied on field 'test.u64'"},
	{"tolower(test.notr) = bash", "E 1:9: field 'test.notr' does not support transformers"},
	{"join(',', test.list) = 'a,b,c'", "T"},
	{"join('', test.list) = abc", "T"},
	{"join(',', test.str) = Bash", "T"},
	{"join(test.str, test.list) = x",
	 "E 1:1: transformer 'join' takes a quoted separator and a list"},
	{"concat(test.str, '-', test.path) = 'Bash-/usr/bin/bash'", "T"},
	{"concat(test.str, test.missing) exists", "F"},
	{"concat(test.str) exists", "E 1:1: transformer 'concat' takes at least two arguments"},
	{"concat(test.str, test.u64) exists",
	 "E 1:1: can't add field transformer: type 'uint64' is not supported by 'concat' transformer applied on field 'test.u64'"},
	{"getopt(test.args, 'nt:x:') in (n, t, x)", "T"},
	{"getopt(test.args, 'nt:x:') intersects (z)", "F"},
	{"len(getopt(test.args, 'nt:x:')) = 3", "T"},
	{"getopt(test.args, 'nt:x:')[t] = 10", "T"},
	{"getopt(test.args, 'nt:x:')[x] = value", "T"},
	{"getopt(test.args, 'nt:x:')[n] = ''", "T"},
	{"getopt(test.args, 'nt:x:')[z] exists", "F"},
	{"getopt(test.arg['-a -b val'], 'ab:')[b] = val", "T"},
	{"getopt(test.args, 'nt:')[tt] exists", "E 1:1: getopt option must be a single character"},
	{"tolower(test.str)[x] = a", "E 1:1: transformer 'tolower' does not take an argument"},
	{"tolower(test.list) in (a, b, c)", "T"},
	{"toupper(test.list) intersects (B)", "T"},
	{"tolower(test.str) in (bash, zsh)", "T"},
	{"join(',', (test.str, 'x', test.missing, test.list)) = 'Bash,x,a,b,c'", "T"},
	{"test.u64 > len(test.str)", "T"},
	{"test.s64 < len(test.str)", "T"},
	{"test.s64 = len(test.str)", "F"},
	{"test.str = tolower(test.str2)", "F"},
	{"tolower(test.str) = tolower(test.str2)", "T"},
	{"len(b64(test.arg['+/8='])) = 2", "T"},
	{"len(getopt(test.arg['-a -b -c -d -e -f -g -h -i -j'], 'abcdefghij')) = 10", "T"},
	{"getopt(test.arg['-a'], '+a') exists", "T"},
	{"getopt(test.arg['-b'], 'b:') exists", "F"},
	{"getopt(test.arg['-bfoo'], 'b::')[b] = foo", "T"},
	{"getopt(test.arg['-b foo'], 'b::')[b] = ''", "T"},
	{"getopt(test.arg['-ab x'], 'ab:')[b] = x", "T"},
	{"join(',', (test.str, 1)) = 'Bash,1'", "T"},
	{"len(test.str, test.str) = 1", "E 1:1: transformer 'len' takes exactly one argument"},
	{"join(',', test.u64) = x",
	 "E 1:1: can't add field transformer: type 'uint64' is not supported by 'join' transformer applied on field 'test.u64'"},
	{"getopt(test.u64, 'a') exists",
	 "E 1:1: can't add field transformer: type 'uint64' is not supported by 'getopt' transformer applied on field 'test.u64'"},
	{"join(',', (test.str, test.u64)) = x", "E 1:22: list items must be strings, not uint64"},
	/* field-to-field */
	{"test.str = val(test.str2)", "T"},
	{"test.str = val(test.arg[Bash])", "T"},
	{"test.str = val(test.arg)[Bash]",
	 "E 1:12: val() takes no argument: write val(field[arg])"},
	{"test.str != val(test.str2)", "F"},
	{"test.str = val(test.missing)", "F"},
	{"test.str != val(test.missing)", "F"},
	{"not test.str = val(test.missing)", "T"},
	{"test.str contains val(test.str2)", "T"},
	{"test.path endswith val(test.str)", "F"},
	{"test.str in val(test.str2)", "T"},
	{"test.list in val(test.list)", "T"},
	{"test.list intersects val(test.list)", "T"},
	{"test.u64 > val(test.s64)", "T"},
	{"test.s64 < val(test.u64)", "T"},
	{"test.u64 = val(test.count)", "F"},
	{"test.str regex val(test.str2)",
	 "E 1:16: operator 'regex' doesn't support right-hand side fields"},
	{"test.path pmatch val(test.str2)",
	 "E 1:18: operator 'pmatch' doesn't support right-hand side fields"},
	{"test.str = val(test.u64)",
	 "E 1:12: field 'test.str' has type 'string' while the right-hand side field "
	 "'test.u64' has incompatible type 'uint64'"},
	{"test.str in val(test.list)",
	 "E 1:13: field 'test.str' has type 'string' while the right-hand side "
	 "field 'test.list' has incompatible type 'string (list)'"},
	{"tolower(test.str) = val(test.bool)",
	 "E 1:21: field 'test.str' has type 'string' while the right-hand side "
	 "field 'test.bool' has incompatible type 'bool'"},
	{"test.ip = val(test.net)",
	 "E 1:11: field 'test.ip' has type 'ipaddr' while the right-hand side "
	 "field 'test.net' has incompatible type 'ipnet'"},
	{"test.str = val(test.norhs)",
	 "E 1:12: field 'test.norhs' can't be used as a right-hand side field"},
	{"test.norhs = val(test.str)",
	 "E 1:14: field 'test.norhs' doesn't support right-hand side fields"},
	{"evt.type = val(test.str)",
	 "E 1:12: field 'evt.type' doesn't support right-hand side fields"},
	{"test.net = val(test.ip)",
	 "E 1:12: field type 'IPNET' doesn't support right-hand side fields"},
	{"len(test.list) = val(test.u64)", "F"},
	{"len(test.list) < val(test.u64)", "T"},
	{"test.str = val(test.nosuch)",
	 "E 1:16: filter_check called with nonexistent field test.nosuch"},
	/* boolean structure */
	{"test.str = Bash and test.u64 = 42", "T"},
	{"test.str = Bash and test.u64 = 1", "F"},
	{"test.str = x or test.u64 = 42", "T"},
	{"test.str = x or test.u64 = 1", "F"},
	{"not (test.str = x or test.u64 = 1)", "T"},
	{"not not test.str = Bash", "T"},
	{"not (not test.str = Bash)", "T"},
	{"test.str in () or test.u64 = 42", "T"},
	{"test.str in () and test.u64 = 42", "F"},
	{"not test.str in ()", "T"},
	{"test.u64 = 42 and (test.str = x or (test.s64 < 0 and test.list intersects (c)))", "T"},
	{"test.str = Bash and (test.u64 = 42 and (test.s64 < 0 and test.list intersects (c)))",
	 "T"},
	{"test.str = Bash and (test.u64 = 42 and (test.s64 > 0 and test.list intersects (c)))",
	 "F"},
	{"test.str = x or (test.u64 = 1 or (test.s64 > 0 or test.list intersects (c)))", "T"},
	{"test.str = x or (test.u64 = 1 or (test.s64 > 0 or test.list intersects (d)))", "F"},
	{"not (test.str in () or test.u64 = 1)", "T"},
	{"evt.type = open", "T"},
	{"evt.type in (read, open)", "T"},
	{"evt.type = read", "F"},
	{"evt.type != read", "T"},
};

struct env {
	struct flt_compiler *comp;
	struct flt_cache *cache;
	struct arena arena;
	struct testsrc_evt tevt;
	struct evt evt;
	struct flt_eval_ctx ec;
};

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	e->comp = flt_compiler_new();
	assert_non_null(e->comp);
	arena_init(&e->arena, 4096, 0);
	testsrc_default(&e->tevt);
	e->evt = (struct evt){.type = 0, .data = &e->tevt};
}

static void env_done(struct env *e)
{
	flt_cache_free(e->cache);
	flt_compiler_free(e->comp);
	arena_done(&e->arena);
}

/* Starts a new event: fresh cache generation and arena, as the engine does between events. */
static struct flt_eval_ctx *env_event(struct env *e)
{
	if (!e->cache || flt_compiler_nslots(e->comp) > 0) {
		flt_cache_free(e->cache);
		e->cache = flt_cache_new(flt_compiler_nslots(e->comp));
		assert_non_null(e->cache);
	}
	flt_cache_next_event(e->cache);
	arena_reset(&e->arena);
	e->ec = (struct flt_eval_ctx){.f = {.evt = &e->evt, .arena = &e->arena}, .cache = e->cache};
	return &e->ec;
}

/* Compiles s; returns the program or NULL with "E line:col: msg" in out. */
static struct flt_prog *compile(struct env *e, const char *s, const struct src_def *src, char *out,
				size_t n, flt_warn_fn warn, void *ud)
{
	struct arena a;
	struct flt_node *ast;
	struct flt_error err = {0};
	struct flt_prog *p = NULL;

	arena_init(&a, 0, 0);
	int r = flt_parse(s, strlen(s), &a, &ast, &err);
	if (r == 0)
		r = flt_compile(e->comp, src, ast, warn, ud, &p, &err);
	if (r < 0)
		snprintf(out, n, "E %u:%u: %s", err.pos.line, err.pos.col, err.msg);
	arena_done(&a); /* the program must not point into the AST */
	return p;
}

static void test_eval_table(void **state)
{
	struct env e;
	int failures = 0;

	env_init(&e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[600];
		struct flt_prog *p =
			compile(&e, cases[i].in, &testsrc_src, got, sizeof(got), NULL, NULL);
		if (p) {
			bool r = flt_eval(p, env_event(&e));
			/* the same program evaluated again on the same event gives the same answer (cached) */
			if (flt_eval(p, &e.ec) != r) {
				fprintf(stderr, "case %zu: not stable on re-evaluation\n", i);
				failures++;
			}
			snprintf(got, sizeof(got), "%s", r ? "T" : "F");
			flt_prog_free(p);
		}
		if (strcmp(got, cases[i].want) != 0) {
			fprintf(stderr, "case %zu: %s\n  want: %s\n  got:  %s\n", i, cases[i].in,
				cases[i].want, got);
			failures++;
		}
	}
	env_done(&e);
	assert_int_equal(testsrc_prepared, 0);
	assert_int_equal(failures, 0);
}

/* Missing event data for every numeric field, and other events than the default. */
static void test_eval_other_events(void **state)
{
	struct env e;
	char err[600];

	env_init(&e);
	struct flt_prog *p = compile(&e, "test.u64 = 42 or test.u64 != 42 or test.bool exists",
				     &testsrc_src, err, sizeof(err), NULL, NULL);
	assert_non_null(p);
	assert_true(flt_eval(p, env_event(&e)));
	e.tevt.has_num = false;
	assert_false(flt_eval(p, env_event(&e)));
	flt_prog_free(p);

	p = compile(&e, "test.ip = ::1 or test.ip = 2001:db8::/32", &testsrc_src, err, sizeof(err),
		    NULL, NULL);
	assert_null(p); /* an address field takes no network */
	p = compile(&e, "test.ip = ::1 and test.net = 2001:db8::/32 and test.net != 2001:db9::/32",
		    &testsrc_src, err, sizeof(err), NULL, NULL);
	assert_non_null(p);
	e.tevt.ip = "::1";
	e.tevt.net = "2001:db8::42";
	assert_true(flt_eval(p, env_event(&e)));
	e.tevt.net = "2001:db9::42";
	assert_false(flt_eval(p, env_event(&e)));
	flt_prog_free(p);

	/* evt.type follows the event's type code */
	p = compile(&e, "evt.type in (read, execve)", &testsrc_src, err, sizeof(err), NULL, NULL);
	assert_non_null(p);
	e.evt.type = 4;
	assert_true(flt_eval(p, env_event(&e)));
	e.evt.type = 8;
	assert_false(flt_eval(p, env_event(&e)));
	flt_prog_free(p);

	/* the regex subject is not valid UTF-8: no crash, no match for '.' on the bad byte */
	p = compile(&e, "test.str regex 'a.b'", &testsrc_src, err, sizeof(err), NULL, NULL);
	assert_non_null(p);
	e.tevt.str = "a\xff"
		     "b";
	assert_false(flt_eval(p, env_event(&e)));
	e.tevt.str = "a\xc3\xa9"
		     "b";
	assert_true(flt_eval(p, env_event(&e)));
	flt_prog_free(p);
	env_done(&e);
}

static void test_eval_dedup_and_cache(void **state)
{
	struct env e;
	char err[600];

	env_init(&e);
	struct flt_prog *p1 = compile(&e, "test.count = 7 and test.count > 1 and test.arg[a] = a",
				      &testsrc_src, err, sizeof(err), NULL, NULL);
	struct flt_prog *p2 =
		compile(&e, "test.count exists and test.arg[a] exists and test.arg[b] exists",
			&testsrc_src, err, sizeof(err), NULL, NULL);
	assert_non_null(p1);
	assert_non_null(p2);
	/* test.count, test.arg[a], test.arg[b]: three distinct field instances across both programs */
	assert_int_equal(flt_compiler_nslots(e.comp), 3);

	testsrc_count_calls = 0;
	for (int ev = 0; ev < 5; ev++) {
		struct flt_eval_ctx *ec = env_event(&e);
		assert_true(flt_eval(p1, ec));
		assert_true(flt_eval(p2, ec));
		assert_true(flt_eval(p1, ec));
	}
	/* extracted once per event, whatever the number of programs and checks using it */
	assert_int_equal(testsrc_count_calls, 5);

	/* without a cache (or a too small one) everything still works, just uncached */
	struct flt_cache *small = flt_cache_new(1);
	assert_non_null(small);
	struct flt_eval_ctx ec = {.f = {.evt = &e.evt, .arena = &e.arena}, .cache = small};
	flt_cache_next_event(small);
	assert_true(flt_eval(p1, &ec));
	ec.cache = NULL;
	assert_true(flt_eval(p2, &ec));
	flt_cache_free(small);

	/* evt.arg.x and evt.arg[x] are different instances (prepare can tell them apart) */
	struct flt_prog *p4 =
		compile(&e, "test.dot.x = x and test.dot[x] = x and test.dot.x exists",
			&testsrc_src, err, sizeof(err), NULL, NULL);
	assert_non_null(p4);
	assert_int_equal(flt_compiler_nslots(e.comp), 5);
	assert_true(flt_eval(p4, env_event(&e)));
	flt_prog_free(p4);

	/* extractor errors are counted, once per event for a cached slot */
	struct flt_prog *p3 = compile(&e, "test.error = x or test.error exists", &testsrc_src, err,
				      sizeof(err), NULL, NULL);
	assert_non_null(p3);
	struct flt_eval_ctx *ec2 = env_event(&e);
	assert_false(flt_eval(p3, ec2));
	assert_int_equal(ec2->extract_errors, 1);

	flt_prog_free(p1);
	flt_prog_free(p2);
	flt_prog_free(p3);
	env_done(&e);
}

struct warns {
	char msg[8][512];
	int n;
};

static void on_warn(void *ud, const struct flt_pos *pos, const char *msg)
{
	struct warns *w = ud;
	if (w->n < 8)
		snprintf(w->msg[w->n++], sizeof(w->msg[0]), "%u:%u: %s", pos->line, pos->col, msg);
}

#define HINT \
	"may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'"

static void test_compile_warnings(void **state)
{
	static const struct {
		const char *in;
		const char *warn; /* NULL: no warning */
	} wc[] = {
		{"test.str = test.path",
		 "1:12: 'test.path' may be a valid field misused as a const string value"},
		{"test.str in (a, test.list)",
		 "1:13: 'test.list' may be a valid field misused as a const string value"},
		{"test.str = ' test.path '",
		 "1:12: ' test.path ' may be a valid field misused as a const string value"},
		{"test.str = 'test.arg[x]'",
		 "1:12: 'test.arg[x]' may be a valid field misused as a const string value"},
		{"test.str = 'test.dot.flags'",
		 "1:12: 'test.dot.flags' may be a valid field misused as a const string value"},
		{"test.u64 in (1, 2) or test.str != anyof (x, test.u64)",
		 "1:41: 'test.u64' may be a valid field misused as a const string value"},
		{"test.str = 'tolower(test.str)'",
		 "1:12: 'tolower(test.str)' may be a valid field transformer misused as a const string value"},
		{"test.str = 'val( x )'",
		 "1:12: 'val( x )' may be a valid field transformer misused as a const string value"},
		{"test.str = nosuch.field", NULL},
		{"test.str = a.b", NULL},
		{"test.str in (a, b)", NULL},
		{"test.str regex 'Bash.*'", "1:16: regex check with 'Bash.*' " HINT},
		{"test.str regex '.*ash'", "1:16: regex check with '.*ash' " HINT},
		{"test.str regex '.*as.*'", "1:16: regex check with '.*as.*' " HINT},
		{"test.str regex '^Bash$'", "1:16: regex check with '^Bash$' " HINT},
		{"test.str regex Bash", "1:16: regex check with 'Bash' " HINT},
		{"test.str regex '.*'", "1:16: regex check with '.*' " HINT},
		{"test.str regex '.+as'", "1:16: regex check with '.+as' " HINT},
		{"test.str regex 'B.sh'", NULL},
		{"test.str regex 'a|b'", NULL},
		{"test.str regex 'a\\\\.*'", NULL},
	};
	struct env e;
	char err[600];
	int failures = 0;

	env_init(&e);
	for (size_t i = 0; i < sizeof(wc) / sizeof(wc[0]); i++) {
		struct warns w = {0};
		struct flt_prog *p =
			compile(&e, wc[i].in, &testsrc_src, err, sizeof(err), on_warn, &w);
		assert_non_null(p);
		flt_prog_free(p);
		const char *got = w.n ? w.msg[0] : "(none)";
		const char *want = wc[i].warn ? wc[i].warn : "(none)";
		if (strcmp(got, want) != 0 || w.n > 1) {
			fprintf(stderr, "warning case %zu: %s\n  want: %s\n  got:  %s (%d)\n", i,
				wc[i].in, want, got, w.n);
			failures++;
		}
	}
	env_done(&e);
	assert_int_equal(failures, 0);
}

static void test_vexpr_and_rendering(void **state)
{
	static const struct {
		const char *expr;
		const char *text;
		const char *json;
		enum fld_type type;
		bool is_list;
	} vc[] = {
		{"test.str", "Bash", "\"Bash\"", FT_STRING, false},
		{"test.u64", "42", "42", FT_U64, false},
		{"test.s64", "-5", "-5", FT_S64, false},
		{"test.bool", "true", "true", FT_BOOL, false},
		{"test.double", "1.5", "1.5", FT_DOUBLE, false},
		{"len(test.str)", "4", "4", FT_U64, false},
		{"test.ip", "10.1.2.3", "\"10.1.2.3\"", FT_IPADDR, false},
		{"test.net", "<IPNET>", "\"<IPNET>\"", FT_IPNET, false},
		{"test.list", "(a,b,c)", "[\"a\",\"b\",\"c\"]", FT_STRING, true},
		{"test.u64list", "(1,2,3)", "[1,2,3]", FT_U64, true},
		{"test.buf", "..hello.x", "\"..hello.x\"", FT_BUFFER, false},
		{"toupper(test.str)", "BASH", "\"BASH\"", FT_STRING, false},
		{"len(test.list)", "3", "3", FT_U64, false},
		{"test.missing", NULL, NULL, FT_STRING, false},
	};
	struct env e;

	env_init(&e);
	for (size_t i = 0; i < sizeof(vc) / sizeof(vc[0]); i++) {
		struct arena a;
		struct flt_expr *x;
		struct flt_error err;
		struct flt_vexpr *v;
		size_t used;
		struct value val;
		struct strbuf sb;

		arena_init(&a, 0, 0);
		strbuf_init(&sb, 0);
		assert_int_equal(
			flt_parse_value_expr(vc[i].expr, strlen(vc[i].expr), &a, &x, &used, &err),
			0);
		assert_int_equal(flt_compile_vexpr(e.comp, &testsrc_src, x, &v, &err), 0);
		arena_done(&a);
		bool is_list;
		assert_int_equal(flt_vexpr_type(v, &is_list), vc[i].type);
		assert_int_equal(is_list, vc[i].is_list);
		assert_int_equal(flt_vexpr_field(v) != NULL, strchr(vc[i].expr, '(') == NULL);
		int r = flt_eval_vexpr(v, env_event(&e), &val);
		if (!vc[i].text) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, 1);
			assert_int_equal(value_to_text(&val, &sb), 0);
			assert_string_equal(strbuf_str(&sb), vc[i].text);
			strbuf_reset(&sb);
			assert_int_equal(value_to_json(&val, &sb), 0);
			assert_string_equal(strbuf_str(&sb), vc[i].json);
		}
		strbuf_done(&sb);
		flt_vexpr_free(v);
	}
	/* an unknown field in an output expression */
	struct arena a;
	struct flt_expr *x;
	struct flt_error err;
	struct flt_vexpr *v;
	size_t used;
	arena_init(&a, 0, 0);
	assert_int_equal(flt_parse_value_expr("test.nope", 9, &a, &x, &used, &err), 0);
	assert_int_equal(flt_compile_vexpr(e.comp, &testsrc_src, x, &v, &err), -EINVAL);
	assert_string_equal(err.msg, "filter_check called with nonexistent field test.nope");
	arena_done(&a);
	assert_string_equal(fld_type_name(FT_PATH), "fspath");
	assert_string_equal(fld_type_name(FT_U64), "uint64");
	env_done(&e);
}

static void test_value_render(void **state)
{
	struct value items[2] = {
		{.type = FT_STRING, .len = 2, .str = "a\""},
		{.type = FT_STRING, .len = 1, .str = "b"},
	};
	struct {
		struct value v;
		const char *text, *json;
	} rc[] = {
		{{.type = FT_DOUBLE, .d = 2.0}, "2.0", "2.0"},
		{{.type = FT_DOUBLE, .d = 0.25}, "0.2", "0.25"},
		{{.type = FT_DOUBLE, .d = 1e300}, NULL, "1.0000000000000001e+300"},
		{{.type = FT_S64, .s64 = INT64_MIN},
		 "-9223372036854775808",
		 "-9223372036854775808"},
		{{.type = FT_U64, .u64 = UINT64_MAX},
		 "18446744073709551615",
		 "18446744073709551615"},
		{{.type = FT_BOOL, .b = false}, "false", "false"},
		{{.type = FT_IPADDR,
		  .ip = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}}},
		 "2001:db8::1",
		 "\"2001:db8::1\""},
		{{.type = FT_STRING, .is_list = true, .len = 2, .items = items},
		 "(a\",b)",
		 "[\"a\\\"\",\"b\"]"},
		{{.type = FT_STRING, .is_list = true, .len = 0, .items = items}, "()", "[]"},
		{{.type = FT_BUFFER, .len = 3, .str = "a\"\n"}, "a\".", "\"a\\\".\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rc); i++) {
		struct strbuf sb;
		strbuf_init(&sb, 0);
		assert_int_equal(value_to_text(&rc[i].v, &sb), 0);
		if (rc[i].text)
			assert_string_equal(strbuf_str(&sb), rc[i].text);
		strbuf_reset(&sb);
		assert_int_equal(value_to_json(&rc[i].v, &sb), 0);
		assert_string_equal(strbuf_str(&sb), rc[i].json);
		strbuf_done(&sb);
	}
}

static void test_fld_lookup(void **state)
{
	const char *arg;
	const struct fld_def *d = fld_lookup(&testsrc_src, "test.str", &arg);
	assert_non_null(d);
	assert_string_equal(d->name, "test.str");
	assert_null(arg);
	d = fld_lookup(&testsrc_src, "test.dot.flags", &arg);
	assert_string_equal(d->name, "test.dot");
	assert_string_equal(arg, "flags");
	d = fld_lookup(&testsrc_src, "test.dot.deep.a.b", &arg);
	assert_string_equal(d->name, "test.dot.deep");
	assert_string_equal(arg, "a.b");
	d = fld_lookup(&testsrc_src, "test.dot.deep", &arg);
	assert_string_equal(d->name, "test.dot.deep");
	assert_null(arg);
	assert_null(fld_lookup(&testsrc_src, "test.dot.", &arg));
	assert_null(fld_lookup(&testsrc_src, "test.str.x", &arg)); /* not a dotted-argument field */
	assert_null(fld_lookup(&testsrc_src, "test", &arg));
}

/*
 * Random checks over every fake field, operator and a few values: compiling either succeeds or reports an
 * error with a message; evaluation never crashes and never extracts a field twice in one event.
 */
static void test_eval_soup(void **state)
{
	static const char *const lhs[] = {
		"test.str",
		"test.path",
		"test.buf",
		"test.u64",
		"test.s64",
		"test.bool",
		"test.double",
		"test.ip",
		"test.net",
		"test.reltime",
		"test.list",
		"test.u64list",
		"test.emptylist",
		"test.missing",
		"test.error",
		"test.arg[x]",
		"test.list[1]",
		"tolower(test.str)",
		"len(test.list)",
		"getopt(test.args, 'nt:')",
		"test.count",
		"evt.type",
		"basename(test.path)",
	};
	static const char *const ops[] = {
		"=",
		"!=",
		"<",
		">=",
		"contains",
		"icontains",
		"bcontains",
		"startswith",
		"bstartswith",
		"endswith",
		"glob",
		"iglob",
		"regex",
		"in",
		"intersects",
		"pmatch",
		"exists",
		"= anyof",
		"contains allof",
		"!= oneof",
	};
	static const char *const rhs[] = {
		"",
		"1",
		"-1",
		"0x10",
		"a",
		"'*'",
		"(a, 1, true)",
		"()",
		"(10.0.0.0/8)",
		"10.1.2.3",
		"true",
		"val(test.str)",
		"val(test.list)",
		"val(test.u64)",
		"'.*'",
		"(/usr, /e*)",
		"0a0b",
		"len(test.str)",
	};
	struct env e;
	uint32_t seed = 777;
	int compiled = 0;

	env_init(&e);
	for (int iter = 0; iter < 6000; iter++) {
		char cond[256], err[600];
		seed = seed * 1103515245 + 12345;
		const char *l = lhs[(seed >> 8) % ARRAY_SIZE(lhs)];
		const char *o = ops[(seed >> 16) % ARRAY_SIZE(ops)];
		seed = seed * 1103515245 + 12345;
		const char *r = rhs[(seed >> 12) % ARRAY_SIZE(rhs)];
		snprintf(cond, sizeof(cond), "%s %s %s and not (%s %s %s)", l, o, r, l, o, r);
		err[0] = '\0';
		struct flt_prog *p = compile(&e, cond, &testsrc_src, err, sizeof(err), NULL, NULL);
		if (!p) {
			assert_true(strlen(err) > 8);
			continue;
		}
		compiled++;
		unsigned long before = testsrc_count_calls;
		/* "x and not x" is false whether or not x has a value */
		assert_false(flt_eval(p, env_event(&e)));
		assert_true(testsrc_count_calls - before <= 1);
		flt_prog_free(p);
	}
	assert_true(compiled > 500);
	env_done(&e);
	assert_int_equal(testsrc_prepared, 0);
}

/* The deepest condition the parser accepts compiles, evaluates and gets its event types. */
static void test_eval_deep(void **state)
{
	struct env e;
	struct strbuf sb;
	char err[600];

	env_init(&e);
	strbuf_init(&sb, 0);
	for (int i = 0; i < FLT_MAX_DEPTH; i++)
		strbuf_appends(&sb, i % 2 ? "test.str = x or (" : "not test.u64 = 1 and (");
	strbuf_appends(&sb, "test.list intersects (c)");
	for (int i = 0; i < FLT_MAX_DEPTH; i++)
		strbuf_appendc(&sb, ')');
	struct flt_prog *p =
		compile(&e, strbuf_str(&sb), &testsrc_src, err, sizeof(err), NULL, NULL);
	assert_non_null(p);
	assert_true(flt_eval(p, env_event(&e)));
	e.tevt.u64 = 1;
	assert_false(flt_eval(p, env_event(&e)));
	flt_prog_free(p);

	struct arena a;
	struct flt_node *ast;
	struct flt_error ferr;
	uint64_t bits[2];
	arena_init(&a, 0, 0);
	assert_int_equal(flt_parse(sb.buf, sb.len, &a, &ast, &ferr), 0);
	assert_int_equal(flt_evttypes(ast, &testsrc_src, bits, &ferr), 0);
	assert_true(bits[0] == ~0ULL);
	arena_done(&a);
	strbuf_done(&sb);
	env_done(&e);
}

/* A rough throughput figure for the hot path (printed, not asserted: the machine is shared). */
static void test_eval_speed(void **state)
{
	struct env e;
	char err[600];
	const char *conds[] = {
		"test.str in (sh, bash, zsh, ksh, Bash) and test.u64 > 10 and not test.path pmatch (/etc, /opt)",
		"test.str = x or (test.list intersects (c, d) and test.ip in (10.1.2.3, 1.1.1.1))",
		"test.path startswith /usr and test.str contains as and evt.type in (open, openat)",
		"tolower(test.str) = bash and test.missing != x",
	};
	struct flt_prog *p[4];

	env_init(&e);
	for (int i = 0; i < 4; i++) {
		p[i] = compile(&e, conds[i], &testsrc_src, err, sizeof(err), NULL, NULL);
		assert_non_null(p[i]);
	}
	struct flt_eval_ctx *ec = env_event(&e);
	struct timespec t0, t1;
	const int n = 200000;
	int hits = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		flt_cache_next_event(e.cache);
		arena_reset(&e.arena);
		for (int k = 0; k < 4; k++)
			hits += flt_eval(p[k], ec);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
	fprintf(stderr, "eval: %.0f ns per event for 4 conditions (%d matches)\n", ns, hits);
	assert_int_equal(hits, 3 * n);
	for (int i = 0; i < 4; i++)
		flt_prog_free(p[i]);
	env_done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_table),
		cmocka_unit_test(test_eval_other_events),
		cmocka_unit_test(test_eval_dedup_and_cache),
		cmocka_unit_test(test_compile_warnings),
		cmocka_unit_test(test_vexpr_and_rendering),
		cmocka_unit_test(test_fld_lookup),
		cmocka_unit_test(test_value_render),
		cmocka_unit_test(test_eval_soup),
		cmocka_unit_test(test_eval_deep),
		cmocka_unit_test(test_eval_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
