/*
 * signers.c - loads the [signature.<id>] DKIM signers and signs report mail with the
 * ids of report.tls.aggregate.sign (RFC 6376, RFC 8463, RFC 8460 section 5.3).
 * Threading: see signers.h (read-only after load).
 */
#include <stdlib.h>
#include <string.h>

#include "outbound/signers.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

static void
signer_clear(struct signer *g)
{
	free(g->id);
	mdkim_key_free(g->key);
	free((char *)g->opts.domain);
	free((char *)g->opts.selector);
	if (g->headers)
		for (size_t i = 0; g->headers[i]; i++)
			free((char *)g->headers[i]);
	free(g->headers);
	memset(g, 0, sizeof(*g));
}

void
signers_free(struct signers *s)
{
	for (size_t i = 0; i < s->n; i++)
		signer_clear(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const struct signer *
signers_find(const struct signers *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return &s->v[i];
	return NULL;
}

static const char *
key_name(char *out, size_t cap, const char *id, const char *leaf)
{
	struct buf b;

	buf_init(&b, cap);
	buf_printf(&b, "signature.%s.%s", id, leaf);
	str_copy(out, cap, buf_cstr(&b));
	buf_clear(&b);
	return out;
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static int
load_one(const struct conf *c, const char *id, struct signer *g, struct err *e)
{
	char k[300];
	const char *pem, *alg, *canon;
	const char *const *hl;
	size_t nh = 0;
	int64_t expire;
	enum mdkim_alg want;

	memset(g, 0, sizeof(*g));
	g->id = xstrdup(id);
	pem = conf_str(c, key_name(k, sizeof(k), id, "private-key"));
	if (pem == NULL || *pem == '\0')
		return err_set(e, ERR_INVALID, "signature.%s: private-key is not set", id);
	if (mdkim_key_from_pem(span_cstr(pem), &g->key, e) != 0)
		return err_prefix(e, "signature.%s: private-key", id);
	alg = conf_enum(c, key_name(k, sizeof(k), id, "algorithm"));
	want = alg && strcmp(alg, "ed25519-sha256") == 0 ? MDKIM_ED25519_SHA256 : MDKIM_RSA_SHA256;
	if (alg == NULL || mdkim_key_alg(g->key) != want)
		return err_set(e, ERR_INVALID,
		               "signature.%s: algorithm %s does not match the %s key", id,
		               alg ? alg : "(unset)", mdkim_alg_name(mdkim_key_alg(g->key)));
	g->opts.domain = xstrdup(or_empty(conf_str(c, key_name(k, sizeof(k), id, "domain"))));
	g->opts.selector = xstrdup(or_empty(conf_str(c, key_name(k, sizeof(k), id, "selector"))));
	if (g->opts.domain[0] == '\0' || g->opts.selector[0] == '\0')
		return err_set(e, ERR_INVALID, "signature.%s: domain and selector are required",
		               id);
	hl = conf_list(c, key_name(k, sizeof(k), id, "headers"), &nh);
	g->headers = xcalloc(nh + 1, sizeof(*g->headers));
	for (size_t i = 0; i < nh; i++)
		g->headers[i] = xstrdup(hl[i]);
	g->opts.headers = nh ? g->headers : NULL;
	canon = conf_enum(c, key_name(k, sizeof(k), id, "canonicalization"));
	if (canon == NULL)
		canon = "relaxed/relaxed";
	g->opts.hc = strncmp(canon, "simple/", 7) == 0 ? MDKIM_SIMPLE : MDKIM_RELAXED;
	g->opts.bc = strcmp(strchr(canon, '/') + 1, "simple") == 0 ? MDKIM_SIMPLE : MDKIM_RELAXED;
	expire = conf_duration_ms(c, key_name(k, sizeof(k), id, "expire"));
	g->opts.expire = expire > 0 ? expire / 1000 : 0;
	return 0;
}

static int
sign_ids(const struct signers *s, const char *domain, char ***ids, size_t *n, struct err *e)
{
	struct expr_var v = { "rcpt_domain", domain };

	return conf_eval_list(s->conf, "report.tls.aggregate.sign", &v, 1, ids, n, e);
}

int
signers_load(const struct conf *c, struct signers *out, struct err *e)
{
	const char *const *ids;
	size_t n = 0, nids = 0;
	char **sign = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->conf = c;
	out->sign_set = conf_is_set(c, "report.tls.aggregate.sign");
	ids = conf_ids(c, "signature", &n);
	out->v = xcalloc(n ? n : 1, sizeof(*out->v));
	for (size_t i = 0; i < n; i++) {
		rc = load_one(c, ids[i], &out->v[i], e);
		out->n = i + 1;
		if (rc) {
			signers_free(out);
			return ERR_INVALID;
		}
	}
	rc = sign_ids(out, "", &sign, &nids, e);
	if (rc == ERR_NOTFOUND)
		rc = 0;
	if (rc) {
		signers_free(out);
		return err_prefix(e, "report.tls.aggregate.sign");
	}
	for (size_t i = 0; i < nids; i++) {
		if (signers_find(out, sign[i]))
			continue;
		if (out->sign_set) {
			err_set(e, ERR_INVALID,
			        "report.tls.aggregate.sign: unknown signature id '%s' (no "
			        "[signature.%s] block)",
			        sign[i], sign[i]);
			conf_strv_free(sign, nids);
			signers_free(out);
			return ERR_INVALID;
		}
		log_warn("msg=\"report mail is not signed with the default signature id: no "
		         "[signature.%s] block\" id=%s",
		         sign[i], sign[i]);
	}
	conf_strv_free(sign, nids);
	return 0;
}

int
signers_sign(const struct signers *s, const char *domain, int64_t now, struct span msg,
             struct buf *out, size_t *nsig, struct err *e)
{
	char **ids = NULL;
	size_t n = 0, done = 0;
	int rc;

	if (nsig)
		*nsig = 0;
	rc = sign_ids(s, domain, &ids, &n, e);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc)
		return err_prefix(e, "report.tls.aggregate.sign");
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct signer *g = signers_find(s, ids[i]);
		struct mdkim_sign_opts o;

		if (g == NULL) {
			if (s->sign_set)
				rc = err_set(e, ERR_INVALID,
				             "report.tls.aggregate.sign: unknown signature id '%s'",
				             ids[i]);
			continue;
		}
		o = g->opts;
		o.t = now;
		rc = mdkim_sign(g->key, &o, msg, out, e);
		if (rc)
			err_prefix(e, "signature.%s", g->id);
		else
			done++;
	}
	conf_strv_free(ids, n);
	if (nsig)
		*nsig = done;
	return rc;
}
