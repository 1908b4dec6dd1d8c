/* SPDX-License-Identifier: Apache-2.0 */
/* falcoctl settings: defaults, falcoctl.yaml, FALCOCTL_* environment and flags, with per-setting precedence. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "config.h"
#include "fc.h"

#define CONFIG_MAX_BYTES (1u << 20)

const struct fc_setting_def fc_setting_defs[_FC_K_MAX] = {
	[FC_K_ROOT] = {NULL, "FALCOCTL_ROOT", "root", FC_KIND_STRING, "/", NULL,
		       "resolve every path under this directory (pre-baked images)"},
	[FC_K_CONFIG] = {NULL, "FALCOCTL_CONFIG", "config", FC_KIND_STRING, FC_DEFAULT_CONFIG, NULL,
			 "falcoctl configuration file"},
	[FC_K_OUTPUT] = {NULL, "FALCOCTL_OUTPUT", "output", FC_KIND_ENUM, "text", "text|json",
			 "output format"},
	[FC_K_VERBOSE] = {NULL, "FALCOCTL_VERBOSE", "verbose", FC_KIND_UINT, "0", NULL,
			  "debug messages"},
	[FC_K_DRY_RUN] = {NULL, NULL, "dry-run", FC_KIND_BOOL, "false", NULL,
			  "print what would change and touch nothing"},
	[FC_K_DRIVER_TYPE] = {"driver.type", "FALCOCTL_DRIVER_TYPE", "type", FC_KIND_LIST,
			      "modern_ebpf;kmod", "auto|modern_ebpf|kmod",
			      "allowed driver types in priority order (auto = all)"},
	[FC_K_DRIVER_NAME] = {"driver.name", "FALCOCTL_DRIVER_NAME", "name", FC_KIND_STRING,
			      "falco", NULL, "driver name (kernel module and artifact prefix)"},
	[FC_K_DRIVER_VERSION] = {"driver.version", "FALCOCTL_DRIVER_VERSION", "driver-version",
				 FC_KIND_STRING, PROJECT_VERSION, NULL,
				 "driver version (repository folder)"},
	[FC_K_DRIVER_REPOS] = {"driver.repos", "FALCOCTL_DRIVER_REPOS", "repo", FC_KIND_LIST, NULL,
			       NULL, "driver repositories, tried in order"},
	[FC_K_DRIVER_KERNELRELEASE] = {"driver.kernelRelease", "FALCOCTL_DRIVER_KERNELRELEASE",
				       "kernelrelease", FC_KIND_STRING, NULL, NULL,
				       "kernel release (uname -r) to target"},
	[FC_K_DRIVER_KERNELVERSION] = {"driver.kernelVersion", "FALCOCTL_DRIVER_KERNELVERSION",
				       "kernelversion", FC_KIND_STRING, NULL, NULL,
				       "kernel version (uname -v) to target"},
	[FC_K_DRIVER_CAFILE] = {"driver.caFile", "FALCOCTL_DRIVER_CAFILE", "ca-file",
				FC_KIND_STRING, NULL, NULL,
				"CA bundle for the driver repositories (default: system store)"},
	[FC_K_DRIVER_KEYSDIR] = {"driver.keysDir", "FALCOCTL_DRIVER_KEYSDIR", "keys-dir",
				 FC_KIND_STRING, SYSCONFDIR "/falcoctl/keys", NULL,
				 "pinned Ed25519 public keys (*.pem) for SHA256SUMS.sig"},
	[FC_K_DRIVER_CACHEDIR] = {"driver.cacheDir", "FALCOCTL_DRIVER_CACHEDIR", "cache-dir",
				  FC_KIND_STRING, FC_STATE_DIR "/drivers", NULL,
				  "verified driver cache"},
	[FC_K_DRIVER_PLAINHTTP] = {"driver.plainHTTP", "FALCOCTL_DRIVER_PLAINHTTP", "plain-http",
				   FC_KIND_BOOL, "false", NULL,
				   "also allow http:// repositories (signatures still checked)"},
	[FC_K_DRIVER_HTTPTIMEOUT] = {"driver.httpTimeout", "FALCOCTL_DRIVER_HTTPTIMEOUT",
				     "http-timeout", FC_KIND_DURATION, "60s", NULL,
				     "timeout of one download"},
	[FC_K_DRIVER_HTTPRETRIES] = {"driver.httpRetries", "FALCOCTL_DRIVER_HTTPRETRIES",
				     "http-retries", FC_KIND_UINT, "3", NULL,
				     "retries on transient download errors"},
	[FC_K_DRIVER_MAXSIZE] = {"driver.maxSize", "FALCOCTL_DRIVER_MAXSIZE", "max-size",
				 FC_KIND_SIZE, "64MiB", NULL, "largest driver artifact accepted"},
	[FC_K_INSTALL_FROM] = {"install.from", "FALCOCTL_INSTALL_FROM", "from", FC_KIND_STRING,
			       NULL, NULL,
			       "falco binary to install (default: the one beside falcoctl)"},
	[FC_K_INSTALL_ASSETS] = {"install.assetsDir", "FALCOCTL_INSTALL_ASSETSDIR", "assets",
				 FC_KIND_STRING, NULL, NULL,
				 "folder with falco/falco.yaml, rules/ and systemd/"},
	[FC_K_INSTALL_SKIPPHASES] = {"install.skipPhases", "FALCOCTL_INSTALL_SKIPPHASES",
				     "skip-phases", FC_KIND_LIST, NULL, NULL,
				     "phases to skip (a parent skips its children)"},
	[FC_K_INSTALL_IGNOREPREFLIGHT] =
		{"install.ignorePreflightErrors", "FALCOCTL_INSTALL_IGNOREPREFLIGHTERRORS",
		 "ignore-preflight-errors", FC_KIND_LIST, NULL, NULL,
		 "preflight checks whose errors become warnings (or 'all')"},
	[FC_K_START_TIMEOUT] = {"install.startTimeout", "FALCOCTL_INSTALL_STARTTIMEOUT",
				"start-timeout", FC_KIND_DURATION, "90s", NULL,
				"how long start waits for falco's READY"},
	[FC_K_VERIFY_URL] = {"verify.healthzURL", "FALCOCTL_VERIFY_HEALTHZURL", NULL,
			     FC_KIND_STRING, NULL, NULL,
			     "health URL (default: from falco.yaml's webserver)"},
	[FC_K_VERIFY_TIMEOUT] = {"verify.timeout", "FALCOCTL_VERIFY_TIMEOUT", "verify-timeout",
				 FC_KIND_DURATION, "15s", NULL,
				 "how long verify waits for health and the alert"},
	[FC_K_VERIFY_RULE] = {"verify.rule", "FALCOCTL_VERIFY_RULE", NULL, FC_KIND_STRING, NULL,
			      NULL, "self-test rule name (default: falcoctl's built-in self-test)"},
	[FC_K_VERIFY_MATCH] = {"verify.match", "FALCOCTL_VERIFY_MATCH", NULL, FC_KIND_STRING, NULL,
			       NULL, "text the self-test alert contains"},
	[FC_K_VERIFY_COMMAND] = {"verify.command", "FALCOCTL_VERIFY_COMMAND", NULL, FC_KIND_LIST,
				 NULL, NULL, "self-test trigger command (argv)"},
};

const char *fc_src_to_string(enum fc_src src)
{
	static const char *const names[] = {"default", "file", "env", "flag"};
	return (unsigned)src < ARRAY_SIZE(names) ? names[src] : "?";
}

int fc_key_from_flag(const char *flag)
{
	for (int k = 0; k < _FC_K_MAX; k++)
		if (fc_setting_defs[k].flag && streq(fc_setting_defs[k].flag, flag))
			return k;
	return _FC_K_INVALID;
}

int fc_key_from_path(const char *key)
{
	for (int k = 0; k < _FC_K_MAX; k++)
		if (fc_setting_defs[k].key && strcasecmp(fc_setting_defs[k].key, key) == 0)
			return k;
	return _FC_K_INVALID;
}

static int parse_bool(const char *v, uint64_t *ret)
{
	static const char *const yes[] = {"1", "true", "yes", "on", "y"};
	static const char *const no[] = {"0", "false", "no", "off", "n"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return *ret = 1, 0;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(v, no[i]) == 0)
			return *ret = 0, 0;
	return -EINVAL;
}

static int parse_uint_suffix(const char *v, uint64_t *num, const char **suffix)
{
	char *end;
	if (!*v || *v == '-' || *v == '+')
		return -EINVAL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	while (*end == ' ')
		end++;
	*num = n;
	*suffix = end;
	return 0;
}

static int parse_duration(const char *v, uint64_t *ret_ms)
{
	static const struct {
		const char *s;
		uint64_t mul;
	} units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	uint64_t n;
	const char *sfx;
	if (parse_uint_suffix(v, &n, &sfx) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (streq(sfx, units[i].s)) {
			if (n > UINT64_MAX / units[i].mul)
				return -ERANGE;
			*ret_ms = n * units[i].mul;
			return 0;
		}
	return -EINVAL;
}

static int parse_size(const char *v, uint64_t *ret)
{
	static const struct {
		const char *s;
		uint64_t mul;
	} units[] = {{"", 1},		{"B", 1},
		     {"K", 1ull << 10}, {"KiB", 1ull << 10},
		     {"M", 1ull << 20}, {"MiB", 1ull << 20},
		     {"G", 1ull << 30}, {"GiB", 1ull << 30}};
	uint64_t n;
	const char *sfx;
	if (parse_uint_suffix(v, &n, &sfx) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcasecmp(sfx, units[i].s) == 0) {
			if (n > UINT64_MAX / units[i].mul)
				return -ERANGE;
			*ret = n * units[i].mul;
			return 0;
		}
	return -EINVAL;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static int set_value(struct fc_settings *s, enum fc_key k, const char *value, const char *origin,
		     char *errbuf, size_t errlen)
{
	const struct fc_setting_def *d = &fc_setting_defs[k];
	const char *what = d->key ? d->key : d->flag;
	_cleanup_free_ char *copy = NULL;
	char **items = NULL;
	uint64_t num = 0;
	int r = 0;

	switch (d->kind) {
	case FC_KIND_STRING:
		break;
	case FC_KIND_ENUM:
		if (!choice_ok(d->choices, value))
			return errf(errbuf, errlen, -EINVAL, "%s: invalid %s '%s' (expected %s)",
				    origin, what, value, d->choices);
		break;
	case FC_KIND_LIST:
		items = fc_split_list(value);
		if (!items)
			return errf(errbuf, errlen, -ENOMEM, "out of memory");
		for (char **it = items; d->choices && *it; it++)
			if (!choice_ok(d->choices, *it)) {
				errf(errbuf, errlen, -EINVAL,
				     "%s: invalid %s item '%s' (expected %s)", origin, what, *it,
				     d->choices);
				fc_strv_free(items);
				return -EINVAL;
			}
		break;
	case FC_KIND_BOOL:
		r = parse_bool(value, &num);
		break;
	case FC_KIND_UINT: {
		const char *sfx;
		r = parse_uint_suffix(value, &num, &sfx);
		if (r == 0 && *sfx)
			r = -EINVAL;
		break;
	}
	case FC_KIND_DURATION:
		r = parse_duration(value, &num);
		break;
	case FC_KIND_SIZE:
		r = parse_size(value, &num);
		break;
	}
	if (r < 0)
		return errf(errbuf, errlen, -EINVAL, "%s: invalid value '%s' for %s", origin, value,
			    what);

	copy = strdup(value);
	char *orig = strdup(origin);
	if (!copy || !orig) {
		free(orig);
		fc_strv_free(items);
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	free(s->str[k]);
	s->str[k] = TAKE_PTR(copy);
	fc_strv_free(s->list[k]);
	s->list[k] = items;
	s->num[k] = num;
	free(s->origin[k]);
	s->origin[k] = orig;
	return 0;
}

int fc_settings_init(struct fc_settings *s)
{
	memset(s, 0, sizeof(*s));
	for (int k = 0; k < _FC_K_MAX; k++) {
		if (!fc_setting_defs[k].defval)
			continue;
		int r = set_value(s, k, fc_setting_defs[k].defval, "default", NULL, 0);
		if (r < 0)
			return r;
		s->src[k] = FC_SRC_DEFAULT;
	}
	return 0;
}

void fc_settings_done(struct fc_settings *s)
{
	for (int k = 0; k < _FC_K_MAX; k++) {
		free(s->str[k]);
		fc_strv_free(s->list[k]);
		free(s->origin[k]);
	}
	free(s->config_path);
	memset(s, 0, sizeof(*s));
}

int fc_settings_set(struct fc_settings *s, enum fc_key key, const char *value, enum fc_src src,
		    const char *origin, char *errbuf, size_t errlen)
{
	if ((unsigned)key >= _FC_K_MAX)
		return errf(errbuf, errlen, -EINVAL, "unknown setting");
	if (s->str[key] && s->src[key] > src)
		return 1;
	int r = set_value(s, key, value, origin, errbuf, errlen);
	if (r < 0)
		return r;
	s->src[key] = src;
	return 0;
}

int fc_settings_load_env(struct fc_settings *s, char *const *env, char *errbuf, size_t errlen)
{
	for (char *const *e = env; e && *e; e++) {
		if (!startswith(*e, "FALCOCTL_"))
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		for (int k = 0; k < _FC_K_MAX; k++) {
			const char *name = fc_setting_defs[k].env;
			if (!name || strlen(name) != (size_t)(eq - *e) ||
			    strncmp(name, *e, (size_t)(eq - *e)) != 0)
				continue;
			char origin[96];
			snprintf(origin, sizeof(origin), "env %s", name);
			int r = fc_settings_set(s, k, eq + 1, FC_SRC_ENV, origin, errbuf, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Case-insensitive map lookup (viper, which upstream uses, lower-cases every key). */
static const struct ypair *map_pair_ci(const struct ynode *map, const char *key, size_t keylen)
{
	const struct ypair *found = NULL;
	if (!map || map->kind != YN_MAP)
		return NULL;
	for (size_t i = 0; i < map->map.n; i++) {
		const char *k = ynode_str(map->map.pairs[i].key);
		if (k && strlen(k) == keylen && strncasecmp(k, key, keylen) == 0)
			found = &map->map.pairs[i]; /* the last duplicate wins, like yaml.h */
	}
	return found;
}

static const struct ypair *lookup_path(const struct ynode *root, const char *path)
{
	const struct ypair *p = NULL;
	const struct ynode *cur = root;
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		p = map_pair_ci(cur, path, len);
		if (!p)
			return NULL;
		cur = p->val;
		path += len + (dot ? 1 : 0);
	}
	return p;
}

int fc_settings_load_file(struct fc_settings *s, const char *path, bool missing_ok, char *errbuf,
			  size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	struct yaml_stream *ys = NULL;
	size_t len;
	int r;

	r = read_file(path, CONFIG_MAX_BYTES, &text, &len, errbuf, errlen);
	if (r == -ENOENT && missing_ok)
		return 0;
	if (r < 0)
		return r;
	r = yaml_parse(text, len, NULL, &ys, errbuf, errlen);
	if (r < 0)
		return errf_prefix(errbuf, errlen, r, "%s", path);
	free(s->config_path);
	s->config_path = strdup(path);
	const struct ynode *root = ys->ndocs > 0 ? ys->docs[0] : NULL;
	if (root && root->kind != YN_MAP) {
		r = errf(errbuf, errlen, -EINVAL, "%s:%u:%u: expected a map at the top level", path,
			 root->line, root->col);
		goto out;
	}
	for (int k = 0; k < _FC_K_MAX && root; k++) {
		const struct fc_setting_def *d = &fc_setting_defs[k];
		if (!d->key)
			continue;
		const struct ypair *p = lookup_path(root, d->key);
		if (!p || ynode_is_null(p->val))
			continue;
		char origin[PATH_MAX + 32];
		snprintf(origin, sizeof(origin), "%s:%u", path, p->key->line);
		struct strbuf sb;
		strbuf_init(&sb, 64 << 10);
		if (p->val->kind == YN_SCALAR) {
			strbuf_append(&sb, p->val->scalar.str, p->val->scalar.len);
		} else if (p->val->kind == YN_SEQ && d->kind == FC_KIND_LIST) {
			for (size_t i = 0; i < p->val->seq.n; i++) {
				const char *item = ynode_str(p->val->seq.items[i]);
				if (!item) {
					strbuf_done(&sb);
					r = errf(errbuf, errlen, -EINVAL,
						 "%s:%u:%u: %s: expected a list of strings", path,
						 p->val->seq.items[i]->line,
						 p->val->seq.items[i]->col, d->key);
					goto out;
				}
				if (i)
					strbuf_appendc(&sb, ';');
				strbuf_appends(&sb, item);
			}
		} else {
			strbuf_done(&sb);
			r = errf(errbuf, errlen, -EINVAL, "%s:%u:%u: %s: expected %s", path,
				 p->val->line, p->val->col, d->key,
				 d->kind == FC_KIND_LIST ? "a list" : "a scalar");
			goto out;
		}
		if (sb.failed) {
			strbuf_done(&sb);
			r = errf(errbuf, errlen, -E2BIG, "%s: value of %s is too large", path,
				 d->key);
			goto out;
		}
		r = fc_settings_set(s, k, strbuf_str(&sb), FC_SRC_FILE, origin, errbuf, errlen);
		strbuf_done(&sb);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	yaml_stream_free(ys);
	return r;
}

/* ---- editing driver.type in place ---------------------------------------------------------------------- */

/* Byte offset of the start of 1-based line n (len when past the end). */
static size_t line_offset(const char *text, size_t len, uint32_t n)
{
	size_t off = 0;
	for (uint32_t l = 1; l < n && off < len; l++) {
		const char *nl = memchr(text + off, '\n', len - off);
		if (!nl)
			return len;
		off = (size_t)(nl - text) + 1;
	}
	return off;
}

static bool line_is_blank_or_comment(const char *text, size_t len, size_t off)
{
	while (off < len && (text[off] == ' ' || text[off] == '\t'))
		off++;
	return off >= len || text[off] == '\n' || text[off] == '#';
}

static int append_types_flow(struct strbuf *sb, char *const *types)
{
	strbuf_appendc(sb, '[');
	for (size_t i = 0; types[i]; i++)
		strbuf_appendf(sb, "%s%s", i ? ", " : "", types[i]);
	return strbuf_appendc(sb, ']');
}

int fc_config_set_driver_type(const char *text, size_t len, char *const *types, char **ret,
			      char *errbuf, size_t errlen)
{
	_cleanup_strbuf_ struct strbuf sb = {0};
	struct yaml_stream *ys = NULL;
	int r;

	strbuf_init(&sb, CONFIG_MAX_BYTES * 2);
	r = yaml_parse(text, len, NULL, &ys, errbuf, errlen);
	if (r < 0)
		return r;
	const struct ynode *root = ys->ndocs > 0 ? ys->docs[0] : NULL;
	if (root && root->kind != YN_MAP) {
		r = errf(errbuf, errlen, -EINVAL, "%u:%u: expected a map at the top level",
			 root->line, root->col);
		goto out;
	}
	const struct ypair *drv = root ? map_pair_ci(root, "driver", 6) : NULL;

	if (!drv || ynode_is_null(drv->val)) {
		/* 1. no driver map: append one (or fill an empty "driver:" line by appending below it) */
		size_t cut = len;
		if (drv) {
			/* "driver:" with no value: insert the child right after that line */
			cut = line_offset(text, len, drv->key->line + 1);
		}
		strbuf_append(&sb, text, cut);
		if (cut > 0 && text[cut - 1] != '\n')
			strbuf_appendc(&sb, '\n');
		if (!drv)
			strbuf_appends(&sb, "driver:\n");
		strbuf_appends(&sb, "  type: ");
		append_types_flow(&sb, types);
		strbuf_appendc(&sb, '\n');
		strbuf_append(&sb, text + cut, len - cut);
	} else if (drv->val->kind != YN_MAP || drv->val->line == drv->key->line) {
		r = errf(
			errbuf, errlen, -EINVAL,
			"%u:%u: 'driver' is not a block map; set driver.type by hand or use FALCOCTL_DRIVER_TYPE",
			drv->val->line, drv->val->col);
		goto out;
	} else {
		const struct ynode *dm = drv->val;
		const struct ypair *tp = map_pair_ci(dm, "type", 4);
		uint32_t indent = dm->map.n > 0 ? dm->map.pairs[0].key->col - 1 : 2;
		if (!tp) {
			/* 2. insert "type:" as the first child of driver */
			size_t cut = line_offset(text, len, drv->key->line + 1);
			strbuf_append(&sb, text, cut);
			if (cut > 0 && text[cut - 1] != '\n')
				strbuf_appendc(&sb, '\n');
			strbuf_appendf(&sb, "%*stype: ", (int)indent, "");
			append_types_flow(&sb, types);
			strbuf_appendc(&sb, '\n');
			strbuf_append(&sb, text + cut, len - cut);
		} else {
			/* 3. replace the lines of the existing entry, up to the next key of driver or of the top
			 * level, keeping comments and blank lines that follow it */
			uint32_t next_line = 0;
			for (size_t i = 0; i < dm->map.n; i++)
				if (dm->map.pairs[i].key->line > tp->key->line &&
				    (!next_line || dm->map.pairs[i].key->line < next_line))
					next_line = dm->map.pairs[i].key->line;
			for (size_t i = 0; !next_line && i < root->map.n; i++)
				if (root->map.pairs[i].key->line > tp->key->line &&
				    (!next_line || root->map.pairs[i].key->line < next_line))
					next_line = root->map.pairs[i].key->line;
			size_t start = line_offset(text, len, tp->key->line);
			size_t end = next_line ? line_offset(text, len, next_line) : len;
			/* give back trailing comment/blank lines */
			for (;;) {
				size_t prev = end;
				if (prev <= start)
					break;
				size_t ls = prev - 1;
				while (ls > start && text[ls - 1] != '\n')
					ls--;
				if (ls <= start || !line_is_blank_or_comment(text, len, ls))
					break;
				end = ls;
			}
			strbuf_append(&sb, text, start);
			strbuf_appendf(&sb, "%*stype: ", (int)(tp->key->col - 1), "");
			append_types_flow(&sb, types);
			strbuf_appendc(&sb, '\n');
			strbuf_append(&sb, text + end, len - end);
		}
	}
	if (sb.failed) {
		r = errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	*ret = strbuf_steal(&sb);
	r = *ret ? 0 : -ENOMEM;
out:
	yaml_stream_free(ys);
	return r;
}

char *fc_config_default_text(char *const *types)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	strbuf_appends(
		&sb,
		"# falcoctl configuration (falcoctl(8)). Precedence: flag > FALCOCTL_* env > this file > "
		"default.\n"
		"driver:\n"
		"  # allowed driver types in priority order: modern_ebpf, kmod (auto = both)\n"
		"  type: ");
	append_types_flow(&sb, types);
	strbuf_appends(
		&sb,
		"\n"
		"  name: falco\n"
		"  # kmod artifacts: <repo>/<version>/<arch>/falco_<target>_<release>_<kv>.ko, checked\n"
		"  # against <repo>/<version>/<arch>/SHA256SUMS signed by a key in keysDir\n"
		"  repos: []\n"
		"  keysDir: " SYSCONFDIR "/falcoctl/keys\n"
		"  cacheDir: " FC_STATE_DIR "/drivers\n"
		"  httpTimeout: 60s\n"
		"  httpRetries: 3\n"
		"  maxSize: 64MiB\n"
		"install:\n"
		"  skipPhases: []\n"
		"  ignorePreflightErrors: []\n"
		"verify:\n"
		"  timeout: 15s\n");
	return strbuf_steal(&sb);
}
