/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader's lifecycle: files and directories in, one load result per file out. Reading a file collects its
 * items (rules_yaml.c, rules_collect.c); everything is compiled once, in rules_loader_finish (rules_compile.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fileio.h"
#include "rules_internal.h"

struct rules_loader *rules_loader_new(const struct rules_options *opts)
{
	struct rules_loader *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->opts = *opts;
	arena_init(&l->arena, 64 * 1024, 0);
	if (hmap_init(&l->list_map, 64) < 0 || hmap_init(&l->macro_map, 64) < 0 ||
	    hmap_init(&l->rule_map, 64) < 0)
		return rules_loader_free(l);
	return l;
}

struct rules_loader *rules_loader_free(struct rules_loader *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->nfiles; i++) {
		free(l->files[i].name);
		free(l->files[i].content);
		free(l->files[i].lines);
		yaml_stream_free(l->files[i].ys);
		load_result_done(&l->results[i]);
	}
	free(l->files);
	free(l->results);
	free(l->lists);
	free(l->macros);
	free(l->rules);
	hmap_done(&l->list_map);
	hmap_done(&l->macro_map);
	hmap_done(&l->rule_map);
	arena_done(&l->arena);
	free(l);
	return NULL;
}

/* Registers a file and its load result; content (may be NULL) is taken over. Returns the index or -errno. */
static int new_file(struct rules_loader *l, const char *name, char *content, size_t len)
{
	if (l->nfiles >= RULES_MAX_FILES) {
		free(content);
		return -E2BIG;
	}
	if (l->nfiles == l->cap_files) {
		size_t ncap = l->cap_files ? l->cap_files * 2 : 4;
		struct rl_file *nf = realloc(l->files, ncap * sizeof(*nf));
		if (nf)
			l->files = nf;
		struct load_result *nr = realloc(l->results, ncap * sizeof(*nr));
		if (nr)
			l->results = nr;
		if (!nf || !nr) {
			free(content);
			return -ENOMEM;
		}
		l->cap_files = ncap;
	}
	char *n = strdup(name);
	if (!n) {
		free(content);
		return -ENOMEM;
	}
	l->files[l->nfiles] = (struct rl_file){.name = n, .content = content, .len = len};
	l->results[l->nfiles] = (struct load_result){.name = n, .successful = true};
	return (int)l->nfiles++;
}

static int add_file(struct rules_loader *l, const char *name, char *content, size_t len)
{
	int fi = new_file(l, name, content, len);

	if (fi < 0)
		return fi;
	int r = rl_read_file(l, (uint32_t)fi);
	l->files[fi].end_index = l->cur_index;
	if (r == -ENOMEM)
		return r;
	return l->results[fi].successful ? 0 : -EINVAL;
}

int rules_loader_add_content(struct rules_loader *l, const char *name, const char *content,
			     size_t len)
{
	if (l->finished)
		return -EBUSY;
	if (len > RULES_MAX_FILE_BYTES) {
		int fi = new_file(l, name, NULL, 0);
		if (fi < 0)
			return fi;
		struct rl_where w = {0};
		rl_where_push(&w, IT_RULES_CONTENT, "", -1, 0);
		return rl_msg(l, (uint32_t)fi, LOAD_ERR_FILE_READ, &w,
			      "Rules content is too large (%zu bytes, limit %u)", len,
			      RULES_MAX_FILE_BYTES);
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, content, len);
	copy[len] = '\0';
	return add_file(l, name, copy, len);
}

static int add_one_file(struct rules_loader *l, const char *path)
{
	char err[512] = "";
	char *content = NULL;
	size_t len = 0;

	int r = read_file(path, RULES_MAX_FILE_BYTES, &content, &len, err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		int fi = new_file(l, path, NULL, 0);
		if (fi < 0)
			return fi;
		struct rl_where w = {0};
		rl_where_push(&w, IT_RULES_CONTENT, "", -1, 0);
		return rl_msg(l, (uint32_t)fi, LOAD_ERR_FILE_READ, &w, "Could not read file: %s",
			      err);
	}
	return add_file(l, path, content, len);
}

static bool has_rules_ext(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .yaml/.yml regular file of dir (not recursive), in byte order of their names, as upstream. */
static int add_dir(struct rules_loader *l, const char *dir)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!d)
		return add_one_file(l, dir); /* records the read error */
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.' || !has_rules_ext(de->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				ret = -ENOMEM;
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		size_t plen = strlen(dir) + 1 + strlen(de->d_name) + 1;
		names[n] = malloc(plen);
		if (!names[n]) {
			ret = -ENOMEM;
			goto out;
		}
		snprintf(names[n], plen, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			 de->d_name);
		n++;
	}
	if (n) /* an empty directory leaves names NULL, which qsort must not get */
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && !S_ISREG(st.st_mode))
			continue;
		int r = add_one_file(l, names[i]);
		if (r == -ENOMEM) {
			ret = r;
			goto out;
		}
		if (r < 0)
			ret = r;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

int rules_loader_add_path(struct rules_loader *l, const char *path)
{
	if (l->finished)
		return -EBUSY;
	if (is_dir(path))
		return add_dir(l, path);
	return add_one_file(l, path);
}

const struct load_result *rules_loader_results(const struct rules_loader *l, size_t *ret_n)
{
	*ret_n = l->nfiles;
	return l->results;
}

bool rules_loader_failed(const struct rules_loader *l)
{
	return l->failed;
}
